#!/usr/bin/env bash
# Runs the official sockjs-protocol 0.3.3 suite and http-quirks (69 tests) against the test
# server. Needs a mirror of github.com/sockjs/sockjs-protocol (SOCKJS_PROTOCOL_MIRROR) and the
# runner from ../shared/tools/protocol (PROTOCOL_RUNNER to point elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
export SOCKJS_PROTOCOL_MIRROR="${SOCKJS_PROTOCOL_MIRROR:-/work/.mirror/sockjs+sockjs-protocol/repo}"
runner="${PROTOCOL_RUNNER:-../shared/tools/protocol/run.sh}"
[ -x "$runner" ] || { echo "protocol: no runner at $runner (set PROTOCOL_RUNNER)" >&2; exit 2; }
port="${PORT:-$((20000 + RANDOM % 20000))}"
PORT="$port" node --import tsx spec/support/test-server.ts > /tmp/sockjs-express-test-server.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  if node -e "require('http').get('http://127.0.0.1:$port/echo',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"; then break; fi
  sleep 0.2
done
"$runner" --all "http://127.0.0.1:$port"
