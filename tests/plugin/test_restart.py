#!/usr/bin/python3
"""Kubelet restarts: the plugin notices its socket deleted (inotify), serves
again and re-registers within 1 s; it survives a kubelet that is down at
start or rejects it; a second instance refuses to steal the socket."""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import os
import time
import unittest

import plugintest as pt
from plugintest import MIB

RESOURCES = 3


class Restart(unittest.TestCase):
    def setUp(self):
        self.sb = pt.Sandbox(epc_sections=(32 * MIB,))
        self.api = pt.Api(self.sb.root)
        self.kubelets = []
        self.d = None

    def tearDown(self):
        rc = self.d.stop() if self.d else 0
        for k in self.kubelets:
            k.stop()
        self.sb.cleanup()
        self.assertEqual(rc, 0)

    def kubelet(self, **kw):
        k = pt.FakeKubelet(self.api, self.sb.plugin_dir, **kw)
        self.kubelets.append(k)
        return k

    def start(self, *extra):
        self.d = pt.plugin(self.sb.args() + ["--health-interval-ms", "60000"] + list(extra))
        return self.d

    def assert_serves(self, name="epc-mib"):
        c = pt.PluginClient(self.api, os.path.join(self.sb.plugin_dir, "cocoon-sgx-%s.sock" % name))
        try:
            it = c.list_and_watch()
            self.assertEqual(len(next(it).devices), 32 if name == "epc-mib" else 110)
            it.cancel()
        finally:
            c.close()

    def test_socket_deleted_reregisters_within_1s(self):
        k = self.kubelet()
        self.start()
        k.registrations_by_resource(RESOURCES)
        path = os.path.join(self.sb.plugin_dir, "cocoon-sgx-epc-mib.sock")
        t0 = time.monotonic()
        os.unlink(path)
        when, req, opts = k.next_registration(timeout=2)
        self.assertLess(when - t0, 1.0, "re-registration took %.3fs" % (when - t0))
        self.assertEqual(req.resource_name, "kubernetes.azure.com/sgx_epc_mem_in_MiB")
        self.assertEqual(req.endpoint, "cocoon-sgx-epc-mib.sock")
        self.assertIsInstance(opts, self.api.DevicePluginOptions)
        self.assertTrue(os.path.exists(path))
        self.assert_serves()
        self.d.wait_log(lambda e: e.get("msg", "").startswith("plugin socket gone") and e.get("reason") == "socket deleted")

    def test_kubelet_restart_cleans_directory(self):
        k = self.kubelet()
        self.start()
        k.registrations_by_resource(RESOURCES)
        # What a starting kubelet does: stop serving, delete every socket, then listen again.
        k.stop()
        self.kubelets.remove(k)
        for name in os.listdir(self.sb.plugin_dir):
            os.unlink(os.path.join(self.sb.plugin_dir, name))
        time.sleep(0.2)
        k2 = self.kubelet()
        t0 = time.monotonic()  # kubelet.sock exists and is served from here on
        regs = k2.registrations_by_resource(RESOURCES, timeout=3)
        self.assertEqual(len(regs), RESOURCES)
        for req, opts in regs.values():
            self.assertIsInstance(opts, self.api.DevicePluginOptions)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assert_serves()
        self.assert_serves("enclave")

    def test_kubelet_down_at_start(self):
        self.start()
        self.d.wait_log(lambda e: "kubelet not reachable" in e.get("msg", ""))
        time.sleep(0.3)
        self.assertTrue(self.d.alive())
        k = self.kubelet()
        t0 = time.monotonic()
        k.registrations_by_resource(RESOURCES, timeout=3)
        self.assertLess(time.monotonic() - t0, 1.0)

    def test_rejected_registration_is_retried(self):
        k = self.kubelet(reject="resource name already registered")
        self.start("--resources", "enclave")
        _, req, _ = k.next_registration()
        err = self.d.wait_log(lambda e: e.get("level") == "error" and "did not accept" in e.get("msg", ""))
        self.assertEqual(err["status"], "INVALID_ARGUMENT")
        self.assertIn("already registered", err["error"])
        _, again, _ = k.next_registration(timeout=3)  # retried with backoff, not fatal
        self.assertEqual(again.resource_name, "sgx.intel.com/enclave")
        self.assertTrue(self.d.alive())

    def test_second_instance_refuses(self):
        k = self.kubelet()
        self.start()
        k.registrations_by_resource(RESOURCES)
        r = pt.run([os.path.join(pt.BIN, "cocoon-sgx-plugin")] + self.sb.args())
        self.assertEqual(r.returncode, 1)
        logs = pt.logs_of(r.stderr)
        self.assertTrue(any("already answers" in e.get("error", "") for e in logs), logs)
        self.assert_serves()  # the first instance is untouched

    def test_shutdown_removes_only_own_sockets(self):
        k = self.kubelet()
        self.start()
        k.registrations_by_resource(RESOURCES)
        self.assertEqual(self.d.stop(), 0)
        left = sorted(os.listdir(self.sb.plugin_dir))
        self.assertEqual(left, ["kubelet.sock"])
        self.d = None


if __name__ == "__main__":
    pt.main()
