#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# trace-demo.sh - `make trace-demo`: boot a guest, follow one read and one
# write + FLUSH through vringblk (scripts/guest/trace-demo.sh), and paste
# what it printed into docs/walkthrough.md, generated from
# docs/walkthrough.md.in: each line "@@SECTION name@@" there becomes the
# guest's section "name" in a code block.  So the walkthrough's ring views
# and traces always come from the code as it is.
#
#   scripts/trace-demo.sh            regenerate docs/walkthrough.md
#   scripts/trace-demo.sh --check    only check the sections (make check)
#
# --check prints "trace-demo: N passed, N failed": every section present,
# the read's trace is the expected sequence add, kick, irq, used, free,
# and the interrupts-versus-polling part shows what it claims: the same
# fio job went once through the interrupt queue vq0 (interrupts, no
# polls) and once through the poll queue vq1 (polls, no interrupt, every
# I/O completed there), and vq1's ring asks the device never to notify.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/host.sh
. scripts/lib/host.sh

check=0
[ "${1:-}" = --check ] && check=1

scripts/deps.sh guest build >&2
KVER=$(scripts/guest-kver.sh)
OUT=build/trace-demo
mkdir -p "$OUT"
vrb_heavy make -s KDIR="/lib/modules/$KVER/build" modules >&2
scripts/mkinitramfs.sh -o "$OUT/initramfs.cpio.gz" -s trace-demo.sh \
	-f vringblk.ko:/vringblk.ko >&2
for img in disk poll; do
	truncate -s 0 "$OUT/$img.img"
	truncate -s 64M "$OUT/$img.img"
done
# throttling.bps-total: QEMU lets a request through while its bucket is
# (nearly) empty, then makes the next wait until 4 KiB/s is honoured: the
# guest looks at the ring while that next request is in flight.  The
# second disk, for the interrupts-versus-polling part, is not throttled
# and has two virtqueues: with one vCPU and poll_queues=1, one interrupt
# queue and one poll queue.  The guest tells the disks apart by PCI
# order, which is the order of the -device options.
scripts/qemu-run.sh -P -t 300 -i "$OUT/initramfs.cpio.gz" -l "$OUT/console.log" -- \
	-drive "if=none,id=d0,file=$OUT/disk.img,format=raw,cache=writeback,throttling.bps-total=4096" \
	-device virtio-blk-pci,drive=d0,disable-modern=on,serial=trace-demo \
	-drive "if=none,id=d1,file=$OUT/poll.img,format=raw,cache=writeback" \
	-device virtio-blk-pci,drive=d1,disable-modern=on,serial=trace-poll,num-queues=2 >&2 || true

# Cut the sections out of the console log (serial lines end in \r\n).
tr -d '\r' <"$OUT/console.log" | awk -v dir="$OUT" '
	/^VRB-SECTION / { name = $2; file = dir "/" name ".txt"; printf "" > file; next }
	/^VRB-END / { close(file); name = ""; next }
	name != "" && !/^\[ *[0-9]+\.[0-9]+\] / { print >> file }'

passed=0
failed=0
result() {	# result OK|FAIL name
	if [ "$1" = OK ]; then
		echo "trace-demo: PASS $2"; passed=$((passed + 1))
	else
		echo "trace-demo: FAIL $2"; failed=$((failed + 1))
	fi
}
for s in features ring-idle read-inflight-ring read-inflight-descs \
	read-done-rings read-trace write-trace cache-type stats \
	poll-probe poll-hctx poll-irq poll-fio-irq poll-fio-polled poll-stats \
	poll-ring-vq0 poll-ring-vq1 poll-interrupts poll-noevt; do
	if [ -s "$OUT/$s.txt" ]; then result OK "section/$s"; else result FAIL "section/$s"; fi
done
# The read: one chain added, one kick, one interrupt, one used element,
# its descriptors freed, in that order.
seq=$(grep -oE 'vrb_(add|kick|irq|used|free):' "$OUT/read-trace.txt" 2>/dev/null | tr -d ':' | tr '\n' ' ')
if [ "$seq" = "vrb_add vrb_kick vrb_irq vrb_used vrb_free " ]; then
	result OK trace/read-sequence
