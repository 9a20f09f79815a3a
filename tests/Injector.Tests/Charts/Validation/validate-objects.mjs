// Validates Kubernetes objects (a JSON array of {id, object} read from the file named by the first argument)
// against published models, and prints a JSON array of {id, errors} for the objects that fail.
//
// Two independent checks per object:
// - TypeScript's excess-property check: each object is assigned, as an object literal, to the model interface of its
//   kind, so an unknown or misplaced field, a wrong type or a missing required field anywhere in it is an error.
// - The model's own validator (JSON Schema compiled from the Kubernetes OpenAPI document or the CRD), which adds
//   the patterns, enums and formats that types cannot carry.
// The models are npm packages (kubernetes-models, @kubernetes-models/*) that the test copies this script next to;
// monitoring.googleapis.com has none, so its types come from gmp.ts, written from the published CRDs.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const ts = createRequire(import.meta.url)("typescript");
const objects = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

function modelOf({ apiVersion, kind }) {
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  if (group === "monitoring.googleapis.com") {
    return { module: "./gmp.js", type: `I${kind}`, runtime: false };
  }

  const packageName = {
    "": "kubernetes-models",
    "cert-manager.io": "@kubernetes-models/cert-manager",
    "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  }[group] ?? "kubernetes-models";
  return { module: `${packageName}/${apiVersion}/${kind}`, type: `I${kind}`, runtime: true };
}

const errors = new Map();
const report = (id, message) => errors.set(id, [...(errors.get(id) ?? []), message]);

// One source file, each object pretty-printed from a known line, so that a diagnostic maps to its object and field.
const lines = [];
const owners = [];
objects.forEach(({ id, object }, index) => {
  const { module, type } = modelOf(object);
  lines.push(`import type { ${type} as T${index} } from ${JSON.stringify(module)};`);
  owners.push(null);
  const body = `export const o${index}: T${index} = ${JSON.stringify(object, null, 1)};`.split("\n");
  lines.push(...body);
  owners.push(...body.map(() => id));
});

const checkFile = path.join(here, "check.ts");
fs.writeFileSync(checkFile, lines.join("\n"));
const program = ts.createProgram([checkFile], {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
});
for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
  if (diagnostic.file?.fileName !== checkFile) {
    report("(models)", message);
    continue;
  }

  const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  report(owners[line] ?? "(imports)", `${message} at: ${lines[line].trim()}`);
}

for (const { id, object } of objects) {
  const { module, type, runtime } = modelOf(object);
  if (!runtime) {
    continue;
  }

  const Model = (await import(module))[type.slice(1)];
  try {
    new Model(object).validate();
  } catch (error) {
    report(id, String(error.message ?? error));
  }
}

console.log(JSON.stringify([...errors].map(([id, messages]) => ({ id, errors: messages }))));
