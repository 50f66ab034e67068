# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# lib.sh - guest-side test library (busybox ash; POSIX sh plus `local`).
# Source it from a guest script:  . /vrb/lib.sh
#
# Results go to the serial console as one line each, which the host runner
# (scripts/guest-test.sh) collects:
#
#	VRB-RESULT PASS <case>
#	VRB-RESULT FAIL <case>: <reason>
#	VRB-RESULT SKIP <case>: <reason>
#
# A case name is a word without spaces, e.g. "fio-verify/bs=4k,qd=32".
# Everything else a script prints is commentary for humans.
#
# The driver under test is described by variables, so one test suite can
# run against vringblk or, as a reference, the kernel's own virtio_blk:
#
#	VRB_KO      module file for insmod           (/vringblk.ko)
#	VRB_MOD     module name for rmmod/lsmod      (vringblk)
#	VRB_DRIVER  name of the PCI driver in sysfs  (vringblk)
#	VRB_PREFIX  disk names are <prefix>0, <prefix>1...  (vringblk)
#
# vrbtest.driver=virtio_blk on the kernel command line switches all four to
# the in-kernel driver (disks vda, vdb...; needs an initramfs built -V).

# vrb_param NAME [DEFAULT]: value of vrbtest.NAME= on the kernel command
# line, or DEFAULT.  The host runner passes each test's expectations this
# way (disk size, serial, read-only...).
vrb_param() {
	local cmdline word
	read -r cmdline </proc/cmdline
	for word in $cmdline; do
		case $word in
		"vrbtest.$1="*)
			echo "${word#*=}"
			return 0
			;;
		esac
	done
	echo "${2-}"
}

VRB_DRV_KIND=$(vrb_param driver vringblk)
if [ "$VRB_DRV_KIND" = virtio_blk ]; then
	VRB_KO=
	VRB_MOD=virtio_blk
	VRB_DRIVER=virtio-pci
	VRB_PREFIX=vd
else
	VRB_KO=${VRB_KO:-/vringblk.ko}
	VRB_MOD=${VRB_MOD:-vringblk}
	VRB_DRIVER=${VRB_DRIVER:-vringblk}
	VRB_PREFIX=${VRB_PREFIX:-vringblk}
fi
VRB_DEBUGFS=${VRB_DEBUGFS:-/sys/kernel/debug/$VRB_MOD}
# Module parameters of the driver under test (insmod vringblk, or modprobe
# virtio_blk on a reference run), from vrbtest.modargs=A=x+B=y ("+" stands
# for a space, since the kernel command line splits words at spaces).
VRB_MODARGS=$(vrb_param modargs "" | tr + ' ')

# Debian's busybox is built so that its shell runs its own applets even
# when PATH has a program of the same name (FEATURE_SH_STANDALONE).  The
# busybox versions of these lack options the tests need (dd iflag=direct,
# blkdiscard -z, fallocate -z/-p...): these functions call the full
# coreutils/util-linux/e2fsprogs programs that mkinitramfs.sh installed.
dd() { /usr/bin/dd "$@"; }
blkdiscard() { /usr/bin/blkdiscard "$@"; }
blockdev() { /usr/bin/blockdev "$@"; }
fallocate() { /usr/bin/fallocate "$@"; }
mke2fs() { /usr/bin/mke2fs "$@"; }

VRB_NPASS=0
VRB_NFAIL=0

# ---- results --------------------------------------------------------

vrb_pass() {
	VRB_NPASS=$((VRB_NPASS + 1))
	echo "VRB-RESULT PASS $1"
}

# vrb_fail CASE REASON...
vrb_fail() {
	local name=$1
	shift
	VRB_NFAIL=$((VRB_NFAIL + 1))
	echo "VRB-RESULT FAIL $name: $*"
}

# vrb_skip CASE REASON...
vrb_skip() {
	local name=$1
	shift
	echo "VRB-RESULT SKIP $name: $*"
}

# vrb_check CASE CMD ARGS...: run CMD; PASS if it exits 0, else FAIL with
# the last line CMD printed as the reason.  CMD's output is kept in
# /tmp/vrb-check.out and shown (indented) when it fails.
vrb_check() {
	local name=$1
	shift
	if "$@" >/tmp/vrb-check.out 2>&1; then
		vrb_pass "$name"
		return 0
	fi
	sed 's/^/    | /' /tmp/vrb-check.out | tail -n 20
	vrb_fail "$name" "$(tail -n 1 /tmp/vrb-check.out)"
	return 1
}

