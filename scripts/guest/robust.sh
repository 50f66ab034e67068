#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# robust.sh - guest side of scripts/robust-test.sh: vringblk in a broken
# world (issue 6) and its debugfs counters checked against what fio did
# (issue 4).  One scenario per boot, named on the kernel command line:
#
#   vrbtest.scenario=NAME   run s_NAME below
#   vrbtest.long=0|1        the long forms (more data, more cycles)
#   vrbtest.disks=N         disks to wait for at insmod
#   vrbtest.sizeI=BYTES     disk I's size
#   (and per-scenario values: bad_read, bad_write, resize_to, plug_size,
#   cycles)
#
# Host actions: "VRB-WAIT <tag>" on the console asks the host runner to
# act (throttle the disk, unplug it...); the runner answers "VRB-ACK <tag>
# ok|fail" on the second serial port, /dev/ttyS1, read here by host().
#
# Each check prints one "VRB-RESULT PASS|FAIL|SKIP <case>" line (lib.sh).

# shellcheck source=lib.sh
. /vrb/lib.sh

scenario=$(vrb_param scenario none)
long=$(vrb_param long 0)
disk0=$(vrb_disk 0)
dev0=/dev/$disk0
DBG=$VRB_DEBUGFS
T=/sys/kernel/tracing
PCIDRV=/sys/bus/pci/drivers/$VRB_DRIVER

# A 4 MiB random pattern; its md5 is the reference.
dd if=/dev/urandom of=/tmp/pat bs=64k count=64 status=none
pat_md5=$(vrb_md5 /tmp/pat)

# Informational messages (reset done, capacity changed...) stay out of
# the console; the tests read them with dmesg.
dmesg -n 5

# ---- helpers: time, background jobs, the kernel log -------------------------

# now_ms: milliseconds since boot, from /proc/uptime (10 ms resolution).
now_ms() {
	local up s f
	read -r up _ </proc/uptime
	s=${up%.*}
	f=${up#*.}
	f=${f#0}
	echo $((s * 1000 + f * 10))
}

# bg_start NAME CMD...: run CMD in the background; its output goes to
# /tmp/NAME.out, its exit status to /tmp/NAME.rc once it ends.
bg_start() {
	local name=$1
	shift
	rm -f "/tmp/$name.rc"
	("$@" >"/tmp/$name.out" 2>&1; echo $? >"/tmp/$name.rc") &
}

# bg_wait NAME SECONDS: wait for NAME to end; return its exit status, or
# 124 if it still runs after SECONDS.
bg_wait() {
	local n=$(($2 * 10))
	while [ ! -s "/tmp/$1.rc" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 124
		usleep 100000
	done
	return "$(cat "/tmp/$1.rc")"
}

# bg_ends NAME SECONDS: a check that NAME ends in time, whatever its status.
bg_ends() {
	local rc=0
	bg_wait "$1" "$2" || rc=$?
	tail -n 5 "/tmp/$1.out"
	if [ "$rc" = 124 ]; then
		echo "$1 still running after $2 s; blocked tasks:"
		echo w >/proc/sysrq-trigger
		return 1
	fi
	echo "$1 ended with status $rc"
}

# dmesg_mark, then dmesg_new: the kernel log lines since the mark.  The
# host boots with log_buf_len=4M, so nothing scrolls away in one boot.
dmesg_mark() {
	DMARK=$(dmesg | wc -l)
}
dmesg_new() {
	dmesg | tail -n +$((DMARK + 1))
}

# dmesg_has REGEX: the log since the mark has a matching line.
dmesg_has() {
	dmesg_new | grep -qE "$1" || {
		echo "no kernel message matching '$1' since the mark"
		return 1
	}
}

# dmesg_lacks REGEX: ... and not this one.
dmesg_lacks() {
	if dmesg_new | grep -E "$1"; then
		echo "unexpected kernel message matching '$1'"
		return 1
	fi
}

# ---- helpers: talking to the host -------------------------------------------

if [ -c /dev/ttyS1 ]; then
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	exec 3<>/dev/ttyS1
fi

# host TAG [SECONDS]: ask the host runner for action TAG, wait for its
# answer (default 60 s).  Succeeds if the host says it did it.  The
# request goes to /dev/console itself: vrb_check keeps a check's output.
host() {
	host_request "$1"
	host_wait "$@"
}

# host_request TAG: only ask; host_wait TAG [SECONDS]: only wait.
host_request() {
	echo "VRB-WAIT $1" >/dev/console
}

host_wait() {
	local tag=$1 t=${2:-60} line end left
	end=$(($(now_ms) + t * 1000))
	# Not the shell's own read: when a signal interrupts it (SIGCHLD from
	# a background job that ends, say insmod in config_during_probe),
	# ash starts the read again and loses the part of the line it had
	# already read (seen: "VRB-ACK resize o" gone, only "k" left).  head
	# runs in a subshell with no children of its own, so nothing
	# interrupts it, and timeout bounds the wait.
	while left=$(((end - $(now_ms) + 999) / 1000)) && [ "$left" -gt 0 ] &&
		line=$(timeout "$left" head -n 1 <&3); do
		case $line in
		"VRB-ACK $tag ok") return 0 ;;
		"VRB-ACK $tag "*) echo "host: $line"; return 1 ;;
		*) echo "host: ignoring '$line'" ;;
		esac
	done
	echo "no answer from the host for $tag"
	return 1
}

# host_do TAG: host, and a FAIL "ack-TAG" if it did not work (the runner
# records its own side as "host-TAG").
host_do() {
	host "$1" >/tmp/host.out 2>&1 && return 0
	vrb_fail "ack-$1" "$(tail -n 1 /tmp/host.out)"
	return 1
}

# label VALUE: VALUE as part of a case name (no spaces, not empty).
label() {
	if [ -z "$1" ]; then
		echo empty
	else
		echo "$1" | tr ' ' _ | cut -c1-20
	fi
}

# ---- helpers: the driver's views --------------------------------------------

# qstat DISK KEY: KEY from the stats of every queue of DISK, summed.
qstat() {
	cat "$DBG/$1"/vq*/stats |
		awk -v k="$2" '$1 == k { s += $2 } END { print s + 0 }'
}

# qstat_max DISK KEY: the largest KEY over the queues of DISK.
qstat_max() {
	cat "$DBG/$1"/vq*/stats |
		awk -v k="$2" '$1 == k && $2 > m { m = $2 } END { print m + 0 }'
}

# nqueues DISK: how many virtqueues DISK has.
nqueues() {
	set -- "$DBG/$1"/vq*
	echo $#
}

# stats_reset DISK: write 0 to every queue's stats.
stats_reset() {
	local f
	for f in "$DBG/$1"/vq*/stats; do
		echo 0 >"$f" || return 1
	done
}

# ring_val FILE LABEL: the number after "LABEL:" in a ring view.
ring_val() {
	sed -n "s/^$2: *\\([0-9][0-9]*\\).*/\\1/p" "$1"
}

# ring_sum DISK LABEL: ring_val over all queues of DISK, summed.
ring_sum() {
	local f s=0 v
	for f in "$DBG/$1"/vq*/ring; do
		v=$(ring_val "$f" "$2")
		s=$((s + v))
	done
	echo "$s"
}

# ring_settled DISK: every queue of an idle disk has all its descriptors
# free, nothing in flight, and indices that agree with each other.
ring_settled() {
	local q why
	for q in "$DBG/$1"/vq*; do
		why=$(ring_settled_q "$q") && continue
		sed 's/^/    /' "$q/ring"
		echo "$why"
		return 1
	done
}

