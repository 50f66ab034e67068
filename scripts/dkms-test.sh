#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-test.sh - `make dkms-test`: prove that DKMS can add, build, install
# and remove vringblk for every supported kernel (scripts/lib/kernels.sh),
# that the installed module describes itself (modinfo), and that the
# module DKMS built loads and drives a disk in a QEMU guest booting that
# kernel's own image (guest config "serial20": probe and the serial).
# Nothing is loaded on this machine.
#
#   scripts/dkms-test.sh          every supported kernel
#   KVER=6.12 scripts/dkms-test.sh   one of them
#
# Where DKMS runs: for the kernel installed on this machine (6.1), here,
# as a user would.  The others are never installed here (an image in
# /boot would change what other scripts test), so DKMS runs in a cached
# chroot of the kernel's suite with its headers installed (bookworm with
# bookworm-security for 6.12, trixie with backports for the newest).
#
# Needs root (DKMS writes /usr/src, /var/lib/dkms and /lib/modules).
# Not root: every case is reported as skipped, never as passed.
# Ends with "dkms: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/host.sh
. scripts/lib/host.sh
# shellcheck source=scripts/lib/chroot.sh
. scripts/lib/chroot.sh
# shellcheck source=scripts/lib/kernels.sh
. scripts/lib/kernels.sh

CASES=(add build install modinfo remove guest-load)
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
if [[ -n ${KVER:-} ]]; then
	kvers=$(vrb_kernel_resolve "$KVER")
else
	kvers=$(vrb_kernel_all)
fi
passed=0
failed=0
ok() { echo "dkms: PASS $1"; passed=$((passed + 1)); }
bad() { echo "dkms: FAIL $1"; failed=$((failed + 1)); }
LOG=$(mktemp)
OUT=$VRB_ROOT/build/dkms-test
mkdir -p "$OUT"
trap 'rm -f "$LOG"' EXIT

# on_target CMD...: run CMD where DKMS runs for $kver ($root is its "/").
on_target() {
	if [[ -z $suite ]]; then
		"$@"
	else
		vrb_chroot_run "$suite" "$@"
	fi
}

for kver in $kvers; do
	case $(_vrb_kernel_kind "$kver") in
	host) suite="" root="" ;;
	extracted) suite=bookworm-security ;;
	chroot) suite=$VRB_NEWEST_SUITE ;;
	esac
	if [[ -n $suite ]]; then
		root=$(vrb_chroot "$suite" dkms build-essential "linux-headers-$kver")
	else
		vrb_kernel_prepare "$kver"
	fi
	echo "dkms: kernel $kver (${suite:-this machine})"
	SRC=/usr/src/$NAME-$VERSION

	# Start clean: a previous run that died half-way may have left it.
	on_target dkms remove "$NAME/$VERSION" --all >/dev/null 2>&1 || true
	rm -rf "$root$SRC"

	# DKMS builds from /usr/src/<name>-<version>: give it the tracked
	# files only, as a release tarball would.
	mkdir -p "$root$SRC"
	if git rev-parse --git-dir >/dev/null 2>&1; then
		git ls-files -z | xargs -0 cp --parents -t "$root$SRC"
	else
		cp -a Kbuild Makefile dkms.conf mod kunit scripts "$root$SRC"/
	fi

	if on_target dkms add "$NAME/$VERSION" >"$LOG" 2>&1; then
		ok "add/$kver"
	else
		bad "add/$kver"
		cat "$LOG"
	fi
	if _vrb_heavy_fn on_target dkms build "$NAME/$VERSION" -k "$kver" >"$LOG" 2>&1; then
		ok "build/$kver"
	else
		bad "build/$kver"
		cat "$LOG"
		find "$root/var/lib/dkms/$NAME/$VERSION/build" -name make.log \
			-exec cat {} + 2>/dev/null || true
	fi
	if on_target dkms install "$NAME/$VERSION" -k "$kver" >"$LOG" 2>&1; then
		ok "install/$kver"
	else
		bad "install/$kver"
		cat "$LOG"
	fi

	# modinfo of the installed file: version, description, license,
	# every parameter, and the PCI alias that lets udev load it where
	# virtio_pci is absent.
	ko=$(find "$root/lib/modules/$kver/updates" -name "$NAME.ko*" 2>/dev/null | head -n 1)
	if [ -n "$ko" ] && info=$(modinfo "$ko" 2>&1); then
		lacking=""
		for want in "^version: *$VERSION" '^description: .' '^license: *GPL' \
			'^parm: *disable:' '^parm: *num_queues:' '^parm: *queue_depth:' \
			"^vermagic: *${kver//+/\\+} " \
			'^alias: *pci:v00001AF4d00001001sv\*sd\*bc\*sc\*i\*'; do
			echo "$info" | grep -qE "$want" || lacking="$lacking '$want'"
		done
		if [ -z "$lacking" ]; then
			ok "modinfo/$kver"
		else
			bad "modinfo/$kver (missing$lacking)"
			echo "$info"
		fi
	else
		bad "modinfo/$kver (no installed module found)"
	fi

	# Keep what DKMS installed (decompressed: busybox insmod reads ELF
	# only) for the guest, then remove it.
	guest_ko=$OUT/$NAME-$kver.ko
	rm -f "$guest_ko"
	case $ko in
	*.xz) xz -dc "$ko" >"$guest_ko" ;;
	*.zst) zstd -qdc "$ko" >"$guest_ko" ;;
	?*) cp "$ko" "$guest_ko" ;;
	esac

	if on_target dkms remove "$NAME/$VERSION" --all >"$LOG" 2>&1 &&
		[ -z "$(find "$root/lib/modules/$kver/updates" -name "$NAME.ko*" 2>/dev/null)" ] &&
		! on_target dkms status "$NAME" 2>/dev/null | grep -q "$NAME"; then
		ok "remove/$kver"
	else
		bad "remove/$kver"
		cat "$LOG"
	fi
	rm -rf "$root$SRC"

	# The module DKMS built, in a guest booting this kernel.
	if [[ -s $guest_ko ]] && KVER=$kver scripts/guest-test.sh --ko "$guest_ko" \
		--results "$OUT/guest-$kver" serial20 >"$LOG" 2>&1; then
		ok "guest-load/$kver"
	else
		bad "guest-load/$kver"
		tail -n 20 "$LOG"
	fi
done

echo "dkms: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
