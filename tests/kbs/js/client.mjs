// An independent Trustee KBS 0.4.0 guest written from docs/kbs.md only, with the npm
// packages jose (JWE, JWT) and canonicalize (RFC 8785 JCS); it shares no code with the
// server. The evidence source is the TEE's job, so simulated SGX/TDX evidence bound to
// the REPORT_DATA this client computes comes from the `cocoon sim quote` CLI.
// usage: node client.mjs URL COCOON-BIN SIM-DIR SECRET-FILE
// Environment: COCOON_KBS_NPM_DIR, the folder tests/kbs/npm-install.sh filled.
// Prints "FAIL: ..." per failed check and "N passed, M failed"; exit 0 only if all passed.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';

const require = createRequire(join(process.env.COCOON_KBS_NPM_DIR ?? '.', 'package.json'));
const jose = require('jose');
const canonicalize = require('canonicalize');

const [url, cocoon, simDir, secretFile] = process.argv.slice(2);
if (!secretFile) {
  console.error('usage: node client.mjs URL COCOON-BIN SIM-DIR SECRET-FILE');
  process.exit(2);
}
const secret = readFileSync(secretFile);
const base = new URL(url);
const E = 'https://github.com/confidential-containers/kbs/errors/';
const work = mkdtempSync(join(tmpdir(), 'kbs-js-'));
let pass = 0;
let fail = 0;

function check(cond, desc, extra) {
  if (cond) pass++;
  else { fail++; console.log(`FAIL: ${desc}${extra === undefined ? '' : ': ' + JSON.stringify(extra).slice(0, 600)}`); }
  return cond;
}

// node:http, not fetch: fetch's URL parser would resolve "..", and the test needs it on the wire.
function req(method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: base.hostname, port: base.port, method, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    r.on('error', reject);
    if (body !== undefined) r.write(typeof body === 'string' ? body : JSON.stringify(body));
    r.end();
  });
}
const post = (path, body, headers = {}) => req('POST', path, { body, headers: { 'content-type': 'application/json', ...headers } });

// kbsError: the KBS error JSON shape with the expected status, variant and detail pattern.
function kbsError(res, status, variant, desc, detail = /./) {
  return check(res.status === status && res.json?.type === E + variant && typeof res.json?.detail === 'string' &&
    detail.test(res.json.detail), `${desc} (want ${status} ${variant} ${detail})`, { status: res.status, body: res.text });
}

// The guest key: EC P-256 for ECDH-ES+A256KW or RSA for RSA-OAEP-256; the JWK as sent.
async function guestKey(kind) {
  const alg = kind === 'ec' ? 'ECDH-ES+A256KW' : 'RSA-OAEP-256';
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, kind === 'ec' ? { crv: 'P-256' } : { modulusLength: 2048 });
  const jwk = await jose.exportJWK(publicKey);
  const pub = kind === 'ec' ? { kty: 'EC', crv: jwk.crv, alg, x: jwk.x, y: jwk.y } : { kty: 'RSA', alg, n: jwk.n, e: jwk.e };
  return { pub, privateKey, alg };
}

// The runtime-data binding (docs/kbs.md): SHA-384 of the JCS of
// {additional-evidence, nonce, tee-pubkey}, zero-padded to 64 bytes, as hex.
function reportData(nonce, pub, additional = '') {
  const digest = createHash('sha384').update(canonicalize({ 'additional-evidence': additional, nonce, 'tee-pubkey': pub })).digest();
  return Buffer.concat([digest, Buffer.alloc(64 - digest.length)]).toString('hex');
}

