"""Shared helpers for the cocoon-sgx-plugin integration tests.

Debian's python3-grpcio plays the kubelet: an independent gRPC and HTTP/2
implementation, with grpc's default 4 MiB receive limit like the kubelet's.
The message classes are built at test time from the device plugin API
(src/cmd/cocoon-sgx-plugin/proto/api.proto) through a descriptor set written
by protoc-c into a temporary directory; nothing generated is kept.

Run with /usr/bin/python3 (the interpreter that has python3-grpcio).
"""
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SKIP = 77
SRC = os.environ.get("COCOON_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN = os.environ.get("COCOON_BIN", os.path.join(SRC, "build", "bin"))
PROTOC_C = os.environ.get("COCOON_PROTOC_C", "protoc-c")
PROTO_DIR = os.path.join(SRC, "src", "cmd", "cocoon-sgx-plugin", "proto")
MIB = 1 << 20
GIB = 1 << 30
KUBELET_LIMIT = 4 * MIB

try:
    import grpc
    from concurrent import futures
    from google.protobuf import descriptor_pb2, message_factory
except ImportError as e:  # pragma: no cover - environment check
    print("SKIP: /usr/bin/python3 lacks python3-grpcio or python3-protobuf (%s)" % e)
    sys.exit(SKIP)


class Api:
    """Message classes of package v1beta1, built from the .proto at test time."""

    def __init__(self, workdir):
        desc = os.path.join(workdir, "api.desc")
        subprocess.run([PROTOC_C, "-I" + PROTO_DIR, "-o" + desc, "api.proto"], check=True)
        fds = descriptor_pb2.FileDescriptorSet()
        with open(desc, "rb") as f:
            fds.ParseFromString(f.read())
        classes = message_factory.GetMessages(list(fds.file))
        for full, cls in classes.items():
            if full.startswith("v1beta1."):
                setattr(self, full.split(".", 1)[1], cls)


def unary(channel, method, req_cls, resp_cls):
    return channel.unary_unary(method, request_serializer=req_cls.SerializeToString,
                               response_deserializer=resp_cls.FromString)


class PluginClient:
    """What the kubelet calls on a plugin's socket."""

    def __init__(self, api, socket_path):
        self.api = api
        self.channel = grpc.insecure_channel("unix:" + socket_path)
        a = api
        self.options = unary(self.channel, "/v1beta1.DevicePlugin/GetDevicePluginOptions", a.Empty,
                             a.DevicePluginOptions)
        self.allocate_rpc = unary(self.channel, "/v1beta1.DevicePlugin/Allocate", a.AllocateRequest,
                                  a.AllocateResponse)
        self.preferred_rpc = unary(self.channel, "/v1beta1.DevicePlugin/GetPreferredAllocation",
                                   a.PreferredAllocationRequest, a.PreferredAllocationResponse)
        self.prestart_rpc = unary(self.channel, "/v1beta1.DevicePlugin/PreStartContainer",
                                  a.PreStartContainerRequest, a.PreStartContainerResponse)
        self.law = self.channel.unary_stream("/v1beta1.DevicePlugin/ListAndWatch",
                                             request_serializer=a.Empty.SerializeToString,
                                             response_deserializer=a.ListAndWatchResponse.FromString)

    def allocate(self, *containers, timeout=10):
        req = self.api.AllocateRequest()
        for ids in containers:
            req.container_requests.add().devices_ids.extend(ids)
        return self.allocate_rpc(req, timeout=timeout)

    def list_and_watch(self, timeout=30):
        return self.law(self.api.Empty(), timeout=timeout)

    def close(self):
        self.channel.close()


class FakeKubelet:
    """Registration service on kubelet.sock. Like the kubelet, it dials the
    plugin back and calls GetDevicePluginOptions before answering."""

    def __init__(self, api, plugin_dir, reject=None):
        self.api = api
        self.plugin_dir = plugin_dir
        self.registrations = queue.Queue()
        self.reject = reject
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.method_handlers_generic_handler("v1beta1.Registration", {
            "Register": grpc.unary_unary_rpc_method_handler(
                self._register, request_deserializer=api.RegisterRequest.FromString,
                response_serializer=api.Empty.SerializeToString)})
        self.server.add_generic_rpc_handlers((handler,))
        self.server.add_insecure_port("unix:" + os.path.join(plugin_dir, "kubelet.sock"))
        self.server.start()

    def _register(self, req, context):
        options = None
        client = PluginClient(self.api, os.path.join(self.plugin_dir, req.endpoint))
        try:
            options = client.options(self.api.Empty(), timeout=10)
        except grpc.RpcError as e:
            options = e
        finally:
            client.close()
        self.registrations.put((time.monotonic(), req, options))
        if self.reject:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, self.reject)
        return self.api.Empty()

    def next_registration(self, timeout=5):
        return self.registrations.get(timeout=timeout)

    def registrations_by_resource(self, count, timeout=5):
        out = {}
        deadline = time.monotonic() + timeout
        while len(out) < count:
            _, req, opts = self.registrations.get(timeout=max(0.01, deadline - time.monotonic()))
            out[req.resource_name] = (req, opts)
        return out

    def stop(self):
        self.server.stop(0).wait()


