#!/usr/bin/python3
"""cocoon-quoted end to end: wire compatibility, bad input, concurrency, backends.

Requests are encoded with Debian's python3-protobuf (Google's runtime, not
protobuf-c) from src/lib/aesm/messages.proto, compiled here with protoc when
available, else through protoc-c's descriptor output. The field numbers are
also checked against the table of Intel's messages.proto, so a wrong number
in our .proto cannot pass by agreeing with itself.

Environment (set by CTest): COCOON_BIN, COCOON_SOURCE_DIR, COCOON_PROTOC_C,
COCOON_FAKE_QL_DIR. `test_quoted.py --write-golden` regenerates
tests/quoted/golden/ (review the diff: those bytes are the contract).
Exit 77 (skip) when python3-protobuf is missing.
"""
import concurrent.futures
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

try:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from google.protobuf.descriptor import FieldDescriptor
except ImportError:
    print("SKIP: python3-protobuf is not installed (apt-get install python3-protobuf)")
    sys.exit(77)

BIN = os.environ.get("COCOON_BIN", "")
SRC = os.environ.get("COCOON_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
PROTOC_C = os.environ.get("COCOON_PROTOC_C", "protoc-c")
FAKE_QL_DIR = os.environ.get("COCOON_FAKE_QL_DIR", "")
PROTO = os.path.join(SRC, "src", "lib", "aesm", "messages.proto")
GOLDEN = os.path.join(SRC, "tests", "quoted", "golden")

AESM_SUCCESS, AESM_UNEXPECTED, AESM_PARAMETER, AESM_BUSY, AESM_MSG_ERROR = 0, 1, 3, 18, 22
AESM_OUT_OF_EPC, AESM_SERVICE_UNAVAILABLE, AESM_UNSUPPORTED_ATT_KEY_ID = 29, 30, 38
AESM_INTERFACE_UNAVAILABLE, AESM_INVALID_REPORT, AESM_SERVICE_STOPPED = 40, 47, 17

# Intel's production QE3 MRSIGNER; the default ECDSA-P256 attestation key ID (sgx_ql_get_keyid).
QE3_MRSIGNER = bytes.fromhex("8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff")
SIM_QE_MRENCLAVE = hashlib.sha256(b"cocoon simulated QE3").digest()


def default_key_id(algorithm=2):
    base = struct.pack("<HHH", 0, 0, 32) + QE3_MRSIGNER + bytes(16) + struct.pack("<I", 1)
    base += bytes(16 + 64 + 16) + struct.pack("<I", algorithm)
    assert len(base) == 158
    return base + bytes(256 - 158)


# (message, field, number, label) from Intel's psw/ae/aesm_service/source/core/ipc/messages.proto.
REQ, OPT = FieldDescriptor.LABEL_REQUIRED, FieldDescriptor.LABEL_OPTIONAL
INTEL_FIELDS = [
    ("Request", "initQuoteExReq", 15, OPT), ("Request", "getQuoteSizeExReq", 16, OPT),
    ("Request", "getQuoteExReq", 17, OPT), ("Request", "selectAttKeyIDReq", 19, OPT),
    ("Request", "getSupportedAttKeyIDNumReq", 21, OPT), ("Request", "getSupportedAttKeyIDsReq", 22, OPT),
    ("Request", "getLicTokenReq", 3, OPT), ("Request", "checkUpdateStatusReq", 18, OPT),
    ("Request.InitQuoteExRequest", "att_key_id", 1, OPT), ("Request.InitQuoteExRequest", "b_pub_key_id", 3, REQ),
    ("Request.InitQuoteExRequest", "buf_size", 4, OPT), ("Request.InitQuoteExRequest", "timeout", 9, OPT),
    ("Request.SelectAttKeyIDRequest", "att_key_id_list", 1, OPT), ("Request.SelectAttKeyIDRequest", "timeout", 2, OPT),
    ("Request.GetQuoteSizeExRequest", "att_key_id", 1, OPT), ("Request.GetQuoteSizeExRequest", "timeout", 9, OPT),
    ("Request.GetQuoteExRequest", "report", 1, REQ), ("Request.GetQuoteExRequest", "att_key_id", 2, OPT),
    ("Request.GetQuoteExRequest", "qe_report_info", 3, OPT), ("Request.GetQuoteExRequest", "buf_size", 4, REQ),
    ("Request.GetQuoteExRequest", "timeout", 9, OPT),
    ("Request.GetSupportedAttKeyIDNumRequest", "timeout", 9, OPT),
    ("Request.GetSupportedAttKeyIDsRequest", "buf_size", 1, REQ),
    ("Request.GetSupportedAttKeyIDsRequest", "timeout", 9, OPT),
    ("Response", "initQuoteExRes", 15, OPT), ("Response", "getQuoteSizeExRes", 16, OPT),
    ("Response", "getQuoteExRes", 17, OPT), ("Response", "selectAttKeyIDRes", 19, OPT),
    ("Response", "unsupportedRequestResponse", 20, OPT), ("Response", "getSupportedAttKeyIDNumRes", 21, OPT),
    ("Response", "getSupportedAttKeyIDsRes", 22, OPT),
    ("Response.InitQuoteExResponse", "errorCode", 1, REQ), ("Response.InitQuoteExResponse", "target_info", 2, OPT),
    ("Response.InitQuoteExResponse", "pub_key_id_size", 3, OPT),
    ("Response.InitQuoteExResponse", "pub_key_id", 4, OPT),
    ("Response.SelectAttKeyIDResponse", "selected_att_key_id", 2, OPT),
    ("Response.GetQuoteSizeExResponse", "quote_size", 2, OPT),
    ("Response.GetQuoteExResponse", "quote", 2, OPT), ("Response.GetQuoteExResponse", "qe_report_info", 3, OPT),
    ("Response.UnsupportedRequestResponse", "errorCode", 1, REQ),
    ("Response.GetSupportedAttKeyIDNumResponse", "att_key_id_num", 2, OPT),
    ("Response.GetSupportedAttKeyIDsResponse", "att_key_ids", 2, OPT),
]


def load_messages(tmp):
    """Request and Response classes compiled from our .proto by Google's tools."""
    proto_dir = os.path.dirname(PROTO)
    if shutil.which("protoc"):
        subprocess.run(["protoc", "-I", proto_dir, "--python_out", tmp, PROTO], check=True)
        sys.path.insert(0, tmp)
        import messages_pb2  # noqa: E402 (generated just now)
        return messages_pb2.Request, messages_pb2.Response, messages_pb2.DESCRIPTOR
    out = os.path.join(tmp, "messages.desc")
    subprocess.run([PROTOC_C, "-I", proto_dir, "--descriptor_set_out=" + out, PROTO], check=True)
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)

    def cls(name):
        d = pool.FindMessageTypeByName("aesm.message." + name)
        if hasattr(message_factory, "GetMessageClass"):
            return message_factory.GetMessageClass(d)
        return message_factory.MessageFactory(pool).GetPrototype(d)
    return cls("Request"), cls("Response"), pool.FindFileByName("messages.proto")