# vrb_say TEXT: commentary, marked so it stands out in a long log.
vrb_say() {
	echo "--- $*"
}

# vrb_summary: last line of a guest script.
vrb_summary() {
	echo "guest: $VRB_NPASS passed, $VRB_NFAIL failed"
}

# ---- small helpers for checks (return 0 or print why and return 1) ----

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		return 0
	fi
	echo "$1 is '$2', expected '$3'"
	return 1
}

# ---- the disks ------------------------------------------------------

# vrb_disk N: the name of the N-th disk (vringblk0, or vda for virtio_blk).
vrb_disk() {
	if [ "$VRB_PREFIX" = vd ]; then
		echo "vd$(echo "$1" | tr 0-9 a-j)"
	else
		echo "$VRB_PREFIX$1"
	fi
}

# vrb_wait_for PATH [SECONDS]: wait until PATH exists (default 10 s).
vrb_wait_for() {
	local n=$((${2:-10} * 10))
	while [ ! -e "$1" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		usleep 100000
	done
}

# vrb_takeover: hand every legacy virtio-blk disk that another driver
# holds to vringblk.  From 6.12 on Debian builds virtio_pci into the
# kernel: it claims the disks at boot and no module blacklist helps.  The
# PCI core binds a device only to the driver named in its
# driver_override, so set that, unbind, and vringblk's registration (or
# drivers_probe, if it is loaded already) binds the device.  The
# override stays: a reload of vringblk gets the disks back, virtio_pci
# never does.  (scripts/vrb-takeover.sh is the same for a user's guest.)
vrb_takeover() {
	local d drv
	for d in $(vrb_legacy_pci_devs); do
		echo "$VRB_DRIVER" >"$d/driver_override" || return 1
		[ -e "$d/driver" ] || continue
		drv=$(basename "$(readlink "$d/driver")")
		[ "$drv" = "$VRB_DRIVER" ] && continue
		echo "takeover: ${d##*/} from $drv"
		# In the kernel log too, where the tests' logs keep it.
		echo "vringblk-test: takeover ${d##*/} from $drv" >/dev/kmsg
		echo "${d##*/}" >"$d/driver/unbind" || return 1
		[ -d "/sys/bus/pci/drivers/$VRB_DRIVER" ] &&
			echo "${d##*/}" >/sys/bus/pci/drivers_probe
	done
	return 0
}

# vrb_wait_takeover DEV [SECONDS]: wait (default 10 s) for DEV, a disk of
# a hot-plugged device, handing the device over as it appears: a built-in
# virtio_pci claims a new device before vringblk can.
vrb_wait_takeover() {
	local n=$((${2:-10} * 10))
	while [ ! -e "$1" ]; do
		[ -z "$VRB_KO" ] || vrb_takeover >/dev/null || return 1
		n=$((n - 1))
		[ "$n" -gt 0 ] || { echo "$1 did not appear"; return 1; }
		usleep 100000
	done
}

# vrb_load: load the driver under test and wait for all disks to appear.
# Expects vrbtest.disks=N disks (default 1).
vrb_load() {
	local i ndisks
	ndisks=$(vrb_param disks 1)
	if [ -n "$VRB_KO" ]; then
		vrb_takeover || return 1
		# shellcheck disable=SC2086 # VRB_MODARGS: one word per param
		insmod "$VRB_KO" $VRB_MODARGS || return 1
	else
		# shellcheck disable=SC2086 # VRB_MODARGS: one word per param
		modprobe virtio_pci && modprobe "$VRB_MOD" $VRB_MODARGS ||
			return 1
		echo "reference run: in-kernel virtio_pci + virtio_blk"
	fi
	i=0
	while [ "$i" -lt "$ndisks" ]; do
		vrb_wait_for "/dev/$(vrb_disk "$i")" 10 || {
			echo "/dev/$(vrb_disk "$i") did not appear within 10 s"
			return 1
		}
		i=$((i + 1))
	done
}

# vrb_unload: remove the driver under test; its disks must disappear.
vrb_unload() {
	rmmod "$VRB_MOD" || return 1
	[ ! -e "/dev/$(vrb_disk 0)" ] || {
		echo "/dev/$(vrb_disk 0) still there after rmmod"
		return 1
	}
}

# vrb_legacy_pci_devs: sysfs paths of all legacy virtio-blk PCI functions
# (vendor 0x1af4, device 0x1001, revision 0).
vrb_legacy_pci_devs() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] || continue
		[ "$(cat "$d/device")" = 0x1001 ] || continue
		[ "$(cat "$d/revision")" = 0x00 ] || continue
		echo "$d"
	done
}

