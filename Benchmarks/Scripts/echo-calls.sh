#!/bin/bash
# Counts, per echoed message, the polls and runtime calls an echo server makes: executor switches, lookups of
# the current task, continuations, job runs, reference counting, malloc/free (uprobes; needs root
# and perf). Messages are counted as recvfrom calls, so the server must read once per message
# (pingpong: 100 connections, 64 B, depth 1).
#
#   echo-calls.sh LOADGEN 'server command {port}'
#
# Example: echo-calls.sh ../shared/bench/echo/bin/loadgen '.build/release/EchoBench --mode streams --port {port}'
set -euo pipefail
loadgen=$1 command=$2 port=${PORT:-19777}
lib=$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux
[ -d "$lib" ] || lib=/usr/lib/swift/linux
libc=$(ldconfig -p | awk '/libc.so.6 .*x86-64/ {print $NF; exit}')
for f in swift_task_switch swift_task_getCurrent swift_continuation_init swift_job_run_on_serial_and_task_executor; do
    perf probe -q -x "$lib/libswift_Concurrency.so" "$f" 2>/dev/null || true
done
for f in swift_retain swift_release swift_allocObject; do perf probe -q -x "$lib/libswiftCore.so" "$f" 2>/dev/null || true; done
for f in malloc free; do perf probe -q -x "$libc" "$f" 2>/dev/null || true; done

taskset -c 0 ${command//\{port\}/$port} >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 0.5
taskset -c 1 "$loadgen" --host 127.0.0.1 --port "$port" --conns 100 --size 64 --depth 1 --duration 5 --warmup 1 >/dev/null &
load=$!
sleep 2
perf stat -x, -e 'syscalls:sys_enter_recvfrom,syscalls:sys_enter_epoll_wait,probe_libswift_Concurrency:*,probe_libswiftCore:*,probe_libc:*' \
    -p "$server" -- sleep 2 2>&1 |
    awk -F, 'NR == 1 { n = $1 } { sub(/^probe_[^:]*:|^syscalls:sys_enter_/, "", $3); printf "%-44s %6.2f per message\n", $3, $1 / n }'
wait "$load"
