#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# guest-bench.sh - the benchmark, run inside the QEMU guest that
# scripts/bench.sh boots: vringblk and the kernel's virtio_blk, each on its
# own one of two identical legacy virtio-blk disks, run the same fio jobs,
# interleaved.
#
# Kernel command line words it reads (vrb_param, scripts/guest/lib.sh):
#   vrbtest.bench_jobs=a,b,...   jobs to run (default: all, see job_args)
#   vrbtest.bench_reps=N         repetitions of each job per driver (4)
#   vrbtest.bench_window=SEC     instruction-count window per run (4)
#   vrbtest.bench_ramp=SEC       fio ramp_time, not in fio's numbers (1)
#   vrbtest.bench_warmup=0|1     first run every job once per disk, for
#                                1 s, unrecorded (1)
#   vrbtest.bench_syms=0|1       print the kernel's text symbols at the end,
#                                for per-function counts (1)
#   vrbtest.bench_frag=MIB       scatter fio's buffers over single pages with
#                                vrbfrag holding MIB (256; 0: leave memory
#                                as it comes, transparent huge pages too)
#   vrbtest.bench_ktrace=0|1     debugging: record vringblk's tracepoints
#                                (tracefs) and print the last of them when
#                                a run stalls (0: they cost instructions)
#
# What the host gets, on the console, one line each (everything else is
# commentary):
#   VRB-BENCH-INFO <key> <value>        configuration (drivers, queues...)
#   VRB-BENCH-REGION <name> <start> <size>  a module's memory, from
#                                       /proc/modules, to attribute the
#                                       plugin's per-address counts
#                                       (kernel-text: <start> end <end>)
#   VRB-BENCH-IRQ <drv> <irq> <name>    interrupt lines of each disk
#   VRB-BENCH-RUN <seq> <job> <drv> <rep> <disk>   a run starts
#   VRB-BENCH-D <seq> <line>            its data: fio's JSON, then the
#                                       vrbmark snapshots ("@@ ..." lines)
#   VRB-BENCH-WINDOW <seq>              this run opened plugin window <seq>
#   VRB-BENCH-SYMS <base64>             /proc/kallsyms' text symbols,
#                                       gzip'd, base64 (after all runs)
#   VRB-BENCH-STALL <seq> ...           fio did not end in time (the
#                                       driver's state follows)
#   VRB-BENCH-FAIL <seq> <why>          this run failed (no data)
#   VRB-BENCH-END <runs> runs, <n> failed   all done
#
# Each run: fio starts on one disk; once its I/O is flowing and its ramp
# time is over, vrbmark snapshots the counters, opens a window of the
# instruction-count plugin (scripts/bench/insncount.c), sleeps, closes it
# and snapshots again.  So the plugin counts and the counter deltas cover
# the same few seconds in the middle of the fio run, without fio's start-up
# and exit; fio's own numbers (IOPS, latency) cover its whole runtime after
# the ramp.

# shellcheck source=../guest/lib.sh
. /vrb/lib.sh

jobs=$(vrb_param bench_jobs randread-4k-qd1,randread-4k-qd32,randwrite-4k-qd32,seqread-128k-qd8,seqwrite-1m-qd8)
reps=$(vrb_param bench_reps 4)
window=$(vrb_param bench_window 4)
ramp=$(vrb_param bench_ramp 1)
warmup=$(vrb_param bench_warmup 1)
syms=$(vrb_param bench_syms 1)
frag=$(vrb_param bench_frag 256)
ktrace=$(vrb_param bench_ktrace 0)
# fio runs past the window by 1 s: the window never sees fio stop.
runtime=$((window + 2))

DBG=/sys/kernel/debug/vringblk

info() {
	echo "VRB-BENCH-INFO $1 $2"
}

die() {
	echo "VRB-BENCH-ERROR $*"
	exit 1
}

