# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# kernels.sh - the kernels vringblk supports, where their images, modules
# and headers come from, and how to build the module for each.  Source it
# after host.sh and chroot.sh.
#
# Three kernel series, each named by a short name that KVER= accepts:
#
#   6.1     Debian bookworm's kernel: the version linux-image-amd64 (which
#           scripts/deps.sh installs on the host) depends on.  Image in
#           /boot, modules in /lib/modules, headers installed.  The
#           default guest kernel.
#   6.12    Debian's 6.12 LTS from bookworm-security: the version
#           linux-image-6.12-amd64 depends on.  The unsigned image, the
#           headers and kbuild are fetched with `apt-get download` and
#           extracted into the cache, never installed: an image in /boot
#           would change what other scripts on this machine test.  Built
#           on the host (bookworm's gcc-12, like the kernel).
#   newest  the newest kernel Debian's archive ships: the version
#           linux-image-amd64 of trixie-backports depends on (7.3.x in
#           2026-12).  Its headers want trixie's gcc-14, so the module is
#           built in a cached trixie chroot (lib/chroot.sh) that has them
#           installed; image and modules are extracted into the cache.
#
# A full version (6.12.117+deb12-amd64) is accepted too, when it is one
# of the three; anything else is an error, never a guess.
#
# One more name, never part of the matrix of supported kernels: "debug",
# the debug guest kernel scripts/debug-kernel.sh builds from 6.1's source
# with the kernel's bug detectors on.  Once built it looks like an
# extracted kernel (root/ with boot/ and lib/modules/, its build tree as
# the headers), so everything that takes KVER= can boot and build for it.
#
#   vrb_kernel_resolve NAME     print the full version (6.1, 6.12, newest,
#                               the newest's major.minor, or a full one)
#   vrb_kernel_all              print the three full versions, oldest first
#   vrb_kernel_prepare KVER     fetch and extract what KVER needs (cached)
#   vrb_kernel_image KVER       print the path of its bzImage
#   vrb_kernel_modroot KVER     print ROOT, ROOT/lib/modules/KVER exists
#   vrb_kernel_source KVER      print the path of its linux-source-X.Y
#                               tarball (downloaded into the cache)
#   vrb_kernel_make KVER DIR [MAKE ARGS...]
#                               build the module in DIR for KVER (holds
#                               the heavy-work lock)
#
# Everything downloaded lives in $VRB_CACHE/kernels/<version>/ (debs/,
# root/ as the packages would install it, .ready when complete).

VRB_NEWEST_SUITE=trixie-backports

# _vrb_dep_version TEXT: the first "linux-image-<version>" dependency in
# apt-cache/dpkg-query output, as <version>.
_vrb_dep_version() {
	grep -oE 'linux-image-[0-9][^ ,()]*' <<<"$1" | head -n 1 |
		sed 's/^linux-image-//'
}

# _vrb_series_kver SERIES: the full version of a series (see above).
_vrb_series_kver() {
	local out v
	case $1 in
	6.1)
		out=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null) ||
			vrb_die "linux-image-amd64 is not installed: scripts/deps.sh guest"
		;;
	6.12)
		out=$(apt-cache depends linux-image-6.12-amd64 2>/dev/null |
			grep 'Depends:' || true)
		if [[ -z $(_vrb_dep_version "$out") ]]; then
			vrb_as_root apt-get update -qq >&2
			out=$(apt-cache depends linux-image-6.12-amd64 2>/dev/null |
				grep 'Depends:' || true)
		fi
		;;
	newest)
		vrb_chroot "$VRB_NEWEST_SUITE" >/dev/null
		out=$(vrb_chroot_run "$VRB_NEWEST_SUITE" apt-cache depends \
			-t "$VRB_NEWEST_SUITE" linux-image-amd64 2>/dev/null |
			grep 'Depends:' || true)
		if [[ -z $(_vrb_dep_version "$out") ]]; then
			vrb_chroot_run "$VRB_NEWEST_SUITE" apt-get update -qq >&2
			out=$(vrb_chroot_run "$VRB_NEWEST_SUITE" apt-cache depends \
				-t "$VRB_NEWEST_SUITE" linux-image-amd64 2>/dev/null |
				grep 'Depends:' || true)
		fi
		;;
	*) vrb_die "unknown kernel series '$1' (6.1, 6.12, newest)" ;;
	esac
	v=$(_vrb_dep_version "$out")
	[[ -n $v ]] || vrb_die "cannot tell which kernel series $1 is (apt)"
	echo "$v"
}

