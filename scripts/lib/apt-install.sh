# Sourced by the scripts: apt_install WHO PACKAGE... installs Debian packages that a script found missing, when run
# as root (CI, a fresh machine), and otherwise stops with the apt-get command to run. With no package it does nothing.
# apt-get's own output is kept off stdout, so that callers whose stdout is data stay clean.
apt_install() {
  local who="$1"
  shift
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "$who: needs $* (apt-get install --no-install-recommends $*)" >&2
    return 1
  fi
  echo "$who: installing $*" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
