#!/usr/bin/env bash
# Checks that do not run tests: formatting (fails on any diff) and the documentation build.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "validate: swift format"
swift format lint --strict --recursive Package.swift Sources Tests Examples Benchmarks/Sources Fuzz/Sources \
    Showcase/Package.swift Showcase/Sources Showcase/Tests 2>&1 | tee /tmp/swift-format.log
if [ -s /tmp/swift-format.log ]; then
    echo "validate: formatting issues above; run: swift format --in-place --recursive Sources Tests Examples Showcase"
    exit 1
fi

echo "validate: documentation"
symbols=$(mktemp -d)
swift build --target AsyncIO -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$symbols" >/dev/null
docc convert Sources/AsyncIO/Docs.docc --additional-symbol-graph-dir "$symbols" \
    --fallback-display-name AsyncIO --fallback-bundle-identifier swift-asyncio.AsyncIO \
    --output-path "$symbols/AsyncIO.doccarchive" 2>&1 | grep -E "error" && exit 1
# AsyncIOHTTP's catalog, with its own symbols only (AsyncIO's are checked above).
swift build --target AsyncIOHTTP -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$symbols" >/dev/null
mkdir -p "$symbols/AsyncIOHTTP" && cp "$symbols"/AsyncIOHTTP*.symbols.json "$symbols/AsyncIOHTTP/"
docc convert Sources/AsyncIOHTTP/Docs.docc --additional-symbol-graph-dir "$symbols/AsyncIOHTTP" \
    --fallback-display-name AsyncIOHTTP --fallback-bundle-identifier swift-asyncio.AsyncIOHTTP \
    --output-path "$symbols/AsyncIOHTTP.doccarchive" 2>&1 | grep -E "error|warning" && exit 1
# AsyncIOTLS's catalog, with its own symbols only.
swift build --target AsyncIOTLS -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$symbols" >/dev/null
mkdir -p "$symbols/AsyncIOTLS" && cp "$symbols"/AsyncIOTLS*.symbols.json "$symbols/AsyncIOTLS/"
docc convert Sources/AsyncIOTLS/Docs.docc --additional-symbol-graph-dir "$symbols/AsyncIOTLS" \
    --fallback-display-name AsyncIOTLS --fallback-bundle-identifier swift-asyncio.AsyncIOTLS \
    --output-path "$symbols/AsyncIOTLS.doccarchive" 2>&1 | grep -E "error|warning" && exit 1
# WebSocketCodec's catalog, with its own symbols only.
swift build --target WebSocketCodec -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$symbols" >/dev/null
mkdir -p "$symbols/WebSocketCodec" && cp "$symbols"/WebSocketCodec*.symbols.json "$symbols/WebSocketCodec/"
docc convert Sources/WebSocketCodec/Docs.docc --additional-symbol-graph-dir "$symbols/WebSocketCodec" \
    --fallback-display-name WebSocketCodec --fallback-bundle-identifier swift-asyncio.WebSocketCodec \
    --output-path "$symbols/WebSocketCodec.doccarchive" 2>&1 | grep -E "error|warning" && exit 1
echo "validate: ok"
