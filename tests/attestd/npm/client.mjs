// Drives cocoon-attestd with the real @azure/attestation client (the npm package, unmodified).
//   node client.mjs attest URL QUOTE-FILE RUNTIME-TEXT      (plain HTTP, allowInsecureConnection)
//   node client.mjs admin URL QUOTE-FILE ADMIN-TOKEN         (HTTPS; trust the CA with NODE_EXTRA_CA_CERTS)
// Prints one JSON object with what the client saw; exits non-zero on any failure.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(process.env.COCOON_NPM_MODULES + "/");
const { AttestationClient, AttestationAdministrationClient } = require("@azure/attestation");

const [mode, url, quoteFile, arg] = process.argv.slice(2);
const quote = readFileSync(quoteFile);
const out = {};

async function attest() {
  const client = new AttestationClient(url, { allowInsecureConnection: true });
  // Validation through /certs (kid match, RS256 signature, exp/nbf) is the client's default.
  const res = await client.attestSgxEnclave(quote, { runTimeData: Buffer.from(arg) });
  const body = res.body;
  out.mrEnclave = body.mrEnclave;
  out.productId = body.productId;
  out.svn = body.svn;
  out.isDebuggable = body.isDebuggable;
  out.enclaveHeldData = Buffer.from(body.enclaveHeldData).toString();
  out.issuer = body.issuer;
  out.policyHashLength = body.policyHash.length;
  out.tokenAlgorithm = res.token.algorithm;
  out.keyId = res.token.keyId;
  const signers = await client.getAttestationSigners();
  out.signers = signers.length;
  out.signerKeyId = signers[0].keyId;
  const meta = await client.getOpenIdMetadata();
  out.jwksUri = meta.jwks_uri;
  try {
    await client.attestSgxEnclave(quote, { runTimeData: Buffer.from("not what the enclave bound") });
    out.mismatch = "accepted";
  } catch (e) {
    out.mismatch = { status: e.statusCode, code: e.code, message: e.message };
  }
}

async function admin() {
  const credential = { getToken: async () => ({ token: arg, expiresOnTimestamp: Date.now() + 3600 * 1000 }) };
  const adminClient = new AttestationAdministrationClient(url, credential);
  const client = new AttestationClient(url);
  const denying = "version=1.0;\nauthorizationrules {\n  [type==\"x-ms-sgx-product-id\", value==7] => deny();\n  => permit();\n};\n";
  const before = await client.attestSgxEnclave(quote);
  out.hashBefore = Buffer.from(before.body.policyHash).toString("base64url");
  const set = await adminClient.setPolicy("SgxEnclave", denying);
  out.setResolution = set.body.policyResolution;
  const got = await adminClient.getPolicy("SgxEnclave");
  out.getMatches = got.body === denying;
  try {
    await client.attestSgxEnclave(quote);
    out.denied = "accepted";
  } catch (e) {
    out.denied = { status: e.statusCode, code: e.code, message: e.message };
  }
  const reset = await adminClient.resetPolicy("SgxEnclave");
  out.resetResolution = reset.body.policyResolution;
  const after = await client.attestSgxEnclave(quote);
  out.hashAfter = Buffer.from(after.body.policyHash).toString("base64url");
  const bad = new AttestationAdministrationClient(url, { getToken: async () => ({ token: "wrong-admin-token-000000", expiresOnTimestamp: Date.now() + 3600 * 1000 }) });
  try {
    await bad.getPolicy("SgxEnclave");
    out.wrongToken = "accepted";
  } catch (e) {
    out.wrongToken = { status: e.statusCode, code: e.code };
  }
}

try {
  await (mode === "admin" ? admin() : attest());
  console.log(JSON.stringify(out));
} catch (e) {
  console.log(JSON.stringify({ ...out, error: e.message, status: e.statusCode }));
  process.exit(1);
}
