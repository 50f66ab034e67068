#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-kver.sh - print the version of the kernel our QEMU guests boot,
# e.g. "6.1.0-57-amd64", after making sure its image, modules and headers
# are there (downloaded and extracted into the cache if need be).
#
#   scripts/guest-kver.sh [KERNEL]
#
# KERNEL is one of the supported kernels (scripts/lib/kernels.sh): 6.1,
# 6.12, newest (or its major.minor, e.g. 7.3), or a full version of one
# of them.  Without it: $KVER (what `make KVER=...` passes), else
# $VRB_GUEST_KVER, else 6.1, the kernel of linux-image-amd64, which
# scripts/deps.sh installs.  What else the host has in /boot never
# matters: the guest boots Debian's packaged kernel, not the kernel this
# machine runs, and `uname -r` describes the host.
#
#   scripts/guest-kver.sh --all    the three supported versions, one a line
#
# Usage:  KVER=$(scripts/guest-kver.sh)

set -euo pipefail
# shellcheck source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"
# shellcheck source=lib/chroot.sh
. "$VRB_ROOT/scripts/lib/chroot.sh"
# shellcheck source=lib/kernels.sh
. "$VRB_ROOT/scripts/lib/kernels.sh"

if [[ ${1:-} == --all ]]; then
	vrb_kernel_all
	exit 0
fi
name=${1:-${KVER:-${VRB_GUEST_KVER:-6.1}}}
kver=$(vrb_kernel_resolve "$name")
vrb_kernel_prepare "$kver"
echo "$kver"
