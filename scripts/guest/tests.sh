#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# tests.sh - the vringblk test suite, run inside the QEMU guest.
#
# The host runner (scripts/guest-test.sh) boots one guest per device
# configuration and tells this script, on the kernel command line, which
# test groups to run and what to expect of each disk:
#
#   vrbtest.tests=probe,capacity,...   groups, in order (see the t_* below)
#   vrbtest.disks=N                    number of disks (default 1)
#   vrbtest.sizeI=BYTES                disk I's size in bytes
#   vrbtest.serialI=TEXT               disk I's serial ("" = none set)
#   vrbtest.roI=0|1                    disk I is read-only
#   vrbtest.discardI=0|1               disk I offers DISCARD
#   vrbtest.wzeroesI=0|1               disk I offers WRITE_ZEROES
#   vrbtest.nq=N                       virtqueues the device offers
#   vrbtest.fio=full|quick             fio matrix size
#   vrbtest.resize_to=BYTES            new size for the resize test
#   vrbtest.npoll=N                    poll queues the driver should have
#                                      (loaded with poll_queues=; 0: refused)
#   vrbtest.poll_capped=1              poll_queues= asked for more poll
#                                      queues than there are CPUs
#
# Each check prints one "VRB-RESULT PASS|FAIL|SKIP <case>" line (lib.sh).
# The module is loaded once, by the "probe" group, which must come first.

# shellcheck source=lib.sh
. /vrb/lib.sh

ndisks=$(vrb_param disks 1)
fio_mode=$(vrb_param fio full)
disk0=$(vrb_disk 0)
dev0=/dev/$disk0

# A 4 MiB random pattern, made once; its md5 is the reference.
dd if=/dev/urandom of=/tmp/pat bs=64k count=64 status=none
pat_md5=$(vrb_md5 /tmp/pat)
mkdir -p /mnt/t

# need_disk CASE: FAIL CASE (and return 1) when the disk is missing, so a
# failed probe gives one clear reason per case instead of odd errors.
need_disk() {
	[ -b "$dev0" ] && return 0
	vrb_fail "$1" "no $dev0 (probe failed)"
	return 1
}

# disk_param NAME I [DEFAULT]: vrbtest.<NAME><I>
disk_param() {
	vrb_param "$1$2" "${3-}"
}

# ---- probe: load the driver, find the disks ------------------------------

t_probe() {
	vrb_check probe/load vrb_load || return 0
	vrb_say "dmesg from the driver:"
	dmesg | grep -iE "$VRB_MOD|${VRB_PREFIX}[0-9a-z]" |
		grep -v "command line" | sed "s/^/    /" |
		tail -n 20
	vrb_check probe/pci-driver check_pci_driver
}

# Every legacy virtio-blk PCI function is bound to our driver.
check_pci_driver() {
	local d drv n=0
	for d in $(vrb_legacy_pci_devs); do
		drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
		expect_eq "driver of ${d##*/}" "$drv" "$VRB_DRIVER" || return 1
		n=$((n + 1))
	done
	expect_eq "bound functions" "$n" "$ndisks"
}

# ---- capacity: size in sysfs, the last sector, the end of the disk -------

t_capacity() {
	local i disk
	i=0
	while [ "$i" -lt "$ndisks" ]; do
		disk=$(vrb_disk "$i")
		vrb_check "capacity/$disk" check_capacity "$disk" \
			"$(disk_param size "$i")"
		i=$((i + 1))
	done
	need_disk capacity/last-sector || return 0
	vrb_check capacity/last-sector check_last_sector
}

# check_capacity DISK BYTES: /sys/block/DISK/size counts 512-byte sectors
# whatever the logical block size is.
check_capacity() {
	local sectors
	[ -n "$2" ] || { echo "no vrbtest.size for $1"; return 1; }
	sectors=$(cat "/sys/block/$1/size") || return 1
	expect_eq "/sys/block/$1/size" "$sectors" $(($2 / 512)) &&
	expect_eq "BLKGETSIZE64" "$(blockdev --getsize64 "/dev/$1")" "$2"
}

