#!/usr/bin/python3
"""cocoon-epc-reconciler (sgx.intel.com/epc) against a fake API server on loopback:
it patches nodes/status with the EPC bytes, re-asserts the value when a
kubelet restart zeroes it, retries while the API server is unreachable or
refuses, and never logs the token."""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import base64
import json
import os
import socket
import time
import unittest

import plugintest as pt
from fake_apiserver import FakeApiServer, make_cert
from plugintest import GIB, MIB

EPC = "sgx.intel.com/epc"
RECONCILER = os.path.join(pt.BIN, "cocoon-epc-reconciler")
TOKEN = "tok-" + base64.b32encode(os.urandom(10)).decode().lower()


def reconciler(sb, args, env=None):
    return pt.Daemon([RECONCILER, "--plugin-dir", sb.plugin_dir, "--sysfs-root", sb.sys, "--cpuid-file", sb.cpuid] +
                     list(args), env=env)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Reconciler(unittest.TestCase):
    def setUp(self):
        self.sb = pt.Sandbox(epc_sections=(32 * GIB, 32 * GIB), sysfs=(32 * GIB, 32 * GIB))
        self.sa = self.sb.path("sa")
        os.makedirs(self.sa)
        self.cert, self.key = make_cert(self.sb.root)
        with open(os.path.join(self.sa, "token"), "w") as f:
            f.write(TOKEN + "\n")
        with open(self.cert) as src, open(os.path.join(self.sa, "ca.crt"), "w") as dst:
            dst.write(src.read())
        self.api = None
        self.d = None

    def tearDown(self):
        rc = self.d.stop() if self.d else 0
        if self.api:
            self.api.stop()
        if self.d:
            for line in self.d.raw:
                self.assertNotIn(TOKEN, line, "the bearer token leaked into the log")
            self.d.check_json_logs()
        self.sb.cleanup()
        self.assertEqual(rc, 0)

    def server(self, **kw):
        self.api = FakeApiServer(self.cert, self.key, TOKEN, **kw)
        return self.api

    def start(self, port, *extra, env=None):
        e = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(port), "NODE_NAME": "node-1"}
        e.update(env or {})
        self.d = reconciler(self.sb, ["--service-account-dir", self.sa] + list(extra), env=e)
        return self.d

    def test_patches_node_status(self):
        api = self.server()
        self.start(api.port, "--resync-seconds", "30")
        self.assertTrue(api.wait_patches(1, 5), "no PATCH within 5 s")
        p = api.patches()[0]
        self.assertEqual(p["path"], "/api/v1/nodes/node-1/status")
        self.assertEqual(p["headers"]["Content-Type"], "application/merge-patch+json")
        self.assertEqual(p["headers"]["Authorization"], "Bearer " + TOKEN)
        self.assertEqual(json.loads(p["body"]), {"status": {"capacity": {EPC: str(64 * GIB)}}})
        self.assertEqual(api.capacity()[EPC], "68719476736")
        self.assertEqual(api.capacity()["cpu"], "8", "a merge patch must leave other capacities alone")
        self.d.wait_log(lambda e: e.get("msg") == "patched node status capacity" and e.get("bytes") == 64 * GIB)

    def test_reasserts_after_kubelet_zeroes_it(self):
        api = self.server()
        self.start(api.port, "--resync-seconds", "1")
        self.assertTrue(api.wait_patches(1, 5))
        time.sleep(1.5)
        self.assertEqual(len(api.patches()), 1, "no PATCH while the value is in place")
        api.set_capacity(EPC, "0")
        self.assertTrue(api.wait_patches(2, 3), "capacity zeroed but not re-asserted within 3 s")
        self.assertEqual(api.capacity()[EPC], str(64 * GIB))
        api.set_capacity(EPC, None)
        self.assertTrue(api.wait_patches(3, 3), "capacity removed but not re-asserted within 3 s")

    def test_kubelet_restart_triggers_a_quick_check(self):
        api = self.server()
        self.start(api.port, "--resync-seconds", "60")
        self.assertTrue(api.wait_patches(1, 5))
        api.set_capacity(EPC, "0")
        # A new kubelet.sock in the device-plugin directory is the restart signal.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(os.path.join(self.sb.plugin_dir, "kubelet.sock"))
        try:
            self.assertTrue(api.wait_patches(2, 4), "no re-check after the kubelet restart")
        finally:
            s.close()

    def test_equal_quantity_in_other_units_is_left_alone(self):
        api = self.server(capacity={"cpu": "8", EPC: "64Gi"})
        self.start(api.port, "--resync-seconds", "1")
        self.assertTrue(api.wait_requests(2, 5))
        self.d.wait_log(lambda e: e.get("msg") == "node capacity is in place")
        self.assertEqual(api.patches(), [])

    def test_retries_until_the_api_server_answers(self):
        port = free_port()
        self.start(port, "--resync-seconds", "30")
        err = self.d.wait_log(lambda e: e.get("msg") == "cannot reconcile the EPC capacity; retrying")
        self.assertIn("127.0.0.1:%d" % port, err["error"])
        self.assertEqual(err["attempt"], 1)
        self.assertEqual(err["retry_in_seconds"], 1)
        self.d.wait_log(lambda e: e.get("attempt") == 2 and e.get("retry_in_seconds") == 2, timeout=4)
        self.assertTrue(self.d.alive())
        api = self.server(port=port)
        self.assertTrue(api.wait_patches(1, 6), "no PATCH after the API server came up")
        ok = self.d.wait_log(lambda e: e.get("msg") == "node capacity is in place")
        self.assertGreaterEqual(ok["after_failures"], 2)

    def test_forbidden_names_rbac_and_keeps_running(self):
        api = self.server(forbid=True)
        self.start(api.port, "--resync-seconds", "30")
        err = self.d.wait_log(lambda e: e.get("msg") == "cannot reconcile the EPC capacity; retrying")
        self.assertIn("HTTP 403", err["error"])
        self.assertIn("patch on nodes/status", err["error"])
        self.assertIn("cannot patch resource", err["error"])
        time.sleep(1.2)
        self.assertTrue(self.d.alive())

    def test_unknown_node(self):
        api = self.server()
        self.start(api.port, env={"NODE_NAME": "node-2"})
        err = self.d.wait_log(lambda e: e.get("msg") == "cannot reconcile the EPC capacity; retrying")
        self.assertIn("node 'node-2' does not exist", err["error"])

    def test_untrusted_certificate_is_refused(self):
        api = self.server()
        other, _ = make_cert(self.sb.path("sa"))
        os.replace(other, os.path.join(self.sa, "ca.crt"))
        self.start(api.port)
        err = self.d.wait_log(lambda e: e.get("msg") == "cannot reconcile the EPC capacity; retrying")
        self.assertIn("certificate", err["error"].lower())
        self.assertEqual(api.patches(), [])

    def test_kubeconfig_json(self):
        api = self.server()
        with open(self.cert, "rb") as f:
            ca = base64.b64encode(f.read()).decode()
        kc = {"apiVersion": "v1", "kind": "Config", "current-context": "dev",
              "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u"}}],
              "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:%d" % api.port,
                                                       "certificate-authority-data": ca}}],
              "users": [{"name": "u", "user": {"token": TOKEN}}]}
        path = self.sb.path("kubeconfig.json")
        with open(path, "w") as f:
            json.dump(kc, f)
        self.d = reconciler(self.sb, ["--kubeconfig", path, "--node-name", "node-1"])
        self.assertTrue(api.wait_patches(1, 5))


