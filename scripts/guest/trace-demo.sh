#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# trace-demo.sh - guest side of `make trace-demo`: follow one 4 KiB read
# and one write + FLUSH through vringblk, printing the debugfs views and
# the vringblk tracepoints between "VRB-SECTION <name>" and
# "VRB-END <name>" lines.  scripts/trace-demo.sh cuts the sections out
# of the console log and pastes them into docs/walkthrough.md.
#
# The host throttles the disk to 4 KiB/s after a first free burst, so a
# request stays in flight long enough for us to photograph the ring.
#
# Then interrupts versus polling, on a second, unthrottled disk with two
# virtqueues: vringblk is loaded again with poll_queues=1 (one vCPU: vq0
# takes interrupts, vq1 is polled), the same fio job runs once as
# ordinary I/O and once polled (io_uring with hipri, i.e. IOPOLL), and
# the sections show both queues' rings and counters.

D=/sys/kernel/debug/vringblk/vringblk0/vq0
T=/sys/kernel/tracing

section() { echo "VRB-SECTION $1"; }
endsection() { echo "VRB-END $1"; }
# Only the descriptors that are not free, plus the header line.
busy_descs() { grep -v '| free$' "$D/descs"; }

# legacy_devs: the legacy virtio-blk PCI functions (1af4:1001), in PCI
# order, which is the order of scripts/trace-demo.sh's -device options:
# the throttled disk, then the disk of the polling part.
legacy_devs() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] || continue
		[ "$(cat "$d/device")" = 0x1001 ] || continue
		echo "$d"
	done
}
DISK=$(legacy_devs | sed -n 1p)
PDISK=$(legacy_devs | sed -n 2p)

