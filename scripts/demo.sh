#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - `make demo`: build vringblk.ko and watch it drive a disk in a
# QEMU guest, narrated step by step (scripts/guest/demo.sh).
#
# Usage:  scripts/demo.sh            (or: make demo)
#
#   KVER=KERNEL   boot this supported kernel (6.1, 6.12, newest, or a full
#                 version; default 6.1, see scripts/guest-kver.sh)
#   VRB_KO=FILE   use this module instead of building one
#
# Steps: install missing packages, build the module against the guest
# kernel's headers, build an initramfs with it, boot the guest with one
# legacy virtio-blk disk (64 MiB, serial "vringblk-demo"), show its
# console, power off.  The console is also kept in build/demo/console.log.
# Takes about a minute when nobody else holds the heavy-work lock.

set -euo pipefail
# shellcheck source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"

out=$VRB_ROOT/build/demo
mkdir -p "$out"

banner() {
	echo
	echo "##### $* #####"
}

banner "1/4 packages"
"$VRB_ROOT/scripts/deps.sh" guest build >/dev/null
kver=$(vrb_guest_kver)
echo "guest kernel: $kver (Debian's, booted by QEMU; never this machine's;"
echo "              KVER=6.1, 6.12 or newest chooses)"

banner "2/4 building vringblk.ko for $kver"
ko=$(vrb_module_ko "$kver" "$([[ -z ${VRB_KO:-} ]] && echo 1 || echo 0)" "${VRB_KO:-}")
modinfo "$ko" | grep -E '^(filename|vermagic|description):' || true

banner "3/4 initramfs"
"$VRB_ROOT/scripts/mkinitramfs.sh" -k "$kver" -o "$out/initramfs.cpio" \
	-s demo.sh -f "$ko:/vringblk.ko"

work=$(mktemp -d /tmp/vrb-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
truncate -s 64M "$work/disk.img"

banner "4/4 booting the guest (QEMU; console follows)"
echo "(waiting for /tmp/vringblk-heavy.lock if a build or boot runs)"
rc=0
"$VRB_ROOT/scripts/qemu-run.sh" -i "$out/initramfs.cpio" -t 170 \
	-a "vrbtest.script=/vrb/demo.sh vrbtest.disks=1" -- \
	-drive "if=none,id=d0,file=$work/disk.img,format=raw,cache=unsafe,discard=unmap" \
	-device virtio-blk-pci,drive=d0,disable-modern=on,serial=vringblk-demo,discard=on,write-zeroes=on |
	tr -d '\r' | tee "$out/console.log" || rc=$?

if [[ $rc != 0 ]] || ! grep -q '^VRB-DONE rc=0' "$out/console.log"; then
	vrb_die "the demo did not finish cleanly (console: $out/console.log)"
fi
echo
echo "demo finished; console kept in $out/console.log"