ring_settled_q() {
	local r=/tmp/ring.txt v=${1##*/} num free ai ui flags=0 ue
	cat "$1/ring" >"$r" || return 1
	# A poll queue asks for no interrupt, ever: avail.flags NO_INTERRUPT
	# without EVENT_IDX, used_event half the index space ahead with it.
	if grep -q '^completions: *polled' "$r"; then
		grep -q '^used_event:' "$r" || flags=1
	fi
	num=$(ring_val "$r" "queue size")
	free=$(sed -n 's/^free descriptors: *\([0-9]*\) of.*/\1/p' "$r")
	ai=$(ring_val "$r" "avail.idx")
	ui=$(ring_val "$r" "used.idx")
	expect_eq "$v free descriptors" "$free" "$num" &&
	expect_eq "$v chains in flight" \
		"$(ring_val "$r" "chains in flight")" 0 &&
	expect_eq "$v avail.idx in memory" "$ai" \
		"$(sed -n 's/^avail.idx:.*(shadow \([0-9]*\)).*/\1/p' "$r")" &&
	expect_eq "$v used.idx seen by the driver" "$ui" \
		"$(sed -n 's/^used.idx:.*(last seen by driver \([0-9]*\)).*/\1/p' "$r")" &&
	expect_eq "$v used.idx" "$ui" "$ai" &&
	expect_eq "$v avail.flags" \
		"$(($(sed -n 's/^avail.flags: *\([0-9a-fx]*\).*/\1/p' "$r")))" "$flags" &&
	expect_eq "$v broken" "$(sed -n 's/^broken: *//p' "$r")" no ||
		return 1
	# With EVENT_IDX: the driver asks for an interrupt at the next used
	# entry, QEMU for a kick at the next available one.
	if grep -q '^used_event:' "$r"; then
		ue=$ui
		grep -q '^completions: *polled' "$r" && ue=$(((ui + 32768) % 65536))
		expect_eq "$v used_event" "$(ring_val "$r" used_event)" "$ue" &&
		expect_eq "$v avail_event" "$(ring_val "$r" avail_event)" \
			"$ai" || return 1
	fi
	# The descriptor table view says the same: all free.
	expect_eq "$v descs header" "$(head -n 1 "$1/descs")" \
		"$num descriptors, $num free (driver-private free list)" &&
	expect_eq "$v descs lines marked free" \
		"$(grep -c '| free$' "$1/descs")" "$num"
}

# has_feature DISK NAME: NAME was negotiated (debugfs "features").
has_feature() {
	grep '^negotiated' "$DBG/$1/features" | grep -qw "$2"
}

# disk_bdf DISK: the PCI address of the function behind DISK.
disk_bdf() {
	basename "$(readlink -f "/sys/block/$1/device")"
}

# wait_gone PATH [SECONDS]: wait until PATH no longer exists (default 10).
wait_gone() {
	local n=$((${2:-10} * 10))
	while [ -e "$1" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { echo "$1 still there after ${2:-10} s"; return 1; }
		usleep 100000
	done
}

# inflight DISK: requests the block layer has in flight on DISK.
inflight() {
	awk '{ print $1 + $2 }' "/sys/block/$1/inflight"
}

# wait_idle DISK: wait until the block layer has nothing in flight.
wait_idle() {
	local n=100
	while [ "$(inflight "$1")" != 0 ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { echo "$1 still busy"; return 1; }
		usleep 100000
	done
}

# diskstat DISK FIELD: a field of /sys/block/DISK/stat (1 = read I/Os,
# 5 = write I/Os, 12 = discard I/Os, 16 = flush I/Os).
diskstat() {
	awk -v f="$2" '{ print $f + 0 }' "/sys/block/$1/stat"
}

# disk_requests DISK: requests the block layer completed (reads + writes
# + discards + flushes); write-zeroes count as writes.
disk_requests() {
	awk '{ print $1 + $5 + $12 + $16 }' "/sys/block/$1/stat"
}

# block_md5 FILE BLOCK [BS]: md5 of one block, read with O_DIRECT.
block_md5() {
	vrb_md5 "$1" "$2" 1 "${3:-4k}" direct
}

# write_pattern DEV [SEEK_64K]: the 4 MiB pattern at SEEK (64 KiB units).
write_pattern() {
	dd if=/tmp/pat of="$1" bs=64k seek="${2:-0}" oflag=direct status=none
}

# check_pattern DEV [SKIP_64K]: the pattern is still there.
check_pattern() {
	expect_eq "md5 of the pattern at ${2:-0} x 64k" \
		"$(vrb_md5 "$1" "${2:-0}" 64 64k direct)" "$pat_md5"
}

# fio_verify DEV [OFFSET [SIZE [QD]]]: random writes, read back, crc32c;
# fails if fio wrote nothing (an offset past the end, say).
fio_verify() {
	fio --name=verify --filename="$1" --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k --iodepth="${4:-16}" \
		--offset="${2:-16m}" --size="${3:-4m}" --verify=crc32c \
		--verify_fatal=1 --randrepeat=0 >/tmp/fio.out 2>&1 ||
		{ cat /tmp/fio.out; return 1; }
	grep -qE 'issued rwts: total=[0-9]+,[1-9]' /tmp/fio.out ||
		{ cat /tmp/fio.out; echo "fio wrote nothing"; return 1; }
}

# fio_errors FILE: errors fio counted with continue_on_error.
fio_errors() {
	sed -n 's/.*errors *: total=\([0-9]*\).*/\1/p' "$1" |
		awk '{ s += $1 } END { print s + 0 }'
}

# expect_eio FILE: FILE (a command's stderr) says Input/output error.
expect_eio() {
	grep -q 'Input/output error' "$1" || {
		echo "expected EIO, got: $(cat "$1")"
		return 1
	}
}

# ---- counters: debugfs agrees with what fio did (issue 4) --------------------
#
# The invariants, from the code (mod/vrb_vq.c, mod/vrb_blk.c):
#   - every request the block layer sends to the driver is one chain:
#     added == used == completed == requests in /sys/block/X/stat
#     (reads + writes + discards + flushes), as long as no reset failed
#     any, minus one per fsync(): the block layer counts an fsync twice,
#     as a zero-length write (the empty flush bio's own request, which
#     the flush machinery completes without the driver) and as a flush
#     (the request the driver gets; concurrent fsyncs may share one);
#   - a FLUSH is the only chain of 2 buffers (header, status): the
#     vrb_add tracepoint's 2-buffer chains == flushes in /sys/block/X/stat;
#   - with INDIRECT_DESC every chain is indirect (indirect == added) and
#     takes its buffers + 1 descriptors; without it, its buffers: so
#     descs == sum of the vrb_add tracepoint's bufs (+ added if indirect),
#     and a 4 KiB read (header, data, status) takes 3 (+1);
#   - each kick decision is a kick or a suppressed kick, and at QD1 there is
#     one per request; each interrupt that finds work completes >= 1, and at
#     QD1 exactly 1: irqs - spurious == completed;
#   - a refused add is a stall: full == stalls, restarts <= stalls;
#   - at rest: all descriptors free, nothing in flight, avail.idx ==
#     used.idx == what the driver last saw; avail.idx moved by "added".

s_counters() {
	local i=0 n
	n=$(vrb_param disks 1)
	vrb_check load vrb_load || return 0
	while [ "$i" -lt "$n" ]; do
		counters_disk "$(vrb_disk "$i")"
		i=$((i + 1))
	done
}

counters_disk() {
	local d=$1 ind=0 req0 rd0 av0
	has_feature "$d" INDIRECT_DESC && ind=1
	vrb_say "$d: $(nqueues "$d") queue(s), indirect=$ind"
	wait_idle "$d"
	vrb_check "$d/stats-reset-zeroes" check_stats_zero "$d"

	# Phase 1: 200 random 4 KiB reads at QD1.
	req0=$(disk_requests "$d")
	rd0=$(diskstat "$d" 1)
	av0=$(ring_sum "$d" avail.idx)
	fio --name=qd1 --filename="/dev/$d" --direct=1 --ioengine=libaio \
		--rw=randread --bs=4k --iodepth=1 --size=16m --number_ios=200 \
		--randrepeat=0 >/tmp/fio.out 2>&1 || cat /tmp/fio.out
	wait_idle "$d"
	vrb_check "$d/qd1/diskstats-match-fio" check_qd1_diskstats "$d" \
		"$req0" "$rd0"
	vrb_check "$d/qd1/added-used-completed" check_added "$d" 200
	vrb_check "$d/qd1/descs-indirect" check_qd1_descs "$d" "$ind"
	vrb_check "$d/qd1/kicks" check_qd1_kicks "$d"
	vrb_check "$d/qd1/irqs" check_qd1_irqs "$d"
	vrb_check "$d/qd1/no-stall-no-error" check_quiet_counters "$d" 1
	vrb_check "$d/qd1/avail-idx-moved" check_avail_moved "$d" "$av0"
	vrb_check "$d/qd1/ring-settled" ring_settled "$d"

	# Phase 2: a mix of sizes, depths and operations, traced.
	stats_reset "$d"
	cp "/sys/block/$d/stat" /tmp/stat0
	av0=$(ring_sum "$d" avail.idx)
	echo 0 >"$T/tracing_on"
	echo >"$T/trace"
	echo 1 >"$T/events/vringblk/vrb_add/enable"
	echo 1 >"$T/events/vringblk/vrb_kick/enable"
	echo 1 >"$T/tracing_on"
	counters_mixed_load "$d"
	wait_idle "$d"
	echo 0 >"$T/tracing_on"
	echo 0 >"$T/events/vringblk/enable"
	grep " $d vq" "$T/trace" >/tmp/trace.txt
	vrb_say "$d after the mixed load:"
	cat "$DBG/$d"/vq*/stats | sed 's/^/    /'
	vrb_check "$d/mixed/added-equals-diskstats" check_mixed_added "$d"
	vrb_check "$d/mixed/flushes-match-trace" check_mixed_flushes "$d"
	vrb_check "$d/mixed/trace-agrees" check_trace "$d" "$ind"
	vrb_check "$d/mixed/indirect" expect_eq indirect \
		"$(qstat "$d" indirect)" $(($(qstat "$d" added) * ind))
	vrb_check "$d/mixed/irqs-complete-work" check_irqs_le "$d"
	vrb_check "$d/mixed/stalls-restarts" check_quiet_counters "$d" 0
	vrb_check "$d/mixed/avail-idx-moved" check_avail_moved "$d" "$av0"
	vrb_check "$d/mixed/ring-settled" ring_settled "$d"
	vrb_check "$d/mixed/rings-view" check_rings_view "$d"
}

check_stats_zero() {
	stats_reset "$1" || return 1
	if cat "$DBG/$1"/vq*/stats | awk '$2 + 0 != 0 { print; bad = 1 }
		END { exit bad }'; then
		return 0
	fi
	echo "counters not zero after writing 0"
	return 1
}

# check_qd1_diskstats DISK REQS0 READS0
check_qd1_diskstats() {
	grep -E 'issued rwts' /tmp/fio.out
	expect_eq "reads in /sys/block/$1/stat" \
		$(($(diskstat "$1" 1) - $3)) 200 &&
	expect_eq "all requests in /sys/block/$1/stat" \
		$(($(disk_requests "$1") - $2)) 200
}

# check_added DISK N: added == used == completed == N.
check_added() {
	expect_eq added "$(qstat "$1" added)" "$2" &&
	expect_eq used "$(qstat "$1" used)" "$2" &&
	expect_eq completed "$(qstat "$1" completed)" "$2"
}

# A 4 KiB read is header + data + status: 3 buffers, +1 for the ring
# descriptor pointing at the indirect table.
check_qd1_descs() {
	expect_eq descs "$(qstat "$1" descs)" $((200 * (3 + $2))) &&
	expect_eq indirect "$(qstat "$1" indirect)" $((200 * $2))
}

# One kick decision per request at QD1 (every request is a batch's last).
check_qd1_kicks() {
	local k s
	k=$(qstat "$1" kicks)
	s=$(qstat "$1" kicks_suppressed)
	echo "kicks $k, suppressed $s"
	expect_eq "kicks + kicks_suppressed" $((k + s)) 200 || return 1
	[ "$k" -ge 1 ] || { echo "no kick at all"; return 1; }
}

# At QD1 each non-spurious interrupt completes exactly one request.
check_qd1_irqs() {
	local i s c
	i=$(qstat "$1" irqs)
	s=$(qstat "$1" spurious)
	c=$(qstat "$1" completed)
	echo "irqs $i, spurious $s, completed $c"
	expect_eq "irqs - spurious" $((i - s)) "$c" &&
	expect_eq max_inflight "$(qstat_max "$1" max_inflight)" 1
}

# check_irqs_le DISK: each non-spurious interrupt completed at least one
# request, and the completions_per_irq ratio is completed / irqs.
check_irqs_le() {
	local i s c q
	i=$(qstat "$1" irqs)
	s=$(qstat "$1" spurious)
	c=$(qstat "$1" completed)
	echo "irqs $i, spurious $s, completed $c"
	[ "$i" -ge 1 ] || { echo "no interrupt"; return 1; }
	[ $((i - s)) -le "$c" ] || { echo "irqs - spurious > completed"; return 1; }
	for q in "$DBG/$1"/vq*; do
		awk '$1 == "irqs" { i = $2 } $1 == "completed" { c = $2 }
			$1 == "completions_per_irq" { r = $2 }
			END { want = i ? sprintf("%d.%02d", int(c / i),
				int(c * 100 / i) % 100) : "0.00"
			if (r != want) { print "completions_per_irq " r \
				", expected " want; exit 1 } }' "$q/stats" ||
			return 1
	done
}

# check_quiet_counters DISK QD1: nothing clamped, nothing broken, and
# every refused add (full) is a stall that a completion restarted.
check_quiet_counters() {
	local full st re
	full=$(qstat "$1" full)
	st=$(qstat "$1" stalls)
	re=$(qstat "$1" restarts)
	echo "full $full, stalls $st, restarts $re, max_inflight $(qstat_max "$1" max_inflight)"
	expect_eq len_clamped "$(qstat "$1" len_clamped)" 0 &&
	expect_eq broken "$(qstat "$1" broken)" 0 &&
	expect_eq "stalls (full adds)" "$st" "$full" || return 1
	[ "$re" -le "$st" ] || { echo "more restarts than stalls"; return 1; }
	[ "$st" = 0 ] || [ "$re" -ge 1 ] || { echo "stalled, never restarted"; return 1; }
	if [ "$2" = 1 ]; then
		expect_eq "stalls at QD1" "$st" 0 || return 1
	fi
	# No queue can have had more chains in flight than its depth.
	[ "$(qstat_max "$1" max_inflight)" -le \
		"$(cat "/sys/block/$1/queue/nr_requests")" ] ||
		{ echo "max_inflight above the queue depth"; return 1; }
}

# check_avail_moved DISK AVAIL0: the avail indices moved by "added".
check_avail_moved() {
	expect_eq "avail.idx moved by" \
		$((($(ring_sum "$1" avail.idx) - $2 + 65536) % 65536)) \
		"$(qstat "$1" added)"
}

# The mixed load: fio with mixed sizes and depths (and an fsync every 16
# writes: FLUSH requests), a buffered write with fsync (merged requests
# and a FLUSH), a discard and a write-zeroes where the device has them.
counters_mixed_load() {
	local dev=/dev/$1
	fio --filename="$dev" --direct=1 --ioengine=libaio --rw=randrw \
		--bssplit=512/10:4k/50:16k/20:64k/15:256k/5 --size=8m \
		--number_ios=150 --fsync=16 --randrepeat=0 \
		--name=qd4 --iodepth=4 --offset=8m \
		--name=qd16 --iodepth=16 --offset=16m \
		>/tmp/fio.out 2>&1 || cat /tmp/fio.out
	dd if=/tmp/pat of="$dev" bs=64k seek=448 count=16 conv=fsync \
		status=none
	if [ "$(cat "/sys/block/$1/queue/discard_max_bytes")" != 0 ]; then
		blkdiscard -o $((24 << 20)) -l $((1 << 20)) "$dev"
	fi
	if [ "$(cat "/sys/block/$1/queue/write_zeroes_max_bytes")" != 0 ]; then
		blkdiscard -z -o $((25 << 20)) -l $((1 << 20)) "$dev"
	fi
	sync
}

# stat_delta DISK FIELD: FIELD of /sys/block/DISK/stat since /tmp/stat0.
stat_delta() {
	echo $(($(diskstat "$1" "$2") - $(awk -v f="$2" '{ print $f + 0 }' /tmp/stat0)))
}

# fsyncs: fsync() calls of the mixed load: fio's (the 4th "issued rwts"
# number of each job) and dd's.
fsyncs() {
	sed -n 's/.*issued rwts: total=[0-9]*,[0-9]*,[0-9]*,\([0-9]*\) .*/\1/p' \
		/tmp/fio.out | awk '{ s += $1 } END { print s + 1 }'
}

check_mixed_added() {
	local r w dis fl sy
	r=$(stat_delta "$1" 1)
	w=$(stat_delta "$1" 5)
	dis=$(stat_delta "$1" 12)
	fl=$(stat_delta "$1" 16)
	sy=$(fsyncs)
	echo "block layer: $r reads, $w writes, $dis discards, $fl flushes;" \
		"$sy fsync() calls"
	check_added "$1" $((r + w + dis + fl - sy))
}

check_mixed_flushes() {
	local fl tr sy
	fl=$(stat_delta "$1" 16)
	tr=$(grep 'vrb_add:' /tmp/trace.txt | grep -c ' bufs=2 ')
	sy=$(fsyncs)
	echo "flushes: $fl in /sys/block/$1/stat, $tr in the trace, $sy fsync() calls"
	[ "$fl" -ge 1 ] || { echo "no FLUSH was sent"; return 1; }
	[ "$fl" -le "$sy" ] || { echo "more flushes than fsync() calls"; return 1; }
	expect_eq "2-buffer chains in the trace" "$tr" "$fl"
}

# The vrb_add and vrb_kick tracepoints saw the same requests and kick
# decisions the counters did.
check_trace() {
	local adds bufs k nk added
	added=$(qstat "$1" added)
	adds=$(grep -c 'vrb_add:' /tmp/trace.txt)
	bufs=$(sed -n 's/.*vrb_add:.* bufs=\([0-9]*\) .*/\1/p' /tmp/trace.txt |
		awk '{ s += $1 } END { print s + 0 }')
	k=$(grep 'vrb_kick:' /tmp/trace.txt | grep -c -- '-> kick$')
	nk=$(grep 'vrb_kick:' /tmp/trace.txt | grep -c -- '-> no kick$')
	grep -q 'LOST' "$T/trace" && { echo "trace buffer overflowed"; return 1; }
	expect_eq "vrb_add events" "$adds" "$added" &&
	expect_eq "descs (bufs + indirect tables)" "$(qstat "$1" descs)" \
		$((bufs + $2 * added)) &&
	expect_eq "vrb_kick events that kicked" "$k" "$(qstat "$1" kicks)" &&
	expect_eq "vrb_kick events that did not" "$nk" \
		"$(qstat "$1" kicks_suppressed)"
}

# The "rings" view shows the same indices as the "ring" view.
check_rings_view() {
	local q
	for q in "$DBG/$1"/vq*; do
		expect_eq "${q##*/} rings: avail idx" \
			"$(sed -n 's/^avail ring, idx \([0-9]*\),.*/\1/p' "$q/rings")" \
			"$(ring_val "$q/ring" avail.idx)" &&
		expect_eq "${q##*/} rings: used idx" \
			"$(sed -n 's/^used ring, idx \([0-9]*\),.*/\1/p' "$q/rings")" \
			"$(ring_val "$q/ring" used.idx)" || return 1
	done
}

# ---- timeout: a stalled device -----------------------------------------------
#
# The host throttles the disk to 1 byte/s: QEMU lets the first request
# through and holds every later one.  With io_timeout at 2 s the driver's
# .timeout handler must report the request and reset the device (after
# kicking the queue once more, at the first timeout), and the request
# must end within a bounded time (12 s: two timeouts of 2-3 s each, as
# blk-mq rounds them up, plus the reset); once the host lifts the limit
# the disk works again and the data is intact.
#
# How the stalled request ends depends on the device: QEMU drains its
# block layer when it is reset (the throttled request is then executed
# and completed, with its status, during the reset), so the driver sees
# it completed and it succeeds; a device that drops requests on reset
# makes the driver fail them with EIO ("reset done, N request(s)
# failed").  Either is checked for consistency: correct data, or EIO and
# N == 1.  A device that never answers again is the "surprise" scenario.

TMO_MS=2000
STALL_FAILED=0

s_timeout() {
	vrb_check load vrb_load || return 0
	vrb_check write-pattern write_pattern "$dev0"
	vrb_check set-io_timeout set_io_timeout "$TMO_MS"
	host_do throttle-on || return 0
	# The throttle bucket starts empty: this one passes.
	vrb_check first-request-passes check_dd_time 0 2000 \
		if="$dev0" of=/dev/null bs=4k count=1 skip=2000 iflag=direct
	dmesg_mark
	tmo_mark
	vrb_check read/ends-in-bounded-time check_stalled read 100
	vrb_check read/dmesg-timeout-and-reset check_timeout_dmesg READ 800
	vrb_check read/counters check_timeout_counters 2 1 0
	dmesg_mark
	vrb_check write/ends-in-bounded-time check_stalled write 3000
	vrb_check write/dmesg-timeout-and-reset check_timeout_dmesg WRITE 24000
	dmesg_mark
	vrb_check fio-qd8-ends-in-bounded-time check_fio_stalled
	host_do throttle-off
	vrb_check ring-recovered ring_settled "$disk0"
	vrb_check data-intact check_pattern "$dev0"
	vrb_check write/outcome-holds check_write_outcome 3000
	vrb_check disk-works fio_verify "$dev0" 16m 4m
	dmesg_mark
	tmo_mark
	vrb_check lost-irq/read-completes check_lost_irq 300
	vrb_check lost-irq/counters check_timeout_counters 1 0 1
	set_io_timeout 30000
	vrb_check rmmod vrb_unload
}

# tmo_mark, then check_timeout_counters TIMEOUTS REKICKS MISSED: the
# timeout handler's counters in debugfs grew by exactly that much.
tmo_mark() {
	T_TIMEOUTS=$(qstat "$disk0" timeouts)
	T_REKICKS=$(qstat "$disk0" rekicks)
	T_MISSED=$(qstat "$disk0" missed_irqs)
}

check_timeout_counters() {
	expect_eq "timeouts increase" \
		$(($(qstat "$disk0" timeouts) - T_TIMEOUTS)) "$1" &&
	expect_eq "rekicks increase" \
		$(($(qstat "$disk0" rekicks) - T_REKICKS)) "$2" &&
	expect_eq "missed_irqs increase" \
		$(($(qstat "$disk0" missed_irqs) - T_MISSED)) "$3"
}

# check_lost_irq BLOCK: debugfs "inject lost_irq" swallows the interrupt
# of a 4 KiB read.  The first timeout finds the completion in the used
# ring: the read succeeds with the right data after one io_timeout, with
# no re-kick and no reset.
check_lost_irq() {
	local t0 t1 rc=0
	echo lost_irq >"$DBG/$disk0/vq0/inject" || return 1
	t0=$(now_ms)
	dd if="$dev0" of=/tmp/victim bs=4k count=1 skip="$1" iflag=direct \
		status=none 2>/tmp/dd.err || rc=$?
	t1=$(now_ms)
	echo "read of block $1: status $rc after $((t1 - t0)) ms $(cat /tmp/dd.err)"
	grep -q '\[none\]' "$DBG/$disk0/vq0/inject" ||
		{ echo "injection did not fire"; return 1; }
	expect_eq "dd status" "$rc" 0 &&
	expect_eq "md5 of the block read" "$(vrb_md5 /tmp/victim)" \
		"$(vrb_md5 /tmp/pat "$1" 1 4k)" || return 1
	[ $((t1 - t0)) -ge $((TMO_MS - 100)) ] ||
		{ echo "ended before the io_timeout: was the irq lost?"; return 1; }
	[ $((t1 - t0)) -le $((TMO_MS + 3000)) ] ||
		{ echo "took more than one io_timeout (+3 s)"; return 1; }
	dmesg_has "$disk0: READ request \\(tag [0-9]+\\) had completed without an interrupt" &&
	dmesg_lacks "resetting the device"
}

set_io_timeout() {
	echo "$1" >"/sys/block/$disk0/queue/io_timeout" &&
	expect_eq io_timeout "$(cat "/sys/block/$disk0/queue/io_timeout")" "$1"
}

# check_dd_time FAIL MAX_MS DD-ARGS...: dd succeeds (FAIL=0) or fails
# with EIO (FAIL=1) within MAX_MS; with FAIL=1 it must also have waited
# for the io_timeout.
check_dd_time() {
	local want=$1 max=$2 t0 t1 rc=0
	shift 2
	t0=$(now_ms)
	dd "$@" status=none 2>/tmp/dd.err || rc=$?
	t1=$(now_ms)
	echo "dd $*: status $rc after $((t1 - t0)) ms $(cat /tmp/dd.err)"
	[ $((t1 - t0)) -le "$max" ] || { echo "took more than $max ms"; return 1; }
	if [ "$want" = 0 ]; then
		[ "$rc" = 0 ] || return 1
		return 0
	fi
	[ "$rc" != 0 ] || { echo "dd succeeded, expected EIO"; return 1; }
	expect_eio /tmp/dd.err || return 1
	[ $((t1 - t0)) -ge $((TMO_MS - 100)) ] ||
		{ echo "failed before the io_timeout"; return 1; }
}

# check_stalled read|write BLOCK: one 4 KiB O_DIRECT request to the
# stalled disk ends after the io_timeout and within 12 s: with EIO, or
# completed by the device during the reset (a read then has the data).
check_stalled() {
	local t0 t1 rc=0
	t0=$(now_ms)
	if [ "$1" = read ]; then
		dd if="$dev0" of=/tmp/victim bs=4k count=1 skip="$2" \
			iflag=direct status=none 2>/tmp/dd.err || rc=$?
	else
		dd if=/tmp/pat of="$dev0" bs=4k count=1 seek="$2" \
			oflag=direct status=none 2>/tmp/dd.err || rc=$?
	fi
	t1=$(now_ms)
	echo "$1 of block $2: status $rc after $((t1 - t0)) ms $(cat /tmp/dd.err)"
	[ $((t1 - t0)) -le 12000 ] || { echo "took more than 12 s"; return 1; }
	[ $((t1 - t0)) -ge $((TMO_MS - 100)) ] ||
		{ echo "ended before the io_timeout: was it stalled?"; return 1; }
	if [ "$rc" != 0 ]; then
		STALL_FAILED=1
		expect_eio /tmp/dd.err
		return
	fi
	STALL_FAILED=0
	echo "completed by the device during the reset"
	[ "$1" = write ] ||
		expect_eq "md5 of the block read" "$(vrb_md5 /tmp/victim)" \
			"$(vrb_md5 /tmp/pat "$2" 1 4k)"
}

# check_timeout_dmesg OP SECTOR: the driver said which request timed out
# and reset the device, and failed it or not as the I/O saw.
check_timeout_dmesg() {
	dmesg_new | grep -E 'vringblk' | sed 's/^/    /'
	dmesg_has "$disk0: $1 request \\(tag [0-9]+, sector $2\\) timed out" &&
	dmesg_has "$disk0: resetting the device: request timed out" &&
	dmesg_has "$disk0: reset done, $STALL_FAILED request\\(s\\) failed"
}

# check_write_outcome BLOCK: a stalled write the driver reported as done
# is on the disk (one that failed may or may not be: nobody knows).
check_write_outcome() {
	if [ "$STALL_FAILED" = 1 ]; then
		echo "the write failed: its block may hold either data"
		return 0
	fi
	expect_eq "md5 of block $1" "$(block_md5 "$dev0" "$1")" \
		"$(vrb_md5 /tmp/pat 0 1 4k)"
}

# check_fio_stalled [ENGINE [FIO-ARGS...]]: fio at QD8 on the stalled
# disk (default libaio): each round of requests waits for the timeout and
# a reset; fio must end soon after its 3 s runtime.
check_fio_stalled() {
	local t0 t1 rc=0 errs engine=${1:-libaio}
	[ $# = 0 ] || shift
	t0=$(now_ms)
	fio --name=stalled --filename="$dev0" --direct=1 --ioengine="$engine" "$@" \
		--rw=randread --bs=4k --iodepth=8 --size=4m --time_based \
		--runtime=3 --continue_on_error=io >/tmp/fio.out 2>&1 || rc=$?
	t1=$(now_ms)
	errs=$(fio_errors /tmp/fio.out)
	echo "fio: status $rc after $((t1 - t0)) ms, $errs I/O errors," \
		"$(dmesg_new | grep -c 'reset done') reset(s)"
	[ $((t1 - t0)) -le 20000 ] || { echo "fio took more than 20 s"; return 1; }
	dmesg_has "resetting the device: request timed out"
}

# ---- poll_timeout: a stalled device with polled I/O in flight -----------------
#
# poll_queues=1 on a two-queue disk: io_uring with hipri (IOPOLL) sends
# its requests to vq1, a poll queue, whose submitter reaps them by
# polling.  The host stalls the disk as in "timeout": a polled request
# must end as one on an interrupt queue does (after the io_timeout: a
# look in the used ring, a re-kick, a reset; EIO, or completed by the
# device during the reset), the disk works afterwards, and vq1 is still
# polled: no interrupt taken, none asked for, also in the rebuilt ring.
# Then a completion dropped on vq1 (debugfs "dropped"): the poll hook
# never sees it, the timeout and the reset end the request with EIO.

s_poll_timeout() {
	vrb_check load vrb_load || return 0
	PQ=$DBG/$disk0/vq1
	vrb_check poll-queue check_still_polled
	vrb_check write-pattern write_pattern "$dev0"
	vrb_check polled-read-alone pfio_alone
	vrb_check set-io_timeout set_io_timeout "$TMO_MS"
	host_do throttle-on || return 0
	# The throttle bucket starts empty: this one passes (vq0, not polled).
	vrb_check first-request-passes check_dd_time 0 2000 \
		if="$dev0" of=/dev/null bs=4k count=1 skip=2000 iflag=direct
	dmesg_mark
	ptmo_mark
	vrb_check read/ends-in-bounded-time check_polled_stalled read 100
	vrb_check read/dmesg-timeout-and-reset check_timeout_dmesg READ 800
	vrb_check read/counters-on-vq1 check_ptmo_counters 2 1
	dmesg_mark
	vrb_check fio-hipri-qd8-ends-in-bounded-time check_fio_stalled \
		io_uring --hipri=1
	host_do throttle-off
	vrb_check ring-recovered ring_settled "$disk0"
	vrb_check data-intact check_pattern "$dev0"
	vrb_check disk-works-polled poll_fio_verify
	vrb_check still-polled check_still_polled
	dmesg_mark
	vrb_check dropped/read-fails-after-reset check_polled_dropped 200
	vrb_check dropped/disk-works-polled poll_fio_verify
	vrb_check dropped/still-polled check_still_polled
	set_io_timeout 30000
	vrb_check rmmod vrb_unload
}

# pstat KEY: KEY from the stats of the poll queue $PQ.
pstat() {
	awk -v k="$1" '$1 == k { print $2 }' "$PQ/stats"
}

ptmo_mark() {
	P_TIMEOUTS=$(pstat timeouts)
	P_REKICKS=$(pstat rekicks)
}

# check_ptmo_counters TIMEOUTS REKICKS: the timeouts were vq1's.
check_ptmo_counters() {
	expect_eq "timeouts on vq1 increase" $(($(pstat timeouts) - P_TIMEOUTS)) \
		"$1" &&
	expect_eq "rekicks on vq1 increase" $(($(pstat rekicks) - P_REKICKS)) \
		"$2"
}

# vq1 is a poll queue, has taken no interrupt, and its ring asks for
# none: avail.flags NO_INTERRUPT, or with EVENT_IDX a used_event half
# the index space ahead of used.idx.
check_still_polled() {
	local r=/tmp/pring
	cat "$PQ/ring" >"$r"
	expect_eq "irqs on vq1" "$(pstat irqs)" 0 || return 1
	vrb_ring_polled "$r" && return 0
	sed 's/^/    /' "$r"
	return 1
}

# pfio NAME ARGS...: fio, io_uring with hipri, one job; output in
# /tmp/NAME.out; fio's status is returned.
pfio() {
	local name=$1
	shift
	fio --name="$name" --filename="$dev0" --direct=1 --ioengine=io_uring \
		--hipri=1 "$@" >"/tmp/$name.out" 2>&1
}

# pfio_alone: how long fio takes for one polled 4 KiB read of a disk
# that answers at once, in PFIO_MS.  fio's own start and exit (a fork,
# io_uring set up and torn down, a report) cost more than the read, and
# many times more on the debug kernel, so the bounds below are 12 s of
# the driver's time on top of this.
PFIO_MS=0
pfio_alone() {
	local t0 t1
	t0=$(now_ms)
	pfio alone --rw=read --bs=4k --size=4k --offset=$((300 * 4096)) ||
		{ cat /tmp/alone.out; return 1; }
	t1=$(now_ms)
	PFIO_MS=$((t1 - t0))
	echo "one polled read with fio: $PFIO_MS ms"
}

# pfio_bounded T0 T1: the polled fio run from T0 to T1 took at most 12 s
# longer than pfio_alone's.
pfio_bounded() {
	[ $(($2 - $1)) -le $((12000 + PFIO_MS)) ] || {
		echo "took more than 12 s beyond fio's own $PFIO_MS ms"
		return 1
	}
}

# check_polled_stalled read BLOCK: one polled 4 KiB read of the stalled
# disk ends after the io_timeout and within 12 s (beyond fio's own
# time): with EIO, or completed by the device during the reset.  It went
# through vq1.
check_polled_stalled() {
	local t0 t1 rc=0 u0
	u0=$(pstat added)
	t0=$(now_ms)
	pfio stall1 --rw=read --bs=4k --size=4k --offset=$(($2 * 4096)) || rc=$?
	t1=$(now_ms)
	echo "polled $1 of block $2: status $rc after $((t1 - t0)) ms"
	expect_eq "chains added to vq1" $(($(pstat added) - u0)) 1 || return 1
	pfio_bounded "$t0" "$t1" || return 1
	[ $((t1 - t0)) -ge $((TMO_MS - 100)) ] ||
		{ echo "ended before the io_timeout: was it stalled?"; return 1; }
	if [ "$rc" != 0 ]; then
		STALL_FAILED=1
		expect_eio /tmp/stall1.out
		return
	fi
	STALL_FAILED=0
	echo "completed by the device during the reset"
}

# Polled random writes, read back and verified.
poll_fio_verify() {
	local u0
	u0=$(pstat used)
	pfio pverify --rw=randwrite --bs=4k --iodepth=16 --offset=16m \
		--size=4m --verify=crc32c --verify_fatal=1 --randrepeat=0 ||
		{ cat /tmp/pverify.out; return 1; }
	grep -qE 'issued rwts: total=[0-9]+,[1-9]' /tmp/pverify.out ||
		{ cat /tmp/pverify.out; echo "fio wrote nothing"; return 1; }
	[ $(($(pstat used) - u0)) -gt 0 ] ||
		{ echo "nothing went through vq1"; return 1; }
}

# check_polled_dropped BLOCK: debugfs "dropped" on vq1 takes the next
# used element off the ring without completing its request.  A polled
# read then never completes by itself: after one io_timeout the timeout
# handler finds nothing and kicks, after the second the reset fails it
# with EIO, exactly once, within 12 s (beyond fio's own time).
check_polled_dropped() {
	local t0 t1 rc=0
	ptmo_mark
	echo dropped >"$PQ/inject" || return 1
	t0=$(now_ms)
	pfio drop1 --rw=read --bs=4k --size=4k --offset=$(($1 * 4096)) || rc=$?
	t1=$(now_ms)
	echo "polled read of block $1: status $rc after $((t1 - t0)) ms"
	grep -q '\[none\]' "$PQ/inject" ||
		{ echo "injection did not fire"; return 1; }
	[ "$rc" != 0 ] || { echo "the read succeeded, expected EIO"; return 1; }
	expect_eio /tmp/drop1.out || return 1
	[ $((t1 - t0)) -ge $((2 * TMO_MS - 100)) ] ||
		{ echo "ended before two io_timeouts"; return 1; }
	pfio_bounded "$t0" "$t1" || return 1
	check_ptmo_counters 2 1 &&
	dmesg_has "$disk0: resetting the device: request timed out" &&
	dmesg_has "$disk0: reset done, 1 request\\(s\\) failed"
}

# ---- poll_unplug: unplug with polled I/O in flight ----------------------------
#
# unplug's race on a poll queue: poll_queues=1 on a two-queue disk, fio's
# io_uring hipri requests on vq1, whose submitter polls instead of
# sleeping for an interrupt.  When the device goes, the poller must not
# spin on a ring that is gone: fio ends in bounded time, the disk and
# the PCI function go, nothing holds the module; a new two-queue disk is
# polled again from the start.

s_poll_unplug() {
	local bdf
	vrb_check load vrb_load || return 0
	PQ=$DBG/$disk0/vq1
	vrb_check poll-queue check_still_polled
	bdf=$(disk_bdf "$disk0")
	P_USED=$(pstat used)
	bg_start fio fio --name=punplug --filename="$dev0" --direct=1 \
		--ioengine=io_uring --hipri=1 --rw=randrw --bs=4k \
		--iodepth=16 --size=32m --time_based --runtime=60
	vrb_check fio-running wait_busy "$disk0"
	vrb_check fio-polls-on-vq1 check_polled_io
	dmesg_mark
	host_do unplug || return 0
	vrb_check fio-ends-in-bounded-time bg_ends fio 30
	vrb_check disk-disappears wait_gone "/sys/block/$disk0" 30
	vrb_check pci-function-gone wait_gone "/sys/bus/pci/devices/$bdf" 30
	vrb_check module-refcnt-0 check_refcnt
	vrb_check rmmod rmmod "$VRB_MOD"
	# shellcheck disable=SC2086 # VRB_MODARGS: one word per param
	vrb_check insmod-without-disk insmod "$VRB_KO" $VRB_MODARGS
	dmesg_mark
	host_do plug || return 0
	vrb_check new-disk-appears vrb_wait_takeover "$dev0" 30
	vrb_check new-disk-is-the-plugged-one check_plugged
	PQ=$DBG/$disk0/vq1
	vrb_check new-disk-poll-queue check_still_polled
	vrb_check new-disk-works-polled poll_fio_verify
	vrb_check new-disk-still-polled check_still_polled
	vrb_check new-disk-ring-settled ring_settled "$disk0"
	vrb_check rmmod-again vrb_unload
}

# fio's polled requests really go through vq1 while it runs.
check_polled_io() {
	local u0=$P_USED
	usleep 200000
	echo "vq1: used $(($(pstat used) - u0)), polls $(pstat polls)," \
		"irqs $(pstat irqs)"
	[ $(($(pstat used) - u0)) -gt 0 ] ||
		{ echo "nothing went through vq1"; return 1; }
	[ "$(pstat polls)" -gt 0 ] || { echo "vq1 was never polled"; return 1; }
	expect_eq "irqs on vq1" "$(pstat irqs)" 0
}

# ---- unplug: QMP device_del under fio, then device_add -----------------------

s_unplug() {
	local bdf
	vrb_check load vrb_load || return 0
	bdf=$(disk_bdf "$disk0")
	bg_start fio fio --name=unplug --filename="$dev0" --direct=1 \
		--ioengine=libaio --rw=randrw --bs=4k --iodepth=16 --size=32m \
		--time_based --runtime=60
	vrb_check fio-running wait_busy "$disk0"
	dmesg_mark
	host_do unplug || return 0
	vrb_check fio-ends-in-bounded-time bg_ends fio 30
	vrb_check disk-disappears wait_gone "/sys/block/$disk0" 30
	vrb_check pci-function-gone wait_gone "/sys/bus/pci/devices/$bdf" 30
	vrb_check module-refcnt-0 check_refcnt
	vrb_check rmmod rmmod "$VRB_MOD"
	vrb_check insmod-without-disk insmod "$VRB_KO"
	dmesg_mark
	host_do plug || return 0
	vrb_check new-disk-appears vrb_wait_takeover "$dev0" 30
	vrb_check new-disk-is-the-plugged-one check_plugged
	vrb_check new-disk-works fio_verify "$dev0" 4m 4m
	vrb_check new-disk-ring-settled ring_settled "$disk0"
	vrb_check rmmod-again vrb_unload
}

# wait_busy DISK: wait (up to 10 s) until I/O flows: requests in flight,
# or at least 16 completed since the call.  (On one vCPU the shell that
# samples "inflight" runs while fio does not, so it may never see any.)
wait_busy() {
	local n=500 ios0
	ios0=$(disk_requests "$1")
	while [ "$(inflight "$1")" = 0 ] &&
		[ "$(disk_requests "$1")" -lt $((ios0 + 16)) ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { echo "no I/O on $1 for 10 s"; return 1; }
		usleep 20000
	done
	echo "in flight: $(inflight "$1")"
}

check_refcnt() {
	expect_eq "/sys/module/$VRB_MOD/refcnt" \
		"$(cat "/sys/module/$VRB_MOD/refcnt")" 0 &&
	lsmod | grep "^$VRB_MOD "
}

check_plugged() {
	expect_eq size "$(blockdev --getsize64 "$dev0")" \
		"$(vrb_param plug_size)" &&
	expect_eq serial "$(cat "/sys/block/$disk0/serial")" vrb-plugged
}

# ---- surprise: sysfs remove racing fio; a device that stops answering --------

s_surprise() {
	local bdf i
	vrb_check load vrb_load || return 0
	bdf=$(disk_bdf "$disk0")
	i=1
	for delay in 0 300000 1000000; do
		vrb_check "remove-racing-fio/$i" remove_racing_fio "$bdf" "$delay"
		i=$((i + 1))
	done
	[ -b "$dev0" ] || return 0
	# A device that stops answering: its I/O ports stop decoding, so
	# reads return all-ones and writes (kicks, resets) go nowhere.
	vrb_check write-pattern write_pattern "$dev0"
	vrb_check set-io_timeout set_io_timeout "$TMO_MS"
	vrb_check io-decoding-off pci_io_decode "$bdf" 0
	# The host grows the disk: QEMU sends a config interrupt (MSI-X
	# still works), but every config read now returns all-ones.
	dmesg_mark
	host_do resize && vrb_check config-change-from-silent-device \
		check_size_sane $(($(vrb_param size0) / 512)) \
		$(($(vrb_param resize_to) / 512))
	dmesg_mark
	vrb_check dead-device-read-fails-eio check_dd_time 1 15000 \
		if="$dev0" of=/dev/null bs=4k count=1 skip=7 iflag=direct
	vrb_check dmesg-device-declared-dead check_dead_dmesg
	vrb_check dead-disk-fails-at-once check_dead_fast
	vrb_check io-decoding-on pci_io_decode "$bdf" 1
	vrb_check rebind-recovers rebind "$bdf"
	vrb_check size-after-rebind expect_eq size \
		"$(cat "/sys/block/$disk0/size" 2>&1)" \
		$(($(vrb_param resize_to) / 512))
	vrb_check data-intact check_pattern "$dev0"
	vrb_check disk-works fio_verify "$dev0" 16m 4m
	vrb_check rmmod vrb_unload
}

# remove_racing_fio BDF DELAY_US: start fio, remove the PCI function
# DELAY_US later, rescan, check the disk is back and works.
remove_racing_fio() {
	local t0 t1
	bg_start rfio fio --name=remove --filename="$dev0" --direct=1 \
		--ioengine=libaio --rw=randrw --bs=16k --iodepth=16 \
		--size=32m --time_based --runtime=60
	wait_busy "$disk0" >/dev/null || return 1
	usleep "$2"
	t0=$(now_ms)
	bg_start remove sh -c "echo 1 >/sys/bus/pci/devices/$1/remove"
	bg_ends remove 20 || return 1
	t1=$(now_ms)
	echo "remove took $((t1 - t0)) ms"
	bg_ends rfio 20 || return 1
	wait_gone "/sys/block/$disk0" 10 || return 1
	echo 1 >/sys/bus/pci/rescan
	vrb_wait_for "$dev0" 20 || { echo "no $dev0 after rescan"; return 1; }
	expect_eq "driver after rescan" \
		"$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")" \
		"$VRB_DRIVER" &&
	write_pattern "$dev0" 512 && check_pattern "$dev0" 512
}

# check_size_sane OLD NEW: after a config interrupt the disk has its old
# or its new size (in sectors), never what all-ones config reads say.
check_size_sane() {
	local n=20 size
	while ! dmesg_new | grep -q 'capacity changed' && [ "$n" -gt 0 ]; do
		n=$((n - 1))
		usleep 100000
	done
	dmesg_new | grep -E 'vringblk' | sed 's/^/    /'
	size=$(cat "/sys/block/$disk0/size")
	echo "size: $size sectors"
	[ "$size" = "$1" ] || [ "$size" = "$2" ] || {
		echo "$disk0 has $size sectors, expected $1 (or $2)"
		return 1
	}
}

# pci_io_decode BDF 0|1: clear or set I/O Space Enable (bit 0 of the PCI
# command register, config offset 4); bus mastering and MSI-X stay on.
pci_io_decode() {
	local cfg=/sys/bus/pci/devices/$1/config cmd
	cmd=$(dd if="$cfg" bs=2 skip=2 count=1 status=none | od -An -tu2 |
		tr -d ' ')
	cmd=$(((cmd & ~1) | $2))
	# shellcheck disable=SC2059 # the format is built on purpose
	printf "\\$(printf %o $((cmd & 255)))\\$(printf %o $((cmd >> 8)))" |
		dd of="$cfg" bs=2 seek=2 count=1 conv=notrunc status=none ||
		return 1
	echo "command register now $(dd if="$cfg" bs=2 skip=2 count=1 \
		status=none | od -An -tx2)"
}

check_dead_dmesg() {
	dmesg_new | grep -E 'vringblk' | sed 's/^/    /'
	dmesg_has "$disk0: READ request \\(tag [0-9]+, sector [0-9]+\\) timed out" &&
	dmesg_has "$disk0: resetting the device: request timed out" &&
	dmesg_has "$disk0: device did not come back, failing all I/O"
}

# Once the driver gave the device up, I/O fails without waiting.
check_dead_fast() {
	local t0 t1
	t0=$(now_ms)
	dd if="$dev0" of=/dev/null bs=4k count=1 skip=9 iflag=direct \
		status=none 2>/tmp/dd.err && { echo "read succeeded"; return 1; }
	t1=$(now_ms)
	echo "failed after $((t1 - t0)) ms: $(cat /tmp/dd.err)"
	[ $((t1 - t0)) -le 1000 ] || { echo "took more than 1 s"; return 1; }
}

# rebind BDF: unbind the driver from BDF and bind it again.
rebind() {
	echo "$1" >"$PCIDRV/unbind" || return 1
	wait_gone "/sys/block/$disk0" 10 || return 1
	echo "$1" >"$PCIDRV/bind" || return 1
	vrb_wait_for "$dev0" 20 || { echo "no $dev0 after bind"; return 1; }
}

# ---- unbind: unbind/bind under fio, N cycles ---------------------------------

s_unbind() {
	local bdf n
	n=$(vrb_param cycles 20)
	vrb_check load vrb_load || return 0
	bdf=$(disk_bdf "$disk0")
	# The pattern lives at 48 MiB, out of fio's way.
	vrb_check write-pattern write_pattern "$dev0" 768
	vrb_check "cycles-under-fio/$n" unbind_cycles "$bdf" "$n" || return 0
	# The driver is unbound now: nothing of it may be left.
	vrb_check after-unbind/no-irq check_no_line /proc/interrupts
	vrb_check after-unbind/no-ioports check_no_line /proc/ioports
	vrb_check after-unbind/no-debugfs check_no_debugfs
	vrb_check after-unbind/module-refcnt-0 check_refcnt
	if [ -e /sys/kernel/debug/kmemleak ]; then
		vrb_check after-unbind/kmemleak check_kmemleak
	else
		vrb_skip after-unbind/kmemleak "kernel built without CONFIG_DEBUG_KMEMLEAK"
	fi
	vrb_check bind-again bind_back "$bdf"
	vrb_check data-intact check_pattern "$dev0" 768
	vrb_check disk-works fio_verify "$dev0" 16m 4m
	vrb_check rmmod vrb_unload
}

# unbind_cycles BDF N: N times: fio, unbind under it, fio ends, bind
# (except after the last one).
unbind_cycles() {
	local i=1 t0 t1 t2 t3 t4 busy
	t0=$(now_ms)
	while [ "$i" -le "$2" ]; do
		t1=$(now_ms)
		bg_start ufio fio --name=unbind --filename="$dev0" --direct=1 \
			--ioengine=libaio --rw=randrw --bs=4k --iodepth=8 \
			--size=32m --time_based --runtime=60
		busy=$(wait_busy "$disk0") || { echo "cycle $i: fio idle"; return 1; }
		usleep $(((i % 4) * 100000))
		t2=$(now_ms)
		bg_start unbind sh -c "echo $1 >$PCIDRV/unbind"
		bg_ends unbind 20 >/tmp/unbind.log ||
			{ cat /tmp/unbind.log; echo "cycle $i: unbind hangs"; return 1; }
		t3=$(now_ms)
		bg_ends ufio 20 >/tmp/unbind.log ||
			{ cat /tmp/unbind.log; echo "cycle $i: fio hangs"; return 1; }
		wait_gone "/sys/block/$disk0" 10 || return 1
		t4=$(now_ms)
		if [ "$i" -lt "$2" ]; then
			echo "$1" >"$PCIDRV/bind" ||
				{ echo "cycle $i: bind failed"; return 1; }
			vrb_wait_for "$dev0" 20 ||
				{ echo "cycle $i: no $dev0 after bind"; return 1; }
		fi
		echo "cycle $i: fio busy after $((t2 - t1)) ms ($busy)," \
			"unbind $((t3 - t2)) ms, fio gone $((t4 - t3)) ms," \
			"bind $(($(now_ms) - t4)) ms" >/dev/console
		i=$((i + 1))
	done
	echo "$2 cycles in $(($(now_ms) - t0)) ms"
}

check_no_line() {
	if grep -i "$VRB_MOD" "$1"; then
		echo "$VRB_MOD still in $1"
		return 1
	fi
}

check_no_debugfs() {
	local left
	left=$(ls "$DBG")
	[ -z "$left" ] || { echo "left in $DBG: $left"; return 1; }
}

check_kmemleak() {
	echo scan >/sys/kernel/debug/kmemleak
	if grep -B2 -A12 -i "$VRB_MOD" /sys/kernel/debug/kmemleak; then
		echo "kmemleak reports leaks from $VRB_MOD"
		return 1
	fi
}

bind_back() {
	echo "$1" >"$PCIDRV/bind" || return 1
	vrb_wait_for "$dev0" 20 || { echo "no $dev0 after bind"; return 1; }
}

# ---- eio: blkdebug fails chosen sectors --------------------------------------
#
# The host's blkdebug rules fail reads of sector bad_read (in 4 KiB block
# BR) and writes of sector bad_write (block BW); request merging is off in
# QEMU, and the guest's own merging is switched off below, so each of our
# requests reaches blkdebug as it was sent.

s_eio() {
	local sr sw br bw
	sr=$(vrb_param bad_read)
	sw=$(vrb_param bad_write)
	br=$((sr / 8))
	bw=$((sw / 8))
	vrb_check load vrb_load || return 0
	echo 2 >"/sys/block/$disk0/queue/nomerges"
	# The pattern around the bad read block, starting 13 blocks before.
	vrb_check write-pattern-around-bad-read \
		dd if=/tmp/pat of="$dev0" bs=4k seek=$((br - 13)) count=28 \
		oflag=direct status=none
	# The kernel's "I/O error" lines are rate limited (10 per 5 s): the
	# checks that read them come first, the buffered read (many errors)
	# last.
	dmesg_mark
	vrb_check read/direct-4k-exact eio_read_blocks $((br - 13)) 28 "$br"
	vrb_check read/dmesg-names-sector dmesg_has \
		"I/O error, dev $disk0, sector $sr op 0x0:\\(READ\\)"
	vrb_check write/direct-4k-exact eio_write_blocks $((bw - 10)) 20 "$bw"
	vrb_check write/dmesg-names-sector dmesg_has \
		"I/O error, dev $disk0, sector $sw op 0x1:\\(WRITE\\)"
	vrb_check read/fio-qd8-exact eio_fio read $(((br - 13) * 4096)) \
		$((28 * 4096)) "$sr" READ
	vrb_check write/fio-qd8-exact eio_fio write $(((bw - 10) * 4096)) \
		$((20 * 4096)) "$sw" WRITE
	vrb_check read/direct-512-exact eio_read_sectors "$sr"
	vrb_check read/direct-64k-covering check_dd_eio \
		if="$dev0" of=/dev/null bs=64k count=1 skip=$((br / 16)) \
		iflag=direct
	vrb_check read/buffered-stops-at-bad-block eio_read_buffered \
		$((br - 13)) 28 13
	vrb_check no-reset dmesg_lacks "resetting the device"
	vrb_check ring-drained ring_settled "$disk0"
	vrb_check counters-consistent check_added "$disk0" \
		"$(qstat "$disk0" used)"
	vrb_check disk-works fio_verify "$dev0" 16m 4m
	vrb_check rmmod vrb_unload
}

# check_dd_eio DD-ARGS...: dd fails with EIO.
check_dd_eio() {
	if dd "$@" status=none 2>/tmp/dd.err; then
		echo "dd $* succeeded, expected EIO"
		return 1
	fi
	expect_eio /tmp/dd.err
}

# eio_read_blocks FIRST COUNT BAD: read each 4 KiB block alone (O_DIRECT):
# only BAD fails, with EIO; every other block holds the pattern.
eio_read_blocks() {
	local b=$1 end=$(($1 + $2)) failed="" want got
	while [ "$b" -lt "$end" ]; do
		if dd if="$dev0" of=/tmp/blk bs=4k count=1 skip="$b" \
			iflag=direct status=none 2>/tmp/dd.err; then
			want=$(vrb_md5 /tmp/pat $((b - $1)) 1 4k)
			got=$(vrb_md5 /tmp/blk)
			expect_eq "md5 of block $b" "$got" "$want" || return 1
		else
			expect_eio /tmp/dd.err || return 1
			failed="$failed $b"
		fi
		b=$((b + 1))
	done
	expect_eq "blocks that failed" "$failed" " $3"
}

# eio_read_sectors SECTOR: 512-byte reads: the sector itself fails, its
# neighbours do not.
eio_read_sectors() {
	check_dd_eio if="$dev0" of=/dev/null bs=512 count=1 skip="$1" \
		iflag=direct || return 1
	dd if="$dev0" of=/dev/null bs=512 count=1 skip=$(($1 - 1)) \
		iflag=direct status=none &&
	dd if="$dev0" of=/dev/null bs=512 count=1 skip=$(($1 + 1)) \
		iflag=direct status=none
}

# eio_read_buffered FIRST COUNT GOOD: a buffered read through the page
# cache stops with EIO at the bad block, after exactly GOOD good blocks,
# all of them correct.
eio_read_buffered() {
	vrb_drop_caches
	if dd if="$dev0" of=/tmp/buf bs=4k skip="$1" count="$2" \
		status=none 2>/tmp/dd.err; then
		echo "buffered read succeeded"
		return 1
	fi
	expect_eio /tmp/dd.err || return 1
	expect_eq "bytes read before the error" "$(wc -c </tmp/buf)" \
		$(($3 * 4096)) &&
	expect_eq "md5 of what was read" "$(vrb_md5 /tmp/buf)" \
		"$(vrb_md5 /tmp/pat 0 "$3" 4k)"
}

# eio_write_blocks FIRST COUNT BAD: overwrite each block alone with new
# data: only BAD fails; then every other block has the new data and BAD
# its old content (zeroes: it was never written).
eio_write_blocks() {
	local b=$1 end=$(($1 + $2)) failed="" want zero
	dd if=/dev/urandom of=/tmp/new bs=4k count="$2" status=none
	while [ "$b" -lt "$end" ]; do
		if ! dd if=/tmp/new of="$dev0" bs=4k count=1 skip=$((b - $1)) \
			seek="$b" oflag=direct status=none 2>/tmp/dd.err; then
			expect_eio /tmp/dd.err || return 1
			failed="$failed $b"
		fi
		b=$((b + 1))
	done
	expect_eq "blocks whose write failed" "$failed" " $3" || return 1
	zero=$(dd if=/dev/zero bs=4k count=1 status=none | md5sum | cut -d' ' -f1)
	b=$1
	while [ "$b" -lt "$end" ]; do
		want=$(vrb_md5 /tmp/new $((b - $1)) 1 4k)
		[ "$b" = "$3" ] && want=$zero
		expect_eq "md5 of block $b" "$(block_md5 "$dev0" "$b")" \
			"$want" || return 1
		b=$((b + 1))
	done
}

# eio_fio read|write OFFSET SIZE SECTOR OP: fio at QD8 over the range,
# going on after errors: exactly one I/O fails, and the kernel's error
# line says it is the one at SECTOR (fio does not print which one fails
# when it goes on after errors).
eio_fio() {
	dmesg_mark
	fio --name="eio-$1" --filename="$dev0" --direct=1 --ioengine=libaio \
		--rw="$1" --bs=4k --iodepth=8 --offset="$2" --size="$3" \
		--continue_on_error=io >/tmp/fio.out 2>&1
	grep -E 'errors' /tmp/fio.out
	dmesg_new | grep 'I/O error'
	expect_eq "fio's error count" "$(fio_errors /tmp/fio.out)" 1 &&
	expect_eq "I/O errors in the kernel log" \
		"$(dmesg_new | grep -c "I/O error, dev $disk0")" 1 &&
	dmesg_has "I/O error, dev $disk0, sector $(($4 / 8 * 8)) op 0x.:\\($5\\)"
}

# ---- hostile: the device writes bad used elements (debugfs inject) -----------
#
# What the driver must do with each (README "When things go wrong"):
#   len       clamp and count it (len_clamped + 1); the request succeeds
#   status    that request fails with EIO; nothing else happens
#   id_range, non_head, duplicate, idx_jump
#             the queue is broken (broken + 1), the device is reset
#             automatically, the requests in flight fail with EIO, and
#             later I/O works again

s_hostile() {
	local k mark
	vrb_check load vrb_load || return 0
	vrb_check write-pattern write_pattern "$dev0"
	stats_reset "$disk0"
	dmesg_mark
	mark=$DMARK
	for k in len status id_range non_head duplicate idx_jump; do
		vrb_check "$k/qd1" hostile_qd1 "$k"
		vrb_check "$k/qd1-then-works" hostile_after
		vrb_check "$k/fio" hostile_fio "$k"
		vrb_check "$k/fio-then-works" hostile_after
	done
	DMARK=$mark
	vrb_check counters-add-up check_hostile_counters
	vrb_check rmmod vrb_unload
}

# After all the injections (2 per kind): every chain added was either
# used or failed by a reset; 2 clamped lengths, 8 broken queues.
check_hostile_counters() {
	local failed
	failed=$(dmesg_new | sed -n 's/.*reset done, \([0-9]*\) request.*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }')
	cat "$DBG/$disk0"/vq*/stats | sed 's/^/    /'
	echo "requests failed by resets: $failed"
	expect_eq "added" "$(qstat "$disk0" added)" \
		$(($(qstat "$disk0" used) + failed)) &&
	expect_eq completed "$(qstat "$disk0" completed)" \
		"$(qstat "$disk0" used)" &&
	expect_eq len_clamped "$(qstat "$disk0" len_clamped)" 2 &&
	expect_eq broken "$(qstat "$disk0" broken)" 8 &&
	expect_eq resets "$(dmesg_new | grep -c "$disk0: reset done")" 8
}

INJ=""

# hostile_arm KIND [busy]: arm the knob and remember the counters.  On
# an idle disk the knob must then show KIND armed; under load it may
# already have fired.
hostile_arm() {
	INJ=$DBG/$disk0/vq0/inject
	H_BROKEN=$(qstat "$disk0" broken)
	H_CLAMPED=$(qstat "$disk0" len_clamped)
	dmesg_mark
	echo "$1" >"$INJ" || return 1
	[ "${2:-}" = busy ] || grep -q "\\[$1\\]" "$INJ" ||
		{ echo "inject shows: $(cat "$INJ")"; return 1; }
}

# hostile_reaction KIND FAILED DEPTH: the counters and the log show the
# right reaction; FAILED is how many requests the I/O (at DEPTH) saw fail.
hostile_reaction() {
	local broken clamped n
	grep -q '\[none\]' "$INJ" ||
		{ echo "injection did not fire: $(cat "$INJ")"; return 1; }
	dmesg_has "vq0: injected '$1'" || return 1
	broken=$(($(qstat "$disk0" broken) - H_BROKEN))
	clamped=$(($(qstat "$disk0" len_clamped) - H_CLAMPED))
	case $1 in
	len)
		expect_eq "len_clamped increase" "$clamped" 1 &&
		expect_eq "broken increase" "$broken" 0 &&
		expect_eq "failed requests" "$2" 0 &&
		dmesg_lacks "resetting the device"
		;;
	status)
		expect_eq "broken increase" "$broken" 0 &&
		expect_eq "len_clamped increase" "$clamped" 0 &&
		expect_eq "failed requests" "$2" 1 &&
		dmesg_lacks "resetting the device"
		;;
	*)
		expect_eq "broken increase" "$broken" 1 &&
		dmesg_has "queue broken" &&
		dmesg_has "$disk0: resetting the device: queue broken" &&
		wait_reset_done || return 1
		n=$(dmesg_new | sed -n 's/.*reset done, \([0-9]*\) request.*/\1/p')
		echo "the reset failed $n request(s), the I/O saw $2 fail"
		[ "$2" -ge 1 ] || { echo "no request failed"; return 1; }
		# Besides those the reset took back, requests submitted
		# to the broken queue before the reset stopped it fail at
		# once (never added): at most fio's depth of them.
		if [ "$2" -lt "$n" ] || [ "$2" -gt $((n + $3)) ]; then
			echo "expected $n to $((n + $3)) failed requests"
			return 1
		fi
		;;
	esac
}

# The reset runs in a workqueue: give it a moment.
wait_reset_done() {
	local n=100
	while ! dmesg_new | grep -q "$disk0: reset done"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { echo "no 'reset done' within 10 s"; return 1; }
		usleep 100000
	done
}

# hostile_qd1 KIND: one 4 KiB read at a time, the first one meets the
# injected value.
hostile_qd1() {
	local failed=0 want
	hostile_arm "$1" || return 1
	want=$(vrb_md5 /tmp/pat 5 1 4k)
	if dd if="$dev0" of=/tmp/blk bs=4k count=1 skip=5 iflag=direct \
		status=none 2>/tmp/dd.err; then
		expect_eq "md5 of the block read" "$(vrb_md5 /tmp/blk)" \
			"$want" || return 1
	else
		expect_eio /tmp/dd.err || return 1
		failed=1
	fi
	hostile_reaction "$1" "$failed" 0
}

# hostile_fio KIND: light random reads (QD4); the knob is armed while
# they run.  Whatever happens, fio is waited for before returning.
hostile_fio() {
	local errs armed=0 n=200
	# fio runs until the injection has fired and a second more (a slow
	# kernel, like the debug one, needs seconds just to arm it), then
	# is stopped with SIGINT, which still prints its report.
	bg_start hfio fio --name=hostile --filename="$dev0" --direct=1 \
		--ioengine=libaio --rw=randread --bs=4k --iodepth=4 \
		--offset=0 --size=4m --time_based --runtime=60 \
		--continue_on_error=io
	if wait_busy "$disk0" >/dev/null; then
		usleep 500000
		hostile_arm "$1" busy && armed=1
	fi
	while [ "$armed" = 1 ] && [ "$n" -gt 0 ] && ! grep -q '\[none\]' "$INJ"; do
		n=$((n - 1))
		usleep 100000
	done
	sleep 1
	# shellcheck disable=SC2046 # fio's pids (its main and job process)
	kill -INT $(pidof fio) 2>/dev/null
	bg_ends hfio 30 || return 1
	[ "$armed" = 1 ] || { echo "could not arm $1 under fio"; return 1; }
	errs=$(fio_errors /tmp/hfio.out)
	grep -E 'errors|io_u error' /tmp/hfio.out | head -n 5
	hostile_reaction "$1" "$errs" 4
}

# After each injection: the ring is clean and the data is still there.
# (A knob that did not fire is disarmed first, so it cannot leak into the
# next case.)
hostile_after() {
	echo none >"$DBG/$disk0/vq0/inject"
	wait_idle "$disk0" &&
	ring_settled "$disk0" &&
	check_pattern "$dev0"
}

# ---- dataloss: fio verify across a resize, a cache flip and a rebind ---------
#
# Writes with a crc32c header in every block, verified while writing
# (verify_backlog) and again after the rebind (verify_only: the same job
# replayed without writing).  Sizes 512 B to 256 KiB, depths 1, 4 and 32.

s_dataloss() {
	local bdf rounds=1 r=1 sz=8m
	if [ "$long" = 1 ]; then
		rounds=4
		sz=16m
	fi
	vrb_check load vrb_load || return 0
	bdf=$(disk_bdf "$disk0")
	dataloss_job "$sz"
	while [ "$r" -le "$rounds" ]; do
		vrb_check "round$r/write-verify-across-resize-and-cache-flip" \
			dataloss_write "$r"
		vrb_check "round$r/rebind" rebind "$bdf"
		vrb_check "round$r/verify-after-rebind" dataloss_verify
		r=$((r + 1))
	done
	vrb_check new-space-works fio_verify "$dev0" 70m 8m
	vrb_check ring-settled ring_settled "$disk0"
	vrb_check rmmod vrb_unload
}

# The job file: three jobs, one region each.
dataloss_job() {
	cat >/tmp/dataloss.fio <<EOF
[global]
filename=$dev0
direct=1
ioengine=libaio
rw=randwrite
bssplit=512/10:4k/40:16k/25:64k/20:256k/5
size=$1
verify=crc32c
verify_backlog=16
verify_fatal=1
randseed=4242
[qd1]
iodepth=1
offset=8m
[qd4]
iodepth=4
offset=24m
[qd32]
iodepth=32
offset=40m
EOF
}

# dataloss_write ROUND: the job runs; meanwhile every round flips the
# cache mode twice and round 1 grows the disk (host block_resize).  Both
# must happen while fio still writes.
dataloss_write() {
	local rc=0 want t0 during=""
	t0=$(now_ms)
	bg_start dl fio /tmp/dataloss.fio
	wait_busy "$disk0" >/dev/null || { bg_wait dl 120; return 1; }
	if ! { echo "write through" >"/sys/block/$disk0/cache_type" &&
		usleep 300000 &&
		expect_eq cache_type "$(cat "/sys/block/$disk0/cache_type")" \
			"write through" &&
		echo "write back" >"/sys/block/$disk0/cache_type"; }; then
		bg_wait dl 120
		return 1
	fi
	[ -s /tmp/dl.rc ] && during="$during cache-flip"
	if [ "$1" = 1 ]; then
		want=$(vrb_param resize_to)
		host_request resize
		wait_size $((want / 512)) || { bg_wait dl 120; return 1; }
		[ -s /tmp/dl.rc ] && during="$during resize"
		host_wait resize || { bg_wait dl 120; return 1; }
	fi
	bg_wait dl 120 || rc=$?
	grep -E 'verify|err=|WRITE:' /tmp/dl.out
	echo "fio ran $(($(now_ms) - t0)) ms"
	expect_eq "fio status" "$rc" 0 &&
	expect_eq cache_type "$(cat "/sys/block/$disk0/cache_type")" \
		"write back" || return 1
	[ -z "$during" ] || { echo "fio had ended before:$during"; return 1; }
}

# wait_size SECTORS: the new capacity shows up (config interrupt).
wait_size() {
	local n=300
	while [ "$(cat "/sys/block/$disk0/size")" != "$1" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { echo "size still $(cat "/sys/block/$disk0/size")"; return 1; }
		usleep 100000
	done
}

dataloss_verify() {
	fio --verify_only /tmp/dataloss.fio >/tmp/fio.out 2>&1 ||
		{ cat /tmp/fio.out; return 1; }
	grep -E 'READ:' /tmp/fio.out
	expect_eq "size after rebind" "$(cat "/sys/block/$disk0/size")" \
		$(($(vrb_param resize_to) / 512))
}

# ---- badinput: bad module parameters, bad writes ------------------------------

s_badinput() {
	local long_value long_zeroes p v
	long_value=$(printf '%0300d' 0 | tr 0 a)
	# 299 zeroes and a one: not 0, however the driver reads it.
	long_zeroes=$(printf '%0300d' 1)
	# Every parameter, bad values: insmod fails with EINVAL and the log
	# says which parameter and what it accepts.
	badparam disable=bogus "disable=: unknown feature 'bogus'"
	badparam disable=indirect_desc,nope "disable=: unknown feature 'nope'"
	badparam disable=EVENT_IDX "disable=: unknown feature 'EVENT_IDX'"
	badparam "disable=$long_value" "disable=: value too long"
	badparam num_queues=257 "num_queues=257: expected 0..256"
	badparam num_queues=-1 "num_queues=-1: expected 0..256"
	badparam num_queues=two "num_queues=two: expected 0..256"
	badparam num_queues= "num_queues=: expected 0..256"
	badparam queue_depth=32769 "queue_depth=32769: expected 0..32768"
	badparam queue_depth=99999999999 "queue_depth=99999999999: expected 0..32768"
	badparam queue_depth=1x "queue_depth=1x: expected 0..32768"
	badparam irq=foo "irq=foo: expected auto, msix, shared or intx"
	badparam irq=MSIX "irq=MSIX: expected auto, msix, shared or intx"
	badparam irq= "irq=: expected auto, msix, shared or intx"
	badparam batch_kicks=maybe ".maybe' invalid for parameter .batch_kicks'"
	badparam batch_kicks=2 ".2' invalid for parameter .batch_kicks'"
	# The limits themselves are accepted.
	vrb_check insmod/limits-accepted goodparams \
		"num_queues=256 queue_depth=32768 irq=auto batch_kicks=N disable=indirect_desc,event_idx"

	vrb_check load vrb_load || return 0
	vrb_check writable-files-known check_writable_files
	for p in /sys/module/"$VRB_MOD"/parameters/*; do
		vrb_check "param-read-only/${p##*/}" write_refused "$p" 1 \
			"Permission denied"
	done
	# debugfs stats: only "0" resets.
	fio_verify "$dev0" 16m 1m >/dev/null
	for v in 1 -1 abc 0x10 "0 0" "" "$long_zeroes"; do
		vrb_check "stats/rejects-$(label "$v")" bad_write \
			"$DBG/$disk0/vq0/stats" "$v" "stats: write 0 to reset" \
			check_stats_kept
	done
	vrb_check stats/accepts-0 check_stats_zero "$disk0"
	# debugfs inject: only the names it lists.
	for v in bogus ID_RANGE id_range2 lenx "" "$long_value"; do
		vrb_check "inject/rejects-$(label "$v")" bad_write \
			"$DBG/$disk0/vq0/inject" "$v" \
			"inject: expected none, id_range, non_head, duplicate, idx_jump, len, status, lost_irq or dropped" \
			check_inject_none
	done
	vrb_check inject/accepts-len-then-none check_inject_arm_disarm
	# sysfs cache_type: only the two modes, and only with CONFIG_WCE.
	for v in bogus write writeback "write  back" "" "$long_value"; do
		vrb_check "cache_type/rejects-$(label "$v")" bad_write \
			"/sys/block/$disk0/cache_type" "$v" \
			"cache_type: expected \"write through\" or \"write back\"" \
			check_cache_back
	done
	vrb_check cache_type/accepts-both check_cache_flip
	# Without CONFIG_WCE the file is 0444 and kernfs refuses the write
	# (EACCES) before the driver's own -EPERM check can run.
	vrb_check cache_type/without-config-wce-refused write_refused \
		"/sys/block/$(vrb_disk 1)/cache_type" "write through" \
		"Permission denied|Operation not permitted"
	vrb_check serial-read-only write_refused "/sys/block/$disk0/serial" x \
		"Permission denied|Input/output error"
	vrb_check ring-settled ring_settled "$disk0"
	vrb_check rmmod vrb_unload
}

# badparam PARAM=VALUE MESSAGE-REGEX
badparam() {
	vrb_check "insmod/${1%%=*}=$(label "${1#*=}")" \
		check_badparam "$1" "$2"
}

check_badparam() {
	dmesg_mark
	if insmod "$VRB_KO" "$1" 2>/tmp/insmod.err; then
		echo "insmod $1 succeeded"
		rmmod "$VRB_MOD"
		return 1
	fi
	cat /tmp/insmod.err
	grep -q 'Invalid argument' /tmp/insmod.err || {
		echo "insmod did not fail with EINVAL"
		return 1
	}
	[ ! -d "/sys/module/$VRB_MOD" ] || { echo "module loaded"; return 1; }
	dmesg_new | grep "$VRB_MOD"
	dmesg_has "$VRB_MOD: .*($2)"
}

# goodparams "A=x B=y": the module loads with these and unloads.
goodparams() {
	# shellcheck disable=SC2086 # one word per parameter
	insmod "$VRB_KO" $1 || return 1
	vrb_wait_for "$dev0" 10 || { echo "no $dev0"; rmmod "$VRB_MOD"; return 1; }
	rmmod "$VRB_MOD"
}

# Every writable file the driver owns must be one this test knows.
check_writable_files() {
	local f bad=""
	for f in $(find "$DBG" -type f -perm -200) \
		$(find "/sys/block/$disk0/" -maxdepth 1 -type f -perm -200); do
		case ${f##*/} in
		stats | inject) ;;
		cache_type) ;;
		uevent | ro | events_poll_msecs) ;;	# the block core's
		make-it-fail | io-timeout-fail) ;;	# fault injection's
		*) bad="$bad $f" ;;
		esac
	done
	[ -z "$bad" ] || { echo "writable files without a test:$bad"; return 1; }
}