def frame(body):
    return struct.pack("<I", len(body)) + body


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def exchange_raw(path, data, shut=False, timeout=10.0):
    """Sends raw bytes, returns the framed response body (or None on a silent close)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        if data:
            s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        try:
            n = struct.unpack("<I", recv_exact(s, 4))[0]
        except EOFError:
            return None
        return recv_exact(s, n)
    finally:
        s.close()


class Env:
    """Everything shared by the tests: messages, a simulation directory, binaries."""
    tmp = None
    Request = Response = None


def run_cli(*args, check=True):
    p = subprocess.run([os.path.join(BIN, "cocoon")] + list(args), capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError("cocoon %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def sim_report(name, report_data, mrenclave="ab" * 32, extra=()):
    out = os.path.join(Env.tmp, name)
    run_cli("sim", "report", "--report-data", report_data.hex(), "--mrenclave", mrenclave, "--isv-prod-id", "7",
            "--isv-svn", "2", *extra, "-o", out, Env.sim)
    with open(out, "rb") as f:
        return f.read()


class Daemon:
    def __init__(self, *args, env=None, name="d"):
        self.sock = os.path.join(Env.tmp, name + ".sock")
        self.log = os.path.join(Env.tmp, name + ".log")
        self.args = [os.path.join(BIN, "cocoon-quoted"), "--socket", self.sock] + list(args)
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(self.args, stderr=err, stdout=subprocess.DEVNULL, env=full_env)

    def wait_ready(self, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("cocoon-quoted exited %d: %s" % (self.proc.returncode, self.logs_text()))
            try:
                r = call(self.sock, num_request())
                if r.HasField("getSupportedAttKeyIDNumRes"):
                    return self
            except (OSError, EOFError):
                pass
            time.sleep(0.02)
        raise AssertionError("cocoon-quoted not ready: " + self.logs_text())

    def stop(self, timeout=10.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def logs_text(self):
        with open(self.log, "r", errors="replace") as f:
            return f.read()

    def logs(self):
        return [json.loads(line) for line in self.logs_text().splitlines() if line.strip()]


def call(path, req, **kw):
    body = exchange_raw(path, frame(req.SerializePartialToString()), **kw)
    if body is None:
        raise EOFError("no response")
    r = Env.Response()
    r.ParseFromString(body)
    return r


def num_request():
    r = Env.Request()
    r.getSupportedAttKeyIDNumReq.SetInParent()
    return r


def init_quote_request(b_pub_key_id, buf_size=None, key_id=None):
    r = Env.Request()
    r.initQuoteExReq.att_key_id = default_key_id() if key_id is None else key_id
    r.initQuoteExReq.b_pub_key_id = b_pub_key_id
    if buf_size is not None:
        r.initQuoteExReq.buf_size = buf_size
    return r


def quote_size_request():
    r = Env.Request()
    r.getQuoteSizeExReq.att_key_id = default_key_id()
    return r


def quote_request(report, buf_size, qe_report_info=None, key_id=None):
    r = Env.Request()
    r.getQuoteExReq.report = report
    r.getQuoteExReq.att_key_id = default_key_id() if key_id is None else key_id
    if qe_report_info is not None:
        r.getQuoteExReq.qe_report_info = qe_report_info
    r.getQuoteExReq.buf_size = buf_size
    return r


def golden_requests():
    """name -> Request; every response is deterministic for any simulation directory."""
    g = {}
    g["get_supported_att_key_id_num"] = num_request()
    r = Env.Request()
    r.getSupportedAttKeyIDsReq.buf_size = 256
    g["get_supported_att_key_ids"] = r
    r = Env.Request()
    r.selectAttKeyIDReq.SetInParent()
    g["select_att_key_id_any"] = r
    g["init_quote_ex_size_query"] = init_quote_request(False)
    g["init_quote_ex_p384_key"] = init_quote_request(False, key_id=default_key_id(algorithm=3))
    r = Env.Request()
    r.initQuoteExReq.att_key_id = default_key_id()  # b_pub_key_id (required) left out
    g["init_quote_ex_missing_required"] = r
    g["get_quote_ex_short_report"] = quote_request(bytes(431), 8192)
    r = Env.Request()
    r.getLicTokenReq.mr_enclave = bytes(32)
    r.getLicTokenReq.mr_signer = bytes(32)
    r.getLicTokenReq.se_attributes = bytes(16)
    g["get_launch_token_unsupported"] = r
    return g


def parse_quote(q):
    version, key_type = struct.unpack_from("<HH", q, 0)
    sig_len = struct.unpack_from("<I", q, 432)[0]
    return version, key_type, q[48:432], sig_len, q[500:564]


class T1Wire(unittest.TestCase):
    """The schema and the bytes on the wire."""

    def test_field_numbers_match_intel(self):
        for msg, field, number, label in INTEL_FIELDS:
            parts = msg.split(".")
            d = (Env.Request if parts[0] == "Request" else Env.Response).DESCRIPTOR
            for part in parts[1:]:
                d = d.nested_types_by_name[part]
            self.assertEqual(d.full_name, "aesm.message." + msg)
            f = d.fields_by_name[field]
            self.assertEqual((f.number, f.label), (number, label), "%s.%s" % (msg, field))
        # Intel's InitQuoteExRequest has no field 2.
        self.assertNotIn(2, Env.Request.DESCRIPTOR.nested_types_by_name["InitQuoteExRequest"].fields_by_number)

    def test_quirky_encodings_by_hand(self):
        # InitQuoteEx{b_pub_key_id=true}: field 15 (0x7a), then field 3 varint (0x18) = 1.
        r = Env.Request()
        r.initQuoteExReq.b_pub_key_id = True
        self.assertEqual(r.SerializeToString(), bytes([0x7a, 0x02, 0x18, 0x01]))
        # SelectAttKeyID{timeout=5}: field 19 (0x9a 0x01), timeout is field 2 (0x10).
        r = Env.Request()
        r.selectAttKeyIDReq.timeout = 5
        self.assertEqual(r.SerializeToString(), bytes([0x9a, 0x01, 0x02, 0x10, 0x05]))

    def test_golden_pairs(self):
        for name, req in golden_requests().items():
            with open(os.path.join(GOLDEN, name + ".req"), "rb") as f:
                want_req = f.read()
            with open(os.path.join(GOLDEN, name + ".resp"), "rb") as f:
                want_resp = f.read()
            # Our independent encoder agrees with the checked-in bytes, framing included.
            self.assertEqual(frame(req.SerializePartialToString()), want_req, name)
            self.assertEqual(struct.unpack("<I", want_req[:4])[0], len(want_req) - 4, name)
            got = exchange_raw(Env.d.sock, want_req)
            self.assertEqual(frame(got), want_resp, name)

    def test_golden_semantics(self):
        def resp(name):
            with open(os.path.join(GOLDEN, name + ".resp"), "rb") as f:
                r = Env.Response()
                r.ParseFromString(f.read()[4:])
                return r
        self.assertEqual(resp("get_supported_att_key_id_num").getSupportedAttKeyIDNumRes.att_key_id_num, 1)
        self.assertEqual(resp("get_supported_att_key_ids").getSupportedAttKeyIDsRes.att_key_ids, default_key_id())
        self.assertEqual(resp("select_att_key_id_any").selectAttKeyIDRes.selected_att_key_id, default_key_id())
        r = resp("init_quote_ex_size_query").initQuoteExRes
        self.assertEqual((r.errorCode, r.pub_key_id_size, len(r.target_info)), (0, 32, 512))
        self.assertEqual(r.target_info[:32], SIM_QE_MRENCLAVE)
        self.assertFalse(r.HasField("pub_key_id"))
        self.assertEqual(resp("init_quote_ex_p384_key").initQuoteExRes.errorCode, AESM_UNSUPPORTED_ATT_KEY_ID)
        self.assertEqual(resp("init_quote_ex_missing_required").initQuoteExRes.errorCode, AESM_UNEXPECTED)
        self.assertEqual(resp("get_quote_ex_short_report").getQuoteExRes.errorCode, AESM_PARAMETER)
        self.assertEqual(resp("get_launch_token_unsupported").unsupportedRequestResponse.errorCode,
                         AESM_SERVICE_UNAVAILABLE)


class T2Flow(unittest.TestCase):
    """What libsgx_quote_ex does for sgx_qe_get_target_info and sgx_qe_get_quote, in Python."""

    def test_dcap_sequence_and_verify(self):
        sock = Env.d.sock
        r = call(sock, init_quote_request(False)).initQuoteExRes
        self.assertEqual(r.errorCode, AESM_SUCCESS)
        self.assertEqual(r.pub_key_id_size, 32)
        ti = r.target_info
        r = call(sock, init_quote_request(True, r.pub_key_id_size)).initQuoteExRes
        self.assertEqual((r.errorCode, r.target_info, len(r.pub_key_id)), (0, ti, 32))
        pub_key_id = r.pub_key_id
        r = call(sock, quote_size_request()).getQuoteSizeExRes
        self.assertEqual(r.errorCode, AESM_SUCCESS)
        size = r.quote_size
        report = sim_report("flow.report", b"python-flow")
        r = call(sock, quote_request(report, size)).getQuoteExRes
        self.assertEqual(r.errorCode, AESM_SUCCESS)
        self.assertFalse(r.HasField("qe_report_info"))
        quote = r.quote
        version, key_type, body, sig_len, att_key = parse_quote(quote)
        self.assertEqual((version, key_type, len(quote)), (3, 2, size))
        self.assertEqual(body, report[:384])
        self.assertEqual(sig_len, len(quote) - 436)
        self.assertEqual(hashlib.sha256(att_key).digest(), pub_key_id)
        path = os.path.join(Env.tmp, "flow.quote")
        with open(path, "wb") as f:
            f.write(quote)
        v = json.loads(run_cli("verify", "--json", "--evidence", path, "--trust-sim", Env.sim).stdout)
        self.assertEqual((v["verdict"], v["simulated"]), ("accept", True))
        self.assertEqual(v["claims"]["mrenclave"], "ab" * 32)
        self.assertTrue(v["claims"]["report_data"].startswith(b"python-flow".hex()))

    def test_cli_quote_and_target_info(self):
        report = sim_report("cli.report", b"cli")
        q = os.path.join(Env.tmp, "cli.quote")
        ti = os.path.join(Env.tmp, "cli.ti")
        run_cli("quote", "--report", os.path.join(Env.tmp, "cli.report"), "--socket", Env.d.sock, "-o", q)
        run_cli("quote", "--target-info", "--socket", Env.d.sock, "-o", ti)
        with open(ti, "rb") as f:
            self.assertEqual(f.read()[:32], SIM_QE_MRENCLAVE)
        with open(q, "rb") as f:
            self.assertEqual(parse_quote(f.read())[2], report[:384])
        v = run_cli("verify", "--json", "--evidence", q, "--trust-sim", Env.sim)
        self.assertEqual(json.loads(v.stdout)["verdict"], "accept")
        # A refused report: exit 1 and the AESM error by name.
        bad = bytearray(report)
        bad[320] ^= 1
        with open(os.path.join(Env.tmp, "bad.report"), "wb") as f:
            f.write(bad)
        p = run_cli("quote", "--report", os.path.join(Env.tmp, "bad.report"), "--socket", Env.d.sock, "-o", q,
                    check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("AESM_INVALID_REPORT (47)", p.stderr)
        p = run_cli("quote", "--report", os.path.join(Env.tmp, "bad.report"), "--socket",
                    os.path.join(Env.tmp, "nobody.sock"), "-o", q, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot connect", p.stderr)

    def test_qe_report_info(self):
        report = sim_report("qri.report", b"qri")
        nonce = os.urandom(16)
        app_ti = bytearray(512)
        app_ti[0:32] = report[64:96]     # MRENCLAVE
        app_ti[32:48] = report[48:64]    # ATTRIBUTES
        qri = nonce + bytes(app_ti) + bytes(432)
        size = call(Env.d.sock, quote_size_request()).getQuoteSizeExRes.quote_size
        r = call(Env.d.sock, quote_request(report, size, qri)).getQuoteExRes
        self.assertEqual(r.errorCode, AESM_SUCCESS)
        self.assertEqual(len(r.qe_report_info), 960)
        self.assertEqual(r.qe_report_info[:528], qri[:528])
        qe_report = r.qe_report_info[528:]
        self.assertEqual(qe_report[64:96], SIM_QE_MRENCLAVE)
        self.assertEqual(qe_report[128:160], QE3_MRSIGNER)
        self.assertEqual(qe_report[320:352], hashlib.sha256(nonce + r.quote).digest())
        self.assertEqual(qe_report[352:384], bytes(32))
        self.assertNotEqual(qe_report[416:432], bytes(16))  # MACed for the app (checked in test_sim_report.c)

    def test_select_att_key_id(self):
        ours = default_key_id()
        other = default_key_id(algorithm=3)
        r = Env.Request()
        r.selectAttKeyIDReq.att_key_id_list = struct.pack("<HHI", 0, 0, 2) + other + ours
        got = call(Env.d.sock, r).selectAttKeyIDRes
        self.assertEqual((got.errorCode, got.selected_att_key_id), (0, ours))
        r.selectAttKeyIDReq.att_key_id_list = struct.pack("<HHI", 0, 0, 1) + other
        self.assertEqual(call(Env.d.sock, r).selectAttKeyIDRes.errorCode, AESM_UNSUPPORTED_ATT_KEY_ID)
        r.selectAttKeyIDReq.att_key_id_list = struct.pack("<HHI", 0, 0, 2) + ours   # count disagrees
        self.assertEqual(call(Env.d.sock, r).selectAttKeyIDRes.errorCode, AESM_PARAMETER)
        r.selectAttKeyIDReq.att_key_id_list = struct.pack("<HHI", 1, 0, 1) + ours   # header id 1
        self.assertEqual(call(Env.d.sock, r).selectAttKeyIDRes.errorCode, AESM_PARAMETER)


class T2bReportKey(unittest.TestCase):
    """The report key derivation of sim/sim_report.h, recomputed with python3-cryptography."""

    def setUp(self):
        try:
            from cryptography.hazmat.primitives import cmac, hashes, serialization  # noqa: F401
            from cryptography.hazmat.primitives.ciphers import algorithms  # noqa: F401
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: F401
        except ImportError:
            self.skipTest("python3-cryptography is not installed")

    @staticmethod
    def hkdf(ikm, salt, info, n):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF
        return HKDF(algorithm=hashes.SHA256(), length=n, salt=salt, info=info).derive(ikm)

    def mac_ok(self, root, target_info, report):
        from cryptography.hazmat.primitives import cmac
        from cryptography.hazmat.primitives.ciphers import algorithms
        key_id = report[384:416]
        info = key_id + target_info[0:32] + target_info[32:48] + target_info[52:56] + target_info[50:52]
        info += target_info[64:128]
        key = self.hkdf(root, b"cocoon-sim-report-key-v1", info, 16)
        c = cmac.CMAC(algorithms.AES(key))
        c.update(report[:384])
        return c.finalize() == report[416:432]

    def test_independent_mac(self):
        from cryptography.hazmat.primitives import serialization
        with open(os.path.join(Env.sim, "intel", "attestation-key.pem"), "rb") as f:
            scalar = serialization.load_pem_private_key(f.read(), None).private_numbers().private_value
        root = self.hkdf(scalar.to_bytes(32, "big"), b"cocoon-sim-report-root-v1", b"", 32)
        report = sim_report("kdf.report", b"kdf")
        qe_ti = call(Env.d.sock, init_quote_request(False)).initQuoteExRes.target_info
        self.assertEqual(report[384:416], self.hkdf(root, b"cocoon-sim-report-keyid-v1", b"keyid", 32))
        self.assertTrue(self.mac_ok(root, qe_ti, report))
        self.assertFalse(self.mac_ok(root, bytes(512), report))
        # The QE report in qe_report_info is MACed for the app enclave's target info.
        app_ti = bytearray(512)
        app_ti[0:32], app_ti[32:48] = report[64:96], report[48:64]
        size = call(Env.d.sock, quote_size_request()).getQuoteSizeExRes.quote_size
        qri = call(Env.d.sock, quote_request(report, size, os.urandom(16) + bytes(app_ti) + bytes(432)))
        self.assertTrue(self.mac_ok(root, bytes(app_ti), qri.getQuoteExRes.qe_report_info[528:]))
        self.assertFalse(self.mac_ok(root, qe_ti, qri.getQuoteExRes.qe_report_info[528:]))


class T3BadInput(unittest.TestCase):
    """Everything a hostile or broken client can send; the daemon answers and stays up."""

    def msg_error(self, body):
        self.assertIsNotNone(body, "expected an UnsupportedRequestResponse, got a silent close")
        r = Env.Response()
        r.ParseFromString(body)
        self.assertTrue(r.HasField("unsupportedRequestResponse"))
        return r.unsupportedRequestResponse.errorCode

    def test_framing(self):
        sock = Env.d.sock
        self.assertEqual(self.msg_error(exchange_raw(sock, b"\x10\x00", shut=True)), AESM_MSG_ERROR)
        self.assertEqual(self.msg_error(exchange_raw(sock, struct.pack("<I", 100) + b"x" * 10, shut=True)),
                         AESM_MSG_ERROR)
        for n in (0, 4097, 0xFFFFFFFF):
            self.assertEqual(self.msg_error(exchange_raw(sock, struct.pack("<I", n))), AESM_MSG_ERROR, n)
        # A close before anything arrives is nobody's request: no answer, no crash.
        self.assertIsNone(exchange_raw(sock, b"", shut=True))

    def test_garbage_and_shapes(self):
        sock = Env.d.sock
        # Not protobuf; a truncated sub-message; a length past the end; only an unknown field (no request).
        for body in (b"\xff\xff\xff\xff", b"\x7a\x10\x18", b"\x8a\x01\xff\x7f" + bytes(16), b"\xf8\x06\x01"):
            self.assertEqual(self.msg_error(exchange_raw(sock, frame(body))), AESM_MSG_ERROR, body.hex())
        two = Env.Request()
        two.getSupportedAttKeyIDNumReq.SetInParent()
        two.getQuoteSizeExReq.att_key_id = default_key_id()
        self.assertEqual(self.msg_error(exchange_raw(sock, frame(two.SerializeToString()))), AESM_MSG_ERROR)

    def test_missing_required_fields(self):
        r = Env.Request()
        r.getQuoteExReq.report = bytes(432)
        r.getQuoteExReq.att_key_id = default_key_id()   # buf_size (required) left out
        self.assertEqual(call(Env.d.sock, r).getQuoteExRes.errorCode, AESM_UNEXPECTED)
        r = Env.Request()
        r.getSupportedAttKeyIDsReq.SetInParent()        # buf_size (required) left out
        self.assertEqual(call(Env.d.sock, r).getSupportedAttKeyIDsRes.errorCode, AESM_UNEXPECTED)

    def test_bad_parameters(self):
        sock = Env.d.sock
        report = sim_report("bad.report0", b"bad")
        size = call(sock, quote_size_request()).getQuoteSizeExRes.quote_size
        cases = [
            (quote_request(report, size, key_id=default_key_id()[:200]), AESM_PARAMETER),
            (quote_request(report, size, key_id=default_key_id(algorithm=3)), AESM_UNSUPPORTED_ATT_KEY_ID),
            (quote_request(report, size - 1), AESM_PARAMETER),
            (quote_request(report, size, qe_report_info=bytes(959)), AESM_PARAMETER),
            (quote_request(report + b"\0", size), AESM_PARAMETER),
            (init_quote_request(True, 16), AESM_PARAMETER),
        ]
        for req, want in cases:
            r = call(sock, req)
            sub = r.getQuoteExRes if r.HasField("getQuoteExRes") else r.initQuoteExRes
            self.assertEqual(sub.errorCode, want, str(req)[:120])

    def test_reports_the_qe_must_refuse(self):
        sock = Env.d.sock
        size = call(sock, quote_size_request()).getQuoteSizeExRes.quote_size
        report = bytearray(sim_report("mac.report", b"mac"))
        for off in (0, 64, 320, 383, 384, 416, 431):   # body, key ID and MAC bytes
            bad = bytearray(report)
            bad[off] ^= 0x80
            self.assertEqual(call(sock, quote_request(bytes(bad), size)).getQuoteExRes.errorCode,
                             AESM_INVALID_REPORT, off)
        # Made for another enclave: the QE's report key differs.
        other = bytearray(512)
        other[0:32] = b"\x42" * 32
        path = os.path.join(Env.tmp, "other.ti")
        with open(path, "wb") as f:
            f.write(other)
        elsewhere = sim_report("elsewhere.report", b"x", extra=("--target-info", path))
        self.assertEqual(call(sock, quote_request(elsewhere, size)).getQuoteExRes.errorCode, AESM_INVALID_REPORT)
        # Same report from a different simulation directory (a different platform).
        run_cli("sim", "init", os.path.join(Env.tmp, "sim2"))
        out = os.path.join(Env.tmp, "foreign.report")
        run_cli("sim", "report", "--report-data", "00", "-o", out, os.path.join(Env.tmp, "sim2"))
        with open(out, "rb") as f:
            self.assertEqual(call(sock, quote_request(f.read(), size)).getQuoteExRes.errorCode, AESM_INVALID_REPORT)

    def test_silent_clients_time_out_without_blocking_workers(self):
        silent = []
        for _ in range(8):   # more than the 2 workers
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(Env.d.sock)
            silent.append(s)
        t0 = time.time()
        r = call(Env.d.sock, num_request())
        self.assertLess(time.time() - t0, 0.2, "a served client waited behind silent ones")
        self.assertEqual(r.getSupportedAttKeyIDNumRes.att_key_id_num, 1)
        for s in silent:
            s.settimeout(5)
            n = struct.unpack("<I", recv_exact(s, 4))[0]
            body = recv_exact(s, n)
            self.assertEqual(self.msg_error(body), AESM_MSG_ERROR)
            self.assertEqual(s.recv(1), b"")    # and closed
            s.close()
        elapsed = time.time() - t0
        self.assertGreater(elapsed, 0.25)      # --read-timeout-ms 300
        self.assertLess(elapsed, 3.0)
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % Env.metrics_port, timeout=5) as r:
            line = [x for x in r.read().decode().splitlines()
                    if x.startswith('cocoon_quoted_dropped_total{reason="read_timeout"}')][0]
        self.assertGreaterEqual(int(line.split()[-1]), 8)

    def test_daemon_still_up(self):
        self.assertIsNone(Env.d.proc.poll())
        report = sim_report("alive.report", b"alive")
        size = call(Env.d.sock, quote_size_request()).getQuoteSizeExRes.quote_size
        self.assertEqual(call(Env.d.sock, quote_request(report, size)).getQuoteExRes.errorCode, AESM_SUCCESS)


class T4Concurrency(unittest.TestCase):
    def test_200_concurrent_clients(self):
        n = 200
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            reports = list(pool.map(lambda i: sim_report("c%d.report" % i, b"client-%d" % i), range(n)))
        results = [None] * n
        barrier = threading.Barrier(n)

        def client(i):
            try:
                barrier.wait(10)
                sock = Env.d.sock
                ti = call(sock, init_quote_request(False)).initQuoteExRes
                assert ti.errorCode == 0, ti.errorCode
                ti = call(sock, init_quote_request(True, 32)).initQuoteExRes
                assert ti.errorCode == 0 and ti.target_info[:32] == SIM_QE_MRENCLAVE
                size = call(sock, quote_size_request()).getQuoteSizeExRes
                assert size.errorCode == 0
                q = call(sock, quote_request(reports[i], size.quote_size)).getQuoteExRes
                results[i] = (q.errorCode, q.quote)
            except Exception as e:  # noqa: BLE001 -- reported below
                results[i] = (repr(e), b"")

        threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        elapsed = time.time() - t0
        failed = [(i, r[0]) for i, r in enumerate(results) if r is None or r[0] != 0]
        self.assertEqual(failed, [], "clients without a quote")
        for i, (_, q) in enumerate(results):
            self.assertEqual(parse_quote(q)[2], reports[i][:384], i)
        for i in (0, 57, 199):      # a sample through the real verifier
            path = os.path.join(Env.tmp, "c%d.quote" % i)
            with open(path, "wb") as f:
                f.write(results[i][1])
            v = json.loads(run_cli("verify", "--json", "--evidence", path, "--trust-sim", Env.sim).stdout)
            self.assertEqual(v["verdict"], "accept")
            self.assertTrue(v["claims"]["report_data"].startswith((b"client-%d" % i).hex()))
        print("  200 clients x 4 requests in %.2f s" % elapsed)


class T5Operations(unittest.TestCase):
    def test_metrics_and_health(self):
        base = "http://127.0.0.1:%d" % Env.metrics_port
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
            self.assertEqual((r.status, r.read()), (200, b"ok\n"))
        with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
            text = r.read().decode()
        self.assertIn('cocoon_quoted_build_info{version="', text)
        self.assertIn('cocoon_quoted_requests_total{type="GetQuoteEx",status="AESM_INVALID_REPORT"}', text)
        self.assertIn('cocoon_quoted_request_duration_seconds_bucket{type="GetQuoteEx",le="+Inf"}', text)
        served = [line for line in text.splitlines()
                  if line.startswith('cocoon_quoted_requests_total{type="GetQuoteEx",status="AESM_SUCCESS"}')]
        self.assertEqual(len(served), 1)
        self.assertGreaterEqual(int(served[0].split()[-1]), 1)

    def test_socket_permissions(self):
        self.assertEqual(os.stat(Env.d.sock).st_mode & 0o7777, 0o660)
        d = Daemon("--backend", "sim", "--sim", Env.sim, "--socket-mode", "0600", "--socket-group",
                   str(os.getgid()), name="perm").wait_ready()
        st = os.stat(d.sock)
        self.assertEqual((st.st_mode & 0o7777, st.st_gid), (0o600, os.getgid()))
        self.assertEqual(d.stop(), 0)

    def test_json_logs(self):
        entries = Env.d.logs()
        self.assertTrue(entries)
        for e in entries:
            self.assertTrue({"ts", "level", "component", "msg"} <= set(e), e)
        listening = [e for e in entries if e["msg"] == "listening"][0]
        self.assertEqual((listening["socket_mode"], listening["backend"]), ("0660", "sim"))
        self.assertTrue(any(e["msg"] == "request refused" and e.get("aesm_error") == "AESM_INVALID_REPORT"
                            and "peer_pid" in e for e in entries))

    def test_bad_configuration_fails_loudly(self):
        def run(*args, env=None):
            e = dict(os.environ)
            e.update(env or {})
            return subprocess.run([os.path.join(BIN, "cocoon-quoted")] + list(args), capture_output=True,
                                  text=True, timeout=20, env=e)
        sock = os.path.join(Env.tmp, "cfg.sock")
        cases = [
            ((), 2, "--backend is required"),
            (("--backend", "sim"), 2, "needs --sim DIR"),
            (("--backend", "tdx"), 2, "expected sim or dcap"),
            (("--backend", "sim", "--sim", Env.sim, "--workers", "0"), 2, "--workers: expected an integer from 1 to 256, got '0'"),
            (("--backend", "sim", "--sim", Env.sim, "--socket-mode", "999"), 2, "expected octal"),
            (("--backend", "sim", "--sim", Env.sim, "--socket-group", "no-such-group-x"), 2, "no such group"),
            (("--backend", "sim", "--sim", Env.tmp, "--socket", sock), 1, "backend sim: cannot open"),
            (("--backend", "sim", "--sim", Env.sim, "--socket", Env.d.sock), 2, "another service is listening"),
            (("--backend", "sim", "--sim", Env.sim, "--socket", PROTO), 2, "is not a socket"),
            (("--backend", "sim", "--sim", Env.sim, "--socket", sock, "--metrics-listen", "nope"), 2,
             "expected HOST:PORT"),
            (("--backend", "dcap", "--dcap-lib", "/nonexistent/libsgx_dcap_ql.so.1", "--socket", sock), 1,
             "backend dcap: cannot load the Intel DCAP quote library /nonexistent/libsgx_dcap_ql.so.1"),
        ]
        for args, code, text in cases:
            p = run(*args)
            self.assertEqual(p.returncode, code, (args, p.stderr))
            self.assertIn(text, p.stderr, args)
        self.assertTrue(os.path.exists(PROTO))        # never replaced by a socket
        self.assertFalse(os.path.exists(sock))

    def test_sigterm_is_graceful(self):
        d = Daemon("--backend", "sim", "--sim", Env.sim, name="term").wait_ready()
        self.assertEqual(d.stop(), 0)
        self.assertFalse(os.path.exists(d.sock))
        self.assertEqual(d.logs()[-1]["msg"], "stopped")


class T6Dcap(unittest.TestCase):
    """The dcap backend against the scripted fake of libsgx_dcap_ql.so.1."""

    def daemon(self, mode, name, extra_env=None):
        if not FAKE_QL_DIR or not os.path.exists(os.path.join(FAKE_QL_DIR, "libsgx_dcap_ql.so.1")):
            self.skipTest("the fake DCAP library is not built")
        env = {"LD_LIBRARY_PATH": FAKE_QL_DIR, "COCOON_FAKE_QL_MODE": mode}
        env.update(extra_env or {})
        return Daemon("--backend", "dcap", env=env, name=name)

    def test_success_passes_everything_through(self):
        d = self.daemon("success", "dcap-ok", {"SGX_AESM_ADDR": "1"}).wait_ready()
        r = call(d.sock, init_quote_request(True, 32)).initQuoteExRes
        self.assertEqual((r.errorCode, r.target_info[:32], r.pub_key_id_size), (0, b"\xee" * 32, 32))
        self.assertFalse(r.HasField("pub_key_id"))   # unknown until a quote shows the key
        self.assertEqual(call(d.sock, quote_size_request()).getQuoteSizeExRes.quote_size, 1200)
        report = os.urandom(432)
        q = call(d.sock, quote_request(report, 1200)).getQuoteExRes
        self.assertEqual(q.errorCode, AESM_SUCCESS)
        self.assertEqual(parse_quote(q.quote)[2], report[:384])
        r = call(d.sock, init_quote_request(True, 32)).initQuoteExRes
        self.assertEqual(r.pub_key_id, hashlib.sha256(b"\x11" * 64).digest())
        self.assertEqual(call(d.sock, quote_request(report, 1199)).getQuoteExRes.errorCode, AESM_PARAMETER)
        self.assertEqual(call(d.sock, quote_request(report, 1200, bytes(960))).getQuoteExRes.errorCode,
                         AESM_INTERFACE_UNAVAILABLE)
        self.assertEqual(d.stop(), 0)
        self.assertTrue(any("SGX_AESM_ADDR is set" in e["msg"] for e in d.logs()))

    def test_busy(self):
        d = self.daemon("busy", "dcap-busy").wait_ready()
        q = call(d.sock, quote_request(os.urandom(432), 1200)).getQuoteExRes
        self.assertEqual(q.errorCode, AESM_BUSY)
        self.assertEqual(d.stop(), 0)
        self.assertTrue(any(e.get("quote3_error") == "0xe043" for e in d.logs()))

    def test_not_initialized_then_success(self):
        d = self.daemon("not-initialized", "dcap-init").wait_ready()
        report = os.urandom(432)
        q = call(d.sock, quote_request(report, 1200)).getQuoteExRes
        self.assertEqual(q.errorCode, AESM_SUCCESS)
        self.assertEqual(parse_quote(q.quote)[2], report[:384])
        self.assertEqual(d.stop(), 0)
        self.assertTrue(any(e["msg"].startswith("attestation key not initialised") for e in d.logs()))

    def test_out_of_epc(self):
        d = self.daemon("out-of-epc", "dcap-epc").wait_ready()
        self.assertEqual(call(d.sock, init_quote_request(False)).initQuoteExRes.errorCode, AESM_OUT_OF_EPC)
        self.assertEqual(call(d.sock, quote_request(os.urandom(432), 1200)).getQuoteExRes.errorCode,
                         AESM_OUT_OF_EPC)
        self.assertEqual(d.stop(), 0)
        self.assertTrue(any(e["msg"] == "the QE is not ready yet; requests will retry" for e in d.logs()))

    def test_no_device_fails_at_start(self):
        d = self.daemon("no-device", "dcap-nodev")
        self.assertEqual(d.proc.wait(10), 1)
        self.assertIn("found no SGX device", d.logs_text())


def write_golden():
    os.makedirs(GOLDEN, exist_ok=True)
    for name, req in golden_requests().items():
        data = frame(req.SerializePartialToString())
        with open(os.path.join(GOLDEN, name + ".req"), "wb") as f:
            f.write(data)
        with open(os.path.join(GOLDEN, name + ".resp"), "wb") as f:
            f.write(frame(exchange_raw(Env.d.sock, data)))
        print("wrote", name)


def main():
    if not BIN or not os.path.exists(os.path.join(BIN, "cocoon-quoted")):
        print("SKIP: COCOON_BIN does not hold cocoon-quoted (build it first)")
        return 77
    Env.tmp = tempfile.mkdtemp(prefix="cocoon-quoted-test-")
    try:
        Env.Request, Env.Response, Env.file_desc = load_messages(Env.tmp)
        Env.sim = os.path.join(Env.tmp, "sim")
        run_cli("sim", "init", Env.sim)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            Env.metrics_port = s.getsockname()[1]
        Env.d = Daemon("--backend", "sim", "--sim", Env.sim, "--workers", "2", "--read-timeout-ms", "300",
                       "--metrics-listen", "127.0.0.1:%d" % Env.metrics_port, name="main").wait_ready()
        if "--write-golden" in sys.argv:
            write_golden()
            return 0
        suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
        ok = unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful()
        code = Env.d.stop()
        if code != 0:
            print("FAIL: the main daemon exited %d on SIGTERM" % code)
            ok = False
        return 0 if ok else 1
    finally:
        if getattr(Env, "d", None) and Env.d.proc.poll() is None:
            Env.d.proc.kill()
        shutil.rmtree(Env.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