else
	result FAIL "trace/read-sequence (got: $seq)"
fi
if grep -q 'head: tag .* READ, 3 buffers, 4097 writable bytes' "$OUT/read-inflight-descs.txt" 2>/dev/null; then
	result OK debugfs/read-in-flight
else
	result FAIL debugfs/read-in-flight
fi
# The write: a 4 KiB write chain and then a 2-buffer FLUSH chain.
if grep -q 'bufs=3 descs=.* bytes=4113' "$OUT/write-trace.txt" 2>/dev/null &&
	grep -q 'bufs=2 descs=.* bytes=17' "$OUT/write-trace.txt"; then
	result OK trace/write-then-flush
else
	result FAIL trace/write-then-flush
fi

# ---- Interrupts versus polling ------------------------------------------

# check NAME CONDITION-COMMAND... : PASS if the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then result OK "$name"; else result FAIL "$name"; fi
}
# qstat QUEUE NAME: a counter from the poll-stats table (columns vq0, vq1).
qstat() {
	awk -v q="$1" -v n="$2" '$1 == n { print (q == "vq0" ? $2 : $3) }' \
		"$OUT/poll-stats.txt" 2>/dev/null || true
}
# ringval SECTION FIELD: the first number after "FIELD:" in a ring view.
ringval() {
	sed -n "s/^$2: *\([0-9]*\).*/\1/p" "$OUT/$1.txt" 2>/dev/null || true
}
# fio_ios SECTION: the I/Os fio issued ("issued rwts: total=R,W,T,A").
fio_ios() {
	sed -n 's/.*issued rwts: total=\([0-9]*\),\([0-9]*\),\([0-9]*\),\([0-9]*\).*/\1 \2 \3 \4/p' \
		"$OUT/$1.txt" 2>/dev/null | awk '{ print $1 + $2 + $3 + $4 }' || true
}
# fio_cpu SECTION ctx|cpu: from fio's "cpu : usr=U%, sys=S%, ctx=C" line,
# the context switches, or usr + sys in whole percent.
fio_cpu() {
	sed -n 's/^cpu *: usr=\([0-9.]*\)%, sys=\([0-9.]*\)%, ctx=\([0-9]*\).*/\1 \2 \3/p' \
		"$OUT/$1.txt" 2>/dev/null |
		awk -v w="$2" '{ if (w == "ctx") print $3; else printf "%d\n", $1 + $2 }' || true
}
# is_eq A B, is_ge A B, is_gt A B: numeric, and false when either is
# empty.
is_eq() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -eq "$2" ]; }
is_ge() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -ge "$2" ]; }
is_gt() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -gt "$2" ]; }

irq_ios=$(fio_ios poll-fio-irq)
poll_ios=$(fio_ios poll-fio-polled)
echo "trace-demo: fio did $irq_ios I/Os by interrupt, $poll_ios polled;" \
	"vq0 irqs $(qstat vq0 irqs) polls $(qstat vq0 polls) completed $(qstat vq0 completed);" \
	"vq1 irqs $(qstat vq1 irqs) polls $(qstat vq1 polls) completed $(qstat vq1 completed)"
check poll/probe-1-polled-of-2 grep -q 'vringblk0: .* 2 queue(s) of [0-9]* (1 polled)' \
	"$OUT/poll-probe.txt"
check poll/probe-second-disk grep -qx 'serial: trace-poll' "$OUT/poll-probe.txt"
check poll/hctx-types cmp -s "$OUT/poll-hctx.txt" \
	<(printf 'hctx0: type default\nhctx1: type poll\nqueue/io_poll: 1\n')
