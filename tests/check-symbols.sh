#!/bin/sh
# The shared library exports exactly the declared API: every function
# declared with TALLY_EXTERN in the public headers, and nothing else.
# Usage: check-symbols.sh SOURCE_ROOT LIBRARY
set -eu
src=$1
lib=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$src"/include/tally/*.h "$src"/include/tally/version.h.in |
    grep -oE 'TALLY_EXTERN\([^)]*\)[[:space:]]*tally_[a-z0-9_]+' |
    sed -E 's/.*[[:space:])](tally_[a-z0-9_]+)$/\1/' | sort -u >"$tmp/declared"
nm -D --defined-only "$lib" | awk '{print $NF}' | grep -v '^TALLY_0$' |
    sed 's/@.*//' | sort -u >"$tmp/exported"
if ! diff -u "$tmp/declared" "$tmp/exported"; then
    echo "exported symbols differ from the declared API (- declared only, + exported only)"
    exit 1
fi
echo "$(wc -l <"$tmp/exported") symbols exported, all declared"