# The last 512-byte sector can be read (and, if writable, written), and a
# read that starts at the end returns nothing.  This catches capacity
# off-by-ones, and a disk whose size is not a multiple of 4 KiB.
check_last_sector() {
	local sectors last want got
	sectors=$(cat "/sys/block/$disk0/size")
	last=$((sectors - 1))
	if [ "$(disk_param ro 0 0)" = 0 ]; then
		dd if=/dev/urandom of=/tmp/sect bs=512 count=1 status=none
		want=$(vrb_md5 /tmp/sect)
		dd if=/tmp/sect of="$dev0" bs=512 seek="$last" count=1 \
			oflag=direct status=none || return 1
		got=$(vrb_md5 "$dev0" "$last" 1 512 direct)
		expect_eq "md5 of the last sector" "$got" "$want" || return 1
	else
		dd if="$dev0" of=/dev/null bs=512 skip="$last" count=1 \
			iflag=direct status=none || return 1
	fi
	got=$(dd if="$dev0" bs=512 skip="$sectors" count=1 iflag=direct \
		status=none | wc -c)
	expect_eq "bytes read at the end of the disk" "$got" 0
}

# ---- serial: GET_ID through sysfs -----------------------------------------

t_serial() {
	local i disk want
	i=0
	while [ "$i" -lt "$ndisks" ]; do
		disk=$(vrb_disk "$i")
		want=$(disk_param serial "$i")
		if [ -z "$want" ]; then
			vrb_skip "serial/$disk" "no serial configured"
		else
			vrb_check "serial/$disk" expect_eq \
				"/sys/block/$disk/serial" \
				"$(cat "/sys/block/$disk/serial" 2>&1)" "$want"
		fi
		i=$((i + 1))
	done
}

# ---- readonly: the RO feature ------------------------------------------

t_readonly() {
	need_disk readonly || return 0
	if [ "$(disk_param ro 0 0)" = 1 ]; then
		vrb_check readonly/flag expect_eq "/sys/block/$disk0/ro" \
			"$(cat "/sys/block/$disk0/ro")" 1
		vrb_check readonly/write-refused check_write_refused
	else
		vrb_check readonly/flag expect_eq "/sys/block/$disk0/ro" \
			"$(cat "/sys/block/$disk0/ro")" 0
	fi
}

# A write must fail with EPERM or EROFS (or the open with EACCES), and the
# data must not change.
check_write_refused() {
	local before after
	before=$(vrb_md5 "$dev0" 0 16 4k direct)
	if dd if=/tmp/pat of="$dev0" bs=4k count=16 oflag=direct \
		status=none 2>/tmp/ro.err; then
		echo "a write to a read-only disk succeeded"
		return 1
	fi
	cat /tmp/ro.err
	grep -qE 'not permitted|Read-only|Permission denied' /tmp/ro.err || {
		echo "unexpected error"
		return 1
	}
	after=$(vrb_md5 "$dev0" 0 16 4k direct)
	expect_eq "md5 after the refused write" "$after" "$before"
}

# ---- pattern: data written comes back ----------------------------------

t_pattern() {
	need_disk pattern || return 0
	vrb_check pattern/buffered check_pattern_buffered
	vrb_check pattern/direct check_pattern_direct
	vrb_check pattern/direct-512 check_pattern_512
}

# Through the page cache: write, flush, drop the cache, read back.  The
# read then has to come from the disk, not from memory.
check_pattern_buffered() {
	dd if=/tmp/pat of="$dev0" bs=64k seek=16 conv=fsync status=none &&
	vrb_drop_caches &&
	expect_eq md5 "$(vrb_md5 "$dev0" 16 64)" "$pat_md5"
}

# O_DIRECT: each dd block becomes one request, straight from/to user
# memory.  Read back both with O_DIRECT and through the page cache.
check_pattern_direct() {
	dd if=/tmp/pat of="$dev0" bs=64k seek=128 oflag=direct status=none &&
	expect_eq "md5 (direct)" "$(vrb_md5 "$dev0" 128 64 64k direct)" \
		"$pat_md5" &&
	vrb_drop_caches &&
	expect_eq "md5 (buffered)" "$(vrb_md5 "$dev0" 128 64)" "$pat_md5"
}

