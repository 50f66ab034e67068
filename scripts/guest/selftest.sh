#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# selftest.sh - checks the test harness itself, without vringblk:
#   pci/*    the legacy disks QEMU was given are on the PCI bus (1af4:1001,
#            revision 0) and nothing bound them (virtio_pci stayed out);
#   regs/*   what each device offers, read straight from its legacy
#            registers, matches the configuration the host asked for;
#   tools/*  (vrbtest.selftest_tools=1) fio, mkfs.ext4, dd O_DIRECT...
#            work, on a RAM disk (brd) instead of our disk;
#   resize/* (vrbtest.resize_to=BYTES) the host's QMP block_resize shows
#            up in the device's capacity register.
#
# Run by:  scripts/guest-test.sh --selftest
# Expectations come from the kernel command line (see tests.sh);
# vrbtest.selftest_fail=1 adds one deliberate failure, to see it reported.

# shellcheck source=lib.sh
. /vrb/lib.sh

ndisks=$(vrb_param disks 1)

vrb_say "PCI functions (vendor device revision driver)"
for d in /sys/bus/pci/devices/*; do
	drv=-
	[ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
	echo "    ${d##*/} $(cat "$d/vendor") $(cat "$d/device")" \
		"$(cat "$d/revision") $drv"
done

# ---- pci ----------------------------------------------------------------

check_pci_visible() {
	expect_eq "number of 1af4:1001 rev 0 functions" \
		"$(vrb_legacy_pci_devs | wc -l)" "$ndisks"
}
vrb_check pci/legacy-blk-visible check_pci_visible

# Nobody may have claimed them: no "driver" symlink in sysfs, and the
# virtio_pci module is not even loaded.
check_unbound() {
	local d
	for d in $(vrb_legacy_pci_devs); do
		if [ -e "$d/driver" ]; then
			echo "${d##*/} is bound to $(readlink "$d/driver")"
			return 1
		fi
	done
	if [ -d /sys/module/virtio_pci ]; then
		echo "virtio_pci is loaded"
		return 1
	fi
}
vrb_check pci/not-bound check_unbound

# ---- regs ---------------------------------------------------------------

# pci_has_cap PCIDEV ID: walk the PCI capability list in config space
# (pointer at 0x34, each entry: id, next) looking for capability ID.
pci_has_cap() {
	local ptr id n=0
	ptr=$(od -An -tu1 -j 52 -N 1 "$1/config" | tr -d ' ')
	while [ "$ptr" -ne 0 ] && [ "$n" -lt 48 ]; do
		id=$(od -An -tu1 -j "$ptr" -N 1 "$1/config" | tr -d ' ')
		[ "$id" -eq "$2" ] && return 0
		ptr=$(od -An -tu1 -j $((ptr + 1)) -N 1 "$1/config" | tr -d ' ')
		n=$((n + 1))
	done
	return 1
}

# bit FEATURES N: print bit N of FEATURES (0 or 1).
bit() {
	echo $((($1 >> $2) & 1))
}

