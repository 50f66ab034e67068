#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vrb-takeover.sh - run INSIDE a guest: move legacy virtio-blk disks
# (PCI 1af4:1001, revision 0) from the kernel's virtio-pci driver to
# vringblk, or back.  POSIX sh, so it also runs under busybox.
#
#   vrb-takeover.sh [-k path/to/vringblk.ko] [-b] [PCI_ADDRESS...]
#
#   -k KO   insmod this file if vringblk is not loaded (else modprobe)
#   -b      give the disks back to virtio-pci instead
#   PCI_ADDRESS  e.g. 0000:00:04.0; default: every legacy virtio-blk disk
#
# How: the kernel picks a driver for a PCI device by id table unless
# /sys/bus/pci/devices/<dev>/driver_override names one.  We set it, unbind
# the device from its current driver and ask the PCI core to probe it
# again.  Never do this to the disk your root file system is on.
set -eu

ko=""
back=0
while getopts k:b opt; do
	case $opt in
	k) ko=$OPTARG ;;
	b) back=1 ;;
	*) echo "usage: $0 [-k vringblk.ko] [-b] [PCI_ADDRESS...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

is_legacy_blk() {	# is_legacy_blk /sys/bus/pci/devices/X
	[ "$(cat "$1/vendor")" = 0x1af4 ] && [ "$(cat "$1/device")" = 0x1001 ] &&
		[ "$(cat "$1/revision")" = 0x00 ]
}

if [ $# -eq 0 ]; then
	for d in /sys/bus/pci/devices/*; do
		if is_legacy_blk "$d"; then set -- "$@" "${d##*/}"; fi
	done
fi
[ $# -gt 0 ] || { echo "$0: no legacy virtio-blk device found" >&2; exit 1; }

if [ $back -eq 1 ]; then
	target=virtio-pci
	modprobe virtio_pci 2>/dev/null || true
	modprobe virtio_blk 2>/dev/null || true
else
	target=vringblk
	if [ ! -d /sys/bus/pci/drivers/vringblk ]; then
		if [ -n "$ko" ]; then insmod "$ko"; else modprobe vringblk; fi
	fi
fi

for dev in "$@"; do
	d=/sys/bus/pci/devices/$dev
	[ -d "$d" ] || { echo "$0: no PCI device $dev" >&2; exit 1; }
	is_legacy_blk "$d" || { echo "$0: $dev is not a legacy virtio-blk disk" >&2; exit 1; }
	echo "$target" > "$d/driver_override"
	if [ -e "$d/driver" ]; then
		old=$(basename "$(readlink "$d/driver")")
		echo "$dev: unbinding from $old"
		echo "$dev" > "$d/driver/unbind"
	fi
	echo "$dev" > /sys/bus/pci/drivers_probe
	new=$(basename "$(readlink "$d/driver" 2>/dev/null || echo none)")
	echo "$dev: now driven by $new"
	[ "$new" = "$target" ] || exit 1
done