# write_to FILE VALUE: write "VALUE\n" in one write(2).  coreutils dd,
# unlike the shell's echo, says which error the write got.
write_to() {
	printf '%s\n' "$2" | dd of="$1" conv=notrunc status=none
}

# write_refused FILE VALUE ERRNO-REGEX [MESSAGE]: the write fails with
# that error (and the log shows MESSAGE).
write_refused() {
	dmesg_mark
	if write_to "$1" "$2" 2>/tmp/write.err; then
		echo "writing '$(echo "$2" | cut -c1-12)...' (${#2} chars) to $1 succeeded"
		return 1
	fi
	cat /tmp/write.err
	grep -qE "$3" /tmp/write.err || { echo "not refused with $3"; return 1; }
	[ -z "${4:-}" ] || dmesg_has "$4"
}

# bad_write FILE VALUE MESSAGE CHECK: EINVAL, MESSAGE in the log, and
# CHECK (the value did not change) passes.
bad_write() {
	local why
	if ! why=$(write_refused "$1" "$2" "Invalid argument" "$3"); then
		echo "$why"
		"$4" >/dev/null || echo "$(echo "$why" | tail -n 1), and: $("$4")"
		return 1
	fi
	"$4"
}

check_stats_kept() {
	[ "$(qstat "$disk0" added)" -gt 0 ] ||
		{ echo "the counters were reset"; return 1; }
}

