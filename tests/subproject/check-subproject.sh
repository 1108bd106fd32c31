#!/bin/sh
# tally as a meson subproject: the parent project in this folder, with the
# source tree linked in as subprojects/tally, is configured (shared and
# static libraries both), built and run, then installed into a scratch
# DESTDIR, where nothing but the libraries, the headers, the pkg-config
# file and the library's message catalogues may appear (no `tally` command,
# no tests, no Python package).
# Usage: check-subproject.sh SOURCE_ROOT
set -eu
src=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
parent="$tmp/parent"
mkdir -p "$parent/subprojects"
cp "$src/tests/subproject/meson.build" "$src/tests/subproject/main.c" "$parent/"
ln -s "$src" "$parent/subprojects/tally"
# Unoptimized, so that building the library again stays quick;
# --force-fallback-for: an installed tally must not stand in for it.
run() {
    "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log"; echo "failed: $*"; exit 1; }
}
run meson setup "$parent/build" "$parent" --buildtype=plain --prefix=/usr \
    -Ddefault_library=both --force-fallback-for=tally
run meson compile -C "$parent/build"
out=$("$parent/build/parent")
echo "$out"
version=$(sed -n "s/^  version: '\(.*\)',$/\1/p" "$src/meson.build" | head -n 1)
[ "$out" = "tally $version: 2 regions, root 430000000000" ] ||
    { echo "expected 'tally $version: 2 regions, root 430000000000'"; exit 1; }
run meson install -C "$parent/build" --destdir "$tmp/root"
files=$(cd "$tmp/root" && find . ! -type d | sed 's|^\./|/|' | sort)
echo "installed:"
echo "$files" | sed 's/^/  /'
extra=$(echo "$files" | grep -Ev '^/usr/lib/([^/]+/)?(libtally\.so(\.[0-9.]+)?|libtally\.a|pkgconfig/tally\.pc)$|^/usr/include/(tally\.h|tally/[a-z_]+\.h)$|^/usr/share/locale/[A-Za-z_]+/LC_MESSAGES/tally\.mo$' || true)
[ -z "$extra" ] || { echo "installed besides the library, its headers and tally.pc:"; echo "$extra"; exit 1; }
for f in '/libtally\.so$' '/libtally\.a$' '^/usr/include/tally\.h$' '/pkgconfig/tally\.pc$'; do
    echo "$files" | grep -q "$f" || { echo "nothing installed matches $f"; exit 1; }
done