# Single 512-byte sectors at odd positions: the smallest requests.
check_pattern_512() {
	local want
	dd if=/tmp/pat of=/tmp/pat7 bs=512 count=7 status=none
	want=$(vrb_md5 /tmp/pat7)
	dd if=/tmp/pat7 of="$dev0" bs=512 seek=12345 oflag=direct \
		status=none &&
	expect_eq md5 "$(vrb_md5 "$dev0" 12345 7 512 direct)" "$want"
}

# ---- fio: many requests in flight, every block verified ------------------

t_fio() {
	need_disk fio || return 0
	local jobs job
	if [ "$fio_mode" = quick ]; then
		jobs="512:1 4k:32 1m:32"
	else
		jobs="512:1 512:32 4k:1 4k:32 64k:32 1m:1 1m:32"
	fi
	for job in $jobs; do
		vrb_check "fio-verify/bs=${job%:*},qd=${job#*:}" \
			fio_verify libaio "${job%:*}" "${job#*:}"
	done
	vrb_check "fio-verify/io_uring,bs=4k,qd=32" fio_verify io_uring 4k 32
	vrb_check "fio-verify/one-segment,bs=64k,hugepage" fio_verify_one_segment
	if [ "$(vrb_param nq 1)" -gt 1 ]; then
		vrb_check fio-verify/2-jobs-2-cpus fio_verify_mq
	fi
}

# fio_verify ENGINE BS QD: random writes over a region, each block with a
# crc32c header, then everything read back and checked.  The region is
# smaller for small blocks, so each job takes a few seconds under TCG.
fio_verify() {
	local size=32m
	case $2 in
	512) size=4m ;;
	4k) size=16m ;;
	esac
	fio --name="verify-$2-$3" --filename="$dev0" --direct=1 \
		--ioengine="$1" --rw=randwrite --bs="$2" --iodepth="$3" \
		--offset=16m --size="$size" --verify=crc32c --verify_fatal=1 \
		--randrepeat=0 --output=/tmp/fio.out ||
		{ cat /tmp/fio.out; return 1; }
	grep -E 'IOPS=' /tmp/fio.out | head -n 2
}

# fio_verify_one_segment: 64k writes from a huge page, read back and
# checked.  The buffer is physically contiguous, so each request is one
# bio_vec of 64k pages, one segment, which vrb_blk_put_data() puts into
# the chain straight from the bio: the trace must show such chains
# (header 16 + data 65536 + status 1 = 65553 bytes in 3 buffers), or the
# case did not test what it says.
fio_verify_one_segment() {
	local T=/sys/kernel/tracing n
	echo 8 >/proc/sys/vm/nr_hugepages
	echo >"$T/trace"
	echo 1 >"$T/events/vringblk/vrb_add/enable"
	fio --name=verify-one-segment --filename="$dev0" --direct=1 \
		--ioengine=libaio --iomem=shmhuge --rw=randwrite --bs=64k \
		--iodepth=8 --offset=16m --size=8m --verify=crc32c \
		--verify_fatal=1 --randrepeat=0 --output=/tmp/fio.out
	n=$?
	echo 0 >"$T/events/vringblk/vrb_add/enable"
	echo 0 >/proc/sys/vm/nr_hugepages
	[ "$n" -eq 0 ] || { cat /tmp/fio.out; return 1; }
	n=$(grep -c 'bufs=3 .*bytes=65553 ' "$T/trace")
	echo "$n chains of one 64k buffer"
	# 8 MiB written and read back: 256 requests of 64k.
	[ "$n" -ge 256 ] || { echo "only $n one-buffer 64k chains"; return 1; }
}