check_inject_none() {
	grep -q '\[none\]' "$DBG/$disk0/vq0/inject" ||
		{ echo "inject is $(cat "$DBG/$disk0/vq0/inject")"; return 1; }
}

check_inject_arm_disarm() {
	local f=$DBG/$disk0/vq0/inject
	echo len >"$f" && grep -q '\[len\]' "$f" &&
	echo none >"$f" && check_inject_none
}

check_cache_back() {
	expect_eq cache_type "$(cat "/sys/block/$disk0/cache_type")" \
		"write back"
}

check_cache_flip() {
	local f=/sys/block/$disk0/cache_type
	echo "write through" >"$f" &&
	expect_eq cache_type "$(cat "$f")" "write through" &&
	echo "write back" >"$f" &&
	check_cache_back
}

# ---- held_fd: fds held across removal (issue 11, item 1) ----------------------
#
# A process holds the disk open, and with it the disk's sysfs cache_type
# and two debugfs views, while the device goes away: unbind, sysfs remove,
# hot-unplug.  Then it uses every fd and closes them.  Per-disk state
# lives until the gendisk's last reference, so each operation still works
# or fails with ENXIO, EIO or ENODEV.  The guest boots with init_on_free=1:
# a driver that read its freed state would find zeroes there and answer
# with them (the made-up geometry of a device without GEOMETRY instead of
# the device's own) rather than crash, or not, by luck.

