#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# demo.sh - a guided tour of vringblk, run inside the QEMU guest by
# `make demo` (scripts/demo.sh).  It narrates each step for a newcomer:
# the PCI device, loading the driver, the disk it creates, data going
# through it, a file system on top, and the state of the virtqueue.

# shellcheck source=lib.sh
. /vrb/lib.sh

disk=$(vrb_disk 0)
dev=/dev/$disk
step=0

# section TITLE: a heading that stands out on the console.
section() {
	step=$((step + 1))
	echo
	echo "=================================================================="
	echo "== $step. $*"
	echo "=================================================================="
}

# say TEXT: narration.
say() {
	echo "$*" | fold -s -w 76 | sed 's/^/  /'
}

# run CMD...: show a command, then run it.
run() {
	echo "  \$ $*"
	"$@" 2>&1 | sed 's/^/    /'
}

# ---------------------------------------------------------------------------
section "The device, before any driver"
say "QEMU was started with '-device virtio-blk-pci,disable-modern=on'." \
	"That is a *legacy* virtio block device: PCI vendor 0x1af4," \
	"device 0x1001, revision 0, registers in I/O port BAR 0."
pcidev=$(vrb_legacy_pci_devs | head -n 1)
if [ -z "$pcidev" ]; then
	say "No legacy virtio-blk device found: nothing to show."
	exit 1
fi
echo "  ${pcidev##*/}: vendor $(cat "$pcidev/vendor")" \
	"device $(cat "$pcidev/device") revision $(cat "$pcidev/revision")"
if [ -e "$pcidev/driver" ]; then
	echo "  bound to: $(basename "$(readlink "$pcidev/driver")")"
else
	echo "  bound to: nothing yet (virtio_pci is kept out of this guest)"
fi

# ---------------------------------------------------------------------------
section "Loading vringblk"
say "insmod hands the module to the kernel.  Its PCI id table matches" \
	"1af4:1001, so the kernel calls its probe function: reset the" \
	"device, negotiate features, set up the virtqueue(s), read the" \
	"capacity and register a block device."
if [ -e "$pcidev/driver" ]; then
	say "This kernel has virtio_pci built in and it took the disk at" \
		"boot.  driver_override names the only driver the PCI core may" \
		"bind the device to; then unbind it from virtio-pci."
	run vrb_takeover || { say "takeover failed"; exit 1; }
fi
run insmod "$VRB_KO" || { say "insmod failed"; exit 1; }
if ! vrb_wait_for "$dev" 10; then
	say "$dev did not appear; the kernel log says:"
	dmesg | tail -n 20
	exit 1
fi
say "What the driver told the kernel log:"
dmesg | grep -i "$VRB_MOD" | sed 's/^/    /'
echo "  ${pcidev##*/} is now bound to:" \
	"$(basename "$(readlink "$pcidev/driver")")"

# ---------------------------------------------------------------------------
section "The disk: /dev/$disk"
run lsblk -o NAME,SIZE,RO,TYPE,LOG-SEC,PHY-SEC,DISC-MAX "$dev"
q=/sys/block/$disk/queue
sectors=$(cat "/sys/block/$disk/size")
say "sysfs describes the disk (files under /sys/block/$disk):"
echo "    size                 $sectors sectors of 512 bytes" \
	"= $((sectors * 512)) bytes"
echo "    logical_block_size   $(cat "$q/logical_block_size") bytes" \
	"(smallest unit a request can address)"
echo "    physical_block_size  $(cat "$q/physical_block_size") bytes"
echo "    max_sectors_kb       $(cat "$q/max_sectors_kb") KiB per request"
echo "    max_segments         $(cat "$q/max_segments")" \
	"(memory pieces per request: ring descriptors)"
echo "    read-only            $(cat "/sys/block/$disk/ro")"
[ -r "/sys/block/$disk/serial" ] &&
	echo "    serial               $(cat "/sys/block/$disk/serial")" \
		"(GET_ID request)"
[ -r "/sys/block/$disk/cache_type" ] &&
	echo "    cache_type           $(cat "/sys/block/$disk/cache_type")"
echo "    hardware queues      $(find "/sys/block/$disk/mq" -mindepth 1 \
	-maxdepth 1 | wc -l) (one virtqueue each)"

# ---------------------------------------------------------------------------
section "Writing and reading back a known pattern"
say "Write 64 KiB of a recognisable pattern at sector 2048 with O_DIRECT" \
	"(no page cache: each dd block becomes one request on the ring)," \
	"then read it back the same way and compare."
i=0
: >/tmp/demo.pat
while [ "$i" -lt 2048 ]; do	# 2048 lines of 32 bytes = 64 KiB
	printf 'vringblk demo %08d ~~~~~~~~\n' "$i" >>/tmp/demo.pat
	i=$((i + 1))
done
run dd if=/tmp/demo.pat of="$dev" bs=64k seek=16 count=1 oflag=direct
run dd if="$dev" of=/tmp/demo.back bs=64k skip=16 count=1 iflag=direct
say "The first bytes read back:"
hexdump -C /tmp/demo.back | head -n 4 | sed 's/^/    /'
if cmp -s /tmp/demo.pat /tmp/demo.back; then
	say "Identical: the data made the round trip through the ring."
else
	say "MISMATCH: the data read back differs!"
fi

# ---------------------------------------------------------------------------
section "A file system on top"
say "ext4 does not know or care that the disk is virtio: it only sees a" \
	"block device."
run mkfs.ext4 -F -q -L vrbdemo "$dev"
mkdir -p /mnt/demo
run mount -t ext4 "$dev" /mnt/demo
echo "Hello from vringblk" >/mnt/demo/hello.txt
dd if=/dev/urandom of=/mnt/demo/random.bin bs=1M count=4 status=none
run ls -l /mnt/demo
run cat /mnt/demo/hello.txt
run df -h /mnt/demo
run umount /mnt/demo
say "umount wrote everything back; fsck checks the result:"
run e2fsck -fn "$dev"

# ---------------------------------------------------------------------------
section "The virtqueue's state (debugfs)"
dbg=$VRB_DEBUGFS/$disk
if [ -d "$dbg" ]; then
	say "The driver shows its own view of the device and the ring under" \
		"$dbg.  The most telling files first, then the rest by name:"
	show() {
		[ -f "$dbg/$1" ] || return 0
		echo "  --- $1"
		head -n "$2" "$dbg/$1" | sed 's/^/    /'
	}
	show features 4
	show vq0/ring 20
	show vq0/stats 20
	show vq0/rings 12
	show vq0/descs 10
	echo "  --- all files:"
	find "$dbg" -type f | sed "s|^$dbg/|    |" | sort
else
	say "No $dbg: this build of vringblk has no debugfs files."
fi

# ---------------------------------------------------------------------------
section "Unloading"
say "rmmod removes the disk, resets the device and frees the rings."
run rmmod "$VRB_MOD"
if [ -e "$dev" ]; then
	echo "  $dev is still there!"
else
	echo "  $dev is gone."
fi
if [ -e "$pcidev/driver" ]; then
	echo "  ${pcidev##*/} is still bound to" \
		"$(basename "$(readlink "$pcidev/driver")")!"
else
	echo "  ${pcidev##*/} is bound to nothing again."
fi
echo
say "End of the demo; the guest now powers off."
