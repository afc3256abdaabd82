#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sets up Bounce Triage on Debian 12: installs the Debian packages it needs (only those
# missing), configures and builds, then runs the app or the tests.
#
#   bash packaging/setup.sh run     # build (release) and start the GUI on the bundled sample
#   bash packaging/setup.sh test    # build (release) and run every test with ctest
#   bash packaging/setup.sh build   # only install and build
#   bash packaging/setup.sh fuzz    # also install clang and build the libFuzzer targets (tests/fuzz)
set -euo pipefail

mode=${1:-build}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

packages=(
  build-essential cmake ninja-build pkg-config git
  qt6-base-dev qt6-charts-dev libqt6svg6-dev
  libqt6opengl6-dev          # Qt6Charts' CMake config needs it; it is only a Recommends
  libsqlite3-dev sqlite3
  libre2-dev                 # one-pass multi-pattern matching of the rules (RE2::Set)
  nlohmann-json3-dev         # rules, tables and CLI JSON
  libsimdjson-dev            # the shipped model's 1.7 MB of weights read at start-up
  libcli11-dev               # CLI parsing
  libgmime-3.0-dev           # MIME and charsets of bounce emails
  libcsv-dev                 # streaming CSV reader for ESP exports (quoted newlines, any delimiter)
  zlib1g-dev                 # gzip'd (rotated) logs and exports read as they are
  libarchive-dev             # zip'd DMARC aggregate reports (Google sends them zipped; .xml.gz goes through zlib)
  libxml2-dev                # DMARC aggregate reports: XML read with its streaming reader, errors with their line
  libc-ares-dev              # DNS checks (SPF, DMARC, DKIM, MX, PTR, blocklists): server and port settable
  libpsl-dev                 # organisational domains from the public suffix list (DMARC, alignment)
  libssl-dev                 # libcrypto: the message tester verifies DKIM signatures (RSA, Ed25519, SHA-256)
  qtkeychain-qt6-dev         # IMAP passwords in the desktop's keyring (Secret Service), never in the workspace
  libcurl4-openssl-dev       # the watched IMAP mailbox: IMAPS/STARTTLS, SASL login, one connection per poll
  unbound                    # the real DNS server the check tests start on a high port (as the current user)
  dbus-daemon                # dbus-run-session: the alert test's private desktop bus (notifications)
  dovecot-imapd              # the real IMAP server the IMAP tests start on a high port (as the current user); on a
                             # systemd machine the package also starts its own service on 143/993, unused by the tests
  libgtest-dev libgmock-dev libbenchmark-dev
  help2man                   # the man pages of both programs, made from their --help at build time
  fontconfig fonts-dejavu-core   # without fonts Qt draws text as empty boxes, silently
  xvfb xauth
)
[ "$mode" = fuzz ] && packages+=(clang libclang-rt-14-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
preset=release
[ "$mode" = fuzz ] && preset=fuzz
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$jobs"

case "$mode" in
  build | fuzz) ;;
  test)
    QT_QPA_PLATFORM=offscreen ctest --preset release -j "$jobs"
    ;;
  run)
    app=build/release/app/bouncetriage
    sample=build/release/sample/sample.btw
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      exec "$app" --workspace "$sample"
    fi
    # No display (a server or CI shell): render the triage window on the sample workspace and
    # say where it is.
    shot=build/release/bouncetriage-sample.png
    xvfb-run -a -s '-screen 0 1400x900x24' "$app" --workspace "$sample" --screenshot "$shot"
    echo "setup: no display here, so the app ran under Xvfb and saved its window to $shot"
    ;;
  *)
    echo "usage: $0 [build|test|run|fuzz]" >&2
    exit 2
    ;;
esac
