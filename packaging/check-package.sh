#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the Debian package as Debian builds its own (dpkg-buildflags with all hardening; the
# binaries stripped) in a build folder of its own, then checks it:
# lintian with no error and no warning, appstreamcli and desktop-file-validate on the metainfo and
# the desktop file, the MIME type through update-mime-database, man pages and copyright present.
#
#   bash packaging/check-package.sh [BUILD_DIR]     # default: build/package
#
# Installs the tools it needs (lintian, appstream, desktop-file-utils, …) with apt-get when
# missing, like setup.sh. Exit 0 when every check passes; the packages are in BUILD_DIR/deb/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$here/build/package}
cd "$here"

tools=(lintian appstream desktop-file-utils shared-mime-info help2man dpkg-dev binutils file)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "check-package: installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

step() { printf '\ncheck-package: %s\n' "$*"; }

# Debian's own compiler and linker flags: fortify, stack protector, relro and bindnow (lintian
# notes their absence). The packaging build needs neither tests nor benchmarks.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cxxflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
step "building in $build"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="$cxxflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" \
  -DBT_BUILD_TESTS=OFF -DBT_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
rm -rf "$build/deb"
(cd "$build" && cpack -B "$build/deb" >/dev/null)
shopt -s nullglob
debs=("$build"/deb/bouncetriage_*.deb)
[ ${#debs[@]} -gt 0 ] || { echo "check-package: cpack made no package" >&2; exit 1; }
deb=${debs[0]}
echo "$deb"

step "lintian (fails on any error or warning; info shown)"
lintian --fail-on error,warning -EvI "$deb"

step "appstreamcli validate, desktop-file-validate"
appstreamcli validate --no-net resources/io.bouncetriage.BounceTriage.metainfo.xml
desktop-file-validate resources/bouncetriage.desktop

step "contents: binaries, man pages, copyright, changelog, MIME type"
contents=$(dpkg-deb -c "$deb")
for f in usr/bin/bouncetriage usr/bin/bouncetriage-cli \
  usr/share/man/man1/bouncetriage.1.gz usr/share/man/man1/bouncetriage-cli.1.gz \
  usr/share/doc/bouncetriage/copyright usr/share/doc/bouncetriage/changelog.Debian.gz \
  usr/share/mime/packages/bouncetriage.xml usr/share/applications/bouncetriage.desktop \
  usr/share/metainfo/io.bouncetriage.BounceTriage.metainfo.xml; do
  grep -q " \./$f\$" <<<"$contents" || { echo "check-package: $f is missing from $deb" >&2; exit 1; }
done
# The MIME type as the desktop will see it: compiled by update-mime-database into globs2.
mime=$(mktemp -d)
trap 'rm -rf "$mime"' EXIT
mkdir -p "$mime/packages"
cp resources/bouncetriage.mime.xml "$mime/packages/bouncetriage.xml"
update-mime-database "$mime" 2>/dev/null # it warns that a temporary folder is not in XDG_DATA_DIRS
grep -q '^[0-9]*:application/x-bouncetriage-workspace:\*\.btw$' "$mime/globs2" \
  || { echo "check-package: *.btw is not application/x-bouncetriage-workspace" >&2; exit 1; }
for type in message/rfc822 application/mbox application/x-bouncetriage-workspace; do
  grep -q "^MimeType=.*$type;" resources/bouncetriage.desktop \
    || { echo "check-package: the desktop file does not list $type" >&2; exit 1; }
done

step "OK: $deb"