s_held_fd() {
	local bdf
	vrb_check load vrb_load || return 0
	bdf=$(disk_bdf "$disk0")
	vrb_check unbind/ops-on-fd-held-across-removal held_fd_round unbind \
		"$bdf"
	vrb_check unbind/bind-again bind_again "$bdf"
	vrb_check sysfs-remove/ops-on-fd-held-across-removal held_fd_round \
		remove "$bdf"
	vrb_check sysfs-remove/rescan rescan_back "$bdf"
	vrb_check unplug/ops-on-fd-held-across-removal held_fd_round unplug \
		"$bdf"
	vrb_check unplug/module-refcnt-0 check_refcnt
	vrb_check rmmod rmmod "$VRB_MOD"
}

# held_fd_round unbind|remove|unplug BDF: vrbholdfd holds the fds while
# the device goes; every operation after the removal must be one of the
# acceptable answers, and the geometry, if still answered, the device's.
held_fd_round() {
	local how=$1 bdf=$2 out=/tmp/holdfd.out geo line bad="" n=100
	rm -f /tmp/holdfd.go "$out"
	bg_start holdfd vrbholdfd "$dev0" /tmp/holdfd.go \
		"/sys/block/$disk0/cache_type" "$DBG/$disk0/vq0/ring" \
		"$DBG/$disk0/features"
	while ! grep -q 'vrbholdfd: ready' "$out" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { cat "$out"; echo "vrbholdfd not ready"; return 1; }
		usleep 100000
	done
	geo=$(sed -n 's/^before getgeo: ok //p' "$out")
	case $how in
	unbind) echo "$bdf" >"$PCIDRV/unbind" || return 1 ;;
	remove) echo 1 >"/sys/bus/pci/devices/$bdf/remove" || return 1 ;;
	unplug) host "unplug" >/tmp/host.out 2>&1 || { cat /tmp/host.out; return 1; } ;;
	esac
	wait_gone "/sys/bus/pci/devices/$bdf/driver" 30 || return 1
	wait_gone "/sys/block/$disk0" 30 || return 1
	touch /tmp/holdfd.go
	bg_ends holdfd 30 >/dev/null || { cat "$out"; return 1; }
	sed 's/^/    /' "$out"
	[ -n "$geo" ] || { echo "no geometry before the removal"; return 1; }
	line=$(grep '^after getgeo: ' "$out")
	case $line in
	"after getgeo: ok $geo" | "after getgeo: err ENXIO" | \
		"after getgeo: err EIO") ;;
	*) bad="$bad; getgeo answered '${line#after getgeo: }', the device said $geo" ;;
	esac
	grep '^after ' "$out" | grep -vE ': (ok .*|err (ENXIO|EIO|ENODEV))$' |
		while read -r line; do echo "unexpected: $line"; done >/tmp/holdfd.bad
	[ ! -s /tmp/holdfd.bad ] || bad="$bad; $(tr '\n' ' ' </tmp/holdfd.bad)"
	grep -q '^after close: ok 0$' "$out" || bad="$bad; close failed"
	grep -q '^vrbholdfd: done$' "$out" || bad="$bad; vrbholdfd did not finish"
	[ -z "$bad" ] || { echo "${bad#; }"; return 1; }
}