# job_args JOB: the fio options of a job (besides the common ones).
#
# The QD32 jobs submit in batches of 8: fio waits for 8 completions, then
# queues 8 new requests and submits them with one io_uring_enter(), so the
# block layer hands the driver 8 requests of which only the last has
# bd->last set (the driver kicks once, or in commit_rqs).  Batch submission
# alone is not enough: with iodepth_batch_complete_min=1 fio reaps one
# completion, refills one slot and submits it alone (measured here: 1 kick
# per I/O, half the IOPS).
batch8="--iodepth_batch_submit=8 --iodepth_batch_complete_min=8"
job_args() {
	case $1 in
	randread-4k-qd1)
		echo "--ioengine=psync --rw=randread --bs=4k --iodepth=1" ;;
	randread-4k-qd32)
		echo "--ioengine=io_uring --rw=randread --bs=4k --iodepth=32 $batch8" ;;
	randwrite-4k-qd32)
		echo "--ioengine=io_uring --rw=randwrite --bs=4k --iodepth=32 $batch8" ;;
	seqread-128k-qd8)
		echo "--ioengine=io_uring --rw=read --bs=128k --iodepth=8" ;;
	seqwrite-1m-qd8)
		echo "--ioengine=io_uring --rw=write --bs=1m --iodepth=8" ;;
	*) return 1 ;;
	esac
}

# ---- bind each disk to its driver ---------------------------------------
#
# driver_override: a PCI device whose driver_override names a driver can
# only be bound by that driver, whatever the id tables say (and a driver
# whose table does not list the device may still take it).  Written before
# any driver is loaded, it makes the outcome independent of load order:
# vringblk's table matches both disks, virtio_pci's matches every 1af4
# device, yet each gets exactly one.