# _vrb_kernel_series KVER: which series a full version belongs to.  The
# answer is remembered in the kernel's cache directory.
_vrb_kernel_series() {
	local s v f=$VRB_CACHE/kernels/$1/series
	if [[ -r $f ]]; then
		cat "$f"
		return 0
	fi
	for s in 6.1 6.12 newest; do
		v=$(_vrb_series_kver "$s") || exit 1
		if [[ $v == "$1" ]]; then
			if [[ $s != 6.1 ]]; then
				mkdir -p "${f%/*}"
				echo "$s" >"$f"
			fi
			echo "$s"
			return 0
		fi
	done
	vrb_die "kernel $1 is none of the supported ones: $(vrb_kernel_all | tr '\n' ' ')"
}

vrb_kernel_all() {
	local s
	for s in 6.1 6.12 newest; do
		_vrb_series_kver "$s" || exit 1
	done
}

vrb_kernel_resolve() {
	local name=$1 v dir
	case $name in
	6.1 | 6.12 | newest)
		_vrb_series_kver "$name"
		return
		;;
	debug)
		dir=$("$VRB_ROOT/scripts/debug-kernel.sh") || exit 1
		cat "$dir/kernelrelease"
		return
		;;
	"")
		vrb_die "no kernel named" ;;
	esac
	if [[ $name =~ ^[0-9]+\.[0-9]+$ ]]; then
		v=$(_vrb_series_kver newest)
		[[ $v == "$name".* ]] ||
			vrb_die "no supported kernel $name (6.1, 6.12, newest = $v)"
		echo "$v"
		return
	fi
	_vrb_kernel_series "$name" >/dev/null || exit 1
	echo "$name"
}

# _vrb_kernel_dir KVER: the cache directory of an extracted kernel.
_vrb_kernel_dir() {
	echo "$VRB_CACHE/kernels/$1"
}

# _vrb_kernel_kind KVER: host (6.1), extracted (6.12) or chroot (newest).
_vrb_kernel_kind() {
	local s
	s=$(_vrb_kernel_series "$1") || exit 1
	case $s in
	6.1) echo host ;;
	6.12 | debug) echo extracted ;;
	newest) echo chroot ;;
	esac
}

