#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# guest-bench.sh - the benchmark, run inside the QEMU guest that
# scripts/bench.sh boots: vringblk and the kernel's virtio_blk, each on its
# own one of two identical legacy virtio-blk disks, run the same fio jobs,
# interleaved.
#
# scripts/bench.sh boots the guest twice with this script: once with one
# vCPU and one-queue disks for the five classic jobs, once with two vCPUs
# and two-queue disks for the multiqueue job and the polled jobs.  Jobs
# that need poll queues (poll-*) run last: both modules are unloaded and
# loaded again with poll_queues=1, which moves them to new addresses, so
# the code regions are printed again (a new VRB-BENCH-LAYOUT).
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
#   VRB-BENCH-INFO <key> <value>        configuration (drivers, queues...);
#                                       after a reload with poll queues the
#                                       per-load keys start with "poll."
#   VRB-BENCH-LAYOUT <name> <modargs>   the drivers were (re)loaded: the
#                                       REGION, IRQ and SYMS lines that
#                                       follow, up to the next LAYOUT, hold
#                                       for the runs that follow
#   VRB-BENCH-REGION <name> <start> <size>  a module's memory, from
#                                       /proc/modules, to attribute the
#                                       plugin's per-address counts
#                                       (kernel-text: <start> end <end>)
#   VRB-BENCH-IRQ <drv> <irq> <name>    interrupt lines of each disk
#   VRB-BENCH-RUN <seq> <job> <drv> <rep> <disk>   a run starts
#   VRB-BENCH-D <seq> <line>            its data: fio's JSON, then the
#                                       vrbmark snapshots ("@@ ..." lines)
#   VRB-BENCH-WINDOW <seq>              this run opened plugin window <seq>
#   VRB-BENCH-CHECK <seq> ok|FAIL <what>: <details>
#                                       where a polled or multiqueue run's
#                                       requests went, over the whole fio
#                                       run (check_queues)
#   VRB-BENCH-SYMS <base64>             /proc/kallsyms' text symbols,
#                                       gzip'd, base64 (after the runs of
#                                       each layout)
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
#
# The second boot's jobs (two vCPUs, two-queue disks):
#
# poll-*: io_uring with hipri, i.e. IORING_SETUP_IOPOLL: the block layer
# sends the requests to a poll queue (HCTX_TYPE_POLL) and fio's thread,
# inside io_uring_enter(), calls the driver's poll hook until enough of
# them have completed, instead of sleeping until an interrupt.  fio stays
# on CPU 0 (cpus_allowed), so the runs do not differ by where the
# scheduler put it; the poll queue serves every CPU anyway.
#
# mq-*: two fio jobs (numjobs=2), the first on CPU 0 and the second on
# CPU 1 (cpus_allowed_policy=split), each a copy of randread-4k-qd32.
# blk-mq maps each CPU to its own hardware queue, so each job's requests
# go down its own virtqueue and come back on that queue's interrupt
# vector.  group_reporting: fio's JSON has one entry for both jobs (IOPS
# added, latencies over all I/Os).
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
	mq-randread-4k-qd32x2)
		echo "--ioengine=io_uring --rw=randread --bs=4k --iodepth=32 $batch8 --numjobs=2 --cpus_allowed=0,1 --cpus_allowed_policy=split --group_reporting" ;;
	poll-randread-4k-qd1)
		echo "--ioengine=io_uring --hipri=1 --rw=randread --bs=4k --iodepth=1 --cpus_allowed=0" ;;
	poll-randread-4k-qd32)
		echo "--ioengine=io_uring --hipri=1 --rw=randread --bs=4k --iodepth=32 $batch8 --cpus_allowed=0" ;;
	*) return 1 ;;
	esac
}

# job_npoll JOB: the poll_queues= both drivers must be loaded with for JOB.
job_npoll() {
	case $1 in
	poll-*) echo 1 ;;
	*) echo 0 ;;
	esac
}