check poll/irq-view grep -qx 'vq1: polled, no interrupt' "$OUT/poll-irq.txt"
check poll/fio-did-io is_gt "$poll_ios" 0
check poll/same-load is_eq "$irq_ios" "$poll_ios"
# The ordinary run went to vq0 and was completed by interrupts.
check poll/vq0-took-irqs is_gt "$(qstat vq0 irqs)" 0
check poll/vq0-no-polls is_eq "$(qstat vq0 polls)" 0
check poll/vq0-completed-the-ordinary-ios is_eq "$(qstat vq0 completed)" "$irq_ios"
# At queue depth 1 an interrupt never finds more than one completion,
# and none finds nothing.
check poll/vq0-one-irq-per-completion is_eq "$(qstat vq0 irqs)" "$(qstat vq0 completed)"
# The polled run went to vq1, which never took an interrupt.
check poll/vq1-no-irqs is_eq "$(qstat vq1 irqs)" 0
check poll/vq1-polled is_gt "$(qstat vq1 polls)" 0
check poll/vq1-completed-the-polled-ios is_eq "$(qstat vq1 completed)" "$poll_ios"
# At queue depth 1 every completion is found by a poll of its own.
check poll/vq1-a-poll-per-completion-at-least \
	is_ge "$(qstat vq1 polls)" "$(qstat vq1 completed)"
check poll/vq0-kicked is_gt "$(qstat vq0 kicks)" 0
check poll/vq1-kicked is_gt "$(qstat vq1 kicks)" 0
# fio's view: polled, fio hardly ever slept (context switches) and used
# more CPU (it spins where it would have slept).
check poll/fio-polled-fewer-context-switches \
	is_gt "$(fio_cpu poll-fio-irq ctx)" "$(fio_cpu poll-fio-polled ctx)"
check poll/fio-polled-more-cpu \
	is_gt "$(fio_cpu poll-fio-polled cpu)" "$(fio_cpu poll-fio-irq cpu)"
# The rings: vq0 asks for an interrupt at the next completion (used_event
# = used.idx), vq1 for none (used_event half the index space ahead, and,
# with EVENT_IDX, avail.flags 0 as §2.7.7 requires).
check poll/ring-vq0-armed is_eq "$(ringval poll-ring-vq0 used_event)" \
	"$(ringval poll-ring-vq0 used.idx)"
check poll/ring-vq0-interrupt grep -q '^completions: *interrupt$' "$OUT/poll-ring-vq0.txt"
check poll/ring-vq1-polled grep -q '^completions: *polled' "$OUT/poll-ring-vq1.txt"
ue=$(ringval poll-ring-vq1 used_event)
ui=$(ringval poll-ring-vq1 used.idx)
check poll/ring-vq1-used_event-far is_eq "$(( (${ue:-0} - ${ui:-0} + 65536) % 65536 ))" 32768
check poll/ring-vq1-flags-0-with-event_idx grep -q '^avail.flags: *0x0$' \
	"$OUT/poll-ring-vq1.txt"
# Without EVENT_IDX, avail.flags says NO_INTERRUPT on vq1 only, and the
# polled I/O still took no interrupt.
check poll/noevt-vq1-no_interrupt grep -q '^vq1 avail.flags: *0x1 NO_INTERRUPT$' \
	"$OUT/poll-noevt.txt"
check poll/noevt-vq0-flags-0 grep -q '^vq0 avail.flags: *0x0$' "$OUT/poll-noevt.txt"
check poll/noevt-vq1-no-irqs grep -qx 'vq1 irqs 0' "$OUT/poll-noevt.txt"
noevt_ios=$(fio_ios poll-noevt)
check poll/noevt-vq1-completed-the-polled-ios grep -qx "vq1 completed ${noevt_ios:-none}" \
	"$OUT/poll-noevt.txt"

if [ $check -eq 0 ] && [ "$failed" -eq 0 ]; then
	awk -v dir="$OUT" '
		/^@@SECTION [a-z0-9-]+@@$/ {
			name = $2; sub(/@@$/, "", name)
			print "```"
			while ((getline line < (dir "/" name ".txt")) > 0) print line
			close(dir "/" name ".txt")
			print "```"
			next
		}
		{ print }' docs/walkthrough.md.in >docs/walkthrough.md
	echo "trace-demo: wrote docs/walkthrough.md" >&2
fi
echo "trace-demo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
