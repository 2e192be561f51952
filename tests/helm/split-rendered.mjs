// Splits `helm template` output for the offline checks: the core Kubernetes objects go to
// OUT.core.yaml (validated by tests/plugin/validate-manifests.mjs), Prometheus Operator
// objects are validated here against @kubernetes-models/prometheus-operator's schemas, and
// every object is written as one JSON array to OUT.json for jq assertions.
// Usage: node split-rendered.mjs MODULES_DIR RENDERED.yaml OUT   (exit 1 on an invalid CRD object)
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [modulesDir, file, out] = process.argv.slice(2);
const require = createRequire(path.join(modulesDir, "noop.js"));
const YAML = require("yaml");
const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
const core = [], all = [];
let failed = 0;
for (const doc of docs) {
  if (doc.errors.length) {
    console.log(`FAIL YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    failed++;
    continue;
  }
  const obj = doc.toJS();
  if (obj === null) continue;
  all.push(obj);
  if (obj.apiVersion === "monitoring.coreos.com/v1") {
    try {
      const Cls = require(`@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${obj.kind}`)[obj.kind];
      new Cls(obj).validate();
      console.log(`ok   ${obj.apiVersion} ${obj.kind}/${obj.metadata.name}`);
    } catch (e) {
      console.log(`FAIL ${obj.kind}/${obj.metadata?.name}: ${e.message}`);
      failed++;
    }
  } else {
    core.push(doc.toString());
  }
}
fs.writeFileSync(out + ".core.yaml", core.join("---\n"));
fs.writeFileSync(out + ".json", JSON.stringify(all, null, 1));
process.exit(failed ? 1 : 0);