vrb_kernel_prepare() {
	local kver=$1 kind dir tmp
	kind=$(_vrb_kernel_kind "$kver") || exit 1
	if [[ $kind == host ]]; then
		[[ -r /boot/vmlinuz-$kver && -d /lib/modules/$kver/kernel &&
			-e /lib/modules/$kver/build/Makefile ]] ||
			vrb_die "kernel $kver is not installed: scripts/deps.sh guest build"
		return 0
	fi
	dir=$(_vrb_kernel_dir "$kver")
	[[ -e $dir/.ready ]] && return 0
	mkdir -p "$VRB_CACHE/kernels"
	(
		flock 8
		[[ -e $dir/.ready ]] && exit 0
		tmp=$dir.tmp
		rm -rf "$tmp"
		mkdir -p "$tmp/debs" "$tmp/root"
		if [[ $kind == extracted ]]; then
			vrb_log "downloading kernel $kver (once)"
			(cd "$tmp/debs" && apt-get download -q \
				"linux-image-$kver-unsigned" "linux-headers-$kver" \
				"linux-headers-${kver%-amd64}-common" \
				"linux-kbuild-${kver%-amd64}" 2>&1 |
				grep -v unsandboxed >&2) ||
				vrb_die "apt-get download of kernel $kver failed"
		else
			vrb_log "downloading kernel $kver in the $VRB_NEWEST_SUITE chroot (once)"
			vrb_chroot "$VRB_NEWEST_SUITE" build-essential \
				"linux-headers-$kver" >/dev/null
			local cdir
			cdir=$(vrb_chroot_dir "$VRB_NEWEST_SUITE")
			rm -rf "$cdir/tmp/vrb-dl"
			mkdir -p "$cdir/tmp/vrb-dl"
			vrb_chroot_run "$VRB_NEWEST_SUITE" sh -c "cd /tmp/vrb-dl &&
				apt-get download -q linux-binary-unsigned-$kver \
				linux-modules-$kver linux-base-$kver" 2>&1 |
				grep -v unsandboxed >&2
			mv "$cdir"/tmp/vrb-dl/*.deb "$tmp/debs/" ||
				vrb_die "apt-get download of kernel $kver failed"
		fi
		local deb
		for deb in "$tmp"/debs/*.deb; do
			dpkg-deb -x "$deb" "$tmp/root"
		done
		# Merged /usr (7.x ships its modules in /usr/lib/modules).
		[[ -e $tmp/root/lib ]] || ln -s usr/lib "$tmp/root/lib"
		# The headers' Makefile includes the common headers by absolute
		# path: point it into the cache.
		if [[ $kind == extracted ]]; then
			sed -i "s|^include /usr/src/|include $dir/root/usr/src/|" \
				"$tmp/root/usr/src/linux-headers-$kver/Makefile"
		fi
		[[ -e $tmp/root/lib/modules/$kver/modules.order ]] ||
			vrb_die "kernel $kver: no modules.order in the packages"
		[[ -r $dir/series ]] && cp "$dir/series" "$tmp/series"
		rm -rf "$dir"
		mv "$tmp" "$dir"
		depmod -b "$dir/root" "$kver" ||
			vrb_die "depmod for $kver failed"
		touch "$dir/.ready"
	) 8>"$VRB_CACHE/kernels/$kver.lock" || exit 1
}

vrb_kernel_source() {
	local kver=$1 kind mm dir cdir
	kind=$(_vrb_kernel_kind "$kver") || exit 1
	mm=$(grep -oE '^[0-9]+\.[0-9]+' <<<"$kver")
	if [[ $kind != chroot ]]; then
		if [[ ! -f /usr/src/linux-source-$mm.tar.xz ]]; then
			vrb_as_root env DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq "linux-source-$mm" >&2 ||
				vrb_die "cannot install linux-source-$mm"
		fi
		echo "/usr/src/linux-source-$mm.tar.xz"
		return
	fi
	dir=$(_vrb_kernel_dir "$kver")/source
	if [[ ! -f $dir/usr/src/linux-source-$mm.tar.xz ]]; then
		vrb_log "downloading linux-source-$mm in the $VRB_NEWEST_SUITE chroot (once)"
		vrb_chroot "$VRB_NEWEST_SUITE" >/dev/null
		cdir=$(vrb_chroot_dir "$VRB_NEWEST_SUITE")
		rm -rf "$cdir/tmp/vrb-src"
		mkdir -p "$cdir/tmp/vrb-src"
		vrb_chroot_run "$VRB_NEWEST_SUITE" sh -c "cd /tmp/vrb-src &&
			apt-get download -q -t $VRB_NEWEST_SUITE linux-source-$mm" 2>&1 |
			grep -v unsandboxed >&2
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		dpkg-deb -x "$cdir"/tmp/vrb-src/linux-source-"$mm"_*.deb "$dir.tmp" ||
			vrb_die "linux-source-$mm: download failed"
		rm -rf "$dir" "$cdir/tmp/vrb-src"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir/usr/src/linux-source-$mm.tar.xz"
}

vrb_kernel_image() {
	local kver=$1 root f
	if [[ $(_vrb_kernel_kind "$kver") == host ]]; then
		echo "/boot/vmlinuz-$kver"
		return
	fi
	root=$(_vrb_kernel_dir "$kver")/root
	for f in "$root/boot/vmlinuz-$kver" "$root/lib/modules/$kver/vmlinuz.unsigned"; do
		[[ -r $f ]] && { echo "$f"; return; }
	done
	vrb_die "no image of $kver in $root (vrb_kernel_prepare first)"
}

# vrb_kernel_cmdline KVER: kernel command line words this kernel needs
# under QEMU.  The debug kernel: acpi=noirq.  Its KASAN- and lockdep-
# instrumented ACPI interpreter, under TCG, cannot evaluate the PCI
# routing method _PRT within ACPICA's 30 s loop limit: every
# pci_enable_device() then waits 30 s and ends with "ACPI Error:
# AE_AML_LOOP_TIMEOUT" and INTx unrouted.  acpi=noirq takes INTx routing
# from the BIOS's $PIR table instead; ACPI hotplug is unaffected.  And
# an 8 MiB kernel log: its detectors and fault injection are verbose, and
# a report must not scroll away before the guest's last dmesg.
vrb_kernel_cmdline() {
	if [[ $(_vrb_kernel_series "$1") == debug ]]; then
		echo acpi=noirq log_buf_len=8M
	fi
}

# vrb_kernel_slowdown KVER: how many times longer its guests may take than
# on Debian's kernels; the scripts scale their timeouts by it.  The debug
# kernel's detectors (KASAN, lockdep, kmemleak) make it 3-4 times slower
# under TCG.
vrb_kernel_slowdown() {
	if [[ $(_vrb_kernel_series "$1") == debug ]]; then
		echo 4
	else
		echo 1
	fi
}

vrb_kernel_modroot() {
	if [[ $(_vrb_kernel_kind "$1") == host ]]; then
		echo /
	else
		echo "$(_vrb_kernel_dir "$1")/root"
	fi
}

# vrb_kernel_kdir KVER: the headers' build directory, as the build sees it
# (for "chroot" kernels: a path inside the chroot).
vrb_kernel_kdir() {
	case $(_vrb_kernel_kind "$1") in
	host) echo "/lib/modules/$1/build" ;;
	extracted) echo "$(_vrb_kernel_dir "$1")/root/usr/src/linux-headers-$1" ;;
	chroot) echo "/lib/modules/$1/build" ;;
	esac
}

vrb_kernel_make() {
	local kver=$1 dir=$2 kdir
	shift 2
	vrb_kernel_prepare "$kver"
	kdir=$(vrb_kernel_kdir "$kver")
	dir=$(cd "$dir" && pwd -P)
	if [[ $(_vrb_kernel_kind "$kver") == chroot ]]; then
		# VRB_CHROOT_EXTRA: more packages for the build (lint: sparse).
		# shellcheck disable=SC2086 # one word per package
		vrb_chroot "$VRB_NEWEST_SUITE" build-essential \
			"linux-headers-$kver" ${VRB_CHROOT_EXTRA:-} >/dev/null
		_vrb_heavy_fn env VRB_CHROOT_BIND="$dir" \
			vrb_chroot_run "$VRB_NEWEST_SUITE" \
			make -C "$dir" KDIR="$kdir" "$@"
	else
		vrb_heavy make -C "$dir" KDIR="$kdir" "$@"
	fi
}

# _vrb_heavy_fn FUNCTION ARGS...: vrb_heavy for shell functions too (flock
# runs programs only).  "env VAR=X FUNCTION" is understood.
_vrb_heavy_fn() {
	local envs=()
	if [[ $1 == env ]]; then
		shift
		while [[ $1 == *=* ]]; do
			envs+=("$1")
			shift
		done
	fi
	(
		if [[ ${VRB_HEAVY_LOCKED:-0} != 1 ]]; then
			# shellcheck disable=SC2153 # set in host.sh
			exec 9>"$VRB_HEAVY_LOCK"
			flock 9
			export VRB_HEAVY_LOCKED=1
		fi
		for e in "${envs[@]}"; do
			export "${e?}"
		done
		"$@"
	)
}