class BadConfig(unittest.TestCase):
    def setUp(self):
        self.sb = pt.Sandbox(epc_sections=(8 * MIB,))

    def tearDown(self):
        self.sb.cleanup()

    def run_plugin(self, *args, env=None):
        e = {"NODE_NAME": ""}
        e.update(env or {})
        r = pt.run([RECONCILER, "--cpuid-file", self.sb.cpuid, "--sysfs-root", self.sb.sys] + list(args), env=e)
        return r.returncode, " ".join(x.get("error", "") for x in pt.logs_of(r.stderr))

    def test_missing_node_name(self):
        rc, err = self.run_plugin("--api-server", "https://127.0.0.1:1")
        self.assertEqual(rc, 2)
        self.assertIn("NODE_NAME", err)

    def test_bad_resync(self):
        rc, err = self.run_plugin("--node-name", "n", "--resync-seconds", "0")
        self.assertEqual(rc, 2)
        self.assertIn("--resync-seconds: expected an integer from 1 to 86400, got '0'", err)

    def test_no_sgx_exits_0(self):
        sb = pt.Sandbox(sgx=False)
        try:
            r = pt.run([RECONCILER, "--cpuid-file", sb.cpuid, "--sysfs-root", sb.sys, "--node-name", "n"])
            self.assertEqual(r.returncode, 0)
            self.assertEqual(pt.logs_of(r.stderr)[-1]["msg"], "no SGX on this node: nothing to reconcile")
        finally:
            sb.cleanup()

    def test_bad_node_name(self):
        rc, err = self.run_plugin("--node-name", "../../secrets")
        self.assertEqual(rc, 2)
        self.assertIn("not a valid Kubernetes node name", err)

    def test_plain_http_to_a_remote_host(self):
        rc, err = self.run_plugin("--node-name", "n", "--api-server", "http://10.0.0.1:6443",
                                  "--service-account-dir", self.sb.root)
        self.assertEqual(rc, 2)
        self.assertIn("plain http to a non-loopback host", err)

    def test_no_cluster(self):
        rc, err = self.run_plugin("--node-name", "n", env={"KUBERNETES_SERVICE_HOST": ""})
        self.assertEqual(rc, 2)
        self.assertIn("KUBERNETES_SERVICE_HOST", err)

    def test_insecure_kubeconfig_refused(self):
        path = self.sb.path("kc.json")
        with open(path, "w") as f:
            json.dump({"current-context": "x", "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                       "clusters": [{"name": "c", "cluster": {"server": "https://1.2.3.4",
                                                                "insecure-skip-tls-verify": True}}],
                       "users": [{"name": "u", "user": {"token": "t"}}]}, f)
        rc, err = self.run_plugin("--node-name", "n", "--kubeconfig", path)
        self.assertEqual(rc, 2)
        self.assertIn("insecure-skip-tls-verify is refused", err)


if __name__ == "__main__":
    if not os.access(RECONCILER, os.X_OK):
        print("SKIP: %s is not built" % RECONCILER)
        pt.sys.exit(pt.SKIP)
    pt.main()
