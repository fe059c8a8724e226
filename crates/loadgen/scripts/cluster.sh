#!/usr/bin/env bash
# Parta on PostgreSQL, one node and several, side by side in one run.
# Everything on loopback: PostgreSQL at 127.0.0.1:5432 (trust), a NATS server
# this script starts on 127.0.0.1:14222, nodes on 127.0.0.1:18091-18093.
#
#   cargo build --release -p parta -p loadgen
#   crates/loadgen/scripts/cluster.sh w1 [MEMBERS] [ROUNDS]
#       W1: one node without NATS, one node in cluster mode, three nodes with
#       the members spread over them; ROUNDS times, interleaved.
#   crates/loadgen/scripts/cluster.sh w2 [CONNECTIONS]
#       W2: idle connections over three nodes, a third each from a generator
#       of its own (every process, generators included, stays under the
#       machine's 20,000 open-files limit): memory per connection, connect time.
set -euo pipefail
cd "$(dirname "$0")/../../.."

workload=${1:-w1}
members=${2:-300}
rounds=${3:-2}
bin=${PARTA_RELEASE:-${CARGO_TARGET_DIR:-target}/release}
db=postgres://postgres@127.0.0.1/parta_bench
work=$(mktemp -d /tmp/parta-cluster-bench.XXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

psql -q -h 127.0.0.1 -U postgres -d test -c 'DROP DATABASE IF EXISTS parta_bench' -c 'CREATE DATABASE parta_bench'
nats-server -a 127.0.0.1 -p 14222 >/dev/null 2>&1 &
pids+=($!)
# The senders are scripts: flood control must not limit them.
cat >"$work/parta.toml" <<EOF
database_url = "$db"
log = "warn"
[flood]
messages = { burst = 1000000, per_second = 1000000 }
socket = { burst = 1000000, per_second = 1000000 }
EOF

# start N [nats]: N nodes, their pids in $nodes, their URLs in $urls.
start() {
    nodes=() urls=()
    for i in $(seq 1 "$1"); do
        local port=$((18090 + i))
        mkdir -p "$work/node$i"
        if [[ ${2:-} == nats ]]; then export PARTA_NATS_URL=nats://127.0.0.1:14222; else unset PARTA_NATS_URL; fi
        "$bin/parta" serve --config "$work/parta.toml" --data "$work/node$i" --listen "127.0.0.1:$port" >/dev/null &
        nodes+=($!)
        urls+=("http://127.0.0.1:$port")
        for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
    done
    unset PARTA_NATS_URL
}

stop() {
    for p in "${nodes[@]}"; do kill "$p"; done
    wait "${nodes[@]}" 2>/dev/null || true
}

w1() {
    local label=$1
    echo "== $label, W1 M=$members"
    "$bin/parta-load" w1 --database-url "$db" --url "$(IFS=,; echo "${urls[*]}")" \
        --server-pid "$(IFS=,; echo "${nodes[*]}")" --members "$members" --senders 10 --window 4 \
        --warmup 5 --seconds 20
}

if [[ $workload == w2 ]]; then
    start 3 nats
    echo "== three nodes, W2 N=$members"
    generators=()
    for i in 0 1 2; do
        "$bin/parta-load" w2 --database-url "$db" --url "${urls[$i]}" --server-pid "${nodes[$i]}" \
            --connections $((members / 3)) --chat-size 30 --settle 10 --first-source "127.0.$((i + 1)).2" \
            >"$work/w2-$i.txt" 2>&1 &
        generators+=($!)
    done
    status=0
    for g in "${generators[@]}"; do wait "$g" || status=1; done
    for i in 0 1 2; do echo "-- node $((i + 1))"; grep -v WARN "$work/w2-$i.txt"; done
    stop
    exit $status
fi

for round in $(seq 1 "$rounds"); do
    echo "### round $round"
    start 1;      w1 "one node, no NATS";            stop
    start 1 nats; w1 "one node in cluster mode";     stop
    start 3 nats; w1 "three nodes, members spread";  stop
done