def cpuid_dump(sections, sgx=True, flc=True, sgx2=True, tdx=False, max_leaf=0x1b):
    """A `cpuid -1 -r` style dump; sections is a list of EPC section sizes in bytes."""
    lines = ["# synthetic CPUID for tests", "CPU 0:"]

    def row(leaf, sub, a, b, c, d):
        lines.append("   0x%08x 0x%02x: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x" % (leaf, sub, a, b, c, d))

    if tdx:
        max_leaf = max(max_leaf, 0x23)
    row(0, 0, max_leaf, 0x756e6547, 0x6c65746e, 0x49656e69)
    row(7, 0, 0, 0x4 if sgx else 0, (1 << 30) if flc else 0, 0)
    if sgx:
        row(0x12, 0, 0x3 if sgx2 else 0x1, 0, 0, 0x241f)
        base = 0x80000000
        for i, size in enumerate(sections):
            # EAX[3:0]=1 (EPC section), ECX[3:0]=1 (confidentiality+integrity)
            row(0x12, 2 + i, (base & 0xfffff000) | 1, base >> 32, (size & 0xfffff000) | 1, size >> 32)
            base += size
        row(0x12, 2 + len(sections), 0, 0, 0, 0)
    if tdx:
        row(0x21, 0, 0, int.from_bytes(b"Inte", "little"), int.from_bytes(b"    ", "little"),
            int.from_bytes(b"lTDX", "little"))
    lines.append("CPU 1:")
    lines.append("   0x00000000 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000000")
    return "\n".join(lines) + "\n"


class Sandbox:
    """A temp tree: plugin dir, dev root with fake SGX nodes (symlinks to the
    /dev/null character device), sysfs root, cpuid file."""

    def __init__(self, epc_sections=(64 * MIB,), sgx=True, devices=True, sysfs=None, **cpuid_kw):
        self.root = tempfile.mkdtemp(prefix="cocoon-plugin-")
        self.plugin_dir = self.path("device-plugins")
        self.dev = self.path("dev")
        self.sys = self.path("sys")
        for d in (self.plugin_dir, self.dev, self.sys):
            os.makedirs(d)
        os.chmod(self.plugin_dir, 0o750)
        if devices:
            self.add_device("sgx_enclave")
            self.add_device("sgx_provision")
        if sysfs is not None:
            for node, value in enumerate(sysfs):
                d = os.path.join(self.sys, "devices/system/node/node%d/x86" % node)
                os.makedirs(d)
                with open(os.path.join(d, "sgx_total_bytes"), "w") as f:
                    f.write("%s\n" % value)
        self.cpuid = self.path("cpuid.txt")
        with open(self.cpuid, "w") as f:
            f.write(cpuid_dump(list(epc_sections), sgx=sgx, **cpuid_kw))

    def path(self, *p):
        return os.path.join(self.root, *p)

    def add_device(self, name):
        os.symlink("/dev/null", os.path.join(self.dev, name))

    def remove_device(self, name):
        os.unlink(os.path.join(self.dev, name))

    def args(self):
        return ["--plugin-dir", self.plugin_dir, "--dev-root", self.dev, "--sysfs-root", self.sys,
                "--cpuid-file", self.cpuid]

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


class Daemon:
    """A daemon under test; its JSON-lines stderr is parsed as it arrives."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.logs = []
        self.raw = []
        self.cond = threading.Condition()
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            text = line.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                self.raw.append(text)
                try:
                    self.logs.append(json.loads(text))
                except ValueError:
                    self.logs.append({"msg": "<not json>", "line": text})
                self.cond.notify_all()

    def wait_log(self, pred, timeout=5):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for entry in self.logs:
                    if pred(entry):
                        return entry
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no matching log line within %.1fs; log:\n%s" %
                                         (timeout, "\n".join(self.raw[-40:])))
                self.cond.wait(left)

    def count_logs(self, pred):
        with self.cond:
            return sum(1 for e in self.logs if pred(e))

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("daemon did not stop within %ss after SIGTERM" % timeout)
        self.reader.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def check_json_logs(self):
        bad = [r for r in self.raw if not r.startswith("{")]
        if bad:
            raise AssertionError("stderr lines that are not JSON: %r" % bad[:3])


def plugin(args, env=None):
    return Daemon([os.path.join(BIN, "cocoon-sgx-plugin")] + list(args), env=env)


def run(argv, timeout=20, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=full_env)


def logs_of(stderr):
    out = []
    for line in stderr.decode("utf-8", "replace").splitlines():
        out.append(json.loads(line))
    return out


def wait_for(pred, timeout=5, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def main():
    if not os.access(os.path.join(BIN, "cocoon-sgx-plugin"), os.X_OK):
        print("SKIP: %s/cocoon-sgx-plugin is not built" % BIN)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
