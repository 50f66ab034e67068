#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-kver.sh - print the version of the kernel our QEMU guests boot,
# e.g. "6.1.0-56-amd64".
#
# The guest boots Debian's packaged kernel (linux-image-amd64), not the
# kernel this machine runs: `uname -r` describes the host and is often a
# different kernel altogether.  So the version is taken from the newest
# plain Debian image in /boot (vmlinuz-<version>-amd64, not -cloud- or
# -rt-), and the module tree for it must exist in /lib/modules.
#
# VRB_GUEST_KVER in the environment overrides the choice.
#
# Usage:  KVER=$(scripts/guest-kver.sh)

set -euo pipefail

if [[ -n ${VRB_GUEST_KVER:-} ]]; then
	echo "$VRB_GUEST_KVER"
	exit 0
fi

newest=""
for image in /boot/vmlinuz-*-amd64; do
	[[ -e $image ]] || continue
	kver=${image#/boot/vmlinuz-}
	case $kver in
	*-cloud-amd64 | *-rt-amd64) continue ;;
	esac
	[[ -d /lib/modules/$kver/kernel ]] || continue
	newest=$(printf '%s\n%s\n' "$newest" "$kver" | sort -V | tail -n 1)
done

if [[ -z $newest ]]; then
	echo "guest-kver.sh: no Debian kernel in /boot; run scripts/deps.sh guest" >&2
	exit 1
fi
echo "$newest"
