#!/usr/bin/env bash
# Builds the DocC archives of AsyncIO, AsyncIOHTTP, AsyncIOTLS, WebSocketCodec,
# AsyncIORedis into OUTDIR (default .build/docs). Every docc
# diagnostic, warnings included, is printed and fails the build, so the catalogs stay clean.
# Browse one with: docc preview Sources/AsyncIO/Docs.docc --additional-symbol-graph-dir OUTDIR/symbols
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/docs}
mkdir -p "$out/symbols"

# convert CATALOG NAME SYMBOLDIR: one archive; fails on any warning or error.
convert() {
    local log="$out/$2.log"
    docc convert "$1" --additional-symbol-graph-dir "$3" \
        --fallback-display-name "$2" --fallback-bundle-identifier "swift-asyncio.$2" \
        --output-path "$out/$2.doccarchive" >"$log" 2>&1 || { cat "$log"; exit 1; }
    if grep -qE "^(warning|error):" "$log"; then
        cat "$log"
        echo "docs: $2 has docc diagnostics (above)"
        exit 1
    fi
}

swift build --target AsyncIO -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir \
    -Xswiftc "$out/symbols" >/dev/null
convert Sources/AsyncIO/Docs.docc AsyncIO "$out/symbols"
# AsyncIOHTTP's catalog, with its own symbols only (AsyncIO's are checked above).
swift build --target AsyncIOHTTP -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir \
    -Xswiftc "$out/symbols" >/dev/null
mkdir -p "$out/symbols/AsyncIOHTTP"
cp "$out"/symbols/AsyncIOHTTP*.symbols.json "$out/symbols/AsyncIOHTTP/"
convert Sources/AsyncIOHTTP/Docs.docc AsyncIOHTTP "$out/symbols/AsyncIOHTTP"
# The other modules' catalogs, each with its own symbols only.
for module in AsyncIOTLS WebSocketCodec AsyncIORedis; do
    swift build --target "$module" -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir \
        -Xswiftc "$out/symbols" >/dev/null
    mkdir -p "$out/symbols/$module"
    cp "$out"/symbols/"$module"*.symbols.json "$out/symbols/$module/"
    convert "Sources/$module/Docs.docc" "$module" "$out/symbols/$module"
done
echo "docs: the archives are in $out"