bind_again() {
	echo "$1" >"$PCIDRV/bind" || return 1
	vrb_wait_for "$dev0" 20 || { echo "no $dev0 after bind"; return 1; }
}

# rescan_back BDF: the device found again is vringblk's (where virtio_pci
# is built in it claims it first: vrb_wait_takeover hands it over).
rescan_back() {
	echo 1 >/sys/bus/pci/rescan
	vrb_wait_takeover "$dev0" 20 || { echo "no $dev0 after rescan"; return 1; }
	expect_eq "driver after rescan" \
		"$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")" \
		"$VRB_DRIVER"
}

# ---- probe_stall: the device misbehaves during probe (items 2 and 7) ----------
#
# Adding the disk reads its partition table through the rings, inside
# probe.  (1) The device stops answering there (the host throttles it to
# 1 byte/s: the first read passes, the next waits "forever"): probe must
# give up within a few io_timeouts, leaving the device reset and FAILED,
# and a later probe must work.  (2) The host resizes the disk while probe
# waits for a partition table read (throttled again, then let go): the
# configuration interrupt arrives before the disk is live and must be
# replayed, not dropped.

PROBE_TMO=2

s_probe_stall() {
	local bdf
	bdf=$(basename "$(vrb_legacy_pci_devs | head -n 1)")
	host_do throttle-on || return 0
	dmesg_mark
	vrb_check stalled-device/probe-gives-up-in-bounded-time \
		probe_gives_up "$bdf"
	vrb_check stalled-device/left-reset-and-failed check_status_failed \
		"$bdf"
	host_do throttle-off || return 0
	vrb_check stalled-device/later-probe-works probe_again
	# The host wrote an MBR with an extended partition (robust-test.sh):
	# fio below overwrites it, and the next probe needs it back.
	vrb_check stalled-device/save-partition-table \
		dd if="$dev0" of=/tmp/mbr bs=512 count=1 status=none
	vrb_check stalled-device/disk-works fio_verify "$dev0" 4m 4m
	vrb_check stalled-device/restore-partition-table \
		dd if=/tmp/mbr of="$dev0" bs=512 count=1 oflag=direct status=none
	vrb_check rmmod vrb_unload
	host_do throttle-on.2 || return 0
	dmesg_mark
	vrb_check config-irq-during-probe/replayed config_during_probe
	vrb_check config-irq-during-probe/disk-works fio_verify "$dev0" 70m 4m
	vrb_check rmmod-again vrb_unload
}

