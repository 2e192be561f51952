#!/usr/bin/python3
"""A stand-in for Intel PCS v4 over HTTPS on 127.0.0.1, for tests/cli/collateral_fetch.sh.

Serves the real PCS responses of $VECTORS/pcs (bodies and their real issuer-chain
header values) and, for one more FMSPC, the collateral of $VECTORS/tdx/collateral.json
split into PCS responses. The first path component picks a scenario that injects a
failure; /_count returns how many requests each scenario+path received.

usage: pcs_standin.py VECTORS CERT KEY PORTFILE
"""
import http.server
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

vectors, cert, key, portfile = sys.argv[1:5]
pcs = os.path.join(vectors, "pcs")


def read(name, base=pcs):
    with open(os.path.join(base, name), "rb") as f:
        return f.read()


TCB_CHAIN = read("tcb-info-issuer-chain.urlenc").decode()
QE_CHAIN = read("enclave-identity-issuer-chain.urlenc").decode()
PCK_CHAIN = read("pck-crl-issuer-chain.urlenc").decode()
TCB = {"50806f000000": read("sample_tcbInfo_response"), "90c06f000000": read("sample_tcbinfo_response_v5")}
QE = read("sample_qeIdentity_response")
PCKCRL = read("pckcrl")
ROOTCRL = read("rootcrl.der")

# The dcap-qvl TDX collateral as PCS would serve it (its quote is vectors/tdx/quote.bin).
coll = json.loads(read("collateral.json", os.path.join(vectors, "tdx")))
enc = lambda pem: urllib.parse.quote(pem, safe="-")
QVL_FMSPC = json.loads(coll["tcb_info"])["fmspc"].lower()
QVL = {
    "tcb": (('{"tcbInfo":%s,"signature":"%s"}' % (coll["tcb_info"], coll["tcb_info_signature"])).encode(),
            enc(coll["tcb_info_issuer_chain"])),
    "qe": (('{"enclaveIdentity":%s,"signature":"%s"}' % (coll["qe_identity"], coll["qe_identity_signature"])).encode(),
           enc(coll["qe_identity_issuer_chain"])),
    "pckcrl": (bytes.fromhex(coll["pck_crl"]), enc(coll["pck_crl_issuer_chain"])),
    "root": (bytes.fromhex(coll["root_ca_crl"]), None),
}

# AMD KDS: the VCEK of vectors/snp/report.bin, for the chip and TCB in that report.
report = read("report.bin", os.path.join(vectors, "snp"))
VCEK = read("vcek.der", os.path.join(vectors, "snp"))
CHIP = report[0x1A0:0x1E0].hex()
RTCB = int.from_bytes(report[0x180:0x188], "little")
SPL = {"blSPL": RTCB & 0xFF, "teeSPL": (RTCB >> 8) & 0xFF, "snpSPL": (RTCB >> 48) & 0xFF, "ucodeSPL": RTCB >> 56}

counts = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/_count":
            with lock:
                return self.send(200, json.dumps(counts).encode())
        scen, _, path = u.path.lstrip("/").partition("/")
        path = "/" + path
        with lock:
            n = counts[scen + path] = counts.get(scen + path, 0) + 1
        qvl = q.get("fmspc") == QVL_FMSPC or scen == "qvl"
        if scen == "r429" and n == 1:
            return self.send(429, b"slow down", [("Retry-After", "1")])
        if scen == "r503" and n <= 2:
            return self.send(503, b"busy")
        if scen == "a503":
            return self.send(503, b"busy")
        if scen == "r400":
            return self.send(400, b"", [("Error-Code", "InvalidRequestSyntax")])
        if scen == "slow" and path.endswith("/tcb"):
            time.sleep(3)
        if path.startswith("/vcek/v1/"):
            if path == "/vcek/v1/Milan/" + CHIP and q == {k: str(v) for k, v in SPL.items()}:
                return self.send(200, VCEK)
            return self.send(404)
        if path.endswith("/certification/v4/tcb"):
            if qvl:
                body, chain = QVL["tcb"]
            elif q.get("fmspc") in TCB and path.startswith("/tdx/"):
                body, chain = TCB[q["fmspc"]], TCB_CHAIN
            else:
                return self.send(404)
            if scen == "trunc":
                body = body[: len(body) // 2]
            if scen == "badchain":
                chain = PCK_CHAIN
            return self.send(200, body, [("TCB-Info-Issuer-Chain", chain), ("Cache-Control", "max-age=86400")])
        if path.endswith("/certification/v4/qe/identity"):
            body, chain = QVL["qe"] if qvl else (QE, QE_CHAIN)
            return self.send(200, body, [("SGX-Enclave-Identity-Issuer-Chain", chain)])
        if path == "/sgx/certification/v4/pckcrl":
            if q.get("encoding") != "der" or q.get("ca") not in ("platform", "processor"):
                return self.send(400)
            body, chain = QVL["pckcrl"] if qvl else (PCKCRL, PCK_CHAIN)
            return self.send(200, body, [("SGX-PCK-CRL-Issuer-Chain", chain)])
        if path == "/sgx/certification/v4/rootcacrl":
            return self.send(200, QVL["root"][0] if qvl else ROOTCRL)
        return self.send(404)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