echo 1 >/proc/sys/kernel/printk_ratelimit 2>/dev/null
dmesg -n 1
# The second disk waits for the polling part: a driver_override that
# names no driver keeps vringblk from binding it.
[ -n "$PDISK" ] && echo none >"$PDISK/driver_override"
insmod /vringblk.ko || exit 1
i=0
while [ ! -b /dev/vringblk0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

section features; cat /sys/kernel/debug/vringblk/vringblk0/features; endsection features
section ring-idle; cat "$D/ring"; endsection ring-idle

# Let the partition scan finish, then start from clean counters.
sleep 1
echo 0 >"$D/stats"
echo >"$T/trace"
echo 1 >"$T/events/vringblk/enable"

# One 4 KiB read with O_DIRECT: exactly one request, no page cache.  The
# read just before it fills the host's throttle bucket, so ours waits in
# QEMU for about a second: long enough to look at the ring meanwhile.
dd if=/dev/vringblk0 of=/dev/null bs=4k count=1 skip=999 iflag=direct 2>/dev/null
echo >"$T/trace"
dd if=/dev/vringblk0 of=/dev/null bs=4k count=1 skip=1000 iflag=direct 2>/dev/null &
sleep 0.3
section read-inflight-ring; cat "$D/ring"; endsection read-inflight-ring
section read-inflight-descs; busy_descs; endsection read-inflight-descs
wait
section read-done-rings; cat "$D/rings"; endsection read-done-rings
echo 0 >"$T/events/vringblk/enable"
section read-trace; grep vrb_ "$T/trace" | sed 's/^ *//'; endsection read-trace

# One 4 KiB write with O_DIRECT followed by fsync: a WRITE, then a FLUSH
# because the device has a write-back cache.
echo >"$T/trace"
echo 1 >"$T/events/vringblk/enable"
dd if=/dev/zero of=/dev/vringblk0 bs=4k count=1 seek=2000 oflag=direct conv=fsync 2>/dev/null
echo 0 >"$T/events/vringblk/enable"
section write-trace; grep vrb_ "$T/trace" | sed 's/^ *//'; endsection write-trace
section cache-type; cat /sys/block/vringblk0/cache_type; endsection cache-type
section stats; cat "$D/stats"; endsection stats
rmmod vringblk

# ---- Interrupts versus polling -----------------------------------------

[ -n "$PDISK" ] || { echo "trace-demo: no second disk: no polling part"; exit 1; }
P=/sys/kernel/debug/vringblk/vringblk0

# load ARGS...: swap the throttled disk for the second one and load
# vringblk with ARGS; the second disk is then the only vringblk disk, so
# it takes the first free name, vringblk0, again.
load() {
	echo none >"$DISK/driver_override"
	echo vringblk >"$PDISK/driver_override"
	insmod /vringblk.ko "$@" || exit 1
	i=0
	while [ ! -b /dev/vringblk0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 1		# the partition scan
}

# Counters from 0, after the probe's own requests (the partition scan,
# and the GET_ID that reading the serial sends).
reset_stats() {
	echo 0 >"$P/vq0/stats"
	echo 0 >"$P/vq1/stats"
}

# run_fio NAME HIPRI SIZE: 4 KiB random reads of SIZE bytes, one at a
# time (queue depth 1, so no two requests ever merge and each fio I/O is
# one request), through io_uring; HIPRI=1 submits them for polling
# (IORING_SETUP_IOPOLL).  The same seed each time: the same offsets.
# Prints fio's throughput, completion latency, CPU and I/O count lines.
run_fio() {
	fio --name="$1" --filename=/dev/vringblk0 --direct=1 \
		--ioengine=io_uring --hipri="$2" --rw=randread --bs=4k \
		--iodepth=1 --size="$3" --output="/tmp/fio-$1.out" ||
		{ cat "/tmp/fio-$1.out"; return 1; }
	grep -E '^ *(read: IOPS=|clat \(|cpu +:|issued rwts:)' "/tmp/fio-$1.out" |
		sed 's/^ *//'
}

# stats_table: the two queues' debugfs stats side by side.
stats_table() {
	printf '%-20s %12s %12s\n' "" "vq0" "vq1"
	awk 'NR == FNR { v[FNR] = $2; next }
		{ printf "%-20s %12s %12s\n", $1, v[FNR], $2 }' \
		"$P/vq0/stats" "$P/vq1/stats"
	# Not in debugfs: how often the poller looked per completion.
	awk 'FILENAME ~ /vq0/ { q = 0 } FILENAME ~ /vq1/ { q = 1 }
		$1 == "polls" { p[q] = $2 } $1 == "completed" { c[q] = $2 }
		END { printf "%-20s %12.2f %12.2f\n", "polls_per_completion",
			c[0] ? p[0] / c[0] : 0, c[1] ? p[1] / c[1] : 0 }' \
		"$P/vq0/stats" "$P/vq1/stats"
}

load poll_queues=1
section poll-probe
dmesg | sed 's/^\[ *[0-9.]*\] //' | grep ' vringblk0: .* queue(s) ' | tail -n 1
grep '^negotiated' "$P/features"
echo "serial: $(cat /sys/block/vringblk0/serial)"
endsection poll-probe
section poll-hctx
for h in /sys/kernel/debug/block/vringblk0/hctx*; do
	echo "${h##*/}: type $(cat "$h/type")"
done
echo "queue/io_poll: $(cat /sys/block/vringblk0/queue/io_poll)"
endsection poll-hctx
section poll-irq; cat "$P/irq"; endsection poll-irq

reset_stats
section poll-fio-irq; run_fio interrupt 0 16m; endsection poll-fio-irq
section poll-fio-polled; run_fio polled 1 16m; endsection poll-fio-polled
section poll-stats; stats_table; endsection poll-stats
section poll-ring-vq0; cat "$P/vq0/ring"; endsection poll-ring-vq0
section poll-ring-vq1; cat "$P/vq1/ring"; endsection poll-ring-vq1
section poll-interrupts
grep -E 'CPU|vringblk' /proc/interrupts
endsection poll-interrupts
rmmod vringblk

# The same poll queue without EVENT_IDX: avail.flags does the asking.
load poll_queues=1 disable=event_idx
reset_stats
run_fio polled-noevt 1 1m >/tmp/fio-noevt.txt
section poll-noevt
for q in vq0 vq1; do
	grep -E '^(ring features|completions|avail.flags|used.idx):' "$P/$q/ring" |
		sed "s/^/$q /"
done
awk '$1 == "irqs" || $1 == "polls" || $1 == "completed" { print "vq1 " $0 }' "$P/vq1/stats"
grep 'issued rwts' /tmp/fio-noevt.txt
endsection poll-noevt
rmmod vringblk