# job_cpus JOB: the vCPUs JOB needs.  The multiqueue job pins one fio job
# to each of two CPUs.  The polled jobs need two for virtio_blk's sake: it
# counts its poll queues inside its limit of one queue per CPU
# (init_vq(): poll queues = min(poll_queues, queues - 1), queues at most
# the CPUs), so with one vCPU it has no poll queue at all, and hipri I/O
# would quietly go to the interrupt queue.  vringblk puts poll queues on
# top of the interrupt queues; on the same two-queue device with two
# vCPUs both drivers get one interrupt queue and one poll queue.
job_cpus() {
	case $1 in
	mq-* | poll-*) echo 2 ;;
	*) echo 1 ;;
	esac
}

# jobs_with NPOLL: the jobs of $jobs that run with poll_queues=NPOLL, in
# the order given, comma-separated.
jobs_with() {
	local job out=""
	for job in $(echo "$jobs" | tr , ' '); do
		[ "$(job_npoll "$job")" = "$1" ] && out="$out${out:+,}$job"
	done
	echo "$out"
}

# ---- bind each disk to its driver ---------------------------------------
#
# driver_override: a PCI device whose driver_override names a driver can
# only be bound by that driver, whatever the id tables say (and a driver
# whose table does not list the device may still take it).  Written before
# any driver is loaded, it makes the outcome independent of load order:
# vringblk's table matches both disks, virtio_pci's matches every 1af4
# device, yet each gets exactly one.  It stays in place when a driver is
# unloaded and loaded again: each disk comes back to its own driver.

