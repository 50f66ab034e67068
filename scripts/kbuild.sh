#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kbuild.sh - build vringblk.ko for one of the supported kernels, wherever
# that kernel's headers live: installed (6.1), extracted into the cache
# (6.12), or in the newest kernel's suite chroot, whose compiler they
# name (scripts/lib/kernels.sh).  This is what `make KVER=...` runs.
#
#   scripts/kbuild.sh KERNEL [MAKE ARGS...]    e.g. kbuild.sh 6.12 W=1
#   VRB_BUILD_DIR=DIR   build in DIR (a copy of the project) instead of
#                       the project itself
#
# KERNEL as in scripts/guest-kver.sh (6.1, 6.12, newest, 7.3, or a full
# version).  The first line names the kernel it builds for.

set -euo pipefail
# shellcheck source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"
# shellcheck source=lib/chroot.sh
. "$VRB_ROOT/scripts/lib/chroot.sh"
# shellcheck source=lib/kernels.sh
. "$VRB_ROOT/scripts/lib/kernels.sh"

[[ $# -ge 1 ]] || vrb_die "usage: kbuild.sh KERNEL [MAKE ARGS...]"
kver=$(vrb_kernel_resolve "$1")
shift
dir=${VRB_BUILD_DIR:-$VRB_ROOT}
vrb_kernel_prepare "$kver"
echo "kbuild: vringblk for $kver ($(vrb_kernel_kdir "$kver"))" >&2
vrb_kernel_make "$kver" "$dir" modules "$@"