# Two jobs, each pinned to its own CPU: blk-mq maps each CPU to its own
# hardware queue, so both virtqueues carry requests at the same time.
fio_verify_mq() {
	fio --name=verify-mq --filename="$dev0" --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k --iodepth=16 --numjobs=2 \
		--cpus_allowed=0-1 --cpus_allowed_policy=split \
		--offset=16m --size=8m --offset_increment=8m \
		--verify=crc32c --verify_fatal=1 --randrepeat=0 \
		--output=/tmp/fio.out || { cat /tmp/fio.out; return 1; }
}

# ---- mq: one blk-mq hardware context per virtqueue -----------------------

t_mq() {
	need_disk mq || return 0
	local nq nhw
	nq=$(vrb_param nq 1)
	nhw=$(find "/sys/block/$disk0/mq" -mindepth 1 -maxdepth 1 | wc -l)
	vrb_say "$disk0: $nhw hardware queue(s), device offers $nq"
	vrb_check mq/hw-queues expect_eq "hardware queues" "$nhw" "$nq"
}

# ---- poll: poll queues (poll_queues=) and io_uring IOPOLL ---------------
#
# vrbtest.npoll=N: the driver was loaded with poll_queues=N and the device
# has enough queues, so the last N virtqueues are poll queues.  N=0 with
# vrbtest.poll_refused=1: poll_queues= asked for more than the device has,
# and the driver must say so and run without.  Each fio job runs with
# hipri (io_uring IOPOLL): its requests go to the poll queue, where the
# submitter reaps them by polling; the queue never takes an interrupt.

t_poll() {
	need_disk poll || return 0
	local npoll nq
	npoll=$(vrb_param npoll 0)
	nq=$(find "$VRB_DEBUGFS/$disk0" -maxdepth 1 -name 'vq*' | wc -l)
	vrb_check poll/fio-has-hipri check_fio_hipri || return 0
	if [ "$npoll" = 0 ]; then
		vrb_check poll/refused-says-so check_poll_refused
		vrb_check poll/no-poll-queue check_hctx_types "$nq" 0
		vrb_check poll/io_poll-0 expect_eq \
			"/sys/block/$disk0/queue/io_poll" \
			"$(cat "/sys/block/$disk0/queue/io_poll")" 0
		vrb_check "poll/hipri-without-poll-queue,qd=8" \
			check_hipri_unpolled
		return 0
	fi
	PQ=$VRB_DEBUGFS/$disk0/vq$((nq - 1))
	vrb_say "$disk0: $nq virtqueue(s), poll queue ${PQ##*/}"
	vrb_check poll/hctx-types check_hctx_types "$nq" "$npoll"
	vrb_check poll/every-hctx-has-a-cpu check_hctx_cpus
	[ "$(vrb_param poll_capped 0)" = 0 ] ||
		vrb_check poll/capped-says-so check_poll_capped
	vrb_check poll/io_poll expect_eq "/sys/block/$disk0/queue/io_poll" \
		"$(cat "/sys/block/$disk0/queue/io_poll")" 1
	vrb_check poll/debugfs-views check_poll_views
	vrb_check "poll/hipri-verify,bs=4k,qd=1" check_poll_fio "$PQ" 1 4m \
		--bs=4k
	vrb_check "poll/hipri-verify,bs=4k,qd=32" check_poll_fio "$PQ" 32 16m \
		--bs=4k
	vrb_check "poll/hipri-verify,mixed,qd=16" check_poll_fio "$PQ" 16 32m \
		--bssplit=512/10:4k/40:16k/20:64k/20:256k/10
	vrb_check "poll/hipri-randread,bs=4k,qd=32" check_poll_fio "$PQ" 32 \
		16m --bs=4k --rw=randread --verify=0
	vrb_check poll/libaio-avoids-poll-queue check_poll_untouched
	vrb_check poll/irqs-still-0 expect_eq "irqs of ${PQ##*/}" \
		"$(pstat "$PQ" irqs)" 0
}

# pstat DIR KEY: KEY from the stats of one queue's debugfs directory.
pstat() {
	awk -v k="$2" '$1 == k { print $2 }' "$1/stats"
}