# probe_gives_up BDF: insmod returns, probe having failed, within 10
# io_timeouts (a first timeout re-kicks, the second resets).
probe_gives_up() {
	local t0 t1
	t0=$(now_ms)
	vrb_takeover >/dev/null || return 1
	bg_start insmod insmod "$VRB_KO" io_timeout=$PROBE_TMO
	bg_ends insmod $((PROBE_TMO * 10)) || return 1
	t1=$(now_ms)
	echo "insmod returned after $((t1 - t0)) ms"
	dmesg_new | grep -E 'vringblk' | sed 's/^/    /'
	[ ! -e "$dev0" ] || { echo "$dev0 exists: probe did not fail"; return 1; }
	[ ! -e "/sys/bus/pci/devices/$1/driver" ] ||
		{ echo "the driver kept the device"; return 1; }
	dmesg_has "probe with vringblk failed|probe of $1 failed" &&
	dmesg_has "during probe"
}

# check_status_failed BDF: the device status register (legacy 0x12) says
# FAILED (0x80) and nothing else: reset, then FAILED (§3.1.1).
check_status_failed() {
	expect_eq "device status" "$(vrb_legacy_read "/sys/bus/pci/devices/$1" 18 1)" 128
}

probe_again() {
	rmmod "$VRB_MOD" || return 1
	vrb_load
}

# config_during_probe: insmod in the background; once the disk is
# registered (its capacity read) and while probe waits for a partition
# table read, the host grows the disk (QEMU drains the stalled read
# first, so probe goes on: its config interrupt arrives while the rest of
# the partition table is read), then lets I/O go.  After probe the new
# size shows.
config_during_probe() {
	local want n=200 rc=0
	want=$(($(vrb_param resize_to) / 512))
	vrb_takeover >/dev/null || return 1
	bg_start insmod insmod "$VRB_KO"
	while [ ! -e "/sys/block/$disk0" ] && [ ! -s /tmp/insmod.rc ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || break
		usleep 100000
	done
	if [ ! -e "/sys/block/$disk0" ] || [ -s /tmp/insmod.rc ]; then
		echo "no $disk0 in probe: cannot test"
		rc=1
	else
		host resize >/tmp/host.out 2>&1 || { cat /tmp/host.out; rc=1; }
	fi
	host throttle-off.2 >/tmp/host.out 2>&1 || { cat /tmp/host.out; rc=1; }
	bg_ends insmod 60 || return 1
	dmesg_new | grep -E 'vringblk' | sed 's/^/    /'
	[ "$rc" = 0 ] && wait_size "$want" &&
	dmesg_has "$disk0: the configuration changed while the disk was added"
}

# ---- reset_state: what a reset must keep (items 3 and 5) ----------------------
#
# A reset makes QEMU restore the drive's original write cache mode: the
# driver must put back the mode the block layer was told.  And the reset
# must run on a workqueue with a rescuer (WQ_MEM_RECLAIM), so that writeback
# under memory pressure can count on it.

s_reset_state() {
	vrb_check load vrb_load || return 0
	vrb_check write-pattern write_pattern "$dev0"
	vrb_check reset-work-on-mem-reclaim-wq check_reset_wq
	vrb_check set-write-through set_cache "write through"
	vrb_check host-sees-write-through host_do cache-wt
	vrb_check force-reset force_reset
	vrb_check cache-mode-survives-reset/block-layer check_cache_views \
		"write through"
	vrb_check cache-mode-survives-reset/host host_do cache-wt.2
	vrb_check set-write-back set_cache "write back"
	vrb_check force-reset-2 force_reset
	vrb_check cache-mode-survives-reset-2/block-layer check_cache_views \
		"write back"
	vrb_check cache-mode-survives-reset-2/host host_do cache-wb
	vrb_check cache-write-racing-resets/not-lost cache_racing_resets
	vrb_check cache-write-racing-resets/host host_do cache-wt.3
	vrb_check completion-dropped-by-block-layer/request-ends-once \
		check_dropped inject
	if [ -d /sys/kernel/debug/fail_io_timeout ]; then
		vrb_check completion-dropped-by-fail_io_timeout/request-ends-once \
			check_dropped fail_io_timeout
	else
		vrb_skip completion-dropped-by-fail_io_timeout/request-ends-once \
			"kernel built without CONFIG_FAIL_IO_TIMEOUT"
	fi
	vrb_check data-intact check_pattern "$dev0"
	vrb_check rmmod vrb_unload
}

# check_dropped inject|fail_io_timeout: the next completion is taken off
# the ring but not handed to blk-mq: by debugfs "inject dropped", or by
# the block layer's own fault injection (blk_should_fake_timeout(), on
# kernels with CONFIG_FAIL_IO_TIMEOUT).  The request is still in flight
# without a chain: its timeout re-kicks, then resets, and the reset must
# find it by its tag and fail it, once; a reset that walked the ring would
# not see it and the timeouts and resets would go on forever.
check_dropped() {
	local t0 t1 rc=0 tmo=2000 fi=/sys/kernel/debug/fail_io_timeout
	set_io_timeout "$tmo" >/dev/null || return 1
	dmesg_mark
	if [ "$1" = inject ]; then
		echo dropped >"$DBG/$disk0/vq0/inject" || return 1
	else
		echo 100 >"$fi/probability" && echo 1 >"$fi/times" &&
		echo 0 >"$fi/interval" && echo 1 >"$fi/verbose" &&
		echo 1 >"/sys/block/$disk0/io-timeout-fail" || return 1
	fi
	t0=$(now_ms)
	bg_start drop dd if="$dev0" of=/dev/null bs=4k count=1 skip=11 \
		iflag=direct status=none
	bg_wait drop 20 || rc=$?
	t1=$(now_ms)
	set_io_timeout 30000 >/dev/null
	[ "$1" = inject ] || echo 0 >"/sys/block/$disk0/io-timeout-fail"
	dmesg_new | grep -E 'vringblk|FAULT_INJECTION' | sed 's/^/    /'
	echo "dd: status $rc after $((t1 - t0)) ms: $(cat /tmp/drop.out)"
	[ "$rc" != 124 ] || { echo "the read never ended"; return 1; }
	[ "$rc" != 0 ] || { echo "the read succeeded: was the completion dropped?"; return 1; }
	grep -q 'Input/output error' /tmp/drop.out || return 1
	[ $((t1 - t0)) -ge $((2 * tmo - 200)) ] ||
		{ echo "ended before two io_timeouts"; return 1; }
	if [ "$1" = inject ]; then
		dmesg_has "vq0: injected 'dropped'" || return 1
	fi
	expect_eq "resets" "$(dmesg_new | grep -c "$disk0: reset done")" 1 &&
	dmesg_has "$disk0: reset done, 1 request\\(s\\) failed"
}

set_cache() {
	echo "$1" >"/sys/block/$disk0/cache_type" &&
	check_cache_views "$1"
}

# check_cache_views MODE: the driver's cache_type (what the device says)
# and the block layer's write_cache (whether it sends FLUSH) agree.
check_cache_views() {
	expect_eq cache_type "$(cat "/sys/block/$disk0/cache_type")" "$1" &&
	expect_eq "queue/write_cache" \
		"$(cat "/sys/block/$disk0/queue/write_cache")" "$1"
}

# force_reset: the device "breaks" the ring (debugfs inject idx_jump)
# under one read; the driver resets it.
force_reset() {
	dmesg_mark
	echo idx_jump >"$DBG/$disk0/vq0/inject" || return 1
	dd if="$dev0" of=/dev/null bs=4k count=1 skip=3 iflag=direct \
		status=none 2>/dev/null
	wait_reset_done
}

# check_reset_wq: the reset work is queued on vringblk's own workqueue,
# whose rescuer thread exists (only WQ_MEM_RECLAIM workqueues have one).
check_reset_wq() {
	local ev=$T/events/workqueue/workqueue_queue_work line
	echo 1 >"$ev/enable" || return 1
	echo >"$T/trace"
	force_reset || { echo 0 >"$ev/enable"; return 1; }
	echo 0 >"$ev/enable"
	line=$(grep 'function=vrb_pci_reset_work' "$T/trace" | head -n 1)
	echo "trace: $line"
	[ -n "$line" ] || { echo "no workqueue_queue_work for the reset"; return 1; }
	case $line in
	*"workqueue=$VRB_MOD "*) ;;
	*) echo "the reset was not queued on the '$VRB_MOD' workqueue"; return 1 ;;
	esac
	grep -qx "$VRB_MOD" /proc/[0-9]*/comm ||
		{ echo "no rescuer thread [$VRB_MOD]: not WQ_MEM_RECLAIM"; return 1; }
}

# cache_racing_resets: flip the cache mode 40 times while the device is
# reset 5 times; the last write ("write through") must win everywhere.
cache_racing_resets() {
	local i=0 r=0
	bg_start flips sh -c "i=0; while [ \$i -lt 20 ]; do
		echo 'write back' >/sys/block/$disk0/cache_type || exit 1
		echo 'write through' >/sys/block/$disk0/cache_type || exit 1
		i=\$((i + 1)); done"
	while [ "$r" -lt 5 ]; do
		force_reset >/dev/null || { bg_wait flips 60; return 1; }
		r=$((r + 1))
	done
	bg_wait flips 60 || { cat /tmp/flips.out; return 1; }
	check_cache_views "write through"
}

