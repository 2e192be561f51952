#!/usr/bin/env bash
# The vtpm evidence provider against a real TPM: swtpm stands in for the Azure
# vTPM (reference/azure-vtpm.md §6). The test provisions the AK at 0x81000003,
# stores a simulated HCL report bound to that AK in NV 0x01400001 (swtpm does
# not regenerate it after the report-data write, the paravisor would), then
# `cocoon evidence --provider vtpm` collects through tpm2-tss and `cocoon
# verify --format az-snp-vtpm --trust-sim` accepts it.
set -uo pipefail
bin=${COCOON_BIN:?}/cocoon
for t in swtpm tpm2_createprimary tpm2_evictcontrol tpm2_readpublic tpm2_nvdefine tpm2_nvundefine tpm2_nvwrite tpm2_nvread tpm2_pcrextend tpm2_flushcontext; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed (Debian swtpm, tpm2-tools)"; exit 77; }
done
tmp=$(mktemp -d)
imds_pid=
cleanup() {
  [ -f "$tmp/swtpm.pid" ] && kill "$(cat "$tmp/swtpm.pid")" 2>/dev/null
  [ -n "$imds_pid" ] && kill "$imds_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if jq -e "$3" "$2" >/dev/null; then ok; else bad "$1"; cat "$2"; fi; }

mkdir -p "$tmp/state"
started=0
for attempt in 1 2 3 4 5; do
  port=$((20000 + (RANDOM % 20000) * 2))
  if swtpm socket --tpm2 --tpmstate dir="$tmp/state" --server type=tcp,port=$port,bindaddr=127.0.0.1 \
       --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
       --pid file="$tmp/swtpm.pid" --daemon 2>"$tmp/swtpm.err"; then started=1; break; fi
done
[ $started = 1 ] || { echo "FAIL: swtpm did not start"; cat "$tmp/swtpm.err"; exit 1; }
export TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=$port
tcti=$TPM2TOOLS_TCTI
q() { "$@" >/dev/null 2>"$tmp/tool.err" || { bad "$*"; cat "$tmp/tool.err"; }; }

"$bin" sim init "$tmp/sim" 2>/dev/null && ok || bad "sim init"
# The AK as Azure provisions it: restricted RSA-2048 signing key, RSASSA-SHA256, persistent at 0x81000003.
q tpm2_createprimary -C o -g sha256 -G rsa2048:rsassa-sha256:null -a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign" -c "$tmp/ak.ctx"
q tpm2_evictcontrol -C o -c "$tmp/ak.ctx" 0x81000003
q tpm2_flushcontext -t
q tpm2_readpublic -c 0x81000003 -f pem -o "$tmp/akpub.pem"
nonce=982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef
"$bin" sim az-snp-vtpm --ak-pub "$tmp/akpub.pem" --nonce $nonce -o "$tmp/hcl.bin" "$tmp/sim" && ok || bad "sim HCL report for the swtpm AK"
size=$(stat -c %s "$tmp/hcl.bin")
[ "$size" -le 2048 ] && ok || bad "HCL report of $size bytes does not fit swtpm's 2048-byte NV index"
q tpm2_nvdefine 0x01400001 -C o -s "$size" -a "ownerread|ownerwrite"
q tpm2_nvwrite 0x01400001 -C o -i "$tmp/hcl.bin"
# Init data: one extend of PCR 8 (Trustee's vector: PCR 8 becomes bddaccb9...).
q tpm2_pcrextend 8:sha256=8505e4e25e50a27c5dc8147af88efbece627fbea55291911eff832d9ee127781

"$bin" evidence --provider vtpm --tcti "$tcti" --report-data $nonce --vcek "$tmp/sim/amd/vcek.pem" --refresh-delay-ms 0 -o "$tmp/ev.json" 2>"$tmp/err" && ok || { bad "evidence --provider vtpm"; cat "$tmp/err"; }
tpm2_nvread 0x01400002 -C o 2>/dev/null | xxd -p -c 256 > "$tmp/nv.hex"
[ "$(cat "$tmp/nv.hex")" = $nonce ] && ok || bad "NV 0x01400002 must hold the report data ($(cat "$tmp/nv.hex"))"
check "evidence layout" "$tmp/ev.json" '.version==2 and (.tpm_quote.pcrs|length)==24 and (.tpm_quote.signature|length)==512'
"$bin" verify --json --format az-snp-vtpm --evidence "$tmp/ev.json" --nonce $nonce --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null && ok || bad "verify swtpm evidence"
check "claims" "$tmp/v.json" ".verdict==\"accept\" and .claims.vtpm.report_data==\"$nonce\" and .claims.vtpm.tpm.pcr08==\"bddaccb9c52249e97a31baea61b7d91be8221a16e703d92148d04fb8e9c1dfdd\" and .claims.vtpm.tpm.pcr00==\"$(printf '%064d' 0)\" and .claims.vtpm.user_data_checked"
# Collected again for another nonce: the quote is fresh, but the (stale) HCL report's user-data is not.
other=$(printf '%096x' 7)
"$bin" evidence --provider vtpm --tcti "$tcti" --report-data $other --vcek "$tmp/sim/amd/vcek.pem" --refresh-delay-ms 0 -o "$tmp/ev2.json" 2>/dev/null && ok || bad "second collection"
"$bin" verify --json --format az-snp-vtpm --evidence "$tmp/ev2.json" --nonce $other --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null
check "stale HCL report" "$tmp/v.json" '.verdict=="reject" and .failed_check=="vtpm_user_data"'
# The VCEK from IMDS THIM: a loopback stand-in that answers only with the "Metadata: true" header.
cat > "$tmp/imds.py" <<'PY'
import base64, http.server, json, sys
d, portfile = sys.argv[1], sys.argv[2]
rd = lambda n: open(d + "/" + n, "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    def answer(self, ok, obj):
        body = json.dumps(obj if ok else {}).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        ok = self.path == "/metadata/THIM/amd/certification" and self.headers.get("Metadata") == "true"
        self.answer(ok, {"vcekCert": rd("sim/amd/vcek.pem").decode(), "certificateChain": rd("sim/amd/chain.pem").decode()})
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        # IMDS quotes the TDREPORT it is sent: it must be the one in the HCL report.
        ok = (self.path == "/acc/tdquote" and self.headers.get("Metadata") == "true"
              and base64.b64decode(req["report"]) == rd("hcl-tdx.bin")[0x20:0x420])
        self.answer(ok, {"quote": base64.urlsafe_b64encode(rd("tdq.bin")).decode().rstrip("=")})
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(portfile, "w").write(str(s.server_address[1]))
s.serve_forever()
PY
/usr/bin/python3 "$tmp/imds.py" "$tmp" "$tmp/imds.port" 2>"$tmp/imds.err" & imds_pid=$!
for i in $(seq 50); do [ -s "$tmp/imds.port" ] && break; sleep 0.1; done
imds="http://127.0.0.1:$(cat "$tmp/imds.port")/metadata/THIM/amd/certification"
"$bin" evidence --provider vtpm --tcti "$tcti" --report-data $nonce --imds-url "$imds" --refresh-delay-ms 0 -o "$tmp/ev3.json" 2>"$tmp/err" && ok || { bad "VCEK from IMDS"; cat "$tmp/err" "$tmp/imds.err"; }
"$bin" verify --json --format az-snp-vtpm --evidence "$tmp/ev3.json" --nonce $nonce --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null
check "IMDS VCEK evidence" "$tmp/v.json" '.verdict=="accept"'
"$bin" evidence --provider vtpm --tcti "$tcti" --report-data $nonce --imds-url "${imds%certification}nothing" --refresh-delay-ms 0 -o "$tmp/x.json" 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "IMDS" "$tmp/err" && ok || bad "an IMDS error must exit 3 and say so"
# No VCEK source, no TPM.
"$bin" evidence --provider vtpm --tcti "$tcti" --report-data $nonce --imds-url http://127.0.0.1:1/x --refresh-delay-ms 0 -o "$tmp/x.json" 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "VCEK" "$tmp/err" && ok || bad "an unreachable IMDS must exit 3 and say what to pass"
"$bin" evidence --provider vtpm --tcti "swtpm:host=127.0.0.1,port=1" --report-data $nonce --refresh-delay-ms 0 -o "$tmp/x.json" 2>"$tmp/err"
[ $? -eq 3 ] && ok || bad "an unreachable TPM must exit 3"
# TDX: the HCL report holds a TDREPORT; the TD quote comes from IMDS for exactly that TDREPORT.
"$bin" sim az-tdx-vtpm --ak-pub "$tmp/akpub.pem" --nonce $nonce --td-quote-out "$tmp/tdq.bin" -o "$tmp/hcl-tdx.bin" "$tmp/sim" && ok || bad "sim TDX HCL report for the swtpm AK"
q tpm2_nvundefine 0x01400001 -C o
q tpm2_nvdefine 0x01400001 -C o -s "$(stat -c %s "$tmp/hcl-tdx.bin")" -a "ownerread|ownerwrite"
q tpm2_nvwrite 0x01400001 -C o -i "$tmp/hcl-tdx.bin"
"$bin" evidence --provider vtpm --tcti "$tcti" --report-data $nonce --imds-tdquote-url "http://127.0.0.1:$(cat "$tmp/imds.port")/acc/tdquote" --refresh-delay-ms 0 -o "$tmp/evt.json" 2>"$tmp/err" && ok || { bad "TDX evidence through swtpm and IMDS"; cat "$tmp/err"; }
"$bin" verify --json --format az-tdx-vtpm --evidence "$tmp/evt.json" --nonce $nonce --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null && ok || bad "verify TDX swtpm evidence"
check "TDX claims" "$tmp/v.json" ".verdict==\"accept\" and .tee==\"tdx\" and .tcb_status_verified and .claims.vtpm.report_data==\"$nonce\" and .claims.vtpm.tpm.pcr08==\"bddaccb9c52249e97a31baea61b7d91be8221a16e703d92148d04fb8e9c1dfdd\""
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
