#!/usr/bin/python3
"""/metrics, /healthz and /readyz of the node daemons (--metrics-listen),
scraped with urllib over loopback while the real daemons do real work:
the device plugin with a fake kubelet, the EPC reconciler with a fake API
server, node labels writing its file. Also the HTTP edge: wrong method,
unknown path, garbage and oversized requests, a port already in use."""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import base64
import os
import re
import socket
import time
import unittest
import urllib.error
import urllib.request

import plugintest as pt
from fake_apiserver import FakeApiServer, make_cert
from plugintest import GIB, MIB

SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (-?\d+)$')


def get(port, path):
    """(status, body) of GET path."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape(port):
    """{(name, labels): value}; also checks HELP/TYPE precede every name's samples."""
    status, text = get(port, "/metrics")
    assert status == 200, (status, text)
    out, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge"), line
            typed.add(name)
        elif line.startswith("# HELP "):
            continue
        else:
            m = SAMPLE.match(line)
            assert m, "not a Prometheus sample: %r" % line
            assert m.group(1) in typed, "sample before its TYPE line: %r" % line
            out[(m.group(1), m.group(2) or "")] = int(m.group(3))
    return out


def raw(port, data):
    """Sends bytes, returns the whole reply (the server closes after one answer)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(data)
        chunks = []
        while True:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
        return b"".join(chunks).decode("latin-1")
    finally:
        s.close()


def port_of(d):
    return d.wait_log(lambda e: e.get("msg") == "metrics listening")["port"]


def res(name):
    return '{resource="%s"}' % name


EPC_MIB = "kubernetes.azure.com/sgx_epc_mem_in_MiB"
ENCLAVE = "sgx.intel.com/enclave"


class Plugin(unittest.TestCase):
    def setUp(self):
        self.sb = pt.Sandbox(epc_sections=(16 * MIB,))
        self.api = pt.Api(self.sb.root)
        self.kubelet = None
        self.d = None

    def tearDown(self):
        rc = self.d.stop() if self.d else 0
        if self.kubelet:
            self.kubelet.stop()
        self.sb.cleanup()
        self.assertEqual(rc, 0)

    def start(self):
        self.d = pt.plugin(self.sb.args() + ["--enclave-limit", "4", "--provision-limit", "2",
                                              "--metrics-listen", "127.0.0.1:0"])
        return port_of(self.d)

    def test_counters_follow_registration_and_rpcs(self):
        self.kubelet = pt.FakeKubelet(self.api, self.sb.plugin_dir)
        port = self.start()
        self.kubelet.registrations_by_resource(3)
        # The fake kubelet records a registration before the plugin reads the reply.
        self.assertTrue(pt.wait_for(lambda: get(port, "/readyz") == (200, "ok\n")), "not ready after registering")
        m = scrape(port)
        self.assertEqual(m[("cocoon_sgx_plugin_devices", res(EPC_MIB))], 16)
        self.assertEqual(m[("cocoon_sgx_plugin_devices", res(ENCLAVE))], 4)
        self.assertEqual(m[("cocoon_sgx_plugin_healthy", res(ENCLAVE))], 1)
        self.assertEqual(m[("cocoon_sgx_plugin_registrations_total", res(ENCLAVE))], 1)
        self.assertEqual(m[("cocoon_sgx_plugin_allocate_total", res(ENCLAVE))], 0)
        self.assertEqual(m[("cocoon_sgx_plugin_registered", res(ENCLAVE))], 1)
        self.assertEqual(get(port, "/healthz")[0], 200)

        c = pt.PluginClient(self.api, os.path.join(self.sb.plugin_dir, "cocoon-sgx-enclave.sock"))
        try:
            c.allocate(["sgx-enclave-0"])
            with self.assertRaises(pt.grpc.RpcError):
                c.allocate(["no-such-device"])
            it = c.list_and_watch(timeout=5)
            next(it)
            it.cancel()
        finally:
            c.close()
        m = scrape(port)
        self.assertEqual(m[("cocoon_sgx_plugin_allocate_total", res(ENCLAVE))], 2)
        self.assertEqual(m[("cocoon_sgx_plugin_allocate_errors_total", res(ENCLAVE))], 1)
        self.assertEqual(m[("cocoon_sgx_plugin_list_and_watch_total", res(ENCLAVE))], 1)
        self.assertEqual(m[("cocoon_sgx_plugin_allocate_total", res(EPC_MIB))], 0, "per resource")

        self.sb.remove_device("sgx_enclave")
        self.assertTrue(pt.wait_for(lambda: scrape(port)[("cocoon_sgx_plugin_healthy", res(ENCLAVE))] == 0))

    def test_not_ready_until_the_kubelet_accepts(self):
        port = self.start()
        status, body = get(port, "/readyz")
        self.assertEqual(status, 503)
        self.assertIn("not registered with the kubelet", body)
        self.assertEqual(get(port, "/healthz"), (200, "ok\n"), "alive without a kubelet")
        self.assertGreaterEqual(scrape(port)[("cocoon_sgx_plugin_registration_failures_total", res(ENCLAVE))], 1)
        self.assertEqual(scrape(port)[("cocoon_sgx_plugin_kubelet_restarts_total", "")], 0)
        self.kubelet = pt.FakeKubelet(self.api, self.sb.plugin_dir)
        self.kubelet.registrations_by_resource(3)
        self.assertTrue(pt.wait_for(lambda: get(port, "/readyz")[0] == 200), "not ready after registering")
        self.assertEqual(scrape(port)[("cocoon_sgx_plugin_kubelet_restarts_total", "")], 1)

    def test_idle_without_sgx_still_answers_probes(self):
        sb = pt.Sandbox(sgx=False)
        try:
            for binary, extra in (("cocoon-sgx-plugin", sb.args()),
                                  ("cocoon-epc-reconciler", ["--cpuid-file", sb.cpuid, "--sysfs-root", sb.sys,
                                                             "--node-name", "node-1"])):
                d = pt.Daemon([os.path.join(pt.BIN, binary)] + extra +
                              ["--wait-without-sgx", "--metrics-listen", "127.0.0.1:0"])
                try:
                    port = port_of(d)
                    self.assertEqual(get(port, "/healthz")[0], 200)
                    self.assertEqual(get(port, "/readyz")[0], 200)
                    self.assertIn("cocoon_", get(port, "/metrics")[1])
                finally:
                    self.assertEqual(d.stop(), 0, binary)
        finally:
            sb.cleanup()

    def test_http_edges(self):
        port = self.start()
        r = raw(port, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        self.assertTrue(r.startswith("HTTP/1.1 405 "), r)
        self.assertIn("\r\nAllow: GET\r\n", r)
        self.assertTrue(raw(port, b"GET /nope HTTP/1.1\r\n\r\n").startswith("HTTP/1.1 404 "))
        self.assertTrue(raw(port, b"\x00\x01garbage\r\n\r\n").startswith("HTTP/1.1 400 "))
        self.assertTrue(raw(port, b"GET /metrics HTTP/1.1\nHost: x\r\n\r\n").startswith("HTTP/1.1 400 "))
        self.assertTrue(raw(port, b"GET /metrics HTTP/2.0\r\n\r\n").startswith("HTTP/1.1 505 "))
        self.assertTrue(raw(port, b"GET /" + b"a" * 300 + b" HTTP/1.1\r\n\r\n").startswith("HTTP/1.1 414 "))
        big = b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * 5000
        self.assertTrue(raw(port, big).startswith("HTTP/1.1 431 "))
        self.assertEqual(get(port, "/metrics?x=1")[0], 200, "a query string is ignored")
        self.assertEqual(get(port, "/healthz")[0], 200, "still serving after hostile requests")
        self.assertTrue(self.d.alive())

    def test_port_in_use_is_a_loud_exit_1(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        try:
            r = pt.run([os.path.join(pt.BIN, "cocoon-sgx-plugin")] + self.sb.args() +
                       ["--metrics-listen", "127.0.0.1:%d" % s.getsockname()[1]])
        finally:
            s.close()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot listen", pt.logs_of(r.stderr)[-1]["error"])

    def test_bad_address_is_exit_2(self):
        for bad in ("localhost:9100", "127.0.0.1", "127.0.0.1:99999", "[::1]9100"):
            r = pt.run([os.path.join(pt.BIN, "cocoon-sgx-plugin")] + self.sb.args() + ["--metrics-listen", bad])
            self.assertEqual(r.returncode, 2, "%s: %s" % (bad, r.stderr))
            self.assertIn("metrics address", pt.logs_of(r.stderr)[-1]["error"])


TOKEN = "tok-" + base64.b32encode(os.urandom(10)).decode().lower()


class Reconciler(unittest.TestCase):
    def setUp(self):
        self.sb = pt.Sandbox(epc_sections=(32 * GIB, 32 * GIB), sysfs=(32 * GIB, 32 * GIB))
        self.sa = self.sb.path("sa")
        os.makedirs(self.sa)
        cert, key = make_cert(self.sb.root)
        with open(os.path.join(self.sa, "token"), "w") as f:
            f.write(TOKEN + "\n")
        with open(cert) as src, open(os.path.join(self.sa, "ca.crt"), "w") as dst:
            dst.write(src.read())
        self.cert, self.key = cert, key
        self.api = None
        self.d = None

    def tearDown(self):
        rc = self.d.stop() if self.d else 0
        if self.api:
            self.api.stop()
        self.sb.cleanup()
        self.assertEqual(rc, 0)

    def start(self, port):
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(port), "NODE_NAME": "node-1"}
        self.d = pt.Daemon([os.path.join(pt.BIN, "cocoon-epc-reconciler"), "--plugin-dir", self.sb.plugin_dir,
                            "--sysfs-root", self.sb.sys, "--cpuid-file", self.sb.cpuid, "--service-account-dir",
                            self.sa, "--resync-seconds", "1", "--metrics-listen", "127.0.0.1:0"], env=env)
        return port_of(self.d)

    def test_patch_and_reconciliations_are_counted(self):
        self.api = FakeApiServer(self.cert, self.key, TOKEN)
        before = int(time.time())
        port = self.start(self.api.port)
        self.assertTrue(self.api.wait_patches(1, 5))
        self.assertTrue(pt.wait_for(lambda: scrape(port)[("cocoon_epc_reconciler_reconciliations_total", "")] >= 2,
                                    timeout=5), "the 1 s resync did not run again")
        m = scrape(port)
        self.assertEqual(m[("cocoon_epc_reconciler_patches_total", "")], 1, "no PATCH while the value is in place")
        self.assertEqual(m[("cocoon_epc_reconciler_failures_total", "")], 0)
        self.assertEqual(m[("cocoon_epc_reconciler_epc_bytes", "")], 64 * GIB)
        self.assertGreaterEqual(m[("cocoon_epc_reconciler_last_success_timestamp_seconds", "")], before)
        self.assertEqual(get(port, "/healthz")[0], 200)
        self.assertEqual(get(port, "/readyz")[0], 200)

    def test_api_server_down_is_not_ready_but_alive(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
        s.close()
        port = self.start(dead)
        self.assertTrue(pt.wait_for(lambda: scrape(port)[("cocoon_epc_reconciler_failures_total", "")] >= 1))
        m = scrape(port)
        self.assertEqual(m[("cocoon_epc_reconciler_last_success_timestamp_seconds", "")], 0)
        status, body = get(port, "/readyz")
        self.assertEqual(status, 503)
        self.assertIn("last reconciliation failed", body)
        self.assertEqual(get(port, "/healthz")[0], 200)


class Labels(unittest.TestCase):
    def test_runs_and_failures(self):
        sb = pt.Sandbox(epc_sections=(8 * MIB,))
        try:
            for out, ok in ((sb.path("cocoon"), True), (sb.path("missing-dir", "cocoon"), False)):
                d = pt.Daemon([os.path.join(pt.BIN, "cocoon-node-labels"), "--interval", "300", "--output", out,
                               "--cpuid-file", sb.cpuid, "--dev-root", sb.dev, "--sysfs-root", sb.sys,
                               "--metrics-listen", "127.0.0.1:0"])
                try:
                    port = port_of(d)
                    self.assertTrue(pt.wait_for(lambda: scrape(port)[("cocoon_node_labels_runs_total", "")] == 1))
                    m = scrape(port)
                    self.assertEqual(m[("cocoon_node_labels_failures_total", "")], 0 if ok else 1)
                    self.assertEqual(m[("cocoon_node_labels_last_success_timestamp_seconds", "")] > 0, ok)
                    self.assertEqual(get(port, "/readyz")[0], 200 if ok else 503)
                    self.assertEqual(get(port, "/healthz")[0], 200)
                finally:
                    self.assertEqual(d.stop(), 0)
        finally:
            sb.cleanup()

    def test_one_shot_refuses_metrics(self):
        r = pt.run([os.path.join(pt.BIN, "cocoon-node-labels"), "--interval", "0", "--output", "-",
                    "--metrics-listen", "127.0.0.1:0"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--interval > 0", pt.logs_of(r.stderr)[-1]["error"])


if __name__ == "__main__":
    pt.main()
