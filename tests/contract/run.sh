#!/usr/bin/env bash
# The OpenAPI document is the contract: schemathesis sends generated requests
# to every operation of a fresh `parta demo`, signed in as the demo's
# director (portal and messenger, see fixture.py), and fails on any 5xx, any
# status the document does not list, and any response that does not match
# its schema. See README.md beside this file.
#
#   PARTA_BIN     the parta binary (default: target/debug/parta)
#   SCHEMATHESIS  the schemathesis command (default: schemathesis on PATH)
#   CONTRACT_EXAMPLES  cases per operation and phase (default 25)
# Extra arguments go to `schemathesis run` (e.g. --checks all to look wider).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${PARTA_BIN:-$root/target/debug/parta}"
schemathesis="${SCHEMATHESIS:-schemathesis}"
python="$(dirname "$(command -v "$schemathesis")")/python"
[[ -x "$python" ]] || python=python3
examples="${CONTRACT_EXAMPLES:-25}"

work="$(mktemp -d)"
demo_pid=""
cleanup() {
    if [[ -n "$demo_pid" ]]; then kill "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# A port nobody uses: the kernel picks it, then the demo takes it.
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export PARTA_URL="http://127.0.0.1:$port"
"$bin" demo --data "$work/demo" --listen "127.0.0.1:$port" >"$work/demo.log" 2>&1 &
demo_pid=$!
for _ in $(seq 120); do
    curl -fs "$PARTA_URL/healthz" >/dev/null 2>&1 && break
    kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.log"; echo "parta demo did not start" >&2; exit 1; }
    sleep 0.5
done

{
    echo "hooks = \"$here/hooks.py\""
    cat "$here/schemathesis.toml"
    "$python" "$here/fixture.py"
} >"$work/schemathesis.toml"

# Operations that take the director's own rights or profile away (signing
# out is fine: the hook signs in again on a 401) run last, on their own.
last='^/api/(messenger/me|chats/\{org\}/link|orgs/\{org\}/modules/chats|orgs/\{org\}/people/\{person\})$'
run() {
    "$schemathesis" --config-file "$work/schemathesis.toml" run "$PARTA_URL/api/openapi.json" \
        --max-examples "$examples" "$@"
}
# schemathesis and hypothesis keep their caches in the working directory.
cd "$work"
status=0
run --exclude-path-regex "$last" "$@" || status=$?
run --include-path-regex "$last" "$@" || status=$?
if ((status != 0)); then
    echo "--- the demo's log (last lines)" >&2
    tail -n 40 "$work/demo.log" >&2
fi
exit "$status"
