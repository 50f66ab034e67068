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
# and the read's trace is the expected sequence add, kick, irq, used, free.
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
truncate -s 0 "$OUT/disk.img"
truncate -s 64M "$OUT/disk.img"
# throttling.bps-total: QEMU lets a request through while its bucket is
# (nearly) empty, then makes the next wait until 4 KiB/s is honoured: the
# guest looks at the ring while that next request is in flight.
scripts/qemu-run.sh -P -t 240 -i "$OUT/initramfs.cpio.gz" -l "$OUT/console.log" -- \
	-drive "if=none,id=d0,file=$OUT/disk.img,format=raw,cache=writeback,throttling.bps-total=4096" \
	-device virtio-blk-pci,drive=d0,disable-modern=on,serial=trace-demo >&2 || true

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
	read-done-rings read-trace write-trace cache-type stats; do
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

if [ $check -eq 0 ] && [ "$failed" -eq 0 ]; then
	awk -v dir="$OUT" '
		/^@@SECTION [a-z-]+@@$/ {
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
