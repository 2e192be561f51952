// Drives cocoon-webhook as the API server does: each AdmissionReview v1 is
// POSTed over HTTPS with only the test CA trusted, and the returned JSONPatch
// is applied by an independent implementation (fast-json-patch, with
// operation validation on). For each REVIEW.json it writes
// OUTDIR/NAME.result.json (status, verdict, decoded patch) and, when the pod
// was admitted, OUTDIR/NAME.pod.json (the pod as the API server would store it).
// Usage: node client.mjs URL CA_PEM OUTDIR REVIEW.json...   (COCOON_NPM_MODULES: node_modules)
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(path.join(process.env.COCOON_NPM_MODULES, "noop.js"));
const jsonpatch = require("fast-json-patch");
const [url, caFile, outDir, ...reviews] = process.argv.slice(2);
const ca = fs.readFileSync(caFile);

function post(body) {
  return new Promise((resolve, reject) => {
    const req = https.request(url + "/mutate", {
      method: "POST", ca, rejectUnauthorized: true, agent: false,
      headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
    }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

for (const file of reviews) {
  const name = path.basename(file, ".json");
  const text = fs.readFileSync(file, "utf8");
  const review = JSON.parse(text);
  const res = await post(text);
  const out = { status: res.status };
  try {
    out.body = JSON.parse(res.text);
  } catch {
    out.raw = res.text;
  }
  const r = out.body?.response;
  if (r) {
    out.uidEchoed = r.uid === review.request.uid;
    out.allowed = r.allowed;
    out.message = r.status?.message ?? null;
    out.code = r.status?.code ?? null;
    out.patchType = r.patchType ?? null;
    out.patch = r.patch ? JSON.parse(Buffer.from(r.patch, "base64").toString("utf8")) : null;
    if (r.allowed) {
      let pod = jsonpatch.deepClone(review.request.object);
      if (out.patch) {
        // validateOperation=true: a malformed or misdirected operation throws instead of being ignored.
        pod = jsonpatch.applyPatch(pod, out.patch, true, false).newDocument;
      }
      fs.writeFileSync(path.join(outDir, name + ".pod.json"), JSON.stringify(pod, null, 2));
    }
  }
  fs.writeFileSync(path.join(outDir, name + ".result.json"), JSON.stringify(out, null, 2));
}
