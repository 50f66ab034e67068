#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# guest-blktests.sh - the guest side of scripts/blktests.sh (busybox ash,
# run by /init from the initramfs).
#
# The initramfs only loads the disk drivers and the driver under test;
# blktests itself runs in a real Debian userland (bash, fio, gawk,
# util-linux, xfsprogs...) that the host built as an ext4 image:
#
#   sda/sdb   the Debian bookworm root file system with blktests built in
#             /opt/blktests and the guest kernel's modules (IDE disk on
#             QEMU's PIIX controller: neither vringblk nor virtio_pci
#             touches it; QEMU runs it with snapshot=on, so the cached
#             image is never changed)
#   sdb/sda   an empty ext4 file system for the results (blktests'
#             results/ directory, check's output, the kernel log), which
#             the host reads back with debugfs after power-off
#   the legacy virtio-blk disk under test, bound to vringblk (/dev/vringblk0)
#             or, with vrbtest.driver=virtio_blk, to the kernel's
#             virtio_pci + virtio_blk (/dev/vda)
#
# The root image is mounted at /newroot and blktests runs in a chroot
# there (not switch_root: /init, process 1, must stay ours so that the
# guest powers off whatever happens).
#
# Kernel command line words (besides lib.sh's vrbtest.driver=):
#   vrbtest.bt_args=A+B    arguments of blktests' ./check ("+" for spaces),
#                          e.g. "-d+block+dm"
#   vrbtest.bt_timeout=S   blktests' TIMEOUT (the cap of its timed tests)
#
# Lines for the host: VRB-BLKTESTS-BEGIN dev=<disk>, then check's own
# output, then VRB-BLKTESTS-END rc=<check's exit status>.

# shellcheck source=../guest/lib.sh
. /vrb/lib.sh

root=/newroot
args=$(vrb_param bt_args "" | tr + ' ')
bt_timeout=$(vrb_param bt_timeout 30)

fail() {
	echo "VRB-BLKTESTS-ERROR $*"
	exit 1
}

# ---- the Debian root and the results disk ------------------------------

modprobe ata_piix || fail "cannot load ata_piix"
modprobe sd_mod || fail "cannot load sd_mod"
vrb_wait_for /dev/sda 60 || fail "no /dev/sda"
vrb_wait_for /dev/sdb 60 || fail "no /dev/sdb"
# The SCSI layer probes the two disks asynchronously: which one is sda
# varies, their file systems' labels do not.
rootdev=$(findfs LABEL=blkroot) || fail "no disk labelled blkroot (root image)"
resdev=$(findfs LABEL=blkres) || fail "no disk labelled blkres (results disk)"
mkdir -p "$root"
mount -t ext4 "$rootdev" "$root" || fail "cannot mount the root image"
mkdir -p "$root/results"
mount -t ext4 "$resdev" "$root/results" || fail "cannot mount the results disk"
mount -t proc proc "$root/proc"
# What udev would make and bash's process substitution needs.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr
# rbind: /sys with debugfs and tracefs, /dev with /dev/pts and /dev/shm.
mount -o rbind /sys "$root/sys"
mount -o rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/tmp"
mount -t tmpfs tmpfs "$root/run"
[ -d "$root/lib/modules/$(uname -r)" ] ||
	fail "the root image has no modules for $(uname -r)"
# configfs (null_blk's nullb devices), which systemd would mount.
chroot "$root" modprobe configfs || fail "cannot load configfs"
mount -t configfs configfs "$root/sys/kernel/config" ||
	fail "cannot mount configfs"

# ---- the driver under test -----------------------------------------------

vrb_load || fail "loading $VRB_MOD failed"
dev=/dev/$(vrb_disk 0)
echo "driver: $VRB_MOD, test device $dev" \
	"(PCI $(basename "$(vrb_legacy_pci_devs | head -n 1)"))"

# ---- blktests ------------------------------------------------------------
#
# Its config is a bash file; the results go to the results disk.
# SYSTEMD_IGNORE_CHROOT: udevadm (settle, trigger) would otherwise refuse
# to run in a chroot, with a message in the tests' output; no udevd runs,
# so "settle" has nothing to wait for.
cat >"$root/results/config" <<CONF
TEST_DEVS=($dev)
TIMEOUT=$bt_timeout
CONF
echo "VRB-BLKTESTS-BEGIN dev=$dev"
# shellcheck disable=SC2086 # args: one word per ./check argument
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root TERM=dumb SYSTEMD_IGNORE_CHROOT=1 /bin/bash -c \
	'cd /opt/blktests && exec ./check -c /results/config -o /results/out "$@"' \
	check $args >"$root/results/check.log" 2>&1 &
pid=$!
# The output on the console as it comes (the host keeps the whole console
# as a log), without holding up check.
tail -f "$root/results/check.log" &
tailpid=$!
wait "$pid"
rc=$?
sleep 1
kill "$tailpid" 2>/dev/null
echo "VRB-BLKTESTS-END rc=$rc"

dmesg >"$root/results/dmesg.txt"
cat /proc/modules >"$root/results/modules.txt"
sync
umount "$root/results" || umount -l "$root/results"
sync
exit 0