check_fio_hipri() {
	fio --enghelp=io_uring | grep -q '^hipri' ||
		{ echo "this fio's io_uring engine has no hipri"; return 1; }
}

check_poll_refused() {
	dmesg | grep -E "poll_queues=[0-9]+ needs [0-9]+ virtqueues.*running without poll queues" ||
		{ echo "no message about the refused poll queues"; return 1; }
}

check_poll_capped() {
	dmesg | grep -E "poll_queues=[0-9]+: only [0-9]+ CPU\(s\) to poll them, using [0-9]+" ||
		{ echo "no message about the capped poll queues"; return 1; }
}

# check_hctx_cpus: blk-mq maps at least one CPU to every hardware queue
# (debugfs block/DISK/hctxN/cpuM); a queue no CPU maps to never sees a
# request.
check_hctx_cpus() {
	local h d=/sys/kernel/debug/block/$disk0
	for h in "$d"/hctx*; do
		ls -d "$h"/cpu* >/dev/null 2>&1 ||
			{ echo "${h##*/}: no CPU maps to it"; return 1; }
	done
}

# check_hctx_types NQ NPOLL: blk-mq's own view (debugfs block/DISK/hctxN/
# type): the first NQ - NPOLL hardware queues are "default", the rest
# "poll".
check_hctx_types() {
	local i want got d=/sys/kernel/debug/block/$disk0
	i=0
	while [ "$i" -lt "$1" ]; do
		want=default
		[ "$i" -ge $(($1 - $2)) ] && want=poll
		got=$(cat "$d/hctx$i/type" 2>&1)
		expect_eq "$d/hctx$i/type" "$got" "$want" || return 1
		i=$((i + 1))
	done
}

# The driver's own views: the poll queue has no vector and its ring
# asks for no interrupt (without EVENT_IDX avail.flags NO_INTERRUPT;
# with it, used_event half the index space ahead of used.idx).
check_poll_views() {
	local r=/tmp/pring
	cat "$VRB_DEBUGFS/$disk0/irq"
	grep -qx "${PQ##*/}: polled, no interrupt" "$VRB_DEBUGFS/$disk0/irq" ||
		{ echo "irq view does not show ${PQ##*/} as polled"; return 1; }
	cat "$PQ/ring" >"$r"
	sed 's/^/    /' "$r"
	vrb_ring_polled "$r"
}

# blkstat FIELD...: the sum of those fields of /sys/block/DISK/stat.
blkstat() {
	local f s=0
	for f in "$@"; do
		s=$((s + $(awk -v f="$f" '{ print $f }' "/sys/block/$disk0/stat")))
	done
	echo "$s"
}

