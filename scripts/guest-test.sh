#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-test.sh - run the in-guest test suite over a matrix of QEMU device
# configurations, one boot each, and count the results.
#
# Usage:
#   scripts/guest-test.sh [options] [CONFIG...]      (default: every config)
#
#   --ko FILE      module to test (default: $VRB_KO, else <project>/vringblk.ko,
#                  built first with `make KDIR=<guest headers>` unless
#                  --no-build)
#   --no-build     do not run make; use the .ko as it is
#   --modargs ARGS module parameters of the driver under test, e.g.
#                  "num_queues=1" (space-separated; the guest gets
#                  vrbtest.modargs=; virtio_blk's with --reference)
#   --reference    test the kernel's own virtio_blk instead of vringblk (the
#                  suite's own check: it should pass everywhere)
#   --selftest     run scripts/guest/selftest.sh instead of the suite: checks
#                  the harness and each config's QEMU options, no module
#   --results DIR  logs and summary (default <project>/build/guest-test)
#   --timeout SEC  hard limit per boot (default 300)
#   --keep         keep the disk images (printed at the end)
#   --list         list the configurations and exit
#
# For each configuration it:
#   1. creates sparse raw disk images in a temporary directory,
#   2. boots the guest (scripts/qemu-run.sh) with those disks and, on the
#      kernel command line, what the guest should expect (vrbtest.*),
#   3. watches the console for "VRB-WAIT <tag>" and does the host's part
#      (e.g. QMP block_resize for the resize test),
#   4. collects the "VRB-RESULT" lines from <results>/<config>.log.
#
# Besides the guest's cases (<config>/<case>) each boot adds two:
#   guest-finished/<config>   the guest ran to the end and reported results
#   guest-log-clean/<config>  no WARNING, BUG, Oops, hung task, Call Trace...
#                             in the kernel's console output
#
# The last line is "N passed, N failed" (", N skipped" when some were);
# the exit status is 1 if anything failed.

set -euo pipefail
# shellcheck source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"
# shellcheck source=lib/results.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/results.sh"
# shellcheck source=lib/chroot.sh
. "$VRB_ROOT/scripts/lib/chroot.sh"
# shellcheck source=lib/kernels.sh
. "$VRB_ROOT/scripts/lib/kernels.sh"

ko=${VRB_KO:-}
build=1
modargs=""
mode=vringblk		# vringblk | reference | selftest
results=$VRB_ROOT/build/guest-test
tmo=300
keep=0
list=0
only=()

while [[ $# -gt 0 ]]; do
	case $1 in
	--ko) ko=$2; build=0; shift ;;
	--no-build) build=0 ;;
	--modargs) modargs=$2; shift ;;
	--reference) mode=reference ;;
	--selftest) mode=selftest ;;
	--results) results=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	--keep) keep=1 ;;
	--list) list=1 ;;
	-h | --help) sed -n '/^# Usage/,/^# The last/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) vrb_die "unknown option $1 (try --help)" ;;
	*) only+=("$1") ;;
	esac
	shift
done
# Timeouts grow on slow kernels (the debug kernel's detectors).
tmo=$((tmo * $(vrb_kernel_slowdown "$(vrb_guest_kver)")))

MiB=$((1 << 20))

# ---- the configurations ----------------------------------------------------
#
# Each cfg_<name> function describes one boot with these helpers:
#   disk SIZE PROPS [DRIVE]  add a legacy virtio-blk disk of SIZE bytes;
#                            PROPS are virtio-blk-pci properties, DRIVE
#                            extra -drive options
#   tests GROUP,...          test groups of scripts/guest/tests.sh
#   expect KEY=VALUE         an extra vrbtest.KEY=VALUE for the guest
#   smp=N                    number of vCPUs
# Names use "-"; the function name uses "_" instead.

configs=(default intx noevt-noindir qsize1024 qsize64-noindir mq2 readonly
	serial20 two-disks odd-size resize poll poll-noevt-intx poll-refused
	poll-capped)

