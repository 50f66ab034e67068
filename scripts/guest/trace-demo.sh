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

D=/sys/kernel/debug/vringblk/vringblk0/vq0
T=/sys/kernel/tracing

section() { echo "VRB-SECTION $1"; }
endsection() { echo "VRB-END $1"; }
# Only the descriptors that are not free, plus the header line.
busy_descs() { grep -v '| free$' "$D/descs"; }

echo 1 >/proc/sys/kernel/printk_ratelimit 2>/dev/null
dmesg -n 1
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
