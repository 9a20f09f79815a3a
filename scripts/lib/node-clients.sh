# Sourced by scripts/test: installs tests/clients/node's packages (Google's Node.js client libraries, pinned by its
# package-lock.json) into the repository's ignored tests/clients/node/node_modules with npm ci, when they are missing or
# the lock file changed since. The metadata endpoint's tests run them as app processes (tests/Injector.Tests/MetadataApi),
# and fail, saying to run this, when they are missing.
install_node_clients() {
  local dir=tests/clients/node
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "scripts/test: needs node (20 or later) and npm for $dir (apt-get install nodejs npm)" >&2
    exit 1
  fi
  local stamp="$dir/node_modules/.package-lock.sha256" want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
    echo "$want" >"$stamp"
  fi
}
