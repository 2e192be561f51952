#!/usr/bin/python3
"""cocoon-node-labels: the node-feature-discovery feature file for SGX
(presence, FLC, SGX2, EPC bytes), SEV-SNP guests and TDX guests, each
detection injected through its root or the CPUID dump."""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import os
import unittest

import plugintest as pt
from plugintest import GIB, MIB

P = "cocoon.feature.node.kubernetes.io/"


def labels_of(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k] = v
    return out


class Labels(unittest.TestCase):
    def run_labels(self, sb, *extra, configfs=None):
        out = sb.path("features.d", "cocoon")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        r = pt.run([os.path.join(pt.BIN, "cocoon-node-labels"), "--interval", "0", "--output", out,
                    "--cpuid-file", sb.cpuid, "--dev-root", sb.dev, "--sysfs-root", sb.sys,
                    "--configfs-root", configfs or sb.path("configfs")] + list(extra))
        self.assertEqual(r.returncode, 0, r.stderr)
        logs = pt.logs_of(r.stderr)
        with open(out) as f:
            text = f.read()
        self.assertTrue(text.startswith("# Written by cocoon-node-labels"))
        self.assertEqual(oct(os.stat(out).st_mode & 0o777), "0o644")
        self.assertEqual(sorted(os.listdir(os.path.dirname(out))), ["cocoon"], "no temporary file left behind")
        return labels_of(text), logs

    def test_sgx_node(self):
        sb = pt.Sandbox(epc_sections=(32 * GIB, 32 * GIB), sysfs=(32 * GIB, 32 * GIB))
        try:
            labels, logs = self.run_labels(sb)
            self.assertEqual(labels, {P + "sgx": "true", P + "sgx.flc": "true", P + "sgx.sgx2": "true",
                                      P + "sgx.epc-bytes": str(64 * GIB)})
            self.assertEqual(logs[-1]["msg"], "node features written")
        finally:
            sb.cleanup()

    def test_sgx1_without_flc_uses_kernel_epc_count(self):
        sb = pt.Sandbox(epc_sections=(128 * MIB,), flc=False, sgx2=False, sysfs=(96 * MIB,))
        try:
            labels, _ = self.run_labels(sb)
            self.assertEqual(labels, {P + "sgx": "true", P + "sgx.epc-bytes": str(96 * MIB)})
        finally:
            sb.cleanup()

    def test_no_tee(self):
        sb = pt.Sandbox(sgx=False, devices=False)
        try:
            labels, _ = self.run_labels(sb)
            self.assertEqual(labels, {})
        finally:
            sb.cleanup()

    def test_snp_guest_by_device(self):
        sb = pt.Sandbox(sgx=False, devices=False)
        try:
            sb.add_device("sev-guest")
            labels, logs = self.run_labels(sb)
            self.assertEqual(labels, {P + "sev-snp.guest": "true"})
            self.assertEqual(logs[-1]["sev_snp_source"], "/dev/sev-guest")
        finally:
            sb.cleanup()

    def test_snp_guest_by_configfs_provider(self):
        sb = pt.Sandbox(sgx=False, devices=False)
        try:
            entry = sb.path("configfs", "tsm", "report", "r0")
            os.makedirs(entry)
            with open(os.path.join(entry, "provider"), "w") as f:
                f.write("sev_guest\n")
            labels, logs = self.run_labels(sb)
            self.assertEqual(labels, {P + "sev-snp.guest": "true"})
            self.assertIn("configfs", logs[-1]["sev_snp_source"])
        finally:
            sb.cleanup()

    def test_tdx_guest_by_cpuid_and_by_device(self):
        sb = pt.Sandbox(sgx=False, devices=False, tdx=True)
        try:
            labels, logs = self.run_labels(sb)
            self.assertEqual(labels, {P + "tdx.guest": "true"})
            self.assertEqual(logs[-1]["tdx_source"], "CPUID leaf 0x21")
        finally:
            sb.cleanup()
        sb = pt.Sandbox(sgx=False, devices=False)
        try:
            sb.add_device("tdx_guest")
            labels, logs = self.run_labels(sb)
            self.assertEqual(labels, {P + "tdx.guest": "true"})
            self.assertEqual(logs[-1]["tdx_source"], "/dev/tdx_guest")
        finally:
            sb.cleanup()

    def test_stdout_and_bad_input(self):
        sb = pt.Sandbox(epc_sections=(8 * MIB,))
        try:
            r = pt.run([os.path.join(pt.BIN, "cocoon-node-labels"), "--interval", "0", "--output", "-",
                        "--cpuid-file", sb.cpuid, "--dev-root", sb.dev, "--sysfs-root", sb.sys])
            self.assertEqual(r.returncode, 0)
            self.assertEqual(labels_of(r.stdout.decode())[P + "sgx.epc-bytes"], str(8 * MIB))
            with open(sb.cpuid, "a") as f:
                f.write("garbage line\n")
            with open(sb.cpuid) as f:
                lines = f.read().splitlines()
            # Only the first CPU is read: a bad line after "CPU 1:" is not even parsed.
            bad = sb.path("bad-cpuid")
            with open(bad, "w") as f:
                f.write("\n".join(lines[:3] + ["   0x00000007 0x00: eax=0x0 ebx=zz"]) + "\n")
            r = pt.run([os.path.join(pt.BIN, "cocoon-node-labels"), "--interval", "0", "--output", "-",
                        "--cpuid-file", bad])
            self.assertEqual(r.returncode, 2)
            err = pt.logs_of(r.stderr)[-1]["error"]
            self.assertIn("line 4", err)
            self.assertIn("cpuid -1 -r", err)
            r = pt.run([os.path.join(pt.BIN, "cocoon-node-labels"), "--interval", "0", "--output",
                        sb.path("missing-dir", "cocoon"), "--cpuid-file", sb.cpuid])
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot create", pt.logs_of(r.stderr)[-1]["error"])
        finally:
            sb.cleanup()

    def test_daemon_mode_stops_on_sigterm(self):
        sb = pt.Sandbox(epc_sections=(8 * MIB,))
        try:
            out = sb.path("cocoon")
            d = pt.Daemon([os.path.join(pt.BIN, "cocoon-node-labels"), "--interval", "300", "--output", out,
                           "--cpuid-file", sb.cpuid, "--dev-root", sb.dev, "--sysfs-root", sb.sys])
            d.wait_log(lambda e: e.get("msg") == "node features written")
            self.assertTrue(os.path.exists(out))
            self.assertEqual(d.stop(), 0)
        finally:
            sb.cleanup()


if __name__ == "__main__":
    pt.main() if os.access(os.path.join(pt.BIN, "cocoon-node-labels"), os.X_OK) else pt.sys.exit(pt.SKIP)