# check_regs I PCIDEV: device I offers what its configuration says.
check_regs() {
	local i=$1 d=$2 feat nq qsize
	echo 1 >"$d/enable" 2>/dev/null	# I/O decoding on
	feat=$(vrb_legacy_read "$d" 0 4)
	nq=$(vrb_param nq 1)
	qsize=$(vrb_param qsize 256)
	printf '    %s: features 0x%08x, capacity %s sectors, queue 0: %s\n' \
		"${d##*/}" "$feat" "$(vrb_legacy_capacity "$d")" \
		"$(vrb_legacy_queue_size "$d" 0)"
	expect_eq capacity "$(vrb_legacy_capacity "$d")" \
		$(($(vrb_param "size$i") / 512)) &&
	expect_eq "RO (bit 5)" "$(bit "$feat" 5)" "$(vrb_param "ro$i" 0)" &&
	expect_eq "DISCARD (bit 13)" "$(bit "$feat" 13)" \
		"$(vrb_param "discard$i" 0)" &&
	expect_eq "WRITE_ZEROES (bit 14)" "$(bit "$feat" 14)" \
		"$(vrb_param "wzeroes$i" 0)" || return 1
	[ "$i" = 0 ] || return 0
	expect_eq "INDIRECT_DESC (bit 28)" "$(bit "$feat" 28)" \
		"$(vrb_param indirect 1)" &&
	expect_eq "EVENT_IDX (bit 29)" "$(bit "$feat" 29)" \
		"$(vrb_param evtidx 1)" &&
	expect_eq "MQ (bit 12)" "$(bit "$feat" 12)" \
		"$([ "$nq" -gt 1 ] && echo 1 || echo 0)" &&
	expect_eq "queue 0 size" "$(vrb_legacy_queue_size "$d" 0)" "$qsize" &&
	expect_eq "queue $((nq - 1)) size" \
		"$(vrb_legacy_queue_size "$d" $((nq - 1)))" "$qsize" &&
	expect_eq "queue $nq size (no such queue)" \
		"$(vrb_legacy_queue_size "$d" "$nq")" 0 || return 1
	if [ "$(vrb_param msix 1)" = 1 ]; then
		pci_has_cap "$d" 17 || { echo "no MSI-X capability"; return 1; }
	else
		! pci_has_cap "$d" 17 || { echo "MSI-X present"; return 1; }
	fi
}

i=0
for d in $(vrb_legacy_pci_devs); do
	vrb_check "regs/disk$i" check_regs "$i" "$d"
	i=$((i + 1))
done

# ---- tools --------------------------------------------------------------

if [ "$(vrb_param selftest_tools 0)" = 1 ]; then
	# A 64 MiB RAM disk stands in for our disk.
	modprobe brd rd_nr=1 rd_size=65536
	vrb_wait_for /dev/ram0 5
	ram=/dev/ram0

	check_dd_direct() {
		local want got
		dd if=/dev/urandom of=/tmp/pat bs=64k count=16 status=none
		want=$(vrb_md5 /tmp/pat)
		dd if=/tmp/pat of="$ram" bs=64k seek=8 oflag=direct status=none
		got=$(vrb_md5 "$ram" 8 16 64k direct)
		expect_eq "md5 read back" "$got" "$want"
	}
	vrb_check tools/dd-direct check_dd_direct

	# fio_verify ENGINE: 16 MiB of checksummed writes, read and verified.
	fio_verify() {
		fio --name=selftest --filename="$ram" --direct=1 \
			--ioengine="$1" --rw=randwrite --bs=4k --iodepth=32 \
			--size=16m --verify=crc32c --verify_fatal=1 \
			--randrepeat=0 --output-format=terse >/dev/null
	}
	vrb_check tools/fio-libaio fio_verify libaio
	vrb_check tools/fio-io_uring fio_verify io_uring

	check_ext4() {
		mkfs.ext4 -F -q "$ram" &&
		mkdir -p /mnt/t && mount -t ext4 "$ram" /mnt/t &&
		echo hello >/mnt/t/hello && sync && umount /mnt/t &&
		e2fsck -fn "$ram"
	}
	vrb_check tools/mkfs-mount-fsck check_ext4

	vrb_check tools/lsblk lsblk "$ram"
	vrb_check tools/blockdev blockdev --getsize64 "$ram"
	vrb_check tools/util-linux-fallocate fallocate -h
	vrb_check tools/util-linux-blkdiscard blkdiscard -h
	vrb_check tools/coreutils-dd dd --version
fi

# ---- resize -------------------------------------------------------------

resize_to=$(vrb_param resize_to)
if [ -n "$resize_to" ]; then
	d=$(vrb_legacy_pci_devs | head -n 1)
	vrb_wait_host resize
	check_resized() {
		local n=300
		while [ "$(vrb_legacy_capacity "$d")" != $((resize_to / 512)) ]; do
			n=$((n - 1))
			[ "$n" -gt 0 ] || {
				echo "capacity still $(vrb_legacy_capacity "$d")"
				return 1
			}
			usleep 100000
		done
	}
	vrb_check resize/capacity-register check_resized
fi

if [ "$(vrb_param selftest_fail 0)" = 1 ]; then
	vrb_fail selftest/deliberate "asked for by vrbtest.selftest_fail=1"
fi

vrb_summary