# shellcheck disable=SC2046 # one word per device
set -- $(vrb_legacy_pci_devs)
[ $# -eq 2 ] || die "expected 2 legacy virtio-blk functions, found $#"
pci_vrb=$1
pci_vio=$2
echo vringblk >"$pci_vrb/driver_override"
echo virtio-pci >"$pci_vio/driver_override"

ncpus=$(grep -c ^processor /proc/cpuinfo)
for job in $(echo "$jobs" | tr , ' '); do
	job_args "$job" >/dev/null || die "unknown job $job"
	[ "$ncpus" -ge "$(job_cpus "$job")" ] ||
		die "job $job needs $(job_cpus "$job") vCPUs, the guest has $ncpus"
done

drv_of() {
	basename "$(readlink "$1/driver")"
}

# load_drivers NPOLL: vringblk on the first disk, virtio_blk on the
# second, both with poll_queues=NPOLL (0: the modules' default, no
# parameter given).  virtio_blk sits on virtio_pci, which stays loaded
# and bound across reloads; only virtio_blk itself is reloaded.
load_drivers() {
	local args=""
	[ "$1" = 0 ] || args="poll_queues=$1"
	# shellcheck disable=SC2086 # $args: zero or one word
	insmod /vringblk.ko $args || die "insmod vringblk.ko $args failed"
	modprobe virtio_pci || die "modprobe virtio_pci failed"
	# shellcheck disable=SC2086
	modprobe virtio_blk $args || die "modprobe virtio_blk $args failed"
	vrb_wait_for /dev/vringblk0 10 || die "no /dev/vringblk0"
	vrb_wait_for /dev/vda 10 || die "no /dev/vda"
	[ "$(drv_of "$pci_vrb")" = vringblk ] ||
		die "${pci_vrb##*/} not bound to vringblk"
	[ "$(drv_of "$pci_vio")" = virtio-pci ] ||
		die "${pci_vio##*/} not bound to virtio-pci"
	vio=$(basename "$(ls -d "$pci_vio"/virtio*)")
}

# unload_drivers: both disks go away (virtio_pci stays, see above).
unload_drivers() {
	rmmod vringblk || die "rmmod vringblk failed"
	rmmod virtio_blk || die "rmmod virtio_blk failed"
	if [ -e /dev/vringblk0 ] || [ -e /dev/vda ]; then
		die "a disk is still there after rmmod"
	fi
}

# ---- same queue settings on both ----------------------------------------
#
# scheduler none: with mq-deadline, its own overhead dominates the small
# differences between drivers.  nr_requests and max_sectors_kb: the smaller
# of the two drivers' values, on both.  No write-back throttling, no
# entropy feeding, both "non-rotational" (virtio_blk leaves rotational=1).
# A reloaded driver has new queues with the defaults: set them again.

qattr() {
	cat "/sys/block/$1/queue/$2"
}
min() {
	if [ "$1" -lt "$2" ]; then echo "$1"; else echo "$2"; fi
}
nhw() {
	set -- "/sys/block/$1/mq/"*
	echo $#
}
# hctx_types DISK: blk-mq's type of each hardware queue, e.g.
# "default,poll" (debugfs block/DISK/hctxN/type).
hctx_types() {
	local i=0 out=""
	while [ -e "/sys/kernel/debug/block/$1/hctx$i/type" ]; do
		out="$out${out:+,}$(cat "/sys/kernel/debug/block/$1/hctx$i/type")"
		i=$((i + 1))
	done
	echo "$out"
}

# setup_queues PREFIX: the settings above, and INFO lines about them,
# their keys prefixed with PREFIX ("" or "poll.").
setup_queues() {
	local nr maxkb d q a
	nr=$(min "$(qattr vringblk0 nr_requests)" "$(qattr vda nr_requests)")
	maxkb=$(min "$(qattr vringblk0 max_sectors_kb)" \
		"$(qattr vda max_sectors_kb)")
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
		max_segments max_segment_size logical_block_size \
		physical_block_size rotational add_random wbt_lat_usec \
		nomerges rq_affinity write_cache io_poll; do
		info "${1}queue.$a" "$(qattr vringblk0 $a 2>/dev/null | tr ' ' _) $(qattr vda $a 2>/dev/null | tr ' ' _)"
	done
	info "${1}hw_queues" "$(nhw vringblk0) $(nhw vda)"
	info "${1}hctx_types" "$(hctx_types vringblk0) $(hctx_types vda)"
}

# ---- code regions and interrupt lines, for the host ------------------------
#
# /proc/modules: "name size refs deps state address": the module's core
# (text, rodata, data) is [address, address + size).  The kernel's own text
# is [_stext, _etext) from /proc/kallsyms.

# emit_layout NAME MODARGS: where the code is now (after a (re)load).
emit_layout() {
	local name size addr
	echo "VRB-BENCH-LAYOUT $1 $2"
	# (The host does the arithmetic: these addresses overflow the shell's.)
	while read -r name size _ _ _ addr _; do
		echo "VRB-BENCH-REGION $name $addr $size"
	done </proc/modules
	awk '$3 == "_stext" { s = $1 } $3 == "_etext" { e = $1 }
		END { print "VRB-BENCH-REGION kernel-text 0x" s " end 0x" e }' \
		/proc/kallsyms
	awk -v pci="${pci_vrb##*/}" -v vio="$vio" '
		$NF ~ "^vringblk-" pci { sub(":", "", $1); print "VRB-BENCH-IRQ vringblk", $1, $NF }
		$NF ~ "^" vio "-" { sub(":", "", $1); print "VRB-BENCH-IRQ virtio_blk", $1, $NF }
	' /proc/interrupts
}

# emit_syms: the symbols, to name the functions the plugin's addresses
# fall in (Debian's System.map on the host is a stub, and KASLR moves the
# kernel anyway; a reloaded module moves too).  Only text symbols;
# compressed, as the serial console is slow.
emit_syms() {
	[ "$syms" = 1 ] || return 0
	awk '$2 ~ /^[tTwW]$/' /proc/kallsyms | gzip -1 | base64 |
		sed 's/^/VRB-BENCH-SYMS /'
}

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
	case $job in
	poll-* | mq-*) queue_counters "$drv" "$disk" >/tmp/qc.before ;;
	esac

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
	[ "$drv" = vringblk ] && files="$files $(echo "$DBG/$disk"/vq*/stats)"
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
	case $job in
	poll-* | mq-*)
		queue_counters "$drv" "$disk" >/tmp/qc.after
		check_queues "$seq" "$job" "$drv" "$disk" ;;
	esac
}

