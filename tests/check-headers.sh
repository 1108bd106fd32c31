#!/bin/sh
# Compiles every public header alone, as C (-Wall -Wextra -pedantic -Werror)
# and as C++, so each is self-contained and clean for any user.
# Usage: check-headers.sh SOURCE_ROOT BUILD_ROOT
set -eu
src=$1
build=$2
cc=${CC:-cc}
cxx=${CXX:-c++}
command -v "$cxx" >/dev/null 2>&1 || cxx=g++
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
n=0
for h in "$src"/include/tally.h "$src"/include/tally/*.h "$build"/include/tally/version.h; do
    case $h in "$src"/include/tally.h) name=tally.h ;; *) name=tally/$(basename "$h") ;; esac
    printf '#include "%s"\n#include "%s"\nint main(void) { return 0; }\n' "$name" "$name" >"$tmp/t.c"
    if ! "$cc" -std=c11 -Wall -Wextra -pedantic -Werror -I"$src/include" -I"$build/include" \
        -c "$tmp/t.c" -o "$tmp/t.o"; then
        echo "FAIL (C): $name"; status=1
    fi
    printf '#include "%s"\nint main() { return 0; }\n' "$name" >"$tmp/t.cpp"
    if ! "$cxx" -std=c++11 -Wall -Wextra -pedantic -Werror -I"$src/include" -I"$build/include" \
        -c "$tmp/t.cpp" -o "$tmp/t.o"; then
        echo "FAIL (C++): $name"; status=1
    fi
    n=$((n + 1))
done
echo "$n headers compiled alone as C11 and C++11"
exit $status