// The TEE's part: simulated evidence with this REPORT_DATA, in the primary_evidence shape of the tee.
function evidence(tee, rd) {
  const out = join(work, `ev-${tee}-${rd.slice(0, 16)}`);
  const fields = tee === 'sgx' ? ['--quote-version', '3', '--mrenclave', 'ab'.repeat(32)] : ['--mrtd', '12'.repeat(48)];
  execFileSync(cocoon, ['sim', 'quote', '--tee', tee, '--report-data', rd, ...fields, '-o', out, simDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const quote = readFileSync(out).toString('base64');
  return tee === 'sgx' ? { quote } : { cc_eventlog: null, quote };
}

async function auth(tee, version = '0.4.0') {
  const res = await post('/kbs/v0/auth', { version, tee, 'extra-params': '' });
  const m = /kbs-session-id=([0-9a-f]+)/.exec((res.headers['set-cookie'] ?? []).join(';'));
  return { res, cookie: m ? `kbs-session-id=${m[1]}` : undefined, nonce: res.json?.nonce };
}

function attestBody(nonce, pub, primary) {
  return { 'runtime-data': { nonce, 'tee-pubkey': pub }, 'tee-evidence': { primary_evidence: primary, additional_evidence: '' } };
}

// A full handshake; returns everything later checks reuse.
async function handshake(tee, kind) {
  const key = await guestKey(kind);
  const a = await auth(tee);
  check(a.res.status === 200 && typeof a.nonce === 'string' && Buffer.from(a.nonce, 'base64').length === 32 &&
    a.res.json['extra-params'] === '' && a.cookie, `${tee}/${kind} auth: challenge and cookie`, { status: a.res.status, body: a.res.text });
  const primary = evidence(tee, reportData(a.nonce, key.pub));
  const body = attestBody(a.nonce, key.pub, primary);
  const res = await post('/kbs/v0/attest', body, { cookie: a.cookie });
  check(res.status === 200 && typeof res.json?.token === 'string', `${tee}/${kind} attest`, { status: res.status, body: res.text });
  return { ...key, ...a, primary, body, token: res.json?.token };
}

// The EAR: header and claim shape (docs/kbs.md "EAR token"), and its ES256 signature with the header jwk.
async function checkEar(h, tee) {
  const header = jose.decodeProtectedHeader(h.token);
  const claims = jose.decodeJwt(h.token);
  check(header.alg === 'ES256' && header.jwk?.kty === 'EC' && header.jwk?.crv === 'P-256' && !('d' in header.jwk),
    'EAR header: ES256 with a public P-256 jwk', header);
  const sub = claims.submods?.cpu0 ?? {};
  const vec = sub['ear.trustworthiness-vector'] ?? {};
  const ann = sub['ear.veraison.annotated-evidence'] ?? {};
  check(claims.eat_profile === 'tag:github.com,2024:confidential-containers/Trustee' && Number.isInteger(claims.iat) &&
    Number.isInteger(claims.exp) && claims.exp > claims.iat && typeof claims.iss === 'string' &&
    typeof claims['ear.verifier-id']?.developer === 'string', `${tee} EAR top-level claims`, claims);
  const names = ['instance-identity', 'configuration', 'executables', 'file-system', 'hardware', 'runtime-opaque',
    'storage-opaque', 'sourced-data'];
  check(names.every((n) => Number.isInteger(vec[n])) && vec.hardware === 97 && sub['ear.status'] === 'contraindicated' &&
    ann.simulated === true && typeof ann[tee] === 'object', `${tee} EAR submod: simulated evidence is contraindicated`, sub);
  check(ann.runtime_data_claims?.nonce === h.nonce &&
    canonicalize(ann.runtime_data_claims?.['tee-pubkey']) === canonicalize(h.pub), `${tee} EAR runtime_data_claims`, ann.runtime_data_claims);
  try {
    const { payload } = await jose.jwtVerify(h.token, await jose.importJWK(header.jwk, 'ES256'));
    check(payload.exp === claims.exp, `${tee} EAR signature`);
  } catch (e) { check(false, `${tee} EAR ES256 signature with the header jwk`, String(e)); }
}

// GET a resource and decrypt the flattened JWE with the guest's private key.
async function fetchSecret(h, path, headers) {
  const res = await req('GET', `/kbs/v0/resource/${path}`, { headers: headers ?? { cookie: h.cookie } });
  if (res.status !== 200) return { res };
  const jwe = res.json;
  const prot = jwe?.protected ? JSON.parse(Buffer.from(jwe.protected, 'base64url')) : {};
  try {
    const { plaintext } = await jose.flattenedDecrypt(jwe, h.privateKey);
    return { res, jwe, prot, plaintext: Buffer.from(plaintext) };
  } catch (e) { return { res, jwe, prot, error: String(e) }; }
}

async function happy(tee, kind) {
  const h = await handshake(tee, kind);
  if (!h.token) return h;
  await checkEar(h, tee);
  const r = await fetchSecret(h, 'cocoon/test/one');
  check(r.plaintext?.equals(secret), `${tee}/${kind} resource decrypts to the stored value`, { status: r.res.status, body: r.res.text.slice(0, 300), error: r.error });
  const members = Object.keys(r.jwe ?? {}).sort().join(',');
  check(members === 'ciphertext,encrypted_key,iv,protected,tag', `${tee}/${kind} flattened JWE members`, members);
  if (kind === 'ec')
    check(r.prot.alg === 'ECDH-ES+A256KW' && r.prot.enc === 'A256GCM' && r.prot.epk?.crv === 'P-256' &&
      Object.keys(r.prot).join(',') === 'alg,enc,epk', 'EC JWE: epk in the protected header, alg/enc first', r.prot);
  else
    check(r.prot.alg === 'RSA-OAEP-256' && r.prot.enc === 'A256GCM', 'RSA JWE: RSA-OAEP-256/A256GCM', r.prot);
  return h;
}

// RFC 8785's own examples (§3.2.2 values, §3.2.3 sorting) and the runtime-data vector of the reference notes.
function jcsVectors() {
  const values = JSON.parse('{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
    '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}');
  check(canonicalize(values) === '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
    '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}', 'RFC 8785 §3.2.2 vector', canonicalize(values));
  const sorting = JSON.parse('{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh",' +
    '"1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}');
  // Compared as text: a parsed object would list the integer-like key "1" first whatever the order.
  const order = [['\r', 'Carriage Return'], ['1', 'One'], ['\u0080', 'Control'], ['\u00f6', 'Latin Small Letter O With Diaeresis'],
    ['\u20ac', 'Euro Sign'], ['\ud83d\ude00', 'Emoji: Grinning Face'], ['\ufb33', 'Hebrew Letter Dalet With Dagesh']];
  const want = `{${order.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
  check(canonicalize(sorting) === want, 'RFC 8785 §3.2.3 sort order', canonicalize(sorting));
  const pub = { y: 'ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8', x: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8', kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW' };
  check(reportData('MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=', pub) === '6a8cdb34e4c326e44e85b24ebf23ed09084d6511cd4ad40e282b543ca6be4df5' +
    '4d2bca07fa976f89c7de804c263fe21d' + '0'.repeat(32), 'runtime-data hash vector (reference notes)');
}

async function negatives(h) {
  kbsError((await auth('sgx', '0.3.0')).res, 401, 'AttestationError', 'wrong protocol version', /Version Mismatch/);
  kbsError(await post('/kbs/v0/attest', h.body), 401, 'TokenNotFound', 'attest without a cookie');
  kbsError(await post('/kbs/v0/attest', h.body, { cookie: h.cookie }), 401, 'AttestationError', 'replayed attest', /used|attested/);
  // A fresh session, but evidence made for the first handshake's nonce.
  const a = await auth('sgx');
  kbsError(await post('/kbs/v0/attest', attestBody(a.nonce, h.pub, h.primary), { cookie: a.cookie }), 401, 'AttestationError',
    'evidence bound to another nonce', /report_data|binding|REPORT_DATA/);
  const denied = await fetchSecret(h, 'cocoon/test/forbidden');
  kbsError(denied.res, 403, 'PolicyDeny', 'policy-denied path names the rule', /line 1|deny/);
  check(!denied.res.text.includes('forbidden secret'), 'a denial carries no secret');
  kbsError((await fetchSecret(h, 'cocoon/../one')).res, 404, 'InvalidRequestPath', "'..' in the path");
  kbsError((await fetchSecret(h, 'cocoon/test/missing')).res, 404, 'InvalidRequestPath', 'missing resource');
  kbsError((await fetchSecret(h, 'cocoon/test/one', {})).res, 401, 'TokenNotFound', 'resource without cookie or token');
  const bearer = await fetchSecret(h, 'cocoon/test/one', { authorization: `Bearer ${h.token}` });
  check(bearer.plaintext?.equals(secret), 'Bearer EAR: the resource decrypts', { status: bearer.res.status, error: bearer.error });
  const [hd, pl, sig] = h.token.split('.');
  const tampered = `${hd}.${pl}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
  kbsError((await fetchSecret(h, 'cocoon/test/one', { authorization: `Bearer ${tampered}` })).res, 401, 'TokenVerifierError', 'tampered Bearer EAR');
}

try {
  jcsVectors();
  const first = await happy('sgx', 'ec');
  await happy('sgx', 'rsa');
  await happy('tdx', 'ec');
  await happy('tdx', 'rsa');
  if (first.token) await negatives(first);
  else check(false, 'negative cases need a first handshake');
} catch (e) {
  check(false, 'client error', String(e.stack ?? e));
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`${pass} passed, ${fail} failed`);
process.exit(fail === 0 ? 0 : 1);
