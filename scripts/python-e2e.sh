#!/usr/bin/env bash
# Runs the official Python client's end-to-end tests (the folder kubernetes/e2e_test of a checkout
# of kubernetes-client/python, tag v33.1.0) against a fresh `formicary cluster`: the cluster gets a
# temporary data directory and kubeconfig, pytest runs with the checkout first on PYTHONPATH (so a
# system-wide `kubernetes` package is not the one tested), and the cluster stops when pytest ends.
#
#   scripts/python-e2e.sh CHECKOUT [PYTEST ARGUMENTS...]     (default arguments: -q)
#
# PYTHON names the interpreter (default: the first of python3, /usr/bin/python3 that has pytest and
# the client's requirements).
# A PYTHONPATH already set is kept after the checkout (e.g. for durationpy, which Debian lacks).
set -euo pipefail

usage() {
  echo "usage: scripts/python-e2e.sh CHECKOUT [PYTEST ARGUMENTS...]" >&2
  echo "  CHECKOUT: a checkout of the official Python client (kubernetes-client/python, tag v33.1.0)" >&2
}

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  usage
  exit 2
fi
checkout=$(cd "$1" 2>/dev/null && pwd) || {
  echo "python-e2e: $1: no such directory" >&2
  usage
  exit 2
}
shift
if [ ! -f "$checkout/kubernetes/e2e_test/base.py" ] || [ ! -f "$checkout/kubernetes/__init__.py" ]; then
  echo "python-e2e: $checkout has no kubernetes/e2e_test/base.py: not a checkout of the Python client (kubernetes-client/python)" >&2
  exit 2
fi
# The client's config, stream and watch packages are links into kubernetes/base (a submodule in
# older trees): a checkout without them cannot be imported.
if [ ! -f "$checkout/kubernetes/config/kube_config.py" ]; then
  echo "python-e2e: $checkout/kubernetes/config/kube_config.py is missing: the checkout lacks kubernetes/base (run git submodule update --init there)" >&2
  exit 2
fi

repo=$(cd "$(dirname "$0")/.." && pwd)

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 24 ]; then
  echo "python-e2e: formicary needs Node 24 or later on PATH (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 2
fi

export PYTHONPATH="$checkout${PYTHONPATH:+:$PYTHONPATH}"
# What an interpreter lacks of pytest and the client's requirements ("" when it has them all).
missing_modules() {
  "$1" - <<'EOF' 2>/dev/null || echo "a working Python 3"
import importlib
modules = {
    'pytest': 'python3-pytest', 'urllib3': 'python3-urllib3', 'dateutil': 'python3-dateutil',
    'yaml': 'python3-yaml', 'websocket': 'python3-websocket', 'requests': 'python3-requests',
    'requests_oauthlib': 'python3-requests-oauthlib', 'google.auth': 'python3-google-auth',
    'six': 'python3-six', 'certifi': 'python3-certifi', 'durationpy': 'pip install durationpy',
}
gone = []
for module, package in modules.items():
    try:
        importlib.import_module(module)
    except ImportError:
        gone.append(f'{module} ({package})')
print(', '.join(gone))
EOF
}
python=""
report=""
for candidate in ${PYTHON:-python3 /usr/bin/python3}; do
  if ! command -v "$candidate" >/dev/null 2>&1; then
    report="$report\n  $candidate: not found"
    continue
  fi
  missing=$(missing_modules "$(command -v "$candidate")")
  if [ -z "$missing" ]; then
    python=$(command -v "$candidate")
    break
  fi
  report="$report\n  $(command -v "$candidate") lacks $missing"
done
if [ -z "$python" ]; then
  printf 'python-e2e: no Python 3 with pytest and the requirements of the client (set PYTHON to choose one):%b\n' "$report" >&2
  exit 2
fi
version=$("$python" -c 'import kubernetes, os; print(kubernetes.__version__ + " from " + os.path.dirname(os.path.dirname(kubernetes.__file__)))')
case "$version" in
  *" from $checkout") ;;
  *)
    echo "python-e2e: Python imports kubernetes $version, not the checkout at $checkout" >&2
    exit 2
    ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/formicary-python-e2e.XXXXXX")
cluster_pid=""
stop_cluster() {
  if [ -n "$cluster_pid" ] && kill -0 "$cluster_pid" 2>/dev/null; then
    kill -TERM "$cluster_pid" 2>/dev/null || true
    wait "$cluster_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_cluster EXIT
trap 'exit 130' INT TERM

node "$repo/src/cli/main.ts" cluster --data "$work/cluster" --kubeconfig "$work/kubeconfig" >"$work/cluster.log" 2>&1 &
cluster_pid=$!
for _ in $(seq 1 120); do
  grep -q ready "$work/cluster.log" && break
  if ! kill -0 "$cluster_pid" 2>/dev/null; then
    echo "python-e2e: formicary cluster stopped before it was ready:" >&2
    cat "$work/cluster.log" >&2
    exit 1
  fi
  sleep 0.5
done
if ! grep -q ready "$work/cluster.log"; then
  echo "python-e2e: formicary cluster was not ready after 60 s:" >&2
  cat "$work/cluster.log" >&2
  exit 1
fi
echo "python-e2e: kubernetes $version; $(head -n 1 "$work/cluster.log")"

[ $# -gt 0 ] || set -- -q
status=0
(cd "$checkout" && KUBECONFIG="$work/kubeconfig" "$python" -m pytest kubernetes/e2e_test -p no:cacheprovider "$@") || status=$?
exit "$status"