# The full suite on one disk with every optional feature on.
cfg_default() {
	disk $((64 * MiB)) serial=vrb-default,discard=on,write-zeroes=on \
		discard=unmap,cache=writeback
	tests probe,capacity,serial,readonly,pattern,fio,mq,discard,wzeroes,ext4,debugfs,reload
	expect selftest_tools=1
}

# No MSI-X: one shared INTx line, the ISR register says why it fired.
cfg_intx() {
	disk $((64 * MiB)) vectors=0
	tests probe,pattern,fio,ext4,reload
	expect fio=quick
}

# No EVENT_IDX (notify on every request) and no indirect descriptors
# (chains in the ring itself); also no discard/write-zeroes offered.
cfg_noevt_noindir() {
	disk $((64 * MiB)) event_idx=off,indirect_desc=off
	tests probe,pattern,fio,discard,wzeroes,ext4
	expect fio=quick
}

# The largest legacy ring.
cfg_qsize1024() {
	disk $((64 * MiB)) queue-size=1024
	tests probe,pattern,fio
	expect fio=quick
}

# A small ring without indirect descriptors: a 1 MiB request no longer
# fits in one chain, the driver must cap segments per request.
cfg_qsize64_noindir() {
	disk $((64 * MiB)) queue-size=64,indirect_desc=off
	tests probe,pattern,fio,ext4
	expect fio=quick
}

# Two virtqueues, two vCPUs.
cfg_mq2() {
	smp=2
	disk $((64 * MiB)) num-queues=2
	tests probe,mq,pattern,fio,reload
	expect fio=quick
}

# Two virtqueues, one vCPU, poll_queues=1: queue 0 takes interrupts,
# queue 1 is polled; io_uring with hipri (IOPOLL) uses queue 1 only.
# (No "fio" group: its 2-jobs-2-cpus case wants one vCPU per queue.)
cfg_poll() {
	disk $((64 * MiB)) num-queues=2
	tests probe,mq,poll,pattern,reload,poll
	expect modargs=poll_queues=1
	expect npoll=1
}

# The same without EVENT_IDX (the poll ring keeps avail.flags
# NO_INTERRUPT) and with INTx, whose handler must leave the poll queue to
# its poller; three queues on two vCPUs, so the default map has two.
cfg_poll_noevt_intx() {
	smp=2
	disk $((64 * MiB)) num-queues=3,event_idx=off,vectors=0
	tests probe,mq,poll,pattern
	expect modargs=poll_queues=1
	expect npoll=1
}

# poll_queues=1 on a device with one queue: the driver says so and runs
# without poll queues; hipri I/O still works (completed by interrupt).
cfg_poll_refused() {
	disk $((64 * MiB)) num-queues=1
	tests probe,mq,poll
	expect modargs=poll_queues=1
	expect npoll=0
}

# poll_queues=3 with one vCPU on a four-queue device: one CPU can poll
# one queue only, so the driver says so and makes one poll queue, not
# three of which two no CPU maps to (and one interrupt queue).
cfg_poll_capped() {
	disk $((64 * MiB)) num-queues=4
	tests probe,poll,pattern
	expect modargs=poll_queues=3
	expect npoll=1
	expect poll_capped=1
}

cfg_readonly() {
	disk $((64 * MiB)) "" readonly=on
	tests probe,capacity,readonly,reload
}

# A serial of exactly 20 bytes: GET_ID returns it without a NUL.
cfg_serial20() {
	disk $((64 * MiB)) serial=ABCDEFGHIJKLMNOPQRST
	tests probe,serial
}

# Two disks of different sizes: names, sizes and data must not mix.
cfg_two_disks() {
	disk $((64 * MiB)) serial=vrb-disk-0
	disk $((32 * MiB)) serial=vrb-disk-1
	tests probe,capacity,serial,multi,reload
}

# 64 MiB + 512 bytes: the last sector is alone in its 4 KiB page.
cfg_odd_size() {
	disk $((64 * MiB + 512)) ""
	tests probe,capacity,pattern,ext4
}

# The host grows the disk from 64 to 128 MiB while ext4 is mounted.
cfg_resize() {
	disk $((64 * MiB)) ""
	tests probe,resize
	expect resize_to=$((128 * MiB))
	on_wait[resize]=host_resize
}

