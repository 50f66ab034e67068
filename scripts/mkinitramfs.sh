#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh - build the initramfs our QEMU guests boot: a busybox
# userland, the tools the tests use (fio, e2fsprogs, util-linux), some of
# the guest kernel's own modules, our guest scripts, and any extra files
# (vringblk.ko) given on the command line.
#
# An initramfs is a cpio archive that the kernel unpacks into a RAM file
# system at boot; it then runs /init from it as process 1.  Our /init is
# scripts/guest/init.sh: it mounts /proc, /sys, /dev, debugfs and tracefs,
# runs one guest script with its output on the serial console, and powers
# the machine off whatever happens.  Nothing here needs a root file system
# or a disk, which keeps the virtio disks under test the only block devices
# in the guest.
#
# Usage:
#   scripts/mkinitramfs.sh -o OUT.cpio [options]
#
#   -o FILE        output file (required)
#   -s SCRIPT      guest script /init runs by default (a file name in
#                  scripts/guest/, or any path: copied to /vrb/); the kernel
#                  command line can override it with vrbtest.script=/vrb/X
#                  (default: selftest.sh)
#   -f SRC[:DEST]  add a file, e.g. -f mod/vringblk.ko:/vringblk.ko
#                  (DEST defaults to /<basename of SRC>); may repeat
#   -m MODULE      add a guest kernel module and its dependencies; may repeat
#   -V             "virtio variant": also add virtio, virtio_ring,
#                  virtio_pci and virtio_blk, so the in-kernel driver can be
#                  loaded for comparison (they are never loaded by default)
#   -z COMP        compression: none (default), gzip or zstd
#   -k KVER        guest kernel (default: scripts/guest-kver.sh): one of
#                  the supported kernels (scripts/lib/kernels.sh); its
#                  modules come from /lib/modules or, for kernels never
#                  installed here, from the tree extracted into the cache
#
# Always included: ext4 and what it needs (jbd2, mbcache, crc16,
# crc32c...), loaded by /init at boot, plus brd (RAM disk) and loop,
# loaded only by scripts that want them.  What is a module differs per
# kernel (crc32c is built into 7.x): built-in ones are skipped.  Modules
# compressed as .ko.xz (6.12 and later) are decompressed: busybox insmod
# reads plain ELF only.
#
# Debian's fio is dynamically linked against ~60 libraries (ceph, gluster,
# rdma...): every binary is copied with what `ldd` lists, so the archive is
# ~90 MB (38 MB gzipped).  Uncompressed is the default because it boots
# faster: under TCG the kernel needs ~3 s to gunzip it, ~1.5 s to copy it.

set -euo pipefail
# shellcheck source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"
# shellcheck source=lib/chroot.sh
. "$VRB_ROOT/scripts/lib/chroot.sh"
# shellcheck source=lib/kernels.sh
. "$VRB_ROOT/scripts/lib/kernels.sh"

out=""
script=selftest.sh
files=()
modules=(brd loop)
virtio=0
comp=none
kver=""

while getopts "o:s:f:m:Vz:k:h" opt; do
	case $opt in
	o) out=$OPTARG ;;
	s) script=$OPTARG ;;
	f) files+=("$OPTARG") ;;
	m) modules+=("$OPTARG") ;;
	V) virtio=1 ;;
	z) comp=$OPTARG ;;
	k) kver=$OPTARG ;;
	h) sed -n '/^# Usage/,/^# Always/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) vrb_die "bad option (try -h)" ;;
	esac
done
[[ -n $out ]] || vrb_die "-o OUT is required (try -h)"
kver=$("$VRB_ROOT/scripts/guest-kver.sh" ${kver:+"$kver"})
modroot=$(vrb_kernel_modroot "$kver")
moddir=${modroot%/}/lib/modules/$kver
[[ -d $moddir/kernel ]] || vrb_die "no $moddir: run scripts/deps.sh guest"
case $comp in
gzip | zstd | none) ;;
*) vrb_die "-z: gzip, zstd or none" ;;
esac

# Modules /init loads at boot (ext4 for the file system tests).  The crypto
# API finds crc32c through an alias at run time, which no dependency list
# records, so name the implementation explicitly (if this kernel has it
# as a module: 7.x has none, its ext4 uses the library's crc32c).
preload=(ext4)
for m in crc32c_generic crc32c-cryptoapi; do
	if modprobe -d "$modroot" -S "$kver" --show-depends "$m" >/dev/null 2>&1; then
		preload=("$m" "${preload[@]}")
		break
	fi
done
if [[ $virtio == 1 ]]; then
	modules+=(virtio virtio_ring virtio_pci virtio_blk)
fi

stage=$(mktemp -d /tmp/vrb-initramfs.XXXXXX)
trap 'rm -rf "$stage"' EXIT

# ---- layout ---------------------------------------------------------
#
# A "merged /usr" tree like Debian 12's own: /bin, /sbin and /lib are
# symlinks into /usr, so a file lands in one place whatever path a program
# or the dynamic loader asks for.  All programs live in /usr/bin.
mkdir -p "$stage"/{usr/bin,usr/lib,usr/lib64,etc,proc,sys,dev,tmp,run,mnt,vrb}
ln -s usr/bin "$stage/bin"
ln -s usr/bin "$stage/sbin"
ln -s bin "$stage/usr/sbin"
ln -s usr/lib "$stage/lib"
ln -s usr/lib64 "$stage/lib64"

# The kernel opens /dev/console for /init's stdin/stdout/stderr before
# /init has had a chance to mount devtmpfs, so the node must already be in
# the archive (character device 5:1).  This needs root; if it fails, /init
# reopens the console itself once /dev is mounted.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