# check_poll_fio PQ QD SIZE FIO-ARGS...: fio io_uring with hipri, random
# writes verified with crc32c (unless FIO-ARGS say otherwise), then the
# accounting: every request the block layer completed (reads + writes)
# went through the poll queue PQ (its used and completed counters grew
# by exactly that many), none through the other queues, the poll hook
# ran, and PQ took no interrupt.  fio's issued I/Os are the requests
# plus the merges.  PQ empty: no poll queue, only fio's result counts.
check_poll_fio() {
	local pq=$1 qd=$2 size=$3 u0 c0 p0 o0 r0 m0 total req mer
	shift 3
	if [ -n "$pq" ]; then
		u0=$(pstat "$pq" used)
		c0=$(pstat "$pq" completed)
		p0=$(pstat "$pq" polls)
		o0=$(cat "$VRB_DEBUGFS/$disk0"/vq*/stats |
			awk '$1 == "used" { s += $2 } END { print s }')
		o0=$((o0 - u0))
	fi
	r0=$(blkstat 1 5)
	m0=$(blkstat 2 6)
	fio --name="poll-qd$qd" --filename="$dev0" --direct=1 \
		--ioengine=io_uring --hipri=1 --rw=randwrite --iodepth="$qd" \
		--offset=16m --size="$size" --verify=crc32c --verify_fatal=1 \
		--randrepeat=0 "$@" --output=/tmp/fio.out ||
		{ cat /tmp/fio.out; return 1; }
	grep -E 'IOPS=|issued rwts' /tmp/fio.out
	total=$(sed -n 's/.*issued rwts: total=\([0-9]*\),\([0-9]*\),\([0-9]*\),\([0-9]*\).*/\1 \2 \3 \4/p' \
		/tmp/fio.out | awk '{ print $1 + $2 + $3 + $4 }')
	req=$(($(blkstat 1 5) - r0))
	mer=$(($(blkstat 2 6) - m0))
	echo "fio issued $total, block layer: $req requests + $mer merges"
	[ "$total" -gt 0 ] || { echo "fio did no I/O"; return 1; }
	expect_eq "requests + merges" $((req + mer)) "$total" || return 1
	[ -n "$pq" ] || return 0
	local o1
	o1=$(cat "$VRB_DEBUGFS/$disk0"/vq*/stats |
		awk '$1 == "used" { s += $2 } END { print s }')
	o1=$((o1 - $(pstat "$pq" used)))
	echo "${pq##*/}: used +$(($(pstat "$pq" used) - u0)), completed +$(($(pstat "$pq" completed) - c0)), polls +$(($(pstat "$pq" polls) - p0)), irqs $(pstat "$pq" irqs); other queues: used +$((o1 - o0))"
	expect_eq "used on ${pq##*/}" $(($(pstat "$pq" used) - u0)) "$req" &&
	expect_eq "completed on ${pq##*/}" \
		$(($(pstat "$pq" completed) - c0)) "$req" &&
	expect_eq "used on the other queues" $((o1 - o0)) 0 &&
	expect_eq "irqs on ${pq##*/}" "$(pstat "$pq" irqs)" 0 || return 1
	[ $(($(pstat "$pq" polls) - p0)) -gt 0 ] ||
		{ echo "the poll hook never ran"; return 1; }
}

# hipri I/O on a disk without poll queues: 6.1's block layer drops the
# polled flag and the I/O completes by interrupt; newer kernels (6.12 on)
# refuse it, EOPNOTSUPP before it reaches the driver.  Either way, no
# wrong data and no hang.
check_hipri_unpolled() {
	check_poll_fio "" 8 16m --bs=4k && return 0
	grep -q 'error=Operation not supported' /tmp/fio.out ||
		{ echo "failed, and not with EOPNOTSUPP"; return 1; }
	if ! grep -q "$disk0: ios=0/0" /tmp/fio.out; then
		echo "refused, but some I/O was done"
		return 1
	fi
	echo "refused with EOPNOTSUPP (this kernel's block layer)"
}

# Interrupt-driven I/O (libaio, no hipri) never reaches the poll queue.
check_poll_untouched() {
	local u0
	u0=$(pstat "$PQ" used)
	fio_verify libaio 4k 16 || return 1
	expect_eq "used on ${PQ##*/} during libaio I/O" \
		$(($(pstat "$PQ" used) - u0)) 0
}

# ---- ext4: a file system on top ----------------------------------------

t_ext4() {
	need_disk ext4 || return 0
	vrb_check ext4/mkfs mkfs.ext4 -F -q "$dev0" || return 0
	vrb_check ext4/write-remount-read check_ext4_rw
	vrb_check ext4/fsck e2fsck -fn "$dev0"
}

# Write a big file and many small ones, unmount (everything written back),
# drop caches, mount again and compare.
check_ext4_rw() {
	local i
	mount -t ext4 "$dev0" /mnt/t || return 1
	cp /tmp/pat /mnt/t/big
	i=0
	while [ "$i" -lt 100 ]; do
		echo "file $i" >"/mnt/t/small$i"
		i=$((i + 1))
	done
	umount /mnt/t || return 1
	vrb_drop_caches
	mount -t ext4 -o ro "$dev0" /mnt/t || return 1
	expect_eq "md5 of big" "$(vrb_md5 /mnt/t/big)" "$pat_md5" &&
	expect_eq "small77" "$(cat /mnt/t/small77)" "file 77"
	i=$?
	umount /mnt/t
	return $i
}

