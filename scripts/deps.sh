#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - install the Debian packages vringblk's scripts need, and only
# those that are missing.  `apt-get update` runs only when something has
# to be installed.
#
# Usage:  scripts/deps.sh [GROUP...]       (default: guest build)
#
#   guest   boot a QEMU guest and test in it: QEMU, the guest kernel,
#           busybox, fio, e2fsprogs, util-linux, socat (QMP client), ...
#   build   build vringblk.ko: make, gcc, the guest kernel's headers
#   lint    `make lint`: sparse, shellcheck, linux-source-6.1 (checkpatch)
#   dkms    install the module through DKMS
#   kunit   what a UML KUnit build needs (scripts/kunit.sh also checks)
#   chroot  debootstrap, for the chroots of other suites (lib/chroot.sh)
#   debug   what building the debug guest kernel needs (debug-kernel.sh)
#   blktests  `make blktests`: debootstrap (the guest's Debian root),
#           e2fsprogs (mke2fs -d, debugfs), python3 (the report)
#   all     all of the above
#
# The guest kernel (linux-image-amd64) and its headers (linux-headers-amd64)
# are always installed in the same apt-get run, so both are the same
# version.  At the end the guest kernel version is printed on stdout (the
# only thing printed there), e.g. "6.1.0-56-amd64".

set -euo pipefail
# shellcheck source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"

# Packages of each group.  "KERNEL" stands for the image+headers pair.
pkgs_guest=(KERNEL qemu-system-x86 busybox-static cpio gzip fio e2fsprogs
	kmod util-linux coreutils socat)
pkgs_build=(KERNEL make gcc)
pkgs_lint=(sparse shellcheck linux-source-6.1 xz-utils perl)
pkgs_dkms=(KERNEL dkms make gcc)
pkgs_kunit=(linux-source-6.1 xz-utils make gcc flex bison bc python3)
pkgs_chroot=(debootstrap)
pkgs_blktests=(debootstrap e2fsprogs python3)
pkgs_debug=(linux-source-6.1 xz-utils make gcc flex bison bc libelf-dev
	libssl-dev)

groups=("$@")
[[ ${#groups[@]} -gt 0 ]] || groups=(guest build)

wanted=()
for group in "${groups[@]}"; do
	case $group in
	guest) wanted+=("${pkgs_guest[@]}") ;;
	build) wanted+=("${pkgs_build[@]}") ;;
	lint) wanted+=("${pkgs_lint[@]}") ;;
	dkms) wanted+=("${pkgs_dkms[@]}") ;;
	kunit) wanted+=("${pkgs_kunit[@]}") ;;
	chroot) wanted+=("${pkgs_chroot[@]}") ;;
	debug) wanted+=("${pkgs_debug[@]}") ;;
	blktests) wanted+=("${pkgs_blktests[@]}") ;;
	all) wanted+=("${pkgs_guest[@]}" "${pkgs_build[@]}" "${pkgs_lint[@]}"
		"${pkgs_dkms[@]}" "${pkgs_kunit[@]}" "${pkgs_chroot[@]}" "${pkgs_blktests[@]}") ;;
	*) vrb_die "unknown group '$group' (guest build lint dkms kunit chroot debug blktests all)" ;;
	esac
done

# is_installed PKG: true if dpkg knows PKG as fully installed.
is_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Collect the missing packages, without duplicates.
missing=()
add_missing() {
	local p
	for p in "${missing[@]}"; do
		[[ $p == "$1" ]] && return 0
	done
	missing+=("$1")
}
for pkg in "${wanted[@]}"; do
	if [[ $pkg == KERNEL ]]; then
		# Image and headers go together, in one apt-get run, so that
		# apt picks the same version for both.
		if ! is_installed linux-image-amd64 ||
			! is_installed linux-headers-amd64; then
			add_missing linux-image-amd64
			add_missing linux-headers-amd64
		fi
	elif ! is_installed "$pkg"; then
		add_missing "$pkg"
	fi
done

apt_updated=0
apt_install() {
	if [[ $apt_updated == 0 ]]; then
		vrb_log "apt-get update"
		vrb_as_root apt-get update -qq >&2
		apt_updated=1
	fi
	vrb_log "installing: $*"
	vrb_as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "$@" >&2
}

if [[ ${#missing[@]} -gt 0 ]]; then
	apt_install "${missing[@]}"
else
	vrb_log "all packages present (${groups[*]})"
fi

# The headers of exactly the version linux-image-amd64 depends on (6.1,
# the default guest kernel) must be there when we build modules.  Only
# that kernel is ever installed on this machine: whatever KVER= says, the
# other supported kernels are extracted into the cache by
# scripts/lib/kernels.sh, never installed (their headers packages pull
# their images into /boot).
needs_kernel=0
for pkg in "${wanted[@]}"; do
	[[ $pkg == KERNEL ]] && needs_kernel=1
done
if [[ $needs_kernel == 1 ]]; then
	# shellcheck disable=SC2016 # ${Depends} is dpkg-query's, not ours
	kver=$(dpkg-query -W -f='${Depends}' linux-image-amd64 |
		grep -oE 'linux-image-[0-9][^ ,()]*' | head -n 1 |
		sed 's/^linux-image-//')
	[[ -n $kver ]] || vrb_die "cannot tell linux-image-amd64's kernel"
	if [[ ! -e /lib/modules/$kver/build/Makefile ]]; then
		apt_install "linux-headers-$kver"
	fi
	echo "$kver"
fi
