#!/bin/sh
# A program built only with `pkg-config --cflags --libs tally` against the
# installed library rolls the demo data up (examples/hello.c).
# Usage: check-pkgconfig.sh SOURCE_ROOT BUILD_ROOT [SANITIZE]
# (SANITIZE: the build's b_sanitize; a sanitized library needs the program
# built with the same runtime.)
set -eu
src=$1
build=$2
sanitize=${3:-none}
extra=
[ "$sanitize" = none ] || extra="-fsanitize=$sanitize"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --no-rebuild --destdir "$tmp/root" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; exit 1; }
pcdir=$(dirname "$(find "$tmp/root" -name tally.pc | head -n 1)")
libdir=$(dirname "$(find "$tmp/root" -name 'libtally.so' | head -n 1)")
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
flags=$(pkg-config --cflags --libs tally)
echo "pkg-config --cflags --libs tally: $flags"
${CC:-cc} $extra "$src/examples/hello.c" $flags -o "$tmp/hello"
version=$(sed -n "s/^  version: '\(.*\)',$/\1/p" "$src/meson.build" | head -n 1)
[ "$(pkg-config --modversion tally)" = "$version" ] || { echo "expected version $version"; exit 1; }
d="$src/examples/data"
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/hello" "$d/yueyang-hierarchy.csv" "$d/yueyang.yaml" \
    "$d/yueyang-2019.csv")
echo "$out"
# hello's figure itself is checked by tests/check/check-hello.py.
echo "$out" | grep -q '^岳阳市 exited_population 2019: [0-9][0-9]*$'
echo "built with pkg-config and ran"
