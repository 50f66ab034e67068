#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-test.sh - `make dkms-test`: prove that DKMS can add, build, install
# and remove vringblk against Debian's headers for the guest kernel, and
# that the installed module describes itself (modinfo).  Nothing is
# loaded: the module only ever runs inside QEMU guests.
#
# Needs root (DKMS writes /usr/src, /var/lib/dkms and /lib/modules).
# Not root: every case is reported as skipped, never as passed.
# Ends with "dkms: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/host.sh
. scripts/lib/host.sh

CASES=(add build install modinfo remove)
NAME=vringblk
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

if [ "$(id -u)" != 0 ]; then
	for c in "${CASES[@]}"; do
		echo "dkms: SKIP $c (not root)"
	done
	echo "dkms: 0 passed, 0 failed, ${#CASES[@]} skipped"
	exit 0
fi

scripts/deps.sh dkms build >&2
KVER=$(scripts/guest-kver.sh)
SRC=/usr/src/$NAME-$VERSION
passed=0
failed=0
ok() { echo "dkms: PASS $1"; passed=$((passed + 1)); }
bad() { echo "dkms: FAIL $1"; failed=$((failed + 1)); }
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

# Start clean: a previous run that died half-way may have left it added.
dkms remove "$NAME/$VERSION" --all >/dev/null 2>&1 || true
rm -rf "$SRC"

# DKMS builds from /usr/src/<name>-<version>: give it the tracked files
# only, as a release tarball would.
mkdir -p "$SRC"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z | xargs -0 cp --parents -t "$SRC"
else
	cp -a Kbuild Makefile dkms.conf mod kunit scripts "$SRC"/
fi

if dkms add "$NAME/$VERSION" >"$LOG" 2>&1; then ok add; else bad add; cat "$LOG"; fi
if vrb_heavy dkms build "$NAME/$VERSION" -k "$KVER" >"$LOG" 2>&1; then
	ok build
else
	bad build
	cat "$LOG"
	find "/var/lib/dkms/$NAME/$VERSION/build" -name make.log -exec cat {} + 2>/dev/null || true
fi
if dkms install "$NAME/$VERSION" -k "$KVER" >"$LOG" 2>&1; then ok install; else bad install; cat "$LOG"; fi

# modinfo of the installed file: version, description, license, every
# parameter, and the PCI alias that lets udev load it where virtio_pci
# is absent.
ko=$(find "/lib/modules/$KVER/updates" -name "$NAME.ko*" 2>/dev/null | head -n 1)
if [ -n "$ko" ] && info=$(modinfo "$ko" 2>&1); then
	missing=""
	for want in "^version: *$VERSION" '^description: .' '^license: *GPL' \
		'^parm: *disable:' '^parm: *num_queues:' '^parm: *queue_depth:' \
		'^alias: *pci:v00001AF4d00001001sv\*sd\*bc\*sc\*i\*'; do
		echo "$info" | grep -qE "$want" || missing="$missing '$want'"
	done
	if [ -z "$missing" ]; then ok modinfo; else bad "modinfo (missing$missing)"; echo "$info"; fi
else
	bad "modinfo (no installed module found)"
fi

if dkms remove "$NAME/$VERSION" --all >"$LOG" 2>&1 &&
	[ -z "$(find "/lib/modules/$KVER/updates" -name "$NAME.ko*" 2>/dev/null)" ] &&
	! dkms status "$NAME" 2>/dev/null | grep -q "$NAME"; then
	ok remove
else
	bad remove
	cat "$LOG"
fi
rm -rf "$SRC"

echo "dkms: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