# ---- surprise_full: the device vanishes with a full ring (item 4) ------------
#
# No indirect descriptors and requests of 16 segments each: the ring
# fills, the hardware queue stops and requests wait parked in blk-mq.  Then
# the device vanishes for real: its bridge stops forwarding (I/O and memory
# decoding off) and forgets the bus number behind it, so even its config
# space reads all-ones and pci_device_is_present() says it is gone.  Then
# the kernel removes it.  Removal must not hang, and every request must
# end, with an error.

s_surprise_full() {
	local bdf bridge
	vrb_check load vrb_load || return 0
	bdf=$(disk_bdf "$disk0")
	bridge=$(basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$bdf")")")
	vrb_say "disk at $bdf behind bridge $bridge"
	vrb_check no-indirect-descriptors no_feature "$disk0" INDIRECT_DESC
	vrb_check scattered-buffers scatter_memory
	host_do throttle-on || return 0
	bg_start sfio fio --name=full --filename="$dev0" --direct=1 \
		--ioengine=libaio --rw=randread --bs=64k --iodepth=64 \
		--size=32m --time_based --runtime=120
	vrb_check ring-full-queue-stopped wait_stalled "$disk0"
	vrb_check device-vanishes vanish_behind "$bridge" "$bdf"
	dmesg_mark
	bg_start remove sh -c "echo 1 >/sys/bus/pci/devices/$bdf/remove"
	vrb_check removal-ends-in-bounded-time bg_ends remove 30 || return 0
	vrb_check io-ends-with-errors fio_ends_with_errors sfio
	vrb_check took-the-surprise-branch dmesg_has "device gone: failing I/O in flight"
	vrb_check disk-gone wait_gone "/sys/block/$disk0" 10
	vrb_check module-refcnt-0 check_refcnt
	vrb_check rmmod rmmod "$VRB_MOD"
}

# scatter_memory: no transparent huge pages, and vrbfrag leaves only
# isolated free pages (see scripts/bench/vrbfrag.c): a 64 KiB O_DIRECT
# buffer is then 16 segments, a chain of 18 descriptors, and 14 requests
# fill a 256-entry ring without indirect descriptors.
scatter_memory() {
	local n=600
	echo never >/sys/kernel/mm/transparent_hugepage/enabled || return 1
	vrbfrag 256 >/tmp/frag.out 2>&1 &
	while ! grep -q 'vrbfrag: ready' /tmp/frag.out; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { cat /tmp/frag.out; return 1; }
		usleep 100000
	done
}

no_feature() {
	! has_feature "$@" || { echo "$2 was negotiated"; return 1; }
}

# wait_stalled DISK: the ring filled up and the hardware queue stopped.
wait_stalled() {
	local n=200
	while [ "$(qstat "$1" stalls)" = 0 ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { cat "$DBG/$1"/vq*/stats; echo "no stall in 20 s"; return 1; }
		usleep 100000
	done
	grep -E '^(free descriptors|chains in flight)' "$DBG/$1/vq0/ring"
	echo "in flight: $(inflight "$1"), stalls: $(qstat "$1" stalls)"
}

# cfg_write FILE OFFSET SIZE VALUE: write a little-endian config field.
cfg_write() {
	local i=0 bytes=""
	while [ "$i" -lt "$3" ]; do
		bytes="$bytes\\$(printf %o $((($4 >> (8 * i)) & 255)))"
		i=$((i + 1))
	done
	# shellcheck disable=SC2059 # the format is built on purpose
	printf "$bytes" | dd of="$1" bs=1 seek="$2" count="$3" conv=notrunc \
		status=none
}

cfg_read() {
	dd if="$1" bs=1 skip="$2" count="$3" status=none | od -An -tu"$3" |
		tr -d ' '
}

# vanish_behind BRIDGE BDF: the bridge stops decoding I/O and memory
# (command register bits 0 and 1) and moves its secondary bus to 0xfe:
# config reads for the device's old bus number now find nobody.
vanish_behind() {
	local cfg=/sys/bus/pci/devices/$1/config cmd
	cmd=$(cfg_read "$cfg" 4 2)
	cfg_write "$cfg" 4 2 $((cmd & ~3)) &&
	cfg_write "$cfg" 25 1 254 &&
	cfg_write "$cfg" 26 1 254 || return 1
	expect_eq "vendor id of $2" \
		"$(cfg_read "/sys/bus/pci/devices/$2/config" 0 2)" 65535
}

# fio_ends_with_errors NAME: fio (which stops at its first error) ends
# soon, with an I/O error.
fio_ends_with_errors() {
	local rc=0
	bg_wait "$1" 30 || rc=$?
	grep -E 'error|err=' "/tmp/$1.out" | head -n 3
	[ "$rc" != 124 ] || { echo "$1 still running after 30 s"; return 1; }
	[ "$rc" != 0 ] || { echo "$1 succeeded: did the requests end?"; return 1; }
	grep -qE 'Input/output error|No such device' "/tmp/$1.out" ||
		{ echo "no I/O error in fio's output"; return 1; }
}

# ---- shared_msix: one vector for config, one shared by the queues (item 6) ---
#
# With MSI-X the device need not set the ISR (§4.1.4.5, §4.1.5.3-4).  With
# irq=shared the queues' vector drains every queue without reading it.

s_shared_msix() {
	vrb_check load vrb_load || return 0
	vrb_check vectors/config-and-one-shared-by-queues check_shared_vectors
	vrb_check fio-verify fio_verify "$dev0" 4m 8m 32
	vrb_check completions-without-reading-isr check_no_isr_reads
	vrb_check rmmod vrb_unload
}

check_shared_vectors() {
	grep "$VRB_MOD" /proc/interrupts | sed 's/^/    /'
	expect_eq "vectors" "$(grep -c "$VRB_MOD" /proc/interrupts)" 2 &&
	expect_eq "config vector" "$(grep -c "$VRB_MOD-config" /proc/interrupts)" 1 &&
	expect_eq "queues' vector" "$(grep -c "$VRB_MOD-.*-vqs" /proc/interrupts)" 1
}

check_no_isr_reads() {
	sed 's/^/    /' "$DBG/$disk0/irq"
	expect_eq "mode" "$(sed -n 's/^mode: *//p' "$DBG/$disk0/irq")" \
		"msix-shared" &&
	expect_eq "ISR reads" "$(sed -n 's/^isr reads: *//p' "$DBG/$disk0/irq")" 0 &&
	if [ "$(qstat "$disk0" completed)" = 0 ] ||
		[ "$(qstat "$disk0" irqs)" = 0 ]; then
		echo "no completions or no interrupts counted"
		return 1
	fi
}

# ---- probe_alloc: every allocation of probe fails once (#12 item 3) ----------
#
# /proc/<pid>/fail-nth (CONFIG_FAULT_INJECTION): after "echo N >" it, the
# N-th fault-injection point the task passes fails, once.  Here the points
# are failslab and fail_page_alloc, told to count sleeping allocations
# too (by default they skip them).  A bind runs probe in the writing task
# (with no NUMA node pci_call_probe() calls it directly), so for N = 1, 2,
# ... exactly one allocation of "echo BDF >bind" fails: in sysfs's write
# path, in the driver core, or in probe; an N past the last allocation
# binds untouched, which ends the sweep.  One line per N goes to
# /tmp/sweep: "N outcome detail", outcome one of
#   outside   bind failed, probe never ran (sysfs or driver core)
#   failed    probe ran and failed
#   tolerated an allocation failed and probe still succeeded
#   clean     no failure was injected: the end of the sweep
# and the cases below read it.
FI=/sys/kernel/debug

s_probe_alloc() {
	local bdf
	if [ ! -e /proc/self/fail-nth ] || [ ! -d $FI/failslab ] ||
	   [ ! -d $FI/fail_page_alloc ]; then
		vrb_skip probe-alloc-sweep "kernel built without CONFIG_FAILSLAB and CONFIG_FAIL_PAGE_ALLOC"
		vrb_check rmmod true
		return 0
	fi
	vrb_check load vrb_load || return 0
	bdf=$(basename "$(vrb_legacy_pci_devs | head -n 1)")
	vrb_check write-pattern write_pattern "$dev0"
	vrb_check unbind sh -c "echo $bdf >$PCIDRV/unbind"
	fail_alloc_setup
	vrb_check sweep/ends alloc_sweep "$bdf" || return 0
	vrb_check sweep/every-failed-probe-says-why sweep_check failed \
		"probe failed"
	vrb_check sweep/device-left-reset-and-unclaimed sweep_check failed \
		"status=(0|128) driver=none"
	vrb_check sweep/nothing-left-behind sweep_check "failed|outside" \
		"leftovers=none"
	vrb_check sweep/tolerated-failures-leave-a-working-disk sweep_check \
		tolerated "read=ok"
	vrb_check sweep/disk-index-reused disk_is "$bdf" "$disk0"
	vrb_check data-intact check_pattern "$dev0"
	vrb_check disk-works fio_verify "$dev0" 8m 4m
	vrb_check rmmod vrb_unload
}

# disk_is BDF NAME: the disk on device BDF is NAME (an index leaked by a
# failed probe would make it vringblk1, 2...).
disk_is() {
	local d
	for d in /sys/bus/pci/devices/"$1"/block/*; do
		expect_eq disk "${d##*/}" "$2"
		return
	done
}

fail_alloc_setup() {
	local f
	for f in failslab fail_page_alloc; do
		echo N >$FI/$f/ignore-gfp-wait
		echo 1 >$FI/$f/verbose
		echo 0 >$FI/$f/verbose_ratelimit_interval_ms
	done
	echo 0 >$FI/fail_page_alloc/min-order
	echo N >$FI/fail_page_alloc/ignore-gfp-highmem
}

# alloc_sweep BDF: bind with the N-th allocation failing, N = 1, 2, ...,
# until a bind injects nothing; unbind after each bind that worked.
alloc_sweep() {
	local n=1 max=3000 rc inj out t0 nfailed=0 ntol=0 nout=0
	t0=$(now_ms)
	: >/tmp/sweep
	while [ "$n" -le "$max" ]; do
		# The kernel log of this N is what follows its mark, in
		# /tmp/dnew (a line count would drift once the log wraps).
		echo "vringblk-test: sweep N=$n" >/dev/kmsg
		# The shell reads its own fail-nth back: 0 once the failure
		# was injected (some are silent: __GFP_NOWARN allocations).
		out=$(sh -c "echo $n >/proc/self/fail-nth || exit 9
			echo $1 >$PCIDRV/bind 2>/dev/null
			rc=\$?
			read -r left </proc/self/fail-nth
			echo \$rc \${left:-none}")
		dmesg | sed -n "/vringblk-test: sweep N=$n\$/,\$p" >/tmp/dnew
		rc=${out% *}
		inj=0
		[ "${out#* }" = 0 ] && inj=1
		if [ -z "$out" ] || [ "$rc" = 9 ]; then
			echo "$n bind-died" >>/tmp/sweep
			echo "N=$n: the shell doing the bind died (an Oops?)"
			tail -n 30 /tmp/dnew
			return 1
		fi
		if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
			out=$(bound_after_bind "$1" "$inj")
			if [ "$inj" = 0 ]; then
				echo "$n clean $out" >>/tmp/sweep
				break
			fi
			echo "$n tolerated $out" >>/tmp/sweep
			ntol=$((ntol + 1))
		elif [ "$inj" = 0 ]; then
			echo "$n bind-failed-uninjected rc=$rc" >>/tmp/sweep
			echo "N=$n: bind failed (rc $rc) with no failure injected"
			tail -n 20 /tmp/dnew
			return 1
		elif grep -q "probe of $1 failed" /tmp/dnew; then
			echo "$n failed $(unbound_after_probe "$1")" >>/tmp/sweep
			nfailed=$((nfailed + 1))
		else
			echo "$n outside $(unbound_after_probe "$1")" >>/tmp/sweep
			nout=$((nout + 1))
		fi
		n=$((n + 1))
	done
	echo "$((n - 1)) allocation(s) failed in turn in $(($(now_ms) - t0)) ms:" \
		"$nfailed failed probe, $ntol tolerated, $nout outside probe" |
		tee /dev/console
	sed 's/^/sweep: /' /tmp/sweep >/dev/console
	[ "$n" -le "$max" ] || { echo "still injecting at N=$max"; return 1; }
	grep -q " clean " /tmp/sweep
}

# unbound_after_probe BDF: what a failed bind left: the probe message
# (vringblk's own "probe failed" line), the status register, who owns
# the device, and whether vringblk still holds an IRQ, I/O ports or a
# debugfs directory.
unbound_after_probe() {
	local msg drv=none left=""
	msg=$(grep -m1 -oE "vringblk [^ ]+: probe failed[^:]*" /tmp/dnew ||
	      echo "no-message")
	[ -e "/sys/bus/pci/devices/$1/driver" ] &&
		drv=$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")
	grep -qi "$VRB_MOD" /proc/interrupts && left="${left}irq,"
	grep -qi "$VRB_MOD" /proc/ioports && left="${left}ioports,"
	[ -z "$(ls "$DBG" 2>/dev/null)" ] || left="${left}debugfs,"
	echo "status=$(vrb_legacy_read "/sys/bus/pci/devices/$1" 18 1)" \
		"driver=$drv leftovers=${left:-none} msg=[$msg]" |
		sed 's/vringblk [^ ]*: probe failed/probe failed/'
}

# bound_after_bind BDF INJECTED: the disk of a bind that worked reads;
# then unbind it (if anything was injected: the sweep goes on).
bound_after_bind() {
	local r=failed
	if vrb_wait_for "$dev0" 10 && dd if="$dev0" of=/dev/null bs=4k \
		count=16 iflag=direct status=none; then
		r=ok
	fi
	echo "read=$r"
	[ "$2" = 0 ] || echo "$1" >"$PCIDRV/unbind"
}

# sweep_check OUTCOMES REGEX: every /tmp/sweep line whose outcome matches
# OUTCOMES (a regex) matches REGEX too; list those that do not.
sweep_check() {
	local bad
	bad=$(grep -E "^[0-9]+ ($1) " /tmp/sweep | grep -vE "$2")
	echo "$(grep -cE "^[0-9]+ ($1) " /tmp/sweep) line(s) '$1'"
	[ -z "$bad" ] || { echo "$bad" | head -n 20; return 1; }
}

# ---- main -----------------------------------------------------------------------

if ! command -v "s_$scenario" >/dev/null; then
	vrb_fail "scenario" "unknown scenario '$scenario'"
else
	vrb_say "scenario: $scenario (long=$long)"
	"s_$scenario"
fi
vrb_summary
