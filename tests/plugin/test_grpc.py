#!/usr/bin/python3
"""cocoon-sgx-plugin over gRPC, with python3-grpcio as the kubelet:
registration, ListAndWatch sizes and counts, Allocate and the other RPCs,
and hostile bytes on the socket."""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import os
import socket
import time
import unittest

import plugintest as pt
from plugintest import GIB, KUBELET_LIMIT, MIB, grpc


def sock(sb, name):
    return os.path.join(sb.plugin_dir, "cocoon-sgx-%s.sock" % name)


class Running(unittest.TestCase):
    """A plugin on 64 GiB of EPC (two 32 GiB sections) with a fake kubelet."""

    @classmethod
    def setUpClass(cls):
        cls.sb = pt.Sandbox(epc_sections=(32 * GIB, 32 * GIB))
        cls.api = pt.Api(cls.sb.root)
        cls.kubelet = pt.FakeKubelet(cls.api, cls.sb.plugin_dir)
        cls.d = pt.plugin(cls.sb.args() + ["--quote-helper", "--enclave-limit", "20", "--provision-limit", "3",
                                            "--aesmd-dir", "/run/aesmd-host"])
        cls.regs = cls.kubelet.registrations_by_resource(3)
        cls.epc = pt.PluginClient(cls.api, sock(cls.sb, "epc-mib"))
        cls.enclave = pt.PluginClient(cls.api, sock(cls.sb, "enclave"))
        cls.provision = pt.PluginClient(cls.api, sock(cls.sb, "provision"))

    @classmethod
    def tearDownClass(cls):
        for c in (cls.epc, cls.enclave, cls.provision):
            c.close()
        rc = cls.d.stop()
        cls.kubelet.stop()
        cls.sb.cleanup()
        if rc != 0:
            raise AssertionError("the plugin exited with %d after SIGTERM, expected 0" % rc)

    def test_registration_fields(self):
        expect = {
            "kubernetes.azure.com/sgx_epc_mem_in_MiB": "cocoon-sgx-epc-mib.sock",
            "sgx.intel.com/enclave": "cocoon-sgx-enclave.sock",
            "sgx.intel.com/provision": "cocoon-sgx-provision.sock",
        }
        self.assertEqual(set(self.regs), set(expect))
        for name, (req, opts) in self.regs.items():
            self.assertEqual(req.version, "v1beta1")
            self.assertEqual(req.endpoint, expect[name])
            self.assertTrue(req.HasField("options"))
            self.assertFalse(req.options.pre_start_required)
            self.assertFalse(req.options.get_preferred_allocation_available)
            # The kubelet's call-back during Register was answered (no deadlock).
            self.assertIsInstance(opts, self.api.DevicePluginOptions, "GetDevicePluginOptions failed: %r" % opts)
            self.assertTrue(os.path.exists(os.path.join(self.sb.plugin_dir, req.endpoint)))
            st = os.stat(os.path.join(self.sb.plugin_dir, req.endpoint))
            self.assertEqual(st.st_mode & 0o777, 0o600, "socket must be owner-only")

    def test_list_64gib(self):
        it = self.epc.list_and_watch()
        msg = next(it)
        it.cancel()
        self.assertEqual(len(msg.devices), 64 * 1024)
        ids = [d.ID for d in msg.devices]
        self.assertEqual(len(set(ids)), len(ids), "device IDs must be unique")
        self.assertTrue(all(1 <= len(i) <= 3 for i in ids))
        self.assertTrue(all(d.health == "Healthy" for d in msg.devices))
        self.assertLessEqual(msg.ByteSize(), KUBELET_LIMIT)

    def test_shared_lists(self):
        for client, prefix, n in ((self.enclave, "sgx-enclave-", 20), (self.provision, "sgx-provision-", 3)):
            it = client.list_and_watch()
            msg = next(it)
            it.cancel()
            self.assertEqual([d.ID for d in msg.devices], ["%s%d" % (prefix, i) for i in range(n)])
            self.assertTrue(all(d.health == "Healthy" for d in msg.devices))

    def test_options(self):
        o = self.epc.options(self.api.Empty(), timeout=5)
        self.assertFalse(o.pre_start_required)
        self.assertFalse(o.get_preferred_allocation_available)

    def specs(self, resp):
        return sorted((d.container_path, d.host_path, d.permissions) for d in resp.devices)

    def test_allocate_epc_mib(self):
        it = self.epc.list_and_watch()
        ids = [d.ID for d in next(it).devices]
        it.cancel()
        resp = self.epc.allocate(ids[:10], ids[-1024:])
        self.assertEqual(len(resp.container_responses), 2)
        for cr in resp.container_responses:
            self.assertEqual(self.specs(cr), [("/dev/sgx/enclave", "/dev/sgx_enclave", "rw"),
                                              ("/dev/sgx_enclave", "/dev/sgx_enclave", "rw")])
            self.assertEqual(dict(cr.envs), {"SGX_AESM_ADDR": "1"})
            self.assertEqual([(m.container_path, m.host_path, m.read_only) for m in cr.mounts],
                             [("/var/run/aesmd", "/run/aesmd-host", True)])
            self.assertEqual(len(cr.annotations), 0)
            self.assertEqual(len(cr.cdi_devices), 0)

    def test_allocate_enclave(self):
        cr = self.enclave.allocate(["sgx-enclave-0", "sgx-enclave-19"]).container_responses[0]
        self.assertEqual(self.specs(cr), [("/dev/sgx/enclave", "/dev/sgx_enclave", "rw"),
                                          ("/dev/sgx_enclave", "/dev/sgx_enclave", "rw")])
        self.assertEqual(dict(cr.envs), {"SGX_AESM_ADDR": "1"})
        self.assertEqual(len(cr.mounts), 1)

    def test_allocate_provision(self):
        cr = self.provision.allocate(["sgx-provision-2"]).container_responses[0]
        self.assertEqual(self.specs(cr), [("/dev/sgx/enclave", "/dev/sgx_enclave", "rw"),
                                          ("/dev/sgx/provision", "/dev/sgx_provision", "rw"),
                                          ("/dev/sgx_enclave", "/dev/sgx_enclave", "rw"),
                                          ("/dev/sgx_provision", "/dev/sgx_provision", "rw")])
        # In-process quoting: the AESM address would switch the DCAP library to out-of-process.
        self.assertEqual(len(cr.envs), 0)
        self.assertEqual(len(cr.mounts), 0)

    def assert_rejected(self, fn, code, *needles):
        with self.assertRaises(grpc.RpcError) as ctx:
            fn()
        self.assertEqual(ctx.exception.code(), code, ctx.exception.details())
        for n in needles:
            self.assertIn(n, ctx.exception.details())

    def test_allocate_unknown_ids(self):
        self.assert_rejected(lambda: self.epc.allocate(["0", "zzzz"]), grpc.StatusCode.INVALID_ARGUMENT,
                             "devices_ids[1]", "unknown device ID 'zzzz'", "kubernetes.azure.com/sgx_epc_mem_in_MiB")
        # Beyond the advertised count: 64 GiB has 65,536 devices.
        self.assert_rejected(lambda: self.epc.allocate(["___"]), grpc.StatusCode.INVALID_ARGUMENT,
                             "unknown device ID '___'", "advertised 65536 devices")
        self.assert_rejected(lambda: self.enclave.allocate(["sgx-enclave-20"]), grpc.StatusCode.INVALID_ARGUMENT,
                             "unknown device ID 'sgx-enclave-20'", "'sgx-enclave-0' to 'sgx-enclave-19'")
        self.assert_rejected(lambda: self.enclave.allocate(["sgx-enclave-007"]), grpc.StatusCode.INVALID_ARGUMENT,
                             "unknown device ID 'sgx-enclave-007'")
        self.assert_rejected(lambda: self.provision.allocate(["sgx-enclave-0"]), grpc.StatusCode.INVALID_ARGUMENT,
                             "sgx.intel.com/provision")
        self.assert_rejected(lambda: self.enclave.allocate([]), grpc.StatusCode.INVALID_ARGUMENT,
                             "lists no device IDs")
        self.assert_rejected(lambda: self.enclave.allocate(), grpc.StatusCode.INVALID_ARGUMENT,
                             "no container requests")

    def test_preferred_allocation(self):
        req = self.api.PreferredAllocationRequest()
        c = req.container_requests.add()
        c.available_deviceIDs.extend(["sgx-enclave-%d" % i for i in range(10)])
        c.must_include_deviceIDs.extend(["sgx-enclave-7"])
        c.allocation_size = 3
        resp = self.enclave.preferred_rpc(req, timeout=5)
        self.assertEqual(list(resp.container_responses[0].deviceIDs),
                         ["sgx-enclave-7", "sgx-enclave-0", "sgx-enclave-1"])
        c.allocation_size = 11
        self.assert_rejected(lambda: self.enclave.preferred_rpc(req, timeout=5), grpc.StatusCode.INVALID_ARGUMENT,
                             "asks for 11 devices")

    def test_prestart(self):
        req = self.api.PreStartContainerRequest(devices_ids=["sgx-enclave-1"])
        self.assertEqual(self.enclave.prestart_rpc(req, timeout=5).ByteSize(), 0)
        req = self.api.PreStartContainerRequest(devices_ids=["nope"])
        self.assert_rejected(lambda: self.enclave.prestart_rpc(req, timeout=5), grpc.StatusCode.INVALID_ARGUMENT,
                             "unknown device ID 'nope'")

    def test_unknown_method_and_malformed_message(self):
        ch = self.epc.channel
        raw = ch.unary_unary("/v1beta1.DevicePlugin/Deallocate", request_serializer=lambda b: b,
                             response_deserializer=lambda b: b)
        self.assert_rejected(lambda: raw(b"", timeout=5), grpc.StatusCode.UNIMPLEMENTED, "unknown method")
        raw = ch.unary_unary("/v1beta1.DevicePlugin/Allocate", request_serializer=lambda b: b,
                             response_deserializer=lambda b: b)
        self.assert_rejected(lambda: raw(b"\x0a\xff\xff", timeout=5), grpc.StatusCode.INVALID_ARGUMENT,
                             "not a valid protobuf message")

    def test_garbage_on_socket(self):
        payloads = [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", os.urandom(4096), b"\x00" * 100000,
                    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + os.urandom(2000),
                    # A valid preface and SETTINGS, then a HEADERS frame with a broken HPACK block.
                    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"
                    b"\x00\x00\x05\x01\x05\x00\x00\x00\x01\xff\xff\xff\xff\xff"]
        for p in payloads:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock(self.sb, "epc-mib"))
            try:
                # The plugin may hang up before it has read everything: that is fine.
                s.sendall(p)
                s.settimeout(2)
                while s.recv(65536):
                    pass
            except (socket.timeout, BrokenPipeError, ConnectionResetError):
                pass
            finally:
                s.close()
        # A connection that opens and goes silent must not block others either.
        idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        idle.connect(sock(self.sb, "epc-mib"))
        try:
            self.assertTrue(self.d.alive())
            o = self.epc.options(self.api.Empty(), timeout=5)
            self.assertFalse(o.pre_start_required)
            cr = self.enclave.allocate(["sgx-enclave-3"]).container_responses[0]
            self.assertEqual(len(cr.devices), 2)
        finally:
            idle.close()

    def test_logs_are_json_lines(self):
        self.d.check_json_logs()
        entry = self.d.wait_log(lambda e: e.get("msg") == "registered with the kubelet")
        for key in ("ts", "level", "component", "msg", "resource"):
            self.assertIn(key, entry)