# vrb_drop_caches: write back dirty pages and drop the page cache, so the
# next buffered read really goes to the device.
vrb_drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# vrb_md5 FILE [SKIP_BLOCKS COUNT_BLOCKS [BS [FLAGS]]]: md5 of a range.
vrb_md5() {
	if [ $# -eq 1 ]; then
		md5sum <"$1" | cut -d' ' -f1
		return
	fi
	dd if="$1" bs="${4:-64k}" skip="$2" count="$3" ${5:+iflag=$5} \
		status=none | md5sum | cut -d' ' -f1
}

# vrb_is_zero FILE SKIP COUNT [BS]: true if the range reads back as zeroes
# (read with O_DIRECT, so the page cache cannot hide anything).
vrb_is_zero() {
	local want got
	want=$(dd if=/dev/zero bs="${4:-64k}" count="$3" status=none |
		md5sum | cut -d' ' -f1)
	got=$(vrb_md5 "$1" "$2" "$3" "${4:-64k}" direct)
	[ "$got" = "$want" ] || {
		echo "range at block $2 (+$3 x ${4:-64k}) is not all zeroes"
		return 1
	}
}

# vrb_wait_host TAG: tell the host runner to do its part of a test (it
# watches the console for "VRB-WAIT TAG").  The guest then polls for the
# effect itself; there is no reply channel.
vrb_wait_host() {
	echo "VRB-WAIT $1"
}

# ---- legacy virtio registers, read without a driver ---------------------
#
# A legacy virtio PCI device keeps its registers in I/O port BAR 0 (virtio
# 1.2 §4.1.4.10).  sysfs exposes that BAR as the file "resource0", and
# reading 1, 2 or 4 bytes at an offset does one inb/inw/inl there.  The
# selftest uses this to check what QEMU offers before any driver runs:
#
#	0x00 device features (u32)    0x0c queue size (u16, of the selected)
#	0x0e queue select (u16)       0x13 ISR (u8; reading it CLEARS it)
#	0x14 device config, while MSI-X is off (no driver: it is off)
#
# Only use these on a device no driver has bound.

# vrb_legacy_read PCIDEV OFFSET SIZE: print the register's value, decimal.
vrb_legacy_read() {
	dd if="$1/resource0" bs="$3" skip=$(($2 / $3)) count=1 status=none |
		od -An -tu"$3" | tr -d ' '
}

# vrb_legacy_write16 PCIDEV OFFSET VALUE: write a u16 register (x86 is
# little-endian, as legacy config is guest-endian: low byte first).
vrb_legacy_write16() {
	# shellcheck disable=SC2059 # the format is built on purpose
	printf "\\$(printf %o $(($3 & 255)))\\$(printf %o $(($3 >> 8)))" |
		dd of="$1/resource0" bs=2 seek=$(($2 / 2)) count=1 \
			conv=notrunc status=none
}

# vrb_legacy_capacity PCIDEV: disk capacity in 512-byte sectors (the u64
# at device config offset 0, read as two u32 halves).
vrb_legacy_capacity() {
	local lo hi
	lo=$(vrb_legacy_read "$1" 20 4)
	hi=$(vrb_legacy_read "$1" 24 4)
	echo $((hi * 4294967296 + lo))
}

# vrb_legacy_queue_size PCIDEV QUEUE: size of virtqueue QUEUE (0 if the
# device has no such queue).
vrb_legacy_queue_size() {
	vrb_legacy_write16 "$1" 14 "$2"
	vrb_legacy_read "$1" 12 2
}

# vrb_ring_polled FILE: a copy of a queue's debugfs ring view says the
# queue is polled and asks the device for no interrupt: without
# EVENT_IDX avail.flags NO_INTERRUPT (§2.7.7); with it, used_event half
# the index space ahead of used.idx (§2.7.7).
vrb_ring_polled() {
	local ui ue
	grep -q '^completions: *polled' "$1" ||
		{ echo "ring view does not say polled"; return 1; }
	if grep -q '^used_event:' "$1"; then
		ui=$(sed -n 's/^used.idx: *\([0-9]*\).*/\1/p' "$1")
		ue=$(sed -n 's/^used_event: *\([0-9]*\).*/\1/p' "$1")
		expect_eq "used_event - used.idx" $(((ue - ui + 65536) % 65536)) \
			32768
	else
		grep -q '^avail.flags: *0x1 NO_INTERRUPT' "$1" ||
			{ echo "avail.flags lacks NO_INTERRUPT"; return 1; }
	fi
}