# ---- discard / write-zeroes ----------------------------------------------
#
# With QEMU's drive option discard=unmap, a discard punches a hole in the
# image file, so the range reads back as zeroes.  Write-zeroes must always
# read back as zeroes.  The kernel only sends these if the driver set the
# queue limits (discard_max_bytes, write_zeroes_max_bytes).

t_discard() {
	need_disk discard || return 0
	local max
	max=$(cat "/sys/block/$disk0/queue/discard_max_bytes")
	if [ "$(disk_param discard 0 0)" = 1 ]; then
		vrb_check discard/limits check_nonzero discard_max_bytes "$max"
		vrb_check discard/reads-zero check_zeroed blkdiscard
	else
		vrb_check discard/not-offered expect_eq discard_max_bytes \
			"$max" 0
	fi
}

t_wzeroes() {
	need_disk wzeroes || return 0
	local max
	max=$(cat "/sys/block/$disk0/queue/write_zeroes_max_bytes")
	if [ "$(disk_param wzeroes 0 0)" = 1 ]; then
		vrb_check wzeroes/limits check_nonzero write_zeroes_max_bytes \
			"$max"
		vrb_check wzeroes/blkdiscard-z check_zeroed blkdiscard -z
		vrb_check wzeroes/fallocate-z check_zeroed fallocate -z
		# fallocate -p on a block device is write-zeroes with
		# "no fallback": it fails unless the driver supports it.
		vrb_check wzeroes/fallocate-punch check_zeroed fallocate -p
	else
		vrb_check wzeroes/not-offered expect_eq write_zeroes_max_bytes \
			"$max" 0
	fi
}

check_nonzero() {
	[ "$2" -gt 0 ] || { echo "$1 is $2"; return 1; }
}

# check_zeroed CMD...: write the pattern at 4 MiB, run "CMD -o 4M -l 1M
# DEV" on a 1 MiB piece in the middle, and check that exactly that piece
# reads back as zeroes.
check_zeroed() {
	dd if=/tmp/pat of="$dev0" bs=64k seek=64 oflag=direct status=none &&
	"$@" -o $((5 << 20)) -l $((1 << 20)) "$dev0" &&
	vrb_is_zero "$dev0" 80 16 &&
	expect_eq "md5 before the range" \
		"$(vrb_md5 "$dev0" 64 16 64k direct)" \
		"$(vrb_md5 /tmp/pat 0 16)" &&
	expect_eq "md5 after the range" \
		"$(vrb_md5 "$dev0" 96 32 64k direct)" \
		"$(vrb_md5 /tmp/pat 32 32)"
}

# ---- debugfs: the ring's state -----------------------------------------

t_debugfs() {
	need_disk debugfs || return 0
	if [ ! -d "$VRB_DEBUGFS/$disk0" ]; then
		vrb_skip debugfs/read-all "no $VRB_DEBUGFS/$disk0"
		return 0
	fi
	vrb_check debugfs/read-all check_debugfs
}

# Every file can be read without error (and without kernel warnings).
check_debugfs() {
	local f
	find "$VRB_DEBUGFS/$disk0" -type f >/tmp/dbgfiles
	while read -r f; do
		cat "$f" >/dev/null || { echo "reading $f failed"; return 1; }
	done </tmp/dbgfiles
	echo "$VRB_DEBUGFS/$disk0/vq0/ring:"
	head -n 20 "$VRB_DEBUGFS/$disk0/vq0/ring"
}

# ---- reload: rmmod and insmod, data intact -------------------------------

t_reload() {
	need_disk reload || return 0
	local before
	if [ "$(disk_param ro 0 0)" = 0 ]; then
		dd if=/tmp/pat of="$dev0" bs=64k seek=0 oflag=direct status=none
	fi
	before=$(vrb_md5 "$dev0" 0 256 64k direct)
	vrb_check reload/rmmod vrb_unload || return 0
	vrb_check reload/insmod vrb_load || return 0
	vrb_check reload/data-intact expect_eq "md5 of the first 16 MiB" \
		"$(vrb_md5 "$dev0" 0 256 64k direct)" "$before"
}