# ---- where the requests went -------------------------------------------
#
# A polled job measures polling only if its requests really went to the
# poll queue: hipri I/O on a queue without one is completed by interrupt
# on 6.1 (and refused on later kernels), and would quietly measure the
# interrupt path again.  Likewise the multiqueue job means something only
# if both queues carried I/O.  So around each such run (the whole fio
# run, not only the window) the guest reads the counters that say where
# the requests went, and prints a VRB-BENCH-CHECK line.
#
#   vringblk:   debugfs vqN/stats of each queue: completed (requests the
#               queue completed), irqs (its interrupts), polls (calls of
#               the poll hook)
#   virtio_blk: has no per-queue counters; /proc/interrupts per vector
#               (virtioN-req.0, ...: a poll queue has no vector at all),
#               io_poll in sysfs and blk-mq's hctx types
#   both:       requests completed on the disk (/sys/block/X/stat)

# queue_counters DRV DISK: "key value" lines: requests, vqN.completed,
# vqN.irqs, vqN.polls (vringblk), irq.<name> (each interrupt line of the
# disk, summed over the CPUs).
queue_counters() {
	local r w f q
	read -r r _ _ _ w _ <"/sys/block/$2/stat"
	echo "requests $((r + w))"
	if [ "$1" = vringblk ]; then
		for f in "$DBG/$2"/vq*/stats; do
			q=${f%/stats}
			awk -v q="${q##*/}" '$1 ~ /^(completed|irqs|polls)$/ {
				print q "." $1, $2 }' "$f"
		done
	fi
	# "IRQ: <count per CPU>... <chip> <hwirq> <name>"
	awk -v pat="$(irq_pattern "$1")" '$NF ~ pat {
		s = 0
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++)
			s += $i
		print "irq." $NF, s }' /proc/interrupts
}

# irq_pattern DRV: the names of DRV's interrupt lines in /proc/interrupts.
irq_pattern() {
	if [ "$1" = vringblk ]; then
		echo "^vringblk-${pci_vrb##*/}"
	else
		echo "^$vio-"
	fi
}

# qc_delta KEY: its value in /tmp/qc.after minus that in /tmp/qc.before.
qc_delta() {
	local a b
	a=$(awk -v k="$1" '$1 == k { print $2 }' /tmp/qc.after)
	b=$(awk -v k="$1" '$1 == k { print $2 }' /tmp/qc.before)
	echo $((${a:-0} - ${b:-0}))
}

# qc_keys REGEX: the keys of /tmp/qc.after that match REGEX.
qc_keys() {
	awk -v re="$1" '$1 ~ re { print $1 }' /tmp/qc.after
}

# check_queues SEQ JOB DRV DISK: the VRB-BENCH-CHECK line of a polled or
# multiqueue run (none for the other jobs).
check_queues() {
	local seq=$1 job=$2 drv=$3 disk=$4 req what ok text
	req=$(qc_delta requests)
	case $job in
	poll-*) what=poll-queue ;;
	mq-*) what=both-queues ;;
	*) return 0 ;;
	esac
	ok=ok
	text=$("check_${what%-*}_$drv" "$req" "$disk") || ok=FAIL
	[ "$req" -gt 0 ] || { ok=FAIL; text="no requests completed; $text"; }
	echo "VRB-BENCH-CHECK $seq $ok $what: $text"
}

# check_poll_vringblk REQ DISK: every request went through the poll queue
# (the last virtqueue): it completed exactly REQ, was polled and took no
# interrupt, and the interrupt queues completed none.
check_poll_vringblk() {
	local nq pq c p i o=0 k
	nq=$(qc_keys '^vq[0-9]+[.]completed$' | wc -l)
	pq=vq$((nq - 1))
	c=$(qc_delta "$pq.completed")
	p=$(qc_delta "$pq.polls")
	i=$(qc_delta "$pq.irqs")
	for k in $(qc_keys '^vq[0-9]+[.]completed$'); do
		[ "$k" = "$pq.completed" ] || o=$((o + $(qc_delta "$k")))
	done
	echo "poll queue $pq of $nq: completed +$c of $1 requests, polls +$p, irqs +$i; interrupt queues completed +$o"
	[ "$nq" -ge 2 ] && [ "$c" = "$1" ] && [ "$p" -gt 0 ] &&
		[ "$i" = 0 ] && [ "$o" = 0 ]
}

