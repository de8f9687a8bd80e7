#!/usr/bin/env bash
# Runs every libFuzzer target in Fuzz/ for SECONDS each (default 60), seeded from Fuzz/corpus/.
# A crash leaves its input in Fuzz/.out/ and makes the script fail; turn it into a vector.
set -euo pipefail
seconds=${1:-60}
cd "$(dirname "$0")/../Fuzz"
# --sanitize=fuzzer links libFuzzer; -Xswiftc -sanitize=fuzzer,address instruments the code for
# both (two --sanitize flags would keep only the last); the explicit coverage counters are needed
# because with Swift 6.3 on Linux -sanitize=fuzzer adds no coverage instrumentation, and libFuzzer
# would mutate blind ("no interesting inputs").
flags=(-c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address
    -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
swift build "${flags[@]}" --product HTTP1ParserFuzz 2>&1 | tail -2
swift build "${flags[@]}" --product RESPParserFuzz 2>&1 | tail -2
swift build "${flags[@]}" --product WebSocketParserFuzz 2>&1 | tail -2
bin=$(swift build "${flags[@]}" --show-bin-path)
# A trap must end the run with libFuzzer's report, not wait in Swift's interactive backtracer.
export SWIFT_BACKTRACE=enable=no
mkdir -p .out
status=0
for pair in HTTP1ParserFuzz:http1 RESPParserFuzz:resp WebSocketParserFuzz:websocket; do
    target=${pair%%:*}
    corpus=${pair##*:}
    work=$(mktemp -d)
    cp corpus/"$corpus"/* "$work"/ 2>/dev/null || true
    echo "fuzz: $target for ${seconds}s"
    if ! "$bin/$target" "$work" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        -timeout=10 -artifact_prefix=.out/"$target"- -print_final_stats=1 2>&1 | tail -12; then
        status=1
    fi
    rm -rf "$work"
done
exit $status
