#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# blktests.sh - `make blktests`: the block layer's own test suite
# (blktests, github.com/osandov/blktests) on a vringblk disk and, as the
# reference, on the same legacy device bound to the kernel's virtio_blk,
# each in a QEMU guest of Debian's kernel; the side-by-side report is
# docs/blktests.md.
#
# Usage:
#   scripts/blktests.sh [options] [TEST-OR-GROUP...]
#
#   --short        short form for `make check`: the vringblk side only,
#                  only the tests that take a test device (./check -d),
#                  TIMEOUT=10; no report
#   --side S       run one side only: vringblk or virtio_blk (no report)
#   --ko FILE      module to test (default: <project>/vringblk.ko, built
#                  first unless --no-build)
#   --no-build     do not run make; use the .ko as it is
#   --results DIR  logs and results (default build/blktests,
#                  build/blktests-short)
#   --no-docs      do not write docs/blktests.md
#   --bt-timeout S blktests' TIMEOUT: how long its timed tests run
#                  (default 30, short 10)
#   --timeout SEC  kill each QEMU after SEC seconds (default 3600, short 900)
#   TEST-OR-GROUP  what ./check runs instead of the default list
#
# What runs (default): the whole "block" and "dm" groups, and the tests of
# "nvme", "scsi" and "zbd" that take a test device (their other tests
# build NVMe-oF/scsi_debug/null_blk setups that never touch our disk).
# A test that needs what the disk is not (NVMe, SCSI, zoned, a hotplug
# slot) reports itself "not run", with its reason, which the report keeps.
# "loop", "md", "throtl", "nbd", "srp", "rnbd", "ublk" take no test device.
#
# Where blktests comes from: BLKTESTS=<checkout> (a user's own copy), else
# the tarball in ../shared/third_party/ (Debian does not package it).
#
# The guest (scripts/blktests/guest-blktests.sh): Debian's default guest
# kernel (KVER= for another), a Debian bookworm root file system built once
# with debootstrap (lib/chroot.sh: the chroot "bookworm+blktests") with
# blktests built inside and the guest kernel's modules, turned into an
# ext4 image cached in /var/cache/vringblk/blktests/ and attached as an IDE
# disk (snapshot=on: the image never changes); the disk under test is
#
#   -drive if=none,id=d0,file=<2G sparse file>,format=raw,cache=unsafe,discard=unmap
#   -device virtio-blk-pci,drive=d0,disable-modern=on,serial=blktests,num-queues=2
#
# on both sides, in a guest with two vCPUs, and each driver is loaded with
# poll_queues=1: one interrupt queue and one poll queue (block/007's
# polled I/O).  The virtio_blk side boots without the virtio blacklist and
# loads virtio_pci + virtio_blk (guest-test.sh --reference's way).
#
# Cases: each test that runs on vringblk is one (PASS or FAIL; "not run"
# counts as skipped); each test virtio_blk passes is a second case that
# vringblk passes it too; plus, per side, "the guest finished" and "the
# kernel's console log is clean".  The last line is
# "blktests: N passed, N failed[, N skipped]"; exit status 1 on a failure.

set -euo pipefail
# shellcheck source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"
# shellcheck source=lib/chroot.sh
. "$VRB_ROOT/scripts/lib/chroot.sh"
# shellcheck source=lib/kernels.sh
. "$VRB_ROOT/scripts/lib/kernels.sh"
# shellcheck source=lib/results.sh
. "$VRB_ROOT/scripts/lib/results.sh"

short=0
sides=(vringblk virtio_blk)
ko=${VRB_KO:-}
build=1
results=""
docs=1
bt_timeout=""
tmo=""
tests=()

while [[ $# -gt 0 ]]; do
	case $1 in
	--short) short=1 ;;
	--side) sides=("$2"); shift ;;
	--ko) ko=$2; build=0; shift ;;
	--no-build) build=0 ;;
	--results) results=$2; shift ;;
	--no-docs) docs=0 ;;
	--bt-timeout) bt_timeout=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	-h | --help) sed -n '/^# Usage/,/^# Where/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) vrb_die "unknown option $1 (try --help)" ;;
	*) tests+=("$1") ;;
	esac
	shift