# check_poll_virtio_blk REQ DISK: no interrupt on any of the disk's
# vectors while REQ requests completed (so they were all reaped by
# polling: there is no other way for a request to complete short of a
# 30 s timeout), io_poll is 1 and blk-mq has a poll hardware queue.
check_poll_virtio_blk() {
	local n=0 k iop types
	for k in $(qc_keys '^irq[.]'); do
		n=$((n + $(qc_delta "$k")))
	done
	iop=$(qattr "$2" io_poll)
	types=$(hctx_types "$2")
	echo "interrupts on $vio's vectors +$n over $1 requests; io_poll $iop; hardware queues $types"
	[ "$n" = 0 ] && [ "$iop" = 1 ] && case ,$types, in *,poll,*) ;; *) false ;; esac
}

# share N TOTAL: N as a percentage of TOTAL.
share() {
	local t=$2
	[ "$t" -gt 0 ] || t=1
	echo "$(($1 * 100 / t))%"
}

# check_both_vringblk REQ DISK: each virtqueue completed at least a tenth
# of the requests, and together all of them.
check_both_vringblk() {
	local k c sum=0 n=0 low=0 out=""
	for k in $(qc_keys '^vq[0-9]+[.]completed$'); do
		c=$(qc_delta "$k")
		sum=$((sum + c))
		n=$((n + 1))
		[ $((c * 10)) -ge "$1" ] || low=1
		out="$out${out:+, }${k%.completed} +$c ($(share "$c" "$1"))"
	done
	for k in $(qc_keys '^irq[.]'); do
		out="$out; ${k#irq.} +$(qc_delta "$k")"
	done
	echo "completed: $out; $sum of $1 requests"
	[ "$n" -ge 2 ] && [ "$low" = 0 ] && [ "$sum" = "$1" ]
}

# check_both_virtio_blk REQ DISK: each request vector (virtioN-req.M)
# took at least a tenth of the disk's queue interrupts.
check_both_virtio_blk() {
	local k c sum=0 n=0 low=0 out=""
	for k in $(qc_keys '^irq[.].*-req[.]'); do
		sum=$((sum + $(qc_delta "$k")))
	done
	for k in $(qc_keys '^irq[.].*-req[.]'); do
		c=$(qc_delta "$k")
		n=$((n + 1))
		[ $((c * 10)) -ge "$sum" ] && [ "$c" -gt 0 ] || low=1
		out="$out${out:+, }${k#irq.} +$c ($(share "$c" "$sum"))"
	done
	echo "interrupts: $out over $1 requests"
	[ "$n" -ge 2 ] && [ "$low" = 0 ]
}

