#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh - build (once) and cache the debug guest kernel: Debian's
# linux-source-6.1 with x86_64 defconfig, kvm_guest.config and
# scripts/debug/debug-kernel.config (KASAN, lockdep, kmemleak, DMA-API
# debug, object debugging, UBSAN, fault injection...), none of which
# Debian's own kernels have.
#
# Usage:  scripts/debug-kernel.sh           build if needed, print the dir
#
# The build directory (O=) lives in $VRB_CACHE/debug-kernel/<config hash>,
# so a changed config fragment builds a new kernel and never mixes objects.
# It holds, once built:
#   arch/x86/boot/bzImage     the image QEMU boots
#   kernelrelease             e.g. 6.1.158-vrbdebug
#   root/                     boot/vmlinuz-<release> and lib/modules/
#                             <release>, laid out like an extracted .deb
#   (the tree itself)         what out-of-tree modules build against:
#                             make -C <dir> M=<project> modules
# About 20 minutes on 2 cores the first time; the heavy-work lock is held.
# Prints the directory on stdout (the only thing printed there).

set -euo pipefail
# shellcheck source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"

VRB_CACHE=${VRB_CACHE:-${VRINGBLK_CACHE:-/var/cache/vringblk}}
frag=$VRB_ROOT/scripts/debug/debug-kernel.config
tarball=/usr/src/linux-source-6.1.tar.xz

"$VRB_ROOT/scripts/deps.sh" debug >&2
for tool in flex bison bc; do
	command -v "$tool" >/dev/null || vrb_die "$tool missing: scripts/deps.sh debug"
done
[[ -f $tarball ]] || vrb_die "$tarball missing: scripts/deps.sh debug"

# The source tree, extracted once (shared with scripts/kunit.sh; an O=
# build never writes into it).
src=$VRB_CACHE/linux-source-6.1
stamp=$(stat -c '%s %Y' "$tarball")
mkdir -p "$VRB_CACHE"
exec 9>"$VRB_CACHE/lock"
flock 9
vrb_extract_source "$tarball" "$src"
flock -u 9

key=$( (echo "$stamp"; cat "$frag") | md5sum | cut -c1-12)
out=$VRB_CACHE/debug-kernel/$key

# register: make the built kernel look like one lib/kernels.sh extracted
# (kernels/<release>/{root,series,.ready}; root/usr/src/linux-headers-
# <release> is the build tree, which external modules build against).
register() {
	local rel kdir
	rel=$(cat "$out/kernelrelease")
	[[ -n $rel ]] || vrb_die "$out/kernelrelease is empty"
	kdir=$VRB_CACHE/kernels/$rel
	mkdir -p "$kdir" "$out/root/usr/src" "$out/root/boot"
	ln -sfn "$out" "$out/root/usr/src/linux-headers-$rel"
	ln -sfn ../../arch/x86/boot/bzImage "$out/root/boot/vmlinuz-$rel"
	ln -sfn "$out/root" "$kdir/root"
	echo debug >"$kdir/series"
	touch "$kdir/.ready"
}

if [[ -f $out/.vrb-built ]]; then
	register
	echo "$out"
	exit 0
fi

build() {
	mkdir -p "$out"
	# LOCALVERSION names the kernel in `uname -r` and in the module's
	# vermagic: nobody mistakes it for Debian's.
	make -s -C "$src" O="$out" x86_64_defconfig >&2
	(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m .config \
		"$src/kernel/configs/kvm_guest.config" "$frag" >&2)
	make -s -C "$src" O="$out" LOCALVERSION=-vrbdebug olddefconfig >&2
	# Every line of the fragment must have survived olddefconfig (a
	# missing dependency silently drops an option): check.
	local line missing=""
	while read -r line; do
		[[ $line == CONFIG_* ]] || continue
		case $line in
		*=n) ! grep -qE "^${line%=n}=[ym]" "$out/.config" ||
			missing+=" $line" ;;
		*) grep -qx "$line" "$out/.config" || missing+=" $line" ;;
		esac
	done <"$frag"
	[[ -z $missing ]] || vrb_die "options not taken by the debug kernel:$missing"
	vrb_log "building the debug kernel in $out (about 20 minutes)"
	vrb_heavy make -s -C "$src" O="$out" LOCALVERSION=-vrbdebug \
		-j"$(nproc)" bzImage modules >&2
	cp "$out/include/config/kernel.release" "$out/kernelrelease"
	# A module tree as Debian's packages lay one out (root/lib/modules/
	# <release>, modules.builtin included), for mkinitramfs.sh.
	make -s -C "$src" O="$out" LOCALVERSION=-vrbdebug \
		INSTALL_MOD_PATH="$out/root" INSTALL_MOD_STRIP=1 \
		modules_install >&2
	touch "$out/.vrb-built"
}
build
register
echo "$out"
