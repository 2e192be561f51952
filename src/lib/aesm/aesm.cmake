# The AESM protocol messages for libcocoon (src/lib/aesm/*.c): generated
# from messages.proto with protoc-c at build time, never committed. Included
# from the top-level CMakeLists.txt, after the cocoon targets are defined.
# Needs libprotobuf-c-dev and protobuf-c-compiler.
pkg_check_modules(COCOON_PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c)
find_program(COCOON_PROTOC_C protoc-c REQUIRED)

set(COCOON_AESM_PROTO ${CMAKE_SOURCE_DIR}/src/lib/aesm/messages.proto)
set(COCOON_AESM_GEN ${CMAKE_BINARY_DIR}/gen/aesm)
file(MAKE_DIRECTORY ${COCOON_AESM_GEN})
add_custom_command(
  OUTPUT ${COCOON_AESM_GEN}/messages.pb-c.c ${COCOON_AESM_GEN}/messages.pb-c.h
  COMMAND ${COCOON_PROTOC_C} -I${CMAKE_SOURCE_DIR}/src/lib/aesm --c_out=${COCOON_AESM_GEN} ${COCOON_AESM_PROTO}
  DEPENDS ${COCOON_AESM_PROTO}
  COMMENT "protoc-c: AESM messages (aesm.message)"
  VERBATIM)

add_library(cocoon_aesm_proto STATIC ${COCOON_AESM_GEN}/messages.pb-c.c)
# Hidden: the protobuf-c descriptors are an implementation detail, not libcocoon's ABI.
set_target_properties(cocoon_aesm_proto PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
# Generated code is not ours to warn about.
target_compile_options(cocoon_aesm_proto PRIVATE -w)
target_include_directories(cocoon_aesm_proto PUBLIC ${COCOON_AESM_GEN})
target_link_libraries(cocoon_aesm_proto PUBLIC PkgConfig::COCOON_PROTOBUFC)

foreach(t cocoon_obj cocoon cocoon_shared)
  target_link_libraries(${t} PUBLIC cocoon_aesm_proto)
endforeach()
add_dependencies(cocoon_obj cocoon_aesm_proto)
