#!/usr/bin/env bash
# Licensed to the Apache Software Foundation (ASF) under one or more
# contributor license agreements.  The ASF licenses this file to you under
# the Apache License, Version 2.0 (the "License"); you may not use this file
# except in compliance with the License. You may obtain a copy of the License
# at http://www.apache.org/licenses/LICENSE-2.0
#
# Runs the trace benchmark (test/stress/trace/bench).
#
#   test/stress/trace/run_bench.sh [bench flags...]
#       builds bin/banyand-server and the bench, starts a fresh standalone server in a temporary
#       directory on free loopback ports, runs the bench against it (with -data-dir and -pid),
#       then stops the server and removes the directory.
#   ADDR=host:port test/stress/trace/run_bench.sh [bench flags...]
#       only runs the bench against the server at ADDR.
#
# `make bench [ADDR=host:port] [BENCH_ARGS="-traces 2000 ..."]` calls this script with BENCH_ARGS as
# arguments. SERVER_LOG=path keeps a copy of the server's log. The exit status is the bench's
# (non-zero when it counted failures).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"

ADDR="${ADDR:-}"
GO="${GO:-go}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/trace-bench.XXXXXX")"
SERVER_PID=""

cleanup() {
	local rc=$?
	if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "run_bench: the server did not stop within 10s; killing it" >&2
			kill -KILL "$SERVER_PID" 2>/dev/null || true
		fi
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [[ -n "${SERVER_LOG:-}" && -f "$WORK/server.log" ]]; then
		cp "$WORK/server.log" "$SERVER_LOG" || true
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "run_bench: building the bench" >&2
"$GO" build -o "$WORK/trace-bench" ./test/stress/trace/bench

if [[ -n "$ADDR" ]]; then
	"$WORK/trace-bench" -addr "$ADDR" "$@"
	exit $?
fi

echo "run_bench: building bin/banyand-server" >&2
mkdir -p bin
"$GO" build -o bin/banyand-server ./banyand/cmd/server

# Free loopback ports: etcd client, etcd peer, gRPC, observability, HTTP gateway.
read -r ETCD_CLIENT ETCD_PEER GRPC_PORT OBS_PORT HTTP_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks:
    s.close()
')

[[ -n "${HTTP_PORT:-}" ]] || { echo "run_bench: could not pick free ports" >&2; exit 1; }
# Servers that have an HTTP gateway get it on a free loopback port too.
SERVER_FLAGS=()
if bin/banyand-server standalone --help 2>&1 | grep -q -- '--http-port'; then
	SERVER_FLAGS+=(--http-host=127.0.0.1 --http-port="$HTTP_PORT")
fi
mkdir -p "$WORK/metadata" "$WORK/trace"
bin/banyand-server standalone \
	--metadata-root-path="$WORK/metadata" \
	--trace-root-path="$WORK/trace" \
	--etcd-listen-client-url="http://127.0.0.1:$ETCD_CLIENT" \
	--etcd-listen-peer-url="http://127.0.0.1:$ETCD_PEER" \
	--grpc-host=127.0.0.1 \
	--grpc-port="$GRPC_PORT" \
	--observability-listener-addr="127.0.0.1:$OBS_PORT" \
	${SERVER_FLAGS[@]+"${SERVER_FLAGS[@]}"} \
	>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
echo "run_bench: server pid $SERVER_PID, gRPC 127.0.0.1:$GRPC_PORT, data in $WORK" >&2

deadline=$((SECONDS + 60))
until (exec 3<>"/dev/tcp/127.0.0.1/$GRPC_PORT") 2>/dev/null; do
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "run_bench: the server exited before serving; its log:" >&2
		tail -n 50 "$WORK/server.log" >&2
		exit 1
	fi
	if ((SECONDS >= deadline)); then
		echo "run_bench: the gRPC port did not open within 60s; server log:" >&2
		tail -n 50 "$WORK/server.log" >&2
		exit 1
	fi
	sleep 0.1
done

rc=0
set +e
"$WORK/trace-bench" -addr "127.0.0.1:$GRPC_PORT" -data-dir "$WORK/trace/trace/data" -pid "$SERVER_PID" \
	"$@" | tee "$WORK/bench.out"
rc=${PIPESTATUS[0]}
set -e

notes=0
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
	echo "run_bench: the server died during the bench; its log tail:" >&2
	tail -n 50 "$WORK/server.log" >&2
	rc=1
	notes=1
fi
# What the server complained about during the run (JSON logs: "level" and "message").
pattern='"level":"(warn|error|fatal|panic)"|^panic:'
if grep -q -E "$pattern" "$WORK/server.log"; then
	echo "run_bench: server warnings and errors during the run (count, level, message):" >&2
	grep -E "$pattern" "$WORK/server.log" |
		sed -E 's/.*"level":"([a-z]+)".*"message":"([^"]*)".*/\1 \2/' |
		sort | uniq -c | sort -rn | head -n 20 >&2 || true
	grep -E '"level":"(error|fatal|panic)"|^panic:' "$WORK/server.log" | head -n 5 >&2 || true
	notes=1
fi
# Keep the bench's summary the last line of the output.
if ((notes)) && [[ -s "$WORK/bench.out" ]]; then
	tail -n 1 "$WORK/bench.out"
fi
exit "$rc"