# stage_path PATH: where an absolute host path goes inside the stage.
# Everything under / except /usr is moved under /usr (merged /usr).
stage_path() {
	case $1 in
	/usr/*) echo "$stage$1" ;;
	*) echo "$stage/usr$1" ;;
	esac
}

# copy_libs BINARY: copy the shared libraries BINARY needs, and the dynamic
# loader itself, to the same paths in the stage.  ldd prints lines like
#	libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)
#	/lib64/ld-linux-x86-64.so.2 (0x...)
copy_libs() {
	local lib dest
	ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// { print $1 }' | while read -r lib; do
		dest=$(stage_path "$lib")
		[[ -e $dest ]] && continue
		mkdir -p "$(dirname "$dest")"
		cp -L "$lib" "$dest"
	done
}

# copy_bin PROGRAM [NAME]: copy a host program (found in PATH or the sbin
# directories) into /usr/bin as NAME, with its libraries.
copy_bin() {
	local src
	src=$(PATH=$PATH:/usr/sbin:/sbin command -v "$1") ||
		vrb_die "$1 not found: run scripts/deps.sh guest"
	cp -L "$src" "$stage/usr/bin/${2:-$1}"
	copy_libs "$src"
}

# ---- programs -------------------------------------------------------

# Real tools first; busybox applets fill in only the names still free.
copy_bin fio
copy_bin mke2fs
copy_bin e2fsck
copy_bin resize2fs
copy_bin tune2fs
copy_bin dumpe2fs
for alias in mkfs.ext4 mkfs.ext2; do
	ln -s mke2fs "$stage/usr/bin/$alias"
done
ln -s e2fsck "$stage/usr/bin/fsck.ext4"
copy_bin blkdiscard	# util-linux: -z (BLKZEROOUT), -s (secure)
copy_bin fallocate	# util-linux: -z (zero range), -p (punch hole)
copy_bin lsblk
copy_bin blockdev
copy_bin dd		# coreutils: iflag=direct, oflag=direct, status=
cp /etc/mke2fs.conf "$stage/etc/"

# busybox-static: one static binary that is ~300 commands, chosen by the
# name it is called by (argv[0]), so each applet is a symlink to it.
cp /bin/busybox "$stage/usr/bin/busybox"
"$stage/usr/bin/busybox" --list | while read -r applet; do
	[[ -e $stage/usr/bin/$applet || -L $stage/usr/bin/$applet ]] ||
		ln -s busybox "$stage/usr/bin/$applet"
done

# ---- kernel modules -------------------------------------------------
#
# `modprobe --show-depends` only reads the module tree (it loads nothing):
# for each module it prints the insmod lines modprobe would run, its
# dependencies and soft dependencies first.  Copy those .ko files, then let
# depmod write modules.dep & co. for the stage so busybox modprobe works
# in the guest.
#
# mod_paths MODULE...: print the .ko paths, dependencies first, as paths
# of the module tree (under $modroot); built-in modules print nothing.
mod_paths() {
	local m
	for m in "$@"; do
		modprobe -d "$modroot" -S "$kver" --show-depends "$m" ||
			vrb_die "module $m not found for $kver"
	done | awk '$1 == "insmod" { print $2 }'
}

# guest_path PATH: where a module of the tree goes in the guest, as an
# absolute path inside it (/lib/modules/..., without .xz).
guest_path() {
	local p=${1#"${modroot%/}"}
	echo "${p%.xz}"
}

kos=$(mod_paths "${preload[@]}" "${modules[@]}" | sort -u)
for ko in $kos; do
	dest=$(stage_path "$(guest_path "$ko")")
	mkdir -p "$(dirname "$dest")"
	case $ko in
	*.ko.xz) xz -dc "$ko" >"$dest" ;;
	*) cp "$ko" "$dest" ;;
	esac
done
mkdir -p "$(stage_path "/lib/modules/$kver")"
for f in modules.order modules.builtin modules.builtin.modinfo; do
	cp "$moddir/$f" "$(stage_path "/lib/modules/$kver/$f")"
done
depmod -b "$stage" "$kver"

# The list /init loads at boot, in order, as paths inside the guest.
mod_paths "${preload[@]}" | awk '!seen[$0]++' | while read -r ko; do
	guest_path "$ko"
done >"$stage/etc/vrb-preload"

# ---- our scripts and extra files --------------------------------------

guestdir=$VRB_ROOT/scripts/guest
cp "$guestdir/init.sh" "$stage/init"
chmod 755 "$stage/init"
cp "$guestdir"/*.sh "$stage/vrb/"
if [[ $script != */* ]]; then
	script=$guestdir/$script
fi
[[ -f $script ]] || vrb_die "guest script $script not found"
cp "$script" "$stage/vrb/"
echo "/vrb/${script##*/}" >"$stage/etc/vrb-script"
echo "$kver" >"$stage/etc/vrb-kver"

for spec in "${files[@]}"; do
	src=${spec%%:*}
	dest=/${src##*/}
	[[ $spec == *:* ]] && dest=${spec#*:}
	[[ -f $src ]] || vrb_die "extra file $src not found"
	mkdir -p "$stage$(dirname "$dest")"
	cp "$src" "$stage$dest"
done

# ---- archive ----------------------------------------------------------
#
# "newc" is the cpio format the kernel unpacks; -R 0:0 makes every file
# root's inside the guest.  Sorted names give the same archive for the same
# inputs.
mkdir -p "$(dirname "$out")"
(
	cd "$stage"
	find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet
) | case $comp in
gzip) gzip -1 ;;
zstd) zstd -q -3 -T0 ;;
none) cat ;;
esac >"$out.tmp"
mv "$out.tmp" "$out"
vrb_log "$out: $(du -h "$out" | cut -f1) (kernel $kver, $comp)"