class ListSizes(unittest.TestCase):
    """Device count and message size per EPC size, received through grpc's
    default 4 MiB limit exactly as the kubelet receives them."""

    def list_for(self, sections, extra=()):
        sb = pt.Sandbox(epc_sections=sections)
        api = pt.Api(sb.root)
        d = pt.plugin(sb.args() + ["--resources", "epc-mib"] + list(extra))
        try:
            d.wait_log(lambda e: e.get("msg") == "serving")
            client = pt.PluginClient(api, sock(sb, "epc-mib"))
            it = client.list_and_watch()
            t0 = time.monotonic()
            msg = next(it)
            elapsed = time.monotonic() - t0
            it.cancel()
            client.close()
            return msg, d, elapsed
        finally:
            self.assertEqual(d.stop(), 0)
            sb.cleanup()

    def test_8mib(self):
        msg, _, _ = self.list_for((8 * MIB,))
        self.assertEqual([d.ID for d in msg.devices], ["0", "1", "2", "3", "4", "5", "6", "7"])
        self.assertTrue(all(d.health == "Healthy" for d in msg.devices))

    def test_64gib(self):
        msg, _, _ = self.list_for((64 * GIB,))
        self.assertEqual(len(msg.devices), 65536)
        self.assertEqual(len({d.ID for d in msg.devices}), 65536)

    def test_256gib_fits_kubelet_limit(self):
        msg, d, elapsed = self.list_for((128 * GIB, 128 * GIB))
        self.assertEqual(len(msg.devices), 262144)
        self.assertEqual(len({d.ID for d in msg.devices}), 262144)
        self.assertTrue(all(x.health == "Healthy" for x in msg.devices))
        size = msg.ByteSize()
        self.assertLessEqual(size, KUBELET_LIMIT)
        self.assertEqual(size, 4190080)
        logged = d.wait_log(lambda e: e.get("msg") == "ListAndWatch started")
        self.assertEqual(logged["bytes"], size)
        print("256 GiB ListAndWatch: %d bytes, received in %.0f ms" % (size, elapsed * 1000))

    def test_512gib_advertises_what_fits_and_says_why(self):
        msg, d, _ = self.list_for((256 * GIB, 256 * GIB))
        err = d.wait_log(lambda e: e.get("level") == "error" and "EPC too large" in e.get("msg", ""))
        self.assertEqual(err["epc_mib"], 524288)
        self.assertEqual(err["advertised_mib"], len(msg.devices))
        self.assertEqual(err["kubelet_limit_bytes"], KUBELET_LIMIT)
        self.assertIn("sgx.intel.com/epc", err["hint"])
        self.assertGreaterEqual(len(msg.devices), 262144)
        self.assertLessEqual(msg.ByteSize(), KUBELET_LIMIT)


if __name__ == "__main__":
    pt.main()
