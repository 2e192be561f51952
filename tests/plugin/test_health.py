#!/usr/bin/python3
"""Device health follows the SGX device nodes: removing them turns the
devices Unhealthy in the open ListAndWatch streams, restoring them turns
them Healthy again, and Allocate refuses while they are missing."""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import os
import queue
import threading
import time
import unittest

import plugintest as pt
from plugintest import MIB, grpc


class Watch:
    """Collects ListAndWatch messages in a background thread."""

    def __init__(self, client):
        self.q = queue.Queue()
        self.it = client.list_and_watch(timeout=60)
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            for msg in self.it:
                self.q.put((time.monotonic(), msg))
        except grpc.RpcError:
            pass

    def next(self, timeout=3):
        return self.q.get(timeout=timeout)

    def cancel(self):
        self.it.cancel()
        self.t.join(timeout=5)


def healths(msg):
    return {d.health for d in msg.devices}


class Health(unittest.TestCase):
    def setUp(self):
        self.sb = pt.Sandbox(epc_sections=(16 * MIB,))
        self.api = pt.Api(self.sb.root)
        # A long periodic check, so changes must come from inotify on the device directory.
        self.d = pt.plugin(self.sb.args() + ["--health-interval-ms", "60000", "--enclave-limit", "4",
                                              "--provision-limit", "2"])
        self.d.wait_log(lambda e: e.get("msg") == "serving" and "provision" in e.get("resource", ""))
        self.epc = pt.PluginClient(self.api, os.path.join(self.sb.plugin_dir, "cocoon-sgx-epc-mib.sock"))
        self.prov = pt.PluginClient(self.api, os.path.join(self.sb.plugin_dir, "cocoon-sgx-provision.sock"))

    def tearDown(self):
        self.epc.close()
        self.prov.close()
        rc = self.d.stop()
        self.sb.cleanup()
        self.assertEqual(rc, 0)

    def test_enclave_node_removed_and_restored(self):
        w = Watch(self.epc)
        _, first = w.next()
        self.assertEqual(len(first.devices), 16)
        self.assertEqual(healths(first), {"Healthy"})

        t0 = time.monotonic()
        self.sb.remove_device("sgx_enclave")
        when, msg = w.next()
        self.assertEqual(len(msg.devices), 16, "devices stay listed (capacity) while unhealthy")
        self.assertEqual(healths(msg), {"Unhealthy"})
        self.assertLess(when - t0, 1.0)
        self.d.wait_log(lambda e: e.get("level") == "warn" and "missing" in e.get("msg", ""))

        with self.assertRaises(grpc.RpcError) as ctx:
            self.epc.allocate(["0"])
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertIn("/dev/sgx_enclave", ctx.exception.details())

        self.sb.add_device("sgx_enclave")
        _, msg = w.next()
        self.assertEqual(healths(msg), {"Healthy"})
        self.assertEqual([d.ID for d in msg.devices], [d.ID for d in first.devices])
        self.assertEqual(len(self.epc.allocate(["0"]).container_responses), 1)
        w.cancel()

    def test_provision_node_only_affects_provision(self):
        wp, we = Watch(self.prov), Watch(self.epc)
        self.assertEqual(healths(wp.next()[1]), {"Healthy"})
        self.assertEqual(healths(we.next()[1]), {"Healthy"})
        self.sb.remove_device("sgx_provision")
        self.assertEqual(healths(wp.next()[1]), {"Unhealthy"})
        with self.assertRaises(queue.Empty):
            we.next(timeout=0.5)  # the EPC resource does not need /dev/sgx_provision
        with self.assertRaises(grpc.RpcError) as ctx:
            self.prov.allocate(["sgx-provision-0"])
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertIn("/dev/sgx_provision", ctx.exception.details())
        self.sb.add_device("sgx_provision")
        self.assertEqual(healths(wp.next()[1]), {"Healthy"})
        wp.cancel()
        we.cancel()

    def test_not_a_character_device_is_unhealthy(self):
        w = Watch(self.epc)
        self.assertEqual(healths(w.next()[1]), {"Healthy"})
        self.sb.remove_device("sgx_enclave")
        self.assertEqual(healths(w.next()[1]), {"Unhealthy"})
        with open(self.sb.path("dev", "sgx_enclave"), "w") as f:
            f.write("not a device")
        with self.assertRaises(queue.Empty):
            w.next(timeout=0.5)
        w.cancel()


class PeriodicCheck(unittest.TestCase):
    def test_change_seen_without_inotify_events_on_a_moved_directory(self):
        """The periodic re-check catches a change even when inotify cannot (the
        device directory replaced by another one)."""
        sb = pt.Sandbox(epc_sections=(4 * MIB,))
        api = pt.Api(sb.root)
        d = pt.plugin(sb.args() + ["--resources", "enclave", "--enclave-limit", "1", "--health-interval-ms", "300"])
        try:
            d.wait_log(lambda e: e.get("msg") == "serving")
            c = pt.PluginClient(api, os.path.join(sb.plugin_dir, "cocoon-sgx-enclave.sock"))
            w = Watch(c)
            self.assertEqual(healths(w.next()[1]), {"Healthy"})
            os.rename(sb.dev, sb.dev + ".old")
            os.makedirs(sb.dev)
            self.assertEqual(healths(w.next(timeout=3)[1]), {"Unhealthy"})
            os.symlink("/dev/null", os.path.join(sb.dev, "sgx_enclave"))
            self.assertEqual(healths(w.next(timeout=3)[1]), {"Healthy"})
            w.cancel()
            c.close()
        finally:
            self.assertEqual(d.stop(), 0)
            sb.cleanup()


if __name__ == "__main__":
    pt.main()