# ---- multi: two disks do not mix their data -----------------------------

t_multi() {
	need_disk multi || return 0
	vrb_check multi/independent check_multi_independent
	vrb_check multi/fio-both fio_verify_both
}

check_multi_independent() {
	local dev1
	dev1=/dev/$(vrb_disk 1)
	dd if=/dev/urandom of=/tmp/pat1 bs=64k count=16 status=none
	dd if=/tmp/pat of="$dev0" bs=64k count=16 oflag=direct status=none &&
	dd if=/tmp/pat1 of="$dev1" bs=64k count=16 oflag=direct status=none &&
	expect_eq "md5 on disk 0" "$(vrb_md5 "$dev0" 0 16 64k direct)" \
		"$(vrb_md5 /tmp/pat 0 16)" &&
	expect_eq "md5 on disk 1" "$(vrb_md5 "$dev1" 0 16 64k direct)" \
		"$(vrb_md5 /tmp/pat1)"
}

# One fio job per disk, both running at the same time.
fio_verify_both() {
	fio --direct=1 --ioengine=libaio --rw=randwrite --bs=16k --iodepth=16 \
		--offset=16m --size=8m --verify=crc32c --verify_fatal=1 \
		--randrepeat=0 --output=/tmp/fio.out \
		--name=d0 --filename="$dev0" \
		--name=d1 --filename="/dev/$(vrb_disk 1)" ||
		{ cat /tmp/fio.out; return 1; }
}

# ---- resize: the device grows while a file system is mounted -------------
#
# The host runner sees "VRB-WAIT resize" and tells QEMU (QMP block_resize)
# to grow the disk.  QEMU then raises a configuration-change interrupt; the
# driver must re-read the capacity and tell the block layer.

t_resize() {
	need_disk resize || return 0
	local want
	want=$(vrb_param resize_to)
	vrb_check resize/mkfs-mount check_resize_prepare || return 0
	vrb_wait_host resize
	vrb_check resize/capacity-grows wait_capacity $((want / 512))
	vrb_check resize/online-resize2fs check_resize2fs
	umount /mnt/t
	vrb_check resize/fsck e2fsck -fn "$dev0"
}

check_resize_prepare() {
	mkfs.ext4 -F -q "$dev0" && mount -t ext4 "$dev0" /mnt/t &&
	cp /tmp/pat /mnt/t/before && sync
}

# wait_capacity SECTORS: poll sysfs for up to 60 s.
wait_capacity() {
	local n=600 cur
	while :; do
		cur=$(cat "/sys/block/$disk0/size")
		[ "$cur" = "$1" ] && break
		n=$((n - 1))
		[ "$n" -gt 0 ] || {
			echo "size still $cur after 60 s, expected $1"
			return 1
		}
		usleep 100000
	done
	dmesg | grep -iE "$disk0.*(capacity|size)" | tail -n 2
}

# Grow the mounted file system to the new size, write into the new space.
check_resize2fs() {
	local before after
	before=$(df -k /mnt/t | awk 'NR == 2 { print $2 }')
	resize2fs "$dev0" || return 1
	after=$(df -k /mnt/t | awk 'NR == 2 { print $2 }')
	echo "file system: $before KiB -> $after KiB"
	[ "$after" -gt $((before * 3 / 2)) ] || {
		echo "file system did not grow"
		return 1
	}
	dd if=/dev/urandom of=/mnt/t/after bs=1M count=80 status=none &&
	sync &&
	expect_eq "md5 of the old file" "$(vrb_md5 /mnt/t/before)" "$pat_md5"
}

# ---- main -----------------------------------------------------------------

tests=$(vrb_param tests probe,capacity,serial,readonly,pattern,fio,ext4)
for t in $(echo "$tests" | tr , ' '); do
	vrb_say "test group: $t"
	"t_$t"
done
vrb_summary
