# Convenience wrapper around CMake/CTest for newcomers.
#   make        build everything into build/ (binaries in build/bin/)
#   make test   build and run every test
#   make run    build and run the main job on embedded defaults
#   make image  build the OCI image layout build/image (umoci, offline; docs/kubernetes.md)
# Each target installs missing Debian build dependencies first (scripts/install-deps.sh).

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps test-deps configure test run image clean

all: configure
	cmake --build $(BUILD) -j$(JOBS)

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

configure: deps test-deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

test: all
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

run: all
	@scripts/run.sh $(BUILD)/bin

image: all
	scripts/make-image.sh $(BUILD)/bin $(BUILD)/image

clean:
	rm -rf $(BUILD)
