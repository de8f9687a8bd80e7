#!/usr/bin/env bash
# Installs what the test suite needs (on Debian, as root or with sudo) and runs every test.
# This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real peers the tests talk to: python3 (http.client, http.server, blocking-socket peers, h11 for
# the HTTP client's fault server and the server's checks), curl, wrk, redis-server and redis-cli,
# nginx. Tests that need a tool that is missing fail loudly rather than skip.
need=()
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
command -v wrk >/dev/null || need+=(wrk)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
# AsyncIOTLS links the system's OpenSSL 3; its tests talk to `openssl s_server`/`s_client`.
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
command -v openssl >/dev/null || need+=(openssl)
# zlib's headers for WebSocketCodec's permessage-deflate (the CZlib system library target).
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
python3 -c "import h11" 2>/dev/null || python3 -m pip install -q h11
# The TLS tests make their CA and certificates at run time with Python's cryptography.
python3 -c "import cryptography" 2>/dev/null || python3 -m pip install -q cryptography
# The chat showcase's end-to-end tests are pytest files driving real clients.
python3 -c "import pytest" 2>/dev/null || python3 -m pip install -q pytest

# Many connections at once in the transport tests: raise the soft descriptor limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

swift build --build-tests
swift test --skip-build "$@"

# The chat (Showcase/, its own package): its unit tests, then line and HTTP clients against the
# built `Chat` executable over loopback.
swift build --build-tests --package-path Showcase
swift test --skip-build --package-path Showcase
CHAT_BIN="$PWD/Showcase/.build/debug/Chat" python3 -m pytest -q -p no:cacheprovider Showcase/Tests/e2e
