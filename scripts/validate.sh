#!/usr/bin/env bash
# Checks that do not run tests: formatting (fails on any diff) and the documentation build.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "validate: swift format"
swift format lint --strict --recursive Package.swift Sources Tests Examples Benchmarks/Sources Fuzz/Sources 2>&1 | tee /tmp/swift-format.log
if [ -s /tmp/swift-format.log ]; then
    echo "validate: formatting issues above; run: swift format --in-place --recursive Sources Tests Examples"
    exit 1
fi

echo "validate: documentation"
symbols=$(mktemp -d)
swift build --target AsyncIO -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$symbols" >/dev/null
docc convert Sources/AsyncIO/Docs.docc --additional-symbol-graph-dir "$symbols" \
    --fallback-display-name AsyncIO --fallback-bundle-identifier swift-asyncio.AsyncIO \
    --output-path "$symbols/AsyncIO.doccarchive" 2>&1 | grep -E "error" && exit 1
echo "validate: ok"
