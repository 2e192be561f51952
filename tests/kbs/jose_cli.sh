#!/bin/bash
# Debian's jose CLI against cocoon's KBS JWE, both directions, for P-256, P-384
# and P-521: jose decrypts what the broker sends (ECDH-ES+A256KW, epk in the
# protected header), cocoon decrypts what jose sends (epk in the unprotected
# header), and a tampered response is refused by both.
# usage: jose_cli.sh PATH/TO/kbs_tool
set -euo pipefail
tool=$1
command -v jose >/dev/null || { echo "SKIP: the jose CLI is not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
head -c 1000 /dev/urandom > secret
for crv in P-256 P-384 P-521; do
	jose jwk gen -i "{\"kty\":\"EC\",\"crv\":\"$crv\"}" -o key.jwk
	jose jwk pub -i key.jwk -o pub.jwk

	# cocoon -> jose
	"$tool" enc pub.jwk secret > resp.jwe
	p=$(jq -r .protected resp.jwe | tr '_-' '/+')
	while [ $(( ${#p} % 4 )) -ne 0 ]; do p="$p="; done
	prot=$(printf '%s' "$p" | base64 -d)
	echo "$prot" | jq -e '.alg == "ECDH-ES+A256KW" and .enc == "A256GCM" and .epk.kty == "EC"' >/dev/null
	jq -e 'has("header") | not' resp.jwe >/dev/null
	jose jwe dec -i resp.jwe -k key.jwk -O out
	cmp secret out

	# A flipped ciphertext character: jose refuses it, and so does cocoon.
	jq '.ciphertext |= (if .[0:1] == "A" then "B" else "A" end) + .[1:]' resp.jwe > bad.jwe
	if jose jwe dec -i bad.jwe -k key.jwk -O out2 2>/dev/null; then echo "FAIL: jose accepted a tampered JWE"; exit 1; fi
	if "$tool" dec key.jwk bad.jwe > out2 2>err; then echo "FAIL: cocoon accepted a tampered JWE"; exit 1; fi
	grep -q "did not verify" err

	# jose -> cocoon (epk in the unprotected header)
	jose jwe enc -I secret -k pub.jwk -r '{"header":{"alg":"ECDH-ES+A256KW"}}' -i '{"protected":{"enc":"A256GCM"}}' -o jose.jwe
	"$tool" dec key.jwk jose.jwe > out3
	cmp secret out3
	echo "ok: $crv"
done