# ---- config helpers -------------------------------------------------------

# Per-boot state, reset by new_boot.
qargs=()	# QEMU arguments (disks)
words=()	# kernel command line words (vrbtest.*)
smp=1
ndisks=0
declare -A on_wait	# VRB-WAIT tag -> host function

new_boot() {
	qargs=()
	words=()
	smp=1
	ndisks=0
	on_wait=()
}

tests() {
	words+=("vrbtest.tests=$1")
}

expect() {
	words+=("vrbtest.$1")
}

# prop PROPS NAME DEFAULT: value of NAME=... in a comma-separated list.
prop() {
	local kv
	local IFS=,
	for kv in $1; do
		[[ $kv == "$2="* ]] && { echo "${kv#*=}"; return; }
	done
	echo "$3"
}

# disk SIZE PROPS [DRIVE]
disk() {
	local size=$1 props=$2 drive=${3:-} i=$ndisks img
	img=$work/$cfg-d$i.img
	rm -f "$img"
	truncate -s "$size" "$img"

	# QEMU's defaults for discard and write-zeroes are "on"; spell both
	# out so the guest's expectations are exact.  Same for num-queues,
	# which would otherwise follow the number of vCPUs.
	[[ $props == *discard=* ]] || props+=${props:+,}discard=off
	[[ $props == *write-zeroes=* ]] || props+=,write-zeroes=off
	[[ $props == *num-queues=* ]] || props+=,num-queues=1
	# cache=unsafe: QEMU ignores flushes to the host file.  Fast, and
	# the guest still sees a write cache and sends FLUSH requests.
	[[ $drive == *cache=* ]] || drive+=${drive:+,}cache=unsafe

	qargs+=(-drive "if=none,id=d$i,file=$img,format=raw,$drive"
		-device "virtio-blk-pci,drive=d$i,disable-modern=on,$props")
	words+=("vrbtest.size$i=$size"
		"vrbtest.serial$i=$(prop "$props" serial "")"
		"vrbtest.ro$i=$([[ $drive == *readonly=on* ]] && echo 1 || echo 0)"
		"vrbtest.discard$i=$([[ $(prop "$props" discard off) == on ]] && echo 1 || echo 0)"
		"vrbtest.wzeroes$i=$([[ $(prop "$props" write-zeroes off) == on ]] && echo 1 || echo 0)")
	if [[ $i == 0 ]]; then
		# The selftest reads these back from the device registers.
		words+=("vrbtest.nq=$(prop "$props" num-queues 1)"
			"vrbtest.qsize=$(prop "$props" queue-size 256)"
			"vrbtest.evtidx=$([[ $(prop "$props" event_idx on) == on ]] && echo 1 || echo 0)"
			"vrbtest.indirect=$([[ $(prop "$props" indirect_desc on) == on ]] && echo 1 || echo 0)"
			"vrbtest.msix=$([[ $(prop "$props" vectors 1) == 0 ]] && echo 0 || echo 1)")
	fi
	ndisks=$((ndisks + 1))
}

# ---- host actions (VRB-WAIT <tag>) -----------------------------------------

# Grow disk d0 to vrbtest.resize_to.  QEMU updates the capacity in config
# space and sends a configuration-change interrupt to the guest.
host_resize() {
	local size
	size=$(printf '%s\n' "${words[@]}" | sed -n 's/^vrbtest.resize_to=//p')
	if "$VRB_ROOT/scripts/qmp.sh" "$qmp" block_resize \
		"{\"device\":\"d0\",\"size\":$size}" >>"$log.host" 2>&1; then
		vrb_record PASS "$cfg/host-block-resize" ""
	else
		vrb_record FAIL "$cfg/host-block-resize" "$(tail -n 1 "$log.host")"
	fi
}

# ---- one boot ---------------------------------------------------------------