# dump_state DRV DISK: what the driver and the block layer think is going
# on, for a human reading the console log after a stall or failure.
dump_state() {
	local f q
	echo "--- /sys/block/$2/inflight: $(cat "/sys/block/$2/inflight")"
	grep -E "vringblk|virtio" /proc/interrupts
	if [ "$1" = vringblk ]; then
		for q in "$DBG/vringblk0"/vq*; do
			for f in ring stats descs; do
				echo "--- $q/$f"
				head -n 60 "$q/$f"
			done
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
# It keeps running across a reload of the drivers (the polled jobs move
# 4 KiB, one segment whatever the memory looks like).

scatter_buffers() {
	local t
	if [ "$frag" -gt 0 ]; then
		echo never >/sys/kernel/mm/transparent_hugepage/enabled
		vrbfrag "$frag" >/tmp/frag.out 2>&1 &
		t=0
		until grep -q ready /tmp/frag.out; do
			[ "$t" -lt 600 ] ||
				die "vrbfrag did not get ready: $(cat /tmp/frag.out)"
			usleep 100000
			t=$((t + 1))
		done
		info buffers "scattered 4 KiB pages (no THP; vrbfrag $frag MiB)"
	else
		info buffers "as allocated (THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled))"
	fi
}

# ---- one phase: load, warm up, run -------------------------------------

# phase NPOLL JOBS: load both drivers with poll_queues=NPOLL, set their
# queues up, tell the host where the code is, warm up and run each of
# JOBS (comma-separated) --reps times on both, interleaved; then the
# symbols of this layout.
phase() {
	local npoll=$1 pjobs=$2 prefix="" name=irq job disk order drv
	if [ "$npoll" != 0 ]; then
		prefix=poll.
		name=poll
	fi
	load_drivers "$npoll"
	if [ -z "$layouts" ]; then
		info features.vringblk "$(tr '\n' ' ' <"$DBG/vringblk0/features")"
		info features.virtio_blk "$(cat "$pci_vio"/virtio*/features)"
	fi
	info "${prefix}modargs" "poll_queues=$npoll"
	setup_queues "$prefix"
	emit_layout "$name" "poll_queues=$npoll"
	[ -n "$layouts" ] || scatter_buffers
	layouts="$layouts${layouts:+,}$name"

	# Debugging only: vringblk's tracepoints into the kernel's trace
	# buffer, shown by dump_state() when a run stalls.  (A module's
	# events are new after each load: enable them again.)
	if [ "$ktrace" = 1 ]; then
		echo 4096 >/sys/kernel/tracing/buffer_size_kb
		echo 1 >/sys/kernel/tracing/events/vringblk/enable
		info ktrace "vringblk tracepoints on (instruction counts include them)"
	fi

	# Warm-up: under TCG the first execution of any code is slow (QEMU
	# translates it), so run every job once on each disk before
	# measuring (after a reload too: the code is at new addresses).
	if [ "$warmup" = 1 ]; then
		echo "--- warm-up: every job for 1 s on each disk"
		for job in $(echo "$pjobs" | tr , ' '); do
			for disk in vringblk0 vda; do
				# shellcheck disable=SC2046 # one word per option
				fio --name=warmup --filename="/dev/$disk" \
					--direct=1 --time_based --runtime=1 \
					$(job_args "$job") >/dev/null 2>&1 ||
					die "warm-up fio failed on $disk"
			done
		done
	fi

	rep=1
	while [ "$rep" -le "$reps" ]; do
		for job in $(echo "$pjobs" | tr , ' '); do
			# A/B, then B/A on the next repetition: neither
			# driver always runs first (a drift over time would
			# favour it).
			if [ $((rep % 2)) = 1 ]; then
				order="vringblk virtio_blk"
			else
				order="virtio_blk vringblk"
			fi
			for drv in $order; do
				seq=$((seq + 1))
				run "$seq" "$job" "$drv" "$rep" ||
					failed=$((failed + 1))
			done
		done
		rep=$((rep + 1))
	done
	emit_syms
}

# ---- the benchmark ---------------------------------------------------------

info pci.vringblk "${pci_vrb##*/}"
info pci.virtio_blk "${pci_vio##*/}"
info kernel "$(uname -r)"
info cpus "$ncpus"
info mem_kb "$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
info fio "$(fio --version)"
info runtime "$runtime"
info ramp "$ramp"
info window "$window"
for job in $(echo "$jobs" | tr , ' '); do
	info "job.$job" "$(job_args "$job")"
done

# First the jobs on interrupt queues, then, if any, the polled ones with
# both drivers reloaded: poll_queues=1 takes one of the two queues away
# from the interrupt-driven jobs, which must not run with it.
seq=0
failed=0
layouts=""
irq_jobs=$(jobs_with 0)
poll_jobs=$(jobs_with 1)
[ -n "$irq_jobs$poll_jobs" ] || die "no jobs"
if [ -n "$irq_jobs" ]; then
	phase 0 "$irq_jobs"
fi
if [ -n "$poll_jobs" ]; then
	[ -z "$layouts" ] || unload_drivers
	phase 1 "$poll_jobs"
fi
echo "VRB-BENCH-END $seq runs, $failed failed"
