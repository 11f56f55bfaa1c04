#!/usr/bin/env bash
# `npm test`: finds (or installs) etcd, builds, and runs every test file with node:test.
# Node 20's `node --test dir/` silently finds no .ts files and passes, so files are listed explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."

find_etcd() {
  if [ -n "${ETCD_BIN:-}" ]; then
    [ -x "$ETCD_BIN" ] && return 0
    echo "test.sh: ETCD_BIN=$ETCD_BIN is not an executable" >&2
    exit 1
  fi
  command -v etcd >/dev/null 2>&1
}

if ! find_etcd; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: etcd not found; installing Debian's etcd-server and etcd-client" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends etcd-server etcd-client >/dev/null
    # The package starts a system etcd on 2379; the tests start their own on free ports.
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now etcd >/dev/null 2>&1 || true; fi
  fi
  if ! find_etcd; then
    cat >&2 <<'MSG'
test.sh: the tests need a real etcd (v3.4+) and etcdctl, and neither PATH nor ETCD_BIN has one.
  Debian/Ubuntu (as root):  apt-get install etcd-server etcd-client
  Elsewhere: download a release from https://github.com/etcd-io/etcd/releases and run
             ETCD_BIN=/path/to/etcd npm test   (etcdctl must sit beside it or on PATH)
MSG
    exit 1
  fi
fi
if [ -z "${ETCD_BIN:-}" ] && ! command -v etcdctl >/dev/null 2>&1; then
  echo "test.sh: etcd found but etcdctl is missing (Debian: apt-get install etcd-client)" >&2
  exit 1
fi

# The redis and ZooKeeper tests skip (saying why) without their servers; CI installs both (.ci/run).
command -v redis-server >/dev/null 2>&1 || echo "test.sh: redis-server not found: the redis backend tests are skipped (Debian: apt-get install redis-server)" >&2
[ -x /usr/share/zookeeper/bin/zkServer.sh ] || echo "test.sh: ZooKeeper not found: the zookeeper backend tests are skipped (Debian: apt-get install zookeeper)" >&2

npm run build --silent

mapfile -t files < <(find test -name '*.test.ts' -type f | LC_ALL=C sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "test.sh: no test files found under test/" >&2
  exit 1
fi
echo "test.sh: ${#files[@]} test files" >&2
exec node --import tsx --test --test-concurrency=2 "${files[@]}"