done
for s in "${sides[@]}"; do
	[[ $s == vringblk || $s == virtio_blk ]] ||
		vrb_die "--side: vringblk or virtio_blk, not '$s'"
done
if [[ $short == 1 ]]; then
	sides=(vringblk)
	results=${results:-$VRB_ROOT/build/blktests-short}
	bt_timeout=${bt_timeout:-10}
	tmo=${tmo:-900}
fi
[[ ${#sides[@]} == 2 ]] || docs=0
results=$(realpath -m "${results:-$VRB_ROOT/build/blktests}")
bt_timeout=${bt_timeout:-30}
tmo=${tmo:-3600}
start=$SECONDS

# Whatever stops us before the summary, `make check` still gets its line.
reported=0
trap '[[ $reported == 1 ]] || echo "blktests: 0 passed, 1 failed (see above)"' EXIT

# ---- what we need ------------------------------------------------------------

kver=$("$VRB_ROOT/scripts/deps.sh" guest build chroot blktests)
if [[ -n ${KVER:-} ]]; then
	kver=$(vrb_guest_kver)
fi
vrb_kernel_prepare "$kver"

# blktests' source: a directory (copied) or the tarball (unpacked).
# The tarball sits in ../shared/third_party/, next to the project; a
# fresh clone of a local checkout (git clone /work/main /tmp/x, as make
# check is verified) looks next to the checkout it was cloned from too.
tarball=""
for d in "$VRB_ROOT/.." \
	"$(dirname "$(git -C "$VRB_ROOT" config remote.origin.url 2>/dev/null || echo /nonexistent)")"; do
	if [[ -f $d/shared/third_party/blktests-613b8377e4d3.tar.gz ]]; then
		tarball=$d/shared/third_party/blktests-613b8377e4d3.tar.gz
		break
	fi
done
src=$results/blktests-src
rm -rf "$src"
mkdir -p "$src"
if [[ -n ${BLKTESTS:-} ]]; then
	[[ -x $BLKTESTS/check && -d $BLKTESTS/tests/block ]] ||
		vrb_die "BLKTESTS=$BLKTESTS is not a blktests checkout"
	tar -C "$BLKTESTS" --exclude=.git --exclude=./results \
		--exclude=./config -cf - . | tar -C "$src" -xf -
	src_desc="$BLKTESTS ($(git -C "$BLKTESTS" describe --always --dirty 2>/dev/null || echo 'not a git checkout'))"
else
	[[ -n $tarball ]] ||
		vrb_die "no blktests: no ../shared/third_party/blktests-613b8377e4d3.tar.gz; set BLKTESTS=<checkout of github.com/osandov/blktests>"
	tar -C "$src" --strip-components=1 -xzf "$tarball"
	src_desc="${tarball##*/}"
fi
# Same source, same image: the id is a hash of every file's name and
# contents.
src_id=$(cd "$src" && find . -type f -print0 | LC_ALL=C sort -z |
	xargs -0 sha256sum | sha256sum | cut -c1-16)

# ---- the root file system image -------------------------------------------------
#
# Debian's userland for blktests, in a cached debootstrap chroot
# (lib/chroot.sh).  Programs the tests we run call: fio, gawk, util-linux
# (blkdiscard, blkzone, losetup), bsdextrautils (column, hexdump), kmod, e2fsprogs, xfsprogs (mkfs.xfs,
# xfs_io), udev (udevadm settle), dmsetup (dm/*), pciutils (setpci, for
# block/011), parted, procps, bc, psmisc; build-essential builds its src/.
BT_SUITE=bookworm+blktests
BT_PKGS=(bash coreutils gawk util-linux bsdextrautils kmod fio e2fsprogs
	xfsprogs build-essential udev dmsetup pciutils parted procps bc psmisc)
btcache=$VRB_CACHE/blktests
img=$btcache/rootfs-$kver.img

# prepare_rootfs: (re)build $img when the packages, blktests or the kernel
# changed.  Cold: debootstrap (~2 min) and the packages; warm: nothing.
prepare_rootfs() {
	local dir want modroot size t0=$SECONDS
	mkdir -p "$btcache"
	dir=$(vrb_chroot "$BT_SUITE" "${BT_PKGS[@]}")
	modroot=$(vrb_kernel_modroot "$kver")
	want="kver=$kver blktests=$src_id pkgs=${BT_PKGS[*]}"
	want+=" config=1 modules=$(stat -c %Y "${modroot%/}/lib/modules/$kver/modules.dep")"
	if [[ -f $img && -f $img.stamp && $(cat "$img.stamp") == "$want" ]]; then
		return 0
	fi
	vrb_log "building the guest's root image $img"
	rm -rf "$dir/opt/blktests"
	mkdir -p "$dir/opt"
	cp -a "$src" "$dir/opt/blktests"
	# A few seconds of gcc for its src/ helpers: not worth the heavy lock.
	vrb_chroot_run "$BT_SUITE" make -C /opt/blktests \
		>"$btcache/make.log" 2>&1 ||
		vrb_die "building blktests failed: $btcache/make.log"
	# The guest kernel's modules (blktests loads null_blk, scsi_debug,
	# dm-*, loop... with modprobe), and no other kernel's.
	mkdir -p "$dir/usr/lib/modules"
	find "$dir/usr/lib/modules" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
	cp -a "${modroot%/}/lib/modules/$kver" "$dir/usr/lib/modules/"
	rm -f "$dir/usr/lib/modules/$kver/build" "$dir/usr/lib/modules/$kver/source"
	# Its config: blktests reads /boot/config-$(uname -r) to tell
	# which features the kernel has.
	rm -f "$dir"/boot/config-*
	if [[ -f ${modroot%/}/boot/config-$kver ]]; then
		cp "${modroot%/}/boot/config-$kver" "$dir/boot/"
	fi
	depmod -b "$dir" "$kver"
	vrb_chroot_run "$BT_SUITE" apt-get clean
	# mke2fs -d copies the tree into the new file system: no mount.  Room
	# for blktests' scratch files (mkfs on loop devices) besides.
	size=$(($(du -sm "$dir" | cut -f1) * 5 / 4 + 1024))
	rm -f "$img.tmp"
	mke2fs -q -t ext4 -L blkroot -d "$dir" -F "$img.tmp" "${size}M" \
		>/dev/null ||
		vrb_die "mke2fs of the root image failed"
	mv "$img.tmp" "$img"
	echo "$want" >"$img.stamp"
	vrb_log "root image ready: ${size} MB in $((SECONDS - t0)) s"
}
(
	flock 8
	prepare_rootfs
) 8>"$VRB_CACHE/blktests.lock"
rootfs_secs=$((SECONDS - start))

# ---- the initramfs ------------------------------------------------------------------

mkdir -p "$results"
bin=$results/bin
mkdir -p "$bin"
mk=("$VRB_ROOT/scripts/mkinitramfs.sh" -k "$kver" -o "$bin/initramfs"
	-s "$VRB_ROOT/scripts/blktests/guest-blktests.sh" -m ata_piix -m sd_mod)
for s in "${sides[@]}"; do
	if [[ $s == vringblk ]]; then
		ko=$(vrb_module_ko "$kver" "$build" "$ko")
		cp "$ko" "$bin/vringblk.ko"
		mk+=(-f "$bin/vringblk.ko:/vringblk.ko")
	else
		mk+=(-V)
	fi
done
"${mk[@]}"

# What ./check runs.
if [[ ${#tests[@]} -eq 0 ]]; then
	if [[ $short == 1 ]]; then
		tests=(-d block dm nvme scsi zbd)
	else
		tests=(block dm)
		for g in nvme scsi zbd; do
			while read -r t; do
				tests+=("$g/${t##*/}")
			done < <(grep -l '^test_device()' "$src/tests/$g"/[0-9][0-9][0-9] | sort)
		done
	fi
fi

# ---- the guests ------------------------------------------------------------------------

# run_side SIDE: one boot; leaves SIDE's results in $results/SIDE/.
run_side() {
	local side=$1 out=$results/$1 rc=0 words run t0 pid
	rm -rf "$out"
	mkdir -p "$out"
	truncate -s 2G "$out/disk.img"
	truncate -s 1G "$out/results.img"
	mke2fs -q -t ext4 -L blkres -F "$out/results.img"
	# block/011 (bus mastering off under I/O) hangs virtio_blk for good:
	# it has no timeout handler, so the stalled requests never end and
	# ./check never gets past it (seen: >7 min, TIMEOUT=30).
	local args=("${tests[@]}")
	[[ $side == virtio_blk ]] && args=(-x block/011 "${args[@]}")
	# Two virtqueues and two vCPUs: each driver, loaded with
	# poll_queues=1, keeps one interrupt queue and makes the other a poll
	# queue (virtio_blk counts its poll queues within its one-per-CPU
	# limit), so block/007's polled I/O runs on both sides.
	words=("vrbtest.driver=$side" "vrbtest.disks=1"
		"vrbtest.modargs=$modargs"
		"vrbtest.bt_args=$(IFS=+; echo "${args[*]}")"
		"vrbtest.bt_timeout=$bt_timeout" "vrbtest.timeout=$((tmo - 60))")
	run=("$VRB_ROOT/scripts/qemu-run.sh" -c 2 -m 2G -t "$tmo"
		-i "$bin/initramfs" -l "$out/console.log" -a "${words[*]}")
	[[ $side == virtio_blk ]] && run+=(-B)
	vrb_log "$side: booting (waits for $VRB_HEAVY_LOCK; timeout ${tmo}s)"
	"${run[@]}" -- \
		-drive "if=none,id=root,file=$img,format=raw,snapshot=on" \
		-device ide-hd,drive=root,bus=ide.0,unit=0 \
		-drive "if=none,id=res,file=$out/results.img,format=raw,cache=unsafe" \
		-device ide-hd,drive=res,bus=ide.1,unit=0 \
		-drive "if=none,id=d0,file=$out/disk.img,format=raw,cache=unsafe,discard=unmap" \
		-device "$disk_dev" \
		>"$out/qemu.out" 2>&1 &
	pid=$!
	# The console log appears when QEMU starts, i.e. once the lock is ours.
	while kill -0 "$pid" 2>/dev/null && [[ ! -f $out/console.log ]]; do
		sleep 0.5
	done
	t0=$SECONDS
	wait "$pid" || rc=$?
	echo "$rc" >"$out/qemu.rc"
	echo "$((SECONDS - t0))" >"$out/secs"
	[[ $rc == 0 ]] || { vrb_log "$side: QEMU exited with $rc"; tail -n 5 "$out/qemu.out" >&2; }
	# The results disk, read without mounting it.
	mkdir -p "$out/res"
	debugfs -R "rdump / $out/res" "$out/results.img" >/dev/null 2>&1 || true
	rm -f "$out/disk.img" "$out/results.img"
	vrb_log "$side: $(cat "$out/secs") s in QEMU"
}

# The disk under test and the driver's parameters, the same on both sides
# (and in the report).
disk_dev=virtio-blk-pci,drive=d0,disable-modern=on,serial=blktests,num-queues=2
modargs=poll_queues=1
for s in "${sides[@]}"; do
	run_side "$s"
done

# ---- the report --------------------------------------------------------------------------

git_rev=$(git -C "$VRB_ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
git -C "$VRB_ROOT" diff --quiet HEAD -- mod 2>/dev/null || git_rev+=" with uncommitted changes in mod/"
report=(python3 "$VRB_ROOT/scripts/blktests/report.py" --src "$src"
	--bad-kernel "$VRB_BAD_KERNEL" --meta "kernel=$kver"
	--meta "blktests=$src_desc" --meta "vringblk=$git_rev"
	--meta "check=./check ${tests[*]}" --meta "timeout=$bt_timeout"
	--meta "rootfs_secs=$rootfs_secs" --meta "disk=$disk_dev"
	--meta "modargs=$modargs")
for s in "${sides[@]}"; do
	report+=(--side "$s=$results/$s")
done
[[ $docs == 1 ]] && report+=(--md "$VRB_ROOT/docs/blktests.md")
rc=0
"${report[@]}" || rc=$?
reported=1
vrb_log "all took $((SECONDS - start)) s; logs in $results"
exit "$rc"