# shellcheck disable=SC2046 # one word per device
set -- $(vrb_legacy_pci_devs)
[ $# -eq 2 ] || die "expected 2 legacy virtio-blk functions, found $#"
pci_vrb=$1
pci_vio=$2
echo vringblk >"$pci_vrb/driver_override"
echo virtio-pci >"$pci_vio/driver_override"

insmod /vringblk.ko || die "insmod vringblk.ko failed"
modprobe virtio_pci || die "modprobe virtio_pci failed"
modprobe virtio_blk || die "modprobe virtio_blk failed"
vrb_wait_for /dev/vringblk0 10 || die "no /dev/vringblk0"
vrb_wait_for /dev/vda 10 || die "no /dev/vda"

drv_of() {
	basename "$(readlink "$1/driver")"
}
[ "$(drv_of "$pci_vrb")" = vringblk ] || die "${pci_vrb##*/} not bound to vringblk"
[ "$(drv_of "$pci_vio")" = virtio-pci ] || die "${pci_vio##*/} not bound to virtio-pci"
info pci.vringblk "${pci_vrb##*/}"
info pci.virtio_blk "${pci_vio##*/}"
info kernel "$(uname -r)"
info cpus "$(grep -c ^processor /proc/cpuinfo)"
info mem_kb "$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
info fio "$(fio --version)"
info features.vringblk "$(tr '\n' ' ' <"$DBG/vringblk0/features")"
info features.virtio_blk "$(cat "$pci_vio"/virtio*/features)"
info runtime "$runtime"
info ramp "$ramp"
info window "$window"
for job in $(echo "$jobs" | tr , ' '); do
	args=$(job_args "$job") || die "unknown job $job"
	info "job.$job" "$args"
done

# ---- same queue settings on both ----------------------------------------
#
# scheduler none: with mq-deadline, its own overhead dominates the small
# differences between drivers.  nr_requests and max_sectors_kb: the smaller
# of the two drivers' values, on both.  No write-back throttling, no
# entropy feeding, both "non-rotational" (virtio_blk leaves rotational=1).

qattr() {
	cat "/sys/block/$1/queue/$2"
}
min() {
	if [ "$1" -lt "$2" ]; then echo "$1"; else echo "$2"; fi
}
nr=$(min "$(qattr vringblk0 nr_requests)" "$(qattr vda nr_requests)")
maxkb=$(min "$(qattr vringblk0 max_sectors_kb)" "$(qattr vda max_sectors_kb)")
for d in vringblk0 vda; do
	q=/sys/block/$d/queue
	echo none >"$q/scheduler"
	echo "$nr" >"$q/nr_requests"
	echo "$maxkb" >"$q/max_sectors_kb"
	echo 0 >"$q/rotational"
	echo 0 >"$q/add_random"
	echo 0 >"$q/wbt_lat_usec" 2>/dev/null
	echo 0 >"$q/nomerges"
	echo 1 >"$q/rq_affinity"
	echo 1 >"$q/iostats"
done
for a in scheduler nr_requests max_sectors_kb max_hw_sectors_kb \
	max_segments max_segment_size logical_block_size physical_block_size \
	rotational add_random wbt_lat_usec nomerges rq_affinity write_cache \
	io_poll; do
	info "queue.$a" "$(qattr vringblk0 $a 2>/dev/null | tr ' ' _) $(qattr vda $a 2>/dev/null | tr ' ' _)"
done
nhw() {
	set -- "/sys/block/$1/mq/"*
	echo $#
}
info hw_queues "$(nhw vringblk0) $(nhw vda)"

# ---- code regions and interrupt lines, for the host ------------------------
#
# /proc/modules: "name size refs deps state address": the module's core
# (text, rodata, data) is [address, address + size).  The kernel's own text
# is [_stext, _etext) from /proc/kallsyms.

# (The host does the arithmetic: these addresses overflow the shell's.)
while read -r name size _ _ _ addr _; do
	echo "VRB-BENCH-REGION $name $addr $size"
done </proc/modules
awk '$3 == "_stext" { s = $1 } $3 == "_etext" { e = $1 }
	END { print "VRB-BENCH-REGION kernel-text 0x" s " end 0x" e }' /proc/kallsyms

vio=$(basename "$(ls -d "$pci_vio"/virtio*)")
awk -v pci="${pci_vrb##*/}" -v vio="$vio" '
	$NF ~ "^vringblk-" pci { sub(":", "", $1); print "VRB-BENCH-IRQ vringblk", $1, $NF }
	$NF ~ "^" vio "-" { sub(":", "", $1); print "VRB-BENCH-IRQ virtio_blk", $1, $NF }
' /proc/interrupts

# ---- the runs --------------------------------------------------------------

# disk_ios DISK: reads + writes completed so far (/sys/block/X/stat).
disk_ios() {
	local r w
	read -r r _ _ _ w _ <"/sys/block/$1/stat"
	echo $((r + w))
}

# run SEQ JOB DRV REP
run() {
	local seq=$1 job=$2 drv=$3 rep=$4 disk args pid n0 files t
	if [ "$drv" = vringblk ]; then disk=vringblk0; else disk=vda; fi
	args=$(job_args "$job") || die "unknown job $job"
	echo "VRB-BENCH-RUN $seq $job $drv $rep $disk"

	# shellcheck disable=SC2086 # $args: one word per option
	fio --name="$job" --filename="/dev/$disk" --direct=1 --time_based \
		--runtime="$runtime" --ramp_time="$ramp" --norandommap \
		--randrepeat=0 --lat_percentiles=1 --output-format=json \
		--output=/tmp/fio.json $args >/tmp/fio.err 2>&1 &
	pid=$!

	# Wait for fio's first I/O (its start-up under TCG takes a while),
	# then for its ramp time, and open the window.
	n0=$(disk_ios "$disk")
	t=0
	while [ "$(disk_ios "$disk")" = "$n0" ] && [ "$t" -lt 300 ]; do
		usleep 20000
		t=$((t + 1))
	done
	sleep "$ramp"
	files="/sys/block/$disk/stat /proc/interrupts"
	[ "$drv" = vringblk ] && files="$files $DBG/vringblk0/vq0/stats"
	# shellcheck disable=SC2086 # $files: one word per file
	vrbmark "$window" $files >/tmp/mark.out
	echo "VRB-BENCH-WINDOW $seq"

	# fio should end about 1 s after the window.  If it is still there
	# 10 s later, the disk is stuck: show the driver's view now, before
	# the block layer's 30 s timeout makes the driver reset the device.
	t=0
	while kill -0 "$pid" 2>/dev/null && [ "$t" -lt 100 ]; do
		usleep 100000
		t=$((t + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "VRB-BENCH-STALL $seq $job $drv: fio still running 10 s after its end"
		dump_state "$drv" "$disk"
	fi
	if ! wait "$pid"; then
		sed 's/^/    /' /tmp/fio.err | tail -n 20
		echo "VRB-BENCH-FAIL $seq fio failed ($job on $disk)"
		dump_state "$drv" "$disk"
		return 1
	fi
	sed "s/^/VRB-BENCH-D $seq /" /tmp/fio.json /tmp/mark.out
}

# dump_state DRV DISK: what the driver and the block layer think is going
# on, for a human reading the console log after a stall or failure.
dump_state() {
	local f
	echo "--- /sys/block/$2/inflight: $(cat "/sys/block/$2/inflight")"
	grep -E "vringblk|virtio" /proc/interrupts
	if [ "$1" = vringblk ]; then
		for f in ring stats descs; do
			echo "--- $DBG/vringblk0/vq0/$f"
			head -n 60 "$DBG/vringblk0/vq0/$f"
		done
	fi
	dmesg | tail -n 20
	if [ "$ktrace" = 1 ]; then
		echo 0 >/sys/kernel/tracing/tracing_on
		echo "--- the last vringblk tracepoints"
		tail -n 80 /sys/kernel/tracing/trace
	fi
}

# ---- scattered buffers -----------------------------------------------------
#
# The work of a driver (and of the block layer) per request grows with the
# number of data segments, i.e. with how many physically contiguous runs
# fio's buffer has.  Left to chance, a 1 MiB write has 1 segment when fio
# got a transparent huge page, 30 when not: the same driver then looks 2x
# faster or slower from one run to the next.  So: no transparent huge
# pages, and vrbfrag (scripts/bench/vrbfrag.c) leaves only isolated free
# pages behind, so that every 4 KiB of every buffer is its own segment.

if [ "$frag" -gt 0 ]; then
	echo never >/sys/kernel/mm/transparent_hugepage/enabled
	vrbfrag "$frag" >/tmp/frag.out 2>&1 &
	t=0
	until grep -q ready /tmp/frag.out; do
		[ "$t" -lt 600 ] || die "vrbfrag did not get ready: $(cat /tmp/frag.out)"
		usleep 100000
		t=$((t + 1))
	done
	info buffers "scattered 4 KiB pages (no THP; vrbfrag $frag MiB)"
else
	info buffers "as allocated (THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled))"
fi

# Debugging only: vringblk's tracepoints into the kernel's trace buffer,
# shown by dump_state() when a run stalls.
if [ "$ktrace" = 1 ]; then
	echo 4096 >/sys/kernel/tracing/buffer_size_kb
	echo 1 >/sys/kernel/tracing/events/vringblk/enable
	info ktrace "vringblk tracepoints on (instruction counts include them)"
fi

# Warm-up: under TCG the first execution of any code is slow (QEMU
# translates it), so run every job once on each disk before measuring.
if [ "$warmup" = 1 ]; then
	echo "--- warm-up: every job for 1 s on each disk"
	for job in $(echo "$jobs" | tr , ' '); do
		for disk in vringblk0 vda; do
			# shellcheck disable=SC2046 # one word per option
			fio --name=warmup --filename="/dev/$disk" --direct=1 \
				--time_based --runtime=1 $(job_args "$job") \
				>/dev/null 2>&1 || die "warm-up fio failed on $disk"
		done
	done
fi

seq=0
failed=0
rep=1
while [ "$rep" -le "$reps" ]; do
	for job in $(echo "$jobs" | tr , ' '); do
		# A/B, then B/A on the next repetition: neither driver always
		# runs first (a drift over time would favour it).
		if [ $((rep % 2)) = 1 ]; then
			order="vringblk virtio_blk"
		else
			order="virtio_blk vringblk"
		fi
		for drv in $order; do
			seq=$((seq + 1))
			run "$seq" "$job" "$drv" "$rep" || failed=$((failed + 1))
		done
	done
	rep=$((rep + 1))
done
# The symbols, to name the functions the plugin's addresses fall in
# (Debian's System.map on the host is a stub, and KASLR moves the kernel
# anyway).  Only text symbols; compressed, as the serial console is slow.
if [ "$syms" = 1 ]; then
	awk '$2 ~ /^[tTwW]$/' /proc/kallsyms | gzip -1 | base64 |
		sed 's/^/VRB-BENCH-SYMS /'
fi
echo "VRB-BENCH-END $seq runs, $failed failed"