# run_config NAME
run_config() {
	cfg=$1
	local fn=cfg_${cfg//-/_} pid rc start booted tag acted=" "
	local p0=$npass f0=$nfail
	new_boot
	"$fn"
	log=$results/$cfg.log
	qmp=$work/$cfg.qmp
	rm -f "$log" "$log.host" "$qmp"

	case $mode in
	selftest) words+=("vrbtest.script=/vrb/selftest.sh" "vrbtest.disks=$ndisks") ;;
	reference) words+=("vrbtest.script=/vrb/tests.sh" "vrbtest.disks=$ndisks" "vrbtest.driver=virtio_blk") ;;
	*) words+=("vrbtest.script=/vrb/tests.sh" "vrbtest.disks=$ndisks") ;;
	esac
	[[ -n $modargs ]] && words+=("vrbtest.modargs=${modargs// /+}")
	# The guest's own watchdog fires well before the host's timeout,
	# so we get its report of blocked tasks.
	words+=("vrbtest.timeout=$((tmo - 30))" "vrbtest.dmesg=1")

	local run=("$VRB_ROOT/scripts/qemu-run.sh" -i "$initrd" -l "$log"
		-t "$tmo" -c "$smp" -q "$qmp" -a "${words[*]}")
	[[ $mode == reference ]] && run+=(-B)
	echo "== $cfg"
	start=$SECONDS
	"${run[@]}" -- "${qargs[@]}" >"$log.qemu" 2>&1 &
	pid=$!

	# Watch the console for requests from the guest while it runs.
	# The log appears when QEMU starts, i.e. once the lock is ours.
	booted=""
	while kill -0 "$pid" 2>/dev/null; do
		if [[ -f $log ]]; then
			[[ -n $booted ]] || booted=$SECONDS
			while read -r tag; do
				[[ $acted == *" $tag "* ]] && continue
				acted+="$tag "
				if [[ -n ${on_wait[$tag]:-} ]]; then
					"${on_wait[$tag]}"
				else
					vrb_record FAIL "$cfg/host-$tag" "no host action for VRB-WAIT $tag"
				fi
			done < <(tr -d '\r' <"$log" | sed -n 's/.*VRB-WAIT \([^ ]*\).*/\1/p')
		fi
		sleep 0.5
	done
	rc=0
	wait "$pid" || rc=$?
	[[ -f $log ]] || : >"$log"
	if [[ $rc != 0 && $rc != 124 ]]; then
		sed 's/^/  qemu: /' "$log.qemu" | tail -n 5
	fi
	vrb_parse_console "$log" "$cfg" "$rc" "$tmo"
	[[ -n $booted ]] || booted=$start
	echo "   $cfg: $((npass - p0)) passed, $((nfail - f0)) failed" \
		"($((SECONDS - booted)) s in QEMU, $((booted - start)) s waiting" \
		"for the lock; log $log)"
}

# ---- main -------------------------------------------------------------------

if [[ $list == 1 ]]; then
	for c in "${configs[@]}"; do
		echo "$c"
	done
	exit 0
fi
[[ ${#only[@]} -gt 0 ]] || only=("${configs[@]}")
for c in "${only[@]}"; do
	declare -F "cfg_${c//-/_}" >/dev/null || vrb_die "unknown config $c (--list)"
done

kver=$(vrb_guest_kver)
mkdir -p "$results"
: >"$results/summary.txt"
work=$(mktemp -d /tmp/vrb-guest-test.XXXXXX)
if [[ $keep == 0 ]]; then
	trap 'rm -rf "$work"' EXIT
fi

# The initramfs: the module and the guest scripts, built once for all
# boots; each boot picks its script and expectations on the command line.
initrd=$results/initramfs.cpio
mk=("$VRB_ROOT/scripts/mkinitramfs.sh" -k "$kver" -o "$initrd")
case $mode in
selftest) mk+=(-s selftest.sh) ;;
reference) mk+=(-s tests.sh -V) ;;
vringblk)
	ko=$(vrb_module_ko "$kver" "$build" "$ko")
	mk+=(-s tests.sh -f "$ko:/vringblk.ko")
	;;
esac
"${mk[@]}"

total_start=$SECONDS
for c in "${only[@]}"; do
	run_config "$c"
done

echo
echo "guest-test ($mode): $((SECONDS - total_start)) s, logs in $results"
[[ $keep == 1 ]] && echo "disk images kept in $work"
vrb_summary ""
