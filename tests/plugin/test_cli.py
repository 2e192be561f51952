#!/usr/bin/python3
"""cocoon-sgx-plugin flags, configuration file, discovery (--probe) and exit
codes: 0 clean stop or no SGX, 1 cannot serve, 2 bad configuration."""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import json
import os
import time
import unittest

import plugintest as pt
from plugintest import GIB, MIB

EXE = os.path.join(pt.BIN, "cocoon-sgx-plugin")


class Cli(unittest.TestCase):
    def setUp(self):
        self.sb = pt.Sandbox(epc_sections=(4 * GIB, 4 * GIB), sysfs=(4 * GIB, 4 * GIB))

    def tearDown(self):
        self.sb.cleanup()

    def run_plugin(self, *args, env=None):
        r = pt.run([EXE] + list(args), env=env)
        logs = pt.logs_of(r.stderr)
        return r, logs

    def assert_config_error(self, needle, *args):
        r, logs = self.run_plugin(*args)
        self.assertEqual(r.returncode, 2, logs)
        self.assertEqual(logs[-1]["level"], "error")
        self.assertEqual(logs[-1]["msg"], "bad configuration")
        self.assertIn(needle, logs[-1]["error"])

    def test_probe(self):
        r, _ = self.run_plugin("--probe", "--cpuid-file", self.sb.cpuid, "--sysfs-root", self.sb.sys)
        self.assertEqual(r.returncode, 0)
        p = json.loads(r.stdout)
        self.assertTrue(p["sgx"] and p["flc"] and p["sgx1"] and p["sgx2"])
        self.assertEqual([s["size"] for s in p["epc_sections"]], [4 * GIB, 4 * GIB])
        self.assertEqual(p["epc_sections"][0]["base"], "0x80000000")
        self.assertEqual(p["cpuid_epc_bytes"], 8 * GIB)
        self.assertEqual(p["sysfs_epc_bytes"], 8 * GIB)
        self.assertEqual(p["sysfs_nodes"], 2)
        self.assertEqual(p["epc_mib_devices"], 8192)
        self.assertNotIn("mismatch", p)

    def test_probe_sysfs_mismatch_prefers_kernel(self):
        sb = pt.Sandbox(epc_sections=(256 * MIB,), sysfs=(192 * MIB,))
        try:
            r, _ = self.run_plugin("--probe", "--cpuid-file", sb.cpuid, "--sysfs-root", sb.sys)
            p = json.loads(r.stdout)
            self.assertEqual(p["epc_bytes"], 192 * MIB)
            self.assertIn("using the kernel's count", p["mismatch"])
        finally:
            sb.cleanup()

    def test_malformed_sysfs_counter(self):
        path = os.path.join(self.sb.sys, "devices/system/node/node1/x86/sgx_total_bytes")
        with open(path, "w") as f:
            f.write("12abc\n")
        r, logs = self.run_plugin(*self.sb.args())
        self.assertEqual(r.returncode, 1)
        self.assertIn("node1/x86/sgx_total_bytes: expected a decimal byte count", logs[-1]["error"])

    def test_no_sgx_exits_0(self):
        sb = pt.Sandbox(sgx=False)
        try:
            r, logs = self.run_plugin(*sb.args())
            self.assertEqual(r.returncode, 0)
            self.assertEqual(logs[-1]["msg"], "no SGX on this node: advertising nothing")
            self.assertEqual(logs[-1]["next"], "exiting")
            self.assertEqual(os.listdir(sb.plugin_dir), [], "nothing advertised")
        finally:
            sb.cleanup()

    def test_no_sgx_waits_when_told(self):
        sb = pt.Sandbox(sgx=False)
        try:
            d = pt.plugin(sb.args() + ["--wait-without-sgx"])
            d.wait_log(lambda e: e.get("msg", "").startswith("no SGX"))
            time.sleep(0.3)
            self.assertTrue(d.alive())
            self.assertEqual(d.stop(), 0)
            d.wait_log(lambda e: e.get("msg") == "shutting down")
        finally:
            sb.cleanup()

    def test_bad_flags(self):
        args = self.sb.args()
        self.assert_config_error("'--frobnicate'", *args, "--frobnicate")
        self.assert_config_error("--enclave-limit: expected an integer from 1 to 10000, got '0'", *args,
                                 "--enclave-limit", "0")
        self.assert_config_error("--provision-limit: expected an integer from 1 to 10000, got '12x'", *args,
                                 "--provision-limit", "12x")
        self.assert_config_error("unknown resource 'epc'", *args, "--resources", "enclave,epc")
        self.assert_config_error("kept by the cocoon-epc-reconciler", *args, "--resources", "epc-bytes")
        self.assert_config_error("--log-level: unknown level 'loud'", *args, "--log-level", "loud")
        self.assert_config_error("--plugin-dir /nonexistent is not a directory", *args, "--plugin-dir", "/nonexistent")
        self.assert_config_error("--dev-root /nonexistent is not a directory", *args, "--dev-root", "/nonexistent")
        self.assert_config_error("unexpected argument 'extra'", *args, "extra")
        self.assert_config_error("--health-interval-ms", *args, "--health-interval-ms", "5")

    def test_malformed_cpuid_file(self):
        with open(self.sb.cpuid, "w") as f:
            f.write("CPU 0:\n   0x00000000 0x00: eax=0x0000001b ebx=0 ecx=0 edx=0\n")
        self.assert_config_error("line 2", *self.sb.args())
        with open(self.sb.cpuid, "w") as f:
            f.write("   0x7 0x0: eax=0x0 ebx=0x4 ecx=0x0 edx=0x0\n   0x7 0x0: eax=0x0 ebx=0x4 ecx=0x0 edx=0x0\n")
        self.assert_config_error("leaf 0x7 sub-leaf 0x0 appears twice", *self.sb.args())
        self.assert_config_error("cannot open", *self.sb.args(), "--cpuid-file", self.sb.path("missing"))

    def test_config_file_and_flag_precedence(self):
        cfg = self.sb.path("config.json")
        with open(cfg, "w") as f:
            json.dump({"resources": ["enclave", "provision"], "enclave_limit": 5, "provision_limit": 4,
                       "quote_helper": True, "log_level": "debug", "health_interval_ms": 1000}, f)
        d = pt.plugin(["--config", cfg, "--enclave-limit", "7"] + self.sb.args())
        try:
            enc = d.wait_log(lambda e: e.get("msg") == "serving" and e["resource"] == "sgx.intel.com/enclave")
            prov = d.wait_log(lambda e: e.get("msg") == "serving" and e["resource"] == "sgx.intel.com/provision")
            self.assertEqual(enc["devices"], 7, "the flag overrides the file")
            self.assertEqual(prov["devices"], 4)
            self.assertTrue(enc["quote_helper"])
            self.assertFalse(prov["quote_helper"])
            self.assertEqual(d.count_logs(lambda e: e.get("resource", "").startswith("kubernetes.azure.com")), 0)
        finally:
            self.assertEqual(d.stop(), 0)

    def test_config_file_errors(self):
        cfg = self.sb.path("config.json")
        for content, needle in (('{"enclave_limits": 3}', 'unknown key "enclave_limits"'),
                                ('{"enclave_limit": "3"}', 'key "enclave_limit" must be an integer'),
                                ('{"resources": "enclave"}', 'key "resources" must be an array'),
                                ('{"quote_helper": 1}', 'key "quote_helper" must be true or false'),
                                ('{"enclave_limit": 3, "enclave_limit": 4}', "line 1"),
                                ('[1]', "top level must be a JSON object")):
            with open(cfg, "w") as f:
                f.write(content)
            self.assert_config_error(needle, "--config", cfg, *self.sb.args())

    def test_help_and_version(self):
        r, _ = self.run_plugin("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--cpuid-file", r.stdout)
        r, _ = self.run_plugin("--version")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"v1beta1", r.stdout)


if __name__ == "__main__":
    pt.main()
