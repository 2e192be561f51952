// Offline validation of Kubernetes manifests, two ways, both from npm
// packages installed by ci-validate-manifests.sh into a temporary folder:
//  - kubernetes-models: the OpenAPI schema of each kind (types, required
//    fields, formats such as quantities);
//  - @kubernetes/client-node's OpenAPI-generated models: the field names of
//    every object, so that a misspelt key (ignored by the API server, and by
//    the schema check) fails too.
// Usage: node validate-manifests.mjs MODULES_DIR FILE...   (exit 1 on any error)
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const [modulesDir, ...files] = process.argv.slice(2);
const require = createRequire(path.join(modulesDir, "noop.js"));
const YAML = require("yaml");
const modelsDir = path.join(modulesDir, "@kubernetes", "client-node", "dist", "gen", "models");
const modelCache = new Map();

async function model(type) {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(type) || type === "Date" || type === "IntOrString") return null;
  if (!modelCache.has(type)) {
    const file = path.join(modelsDir, type + ".js");
    modelCache.set(type, fs.existsSync(file) ? (await import(pathToFileURL(file).href))[type] : null);
  }
  return modelCache.get(type);
}

async function checkFields(value, type, where, errors) {
  if (value === null || value === undefined) return;
  let m;
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (Array.isArray(value)) for (const [i, v] of value.entries()) await checkFields(v, m[1], `${where}[${i}]`, errors);
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (typeof value === "object") for (const [k, v] of Object.entries(value)) await checkFields(v, m[1], `${where}.${k}`, errors);
    return;
  }
  const cls = await model(type);
  if (!cls || typeof value !== "object" || Array.isArray(value)) return;
  const known = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!known.has(k)) errors.push(`${where}.${k}: unknown field for ${type}`);
    else await checkFields(v, known.get(k), `${where}.${k}`, errors);
  }
}

async function validateDoc(obj, where) {
  const errors = [];
  if (!obj || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string")
    return [`${where}: not a Kubernetes object (apiVersion and kind are required)`];
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const kmPath = group ? `kubernetes-models/${group}/${version}/${obj.kind}` : `kubernetes-models/${version}/${obj.kind}`;
  let Cls;
  try {
    Cls = require(kmPath)[obj.kind];
  } catch (e) {
    return [`${where}: unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`];
  }
  try {
    new Cls(obj).validate();
  } catch (e) {
    errors.push(`${where}: ${e.message}`);
  }
  const prefix = version.charAt(0).toUpperCase() + version.slice(1);
  const top = await model(prefix + obj.kind);
  if (!top) errors.push(`${where}: no field model ${prefix}${obj.kind} to check field names against`);
  else await checkFields(obj, prefix + obj.kind, `${where} ${obj.kind}/${obj.metadata?.name ?? "?"}`, errors);
  return errors;
}

let failed = 0, count = 0;
for (const file of files) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  for (const [i, doc] of docs.entries()) {
    const where = `${path.basename(file)}#${i + 1}`;
    if (doc.errors.length) {
      console.log(`FAIL ${where}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      failed++;
      continue;
    }
    const obj = doc.toJS();
    if (obj === null) continue;
    count++;
    const errors = await validateDoc(obj, where);
    if (errors.length) {
      failed++;
      for (const e of errors) console.log(`FAIL ${e}`);
    } else {
      console.log(`ok   ${where} ${obj.apiVersion} ${obj.kind}/${obj.metadata.name}`);
    }
  }
}
console.log(`${count} objects, ${failed} invalid`);
process.exit(failed || count === 0 ? 1 : 0);
