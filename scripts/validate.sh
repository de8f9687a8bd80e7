#!/usr/bin/env bash
# Checks that do not run tests: formatting (fails on any diff) and the documentation build.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "validate: swift format"
log=$(mktemp)
swift format lint --strict --recursive Package.swift Sources Tests Examples Benchmarks/Sources Fuzz/Sources \
    Showcase/Package.swift Showcase/Sources Showcase/Tests 2>&1 | tee "$log"
if [ -s "$log" ]; then
    echo "validate: formatting issues above; run: swift format --in-place --recursive Sources Tests Examples Showcase"
    exit 1
fi

echo "validate: documentation"
scripts/docs.sh "$(mktemp -d)"
echo "validate: ok"
