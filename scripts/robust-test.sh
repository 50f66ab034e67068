#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# robust-test.sh - the "broken world" tests of issue 6 (and the debugfs
# counter checks of issue 4): one QEMU guest per scenario, in which
# scripts/guest/robust.sh runs the guest's side while this script plays the
# host's: it stalls the disk, unplugs and plugs it, grows it, or gives it a
# backing store that fails chosen sectors.
#
# Usage:
#   scripts/robust-test.sh [options] [SCENARIO...]   (default: all of them)
#
#   --ko FILE      module to test (default <project>/vringblk.ko, built first
#                  with `make KDIR=<guest headers>` unless --no-build)
#   --no-build     do not run make; use the .ko as it is
#   --results DIR  logs and summary (default <project>/build/robust-test)
#   --timeout SEC  hard limit per boot (default 240)
#   --keep         keep the disk images (printed at the end)
#   --list         list the scenarios and exit
#
#   LONG=1 in the environment: the long forms (more data, more cycles).
#
# Scenarios (the guest side of each is s_<name> in scripts/guest/robust.sh):
#   counters   debugfs ring view and counters agree with what fio did
#   timeout    a stalled device: request timeout, reset, recovery
#   unplug     QMP device_del under fio, rmmod, device_add of a new disk
#   surprise   sysfs "remove" racing fio, rescan; a device that stops
#              answering (I/O decoding off) fails I/O instead of hanging
#   unbind     unbind/bind under fio, 20 cycles; no IRQ or module ref leaked
#   eio        blkdebug fails chosen sectors: EIO on exactly those requests
#   hostile    debugfs "inject": each bad used element, at QD1 and under fio
#   dataloss   fio verify across a resize, a cache mode flip and a rebind
#   badinput   bad module parameters and bad writes to debugfs/sysfs files
#   held_fd    fds on the disk, sysfs and debugfs held across unbind, sysfs
#              remove and hot-unplug, then used
#   probe_stall  a device that stops answering, or resizes, during probe
#   reset_state  the cache mode and the workqueue a reset must keep
#   surprise_full  the device vanishes (config space too) with a full ring
#   shared_msix  irq=shared: a config vector and one for all queues, no ISR
#   poll_timeout  timeout's stall, and a dropped completion, with polled
#              (io_uring hipri) I/O in flight on a poll queue
#   poll_unplug  unplug's QMP device_del with polled I/O in flight, then
#              device_add of a new two-queue disk, polled again
#   probe_alloc  each allocation of probe fails in turn (failslab and
#              fail_page_alloc through fail-nth; kernels with
#              CONFIG_FAULT_INJECTION, i.e. the debug kernel)
#
# How the two sides talk:
#   guest -> host  "VRB-WAIT <tag>" on the console (ttyS0), as in
#                  guest-test.sh; this script runs the action for <tag>;
#   host -> guest  "VRB-ACK <tag> ok|fail" on a second serial port
#                  (ttyS1, a QEMU socket chardev), so the guest knows the
#                  action is done instead of guessing from its effects.
#
# Results: the guest's "VRB-RESULT" lines become <scenario>/<case>; each boot
# adds guest-finished/<scenario> and guest-log-clean/<scenario> (no WARNING,
# BUG, Oops, hung task, Call Trace... in the kernel's console output).  The
# last line is "robust: N passed, N failed" (", N skipped" when some were);
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
results=$VRB_ROOT/build/robust-test
tmo=240
keep=0
list=0
only=()
long=${LONG:-0}

while [[ $# -gt 0 ]]; do
	case $1 in
	--ko) ko=$2; build=0; shift ;;
	--no-build) build=0 ;;
	--results) results=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	--keep) keep=1 ;;
	--list) list=1 ;;
	-h | --help) sed -n '/^# Usage/,/^# Results/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) vrb_die "unknown option $1 (try --help)" ;;
	*) only+=("$1") ;;
	esac
	shift
done
# Timeouts grow on slow kernels (the debug kernel's detectors).
tmo=$((tmo * $(vrb_kernel_slowdown "$(vrb_guest_kver)")))

MiB=$((1 << 20))
confdir=$VRB_ROOT/scripts/robust
scenarios=(counters timeout unplug surprise unbind eio hostile dataloss
	badinput held_fd probe_stall reset_state surprise_full shared_msix
	probe_alloc poll_timeout poll_unplug)

# ---- the scenarios ----------------------------------------------------------
#
# Each sc_<name> describes one boot with these helpers:
#   disk ID SIZE DEVID [PROPS [DRIVE]]  a legacy virtio-blk disk: drive ID,
#                                       device DEVID (the QMP id), extra
#                                       device PROPS and -drive options
#   spare ID SIZE                       a drive with no device (device_add)
#   expect KEY=VALUE                    vrbtest.KEY=VALUE for the guest
#   on_wait[TAG]=FUNCTION               host action for "VRB-WAIT TAG"
#   smp=N, boot_tmo=SEC                 vCPUs, hard limit for this boot

# Two disks with different ring features: one with everything (MSI-X
# vector per queue, indirect, EVENT_IDX), one with none of them and two
# queues on a shared INTx line, so every counter is checked both ways.
sc_counters() {
	smp=2
	disk d0 $((64 * MiB)) vd0 serial=vrb-counters0
	disk d1 $((32 * MiB)) vd1 \
		event_idx=off,indirect_desc=off,vectors=0,num-queues=2
}

# The host throttles the disk to 1 byte/s: after the first request the
# rest wait in QEMU "forever", i.e. until the guest's io_timeout fires.
sc_timeout() {
	disk d0 $((64 * MiB)) vd0
	on_wait[throttle-on]=host_throttle_on
	on_wait[throttle-off]=host_throttle_off
}

# The race scenarios run on two vCPUs, so fio really runs while the
# disk goes away, and with a mild host throttle (2000 requests/s), so
# that requests really sit in the device when it does.
race_disk() {
	disk d0 $((64 * MiB)) vd0 "" throttling.iops-total=2000
	smp=2
}

sc_unplug() {
	race_disk
	spare d1 $((32 * MiB))
	expect plug_size=$((32 * MiB))
	on_wait[unplug]=host_unplug
	on_wait[plug]=host_plug
}

# After the race, the device stops answering (I/O decoding off); then
# the host grows it, which sends a config interrupt nobody can serve.
sc_surprise() {
	race_disk
	expect resize_to=$((96 * MiB))
	on_wait[resize]=host_resize
}

sc_unbind() {
	race_disk
	expect "cycles=$([[ $long == 1 ]] && echo 50 || echo 20)"
}

# blkdebug between the raw format and the image file: reads of one sector
# and writes of another fail with EIO (scripts/robust/eio.conf), and QEMU
# reports them to the guest (rerror/werror=report) instead of pausing.
# Request merging is off so that a failing request is exactly the one the
# guest sent.
sc_eio() {
	local conf=$confdir/eio.conf
	disk d0 $((64 * MiB)) vd0 request-merging=off \
		"werror=report,rerror=report,file.driver=blkdebug,file.config=$conf"
	expect bad_read="$(conf_sector "$conf" read_aio)"
	expect bad_write="$(conf_sector "$conf" write_aio)"
}

# Two vCPUs, one queue: the knob is per queue, and fio on either CPU
# must go through the queue it was armed on.
sc_hostile() {
	smp=2
	disk d0 $((64 * MiB)) vd0 num-queues=1
}

sc_dataloss() {
	disk d0 $((64 * MiB)) vd0
	expect resize_to=$((96 * MiB))
	on_wait[resize]=host_resize
	if [[ $long == 1 ]]; then
		boot_tmo=$((tmo * 3))
	fi
}

# Disk 1 offers no CONFIG_WCE: its cache_type must refuse writes (EPERM).
sc_badinput() {
	disk d0 $((64 * MiB)) vd0
	disk d1 $((32 * MiB)) vd1 config-wce=off
}

# The disk goes away three times while a process holds it open; a spare
# drive comes back as the plugged disk at the end.  init_on_free=1: freed
# memory reads as zeroes, so a driver that used it answers wrongly instead
# of by luck.
sc_held_fd() {
	disk d0 $((64 * MiB)) vd0
	words+=(init_on_free=1)
	on_wait[unplug]=host_unplug
}

# Throttled to a standstill during probe, twice; the second time the
# host grows the disk meanwhile.
sc_probe_stall() {
	disk d0 $((64 * MiB)) vd0
	mbr_extended "$work/$sc-d0.img"
	expect resize_to=$((96 * MiB))
	on_wait[throttle-on]=host_throttle_on
	on_wait[throttle-off]=host_throttle_off
	on_wait[resize]=host_resize
}

sc_reset_state() {
	disk d0 $((64 * MiB)) vd0
	on_wait[cache-wt]=host_cache_wt
	on_wait[cache-wb]=host_cache_wb
}

# The disk sits behind a PCI-to-PCI bridge, so that the guest can make it
# vanish (config space included) by reprogramming the bridge.  No
# indirect descriptors: the ring can fill.
sc_surprise_full() {
	qargs+=(-device "pci-bridge,id=br0,chassis_nr=1,shpc=off,addr=0x10")
	disk d0 $((64 * MiB)) vd0 bus=br0,addr=0x1,indirect_desc=off
	on_wait[throttle-on]=host_throttle_on
}

# One disk; the sweep binds it about 800 times (1-3 s each on the debug
# kernel under TCG).  One kernel warning is known and not ours: 6.1's
# register_irq_proc() ignores a failed proc_create() of an IRQ's
# /proc/irq/N files, and unregister_irq_proc() then warns when it removes
# the file that was never made (remove_proc_entry: "name 'smp_affinity'").
sc_probe_alloc() {
	disk d0 $((64 * MiB)) vd0
	boot_tmo=$((tmo * 5))
	known_warning='fs/proc/generic.c:[0-9]+ remove_proc_entry|unregister_irq_proc'
	known_why="6.1's unregister_irq_proc() removes /proc/irq/N files whose creation failed (injected) and remove_proc_entry() warns"
}

# timeout's stall with polled I/O: poll_queues=1, two queues, vq1 polled.
sc_poll_timeout() {
	disk d0 $((64 * MiB)) vd0 num-queues=2
	expect modargs=poll_queues=1
	on_wait[throttle-on]=host_throttle_on
	on_wait[throttle-off]=host_throttle_off
}

# unplug's race with polled I/O: fio's io_uring hipri requests sit on vq1,
# a poll queue, when the device goes; the plugged disk has two queues.
sc_poll_unplug() {
	disk d0 $((64 * MiB)) vd0 num-queues=2 throttling.iops-total=2000
	smp=2
	spare d1 $((32 * MiB))
	expect modargs=poll_queues=1
	expect plug_size=$((32 * MiB))
	on_wait[unplug]=host_unplug
	on_wait[plug]=host_plug_mq
}

sc_shared_msix() {
	smp=2
	disk d0 $((64 * MiB)) vd0 num-queues=2
	expect modargs=irq=shared
}

# mbr_extended IMAGE: an MBR whose one partition is an extended one at
# sector 2048.  Probe's partition scan then reads a second page on every
# kernel (the msdos parser follows the extended chain to sector 2048),
# and that is the read probe_stall stalls; an empty disk is read past
# its first page only by the extra parsers Debian's kernels have.
mbr_extended() {
	# Entry 1 (offset 446): type 0x05, first LBA 2048, 4096 sectors.
	printf '\x05' | dd of="$1" bs=1 seek=450 conv=notrunc status=none
	printf '\x00\x08\x00\x00\x00\x10\x00\x00' |
		dd of="$1" bs=1 seek=454 conv=notrunc status=none
	printf '\x55\xaa' | dd of="$1" bs=1 seek=510 conv=notrunc status=none
}

# conf_sector FILE EVENT: the sector of the [inject-error] rule for EVENT.
conf_sector() {
	awk -v ev="$2" '
		/^\[/ { e = ""; s = "" }
		/^ *event *=/ { gsub(/[" ]/, ""); sub(/.*=/, ""); e = $0 }
		/^ *sector *=/ { gsub(/[" ]/, ""); sub(/.*=/, ""); s = $0 }
		e == ev && s != "" { print s; exit }' "$1"
}

# ---- scenario helpers -------------------------------------------------------

qargs=()	# QEMU arguments (disks)
words=()	# kernel command line words (vrbtest.*)
smp=1
ndisks=0
boot_tmo=$tmo
known_warning=""	# a kernel warning this boot may show: "SITE|FRAME"
known_why=""		# and why it is not vringblk's (lib/results.sh)
declare -A on_wait	# VRB-WAIT tag -> host function

new_boot() {
	qargs=()
	words=()
	smp=1
	ndisks=0
	boot_tmo=$tmo
	on_wait=()
	known_warning=""
	known_why=""
}

expect() {
	words+=("vrbtest.$1")
}

# image ID SIZE: create a sparse raw image, print its path.
image() {
	local img=$work/$sc-$1.img
	rm -f "$img"
	truncate -s "$2" "$img"
	echo "$img"
}

# disk ID SIZE DEVID [PROPS [DRIVE]]
disk() {
	local id=$1 size=$2 devid=$3 props=${4:-} drive=${5:-} img i=$ndisks
	img=$(image "$id" "$size")
	# With file.driver= (blkdebug) the image goes one level down.
	if [[ $drive == *file.driver=* ]]; then
		drive+=",file.image.filename=$img"
	else
		drive=file=$img${drive:+,$drive}
	fi
	# cache=unsafe: QEMU ignores flushes to the host file; the guest
	# still sees a write-back cache and sends FLUSH requests.
	qargs+=(-drive "if=none,id=$id,format=raw,cache=unsafe,$drive"
		-device "virtio-blk-pci,drive=$id,id=$devid,disable-modern=on${props:+,$props}")
	words+=("vrbtest.size$i=$size")
	ndisks=$((ndisks + 1))
}

# spare ID SIZE: a drive for a later device_add.
spare() {
	qargs+=(-drive "if=none,id=$1,format=raw,cache=unsafe,file=$(image "$1" "$2")")
}

# ---- host actions (VRB-WAIT <tag>) ------------------------------------------
#
# Each runs QMP commands through scripts/qmp.sh and returns 0 on success;
# the runner then acknowledges the tag to the guest.

qmp() {
	echo "qmp: $*" >>"$log.host"
	"$VRB_ROOT/scripts/qmp.sh" "$qmp" "$@" >>"$log.host" 2>&1
}

# block_set_io_throttle needs all six limits; bps=1 (total) lets the
# first request through (the bucket starts empty) and makes every later
# one wait for its size in seconds.  All zeroes switch throttling off and
# let the waiting requests go.  The block backend hangs off the virtio
# device inside the PCI proxy "vd0", hence the QOM path.
throttle() {
	qmp block_set_io_throttle "{\"id\":\"/machine/peripheral/vd0/virtio-backend\",\"bps\":$1,\"bps_rd\":0,\"bps_wr\":0,\"iops\":0,\"iops_rd\":0,\"iops_wr\":0}"
}
host_throttle_on() { throttle 1; }
host_throttle_off() { throttle 0; }

# host_cache WRITEBACK: QEMU's own view of drive d0's write cache
# (query-block: inserted.cache.writeback) is WRITEBACK (true or false).
host_cache() {
	local reply wb
	reply=$("$VRB_ROOT/scripts/qmp.sh" "$qmp" query-block) || return 1
	wb=$(python3 -c 'import json, sys
r = json.loads(sys.argv[1])["return"]
print(str([b for b in r if b["device"] == "d0"][0]["inserted"]["cache"]["writeback"]).lower())' "$reply")
	echo "host: d0 cache.writeback is $wb, expected $1" >>"$log.host"
	[[ $wb == "$1" ]]
}
host_cache_wt() { host_cache false; }
host_cache_wb() { host_cache true; }

# device_del asks the guest to let the device go (ACPI eject); it is gone
# from QEMU once the guest's driver has released it.
host_unplug() {
	qmp device_del '{"id":"vd0"}'
}

host_plug() {
	qmp device_add '{"driver":"virtio-blk-pci","id":"vd1","drive":"d1","disable-modern":true,"serial":"vrb-plugged"}'
}

host_plug_mq() {
	qmp device_add '{"driver":"virtio-blk-pci","id":"vd1","drive":"d1","disable-modern":true,"serial":"vrb-plugged","num-queues":2}'
}

host_resize() {
	local size
	size=$(printf '%s\n' "${words[@]}" | sed -n 's/^vrbtest.resize_to=//p')
	qmp block_resize "{\"device\":\"d0\",\"size\":$size}"
}

# ack TAG ok|fail: answer the guest on its second serial port.
#
# One connection for the whole boot, opened at the first answer: QEMU
# reads from the socket only as much as the guest's UART FIFO has room
# for, and drops the connection, unread bytes included, as soon as the
# peer hangs up, so a one-shot "printf | socat" loses most of the line.
ackfd=""
ack() {
	if [[ -z $ackfd ]]; then
		exec {ackfd}> >(exec socat -u - "UNIX-CONNECT:$acksock" \
			2>>"$log.host")
	fi
	printf 'VRB-ACK %s %s\n' "$1" "$2" >&"$ackfd" ||
		echo "ack $1: the connection to $acksock is gone" >>"$log.host"
}

ack_close() {
	if [[ -n $ackfd ]]; then
		exec {ackfd}>&-
		ackfd=""
	fi
}

# ---- one boot ---------------------------------------------------------------

# run_scenario NAME
run_scenario() {
	sc=$1
	local pid rc start booted tag acted=" " status
	local p0=$npass f0=$nfail
	new_boot
	"sc_$sc"
	log=$results/$sc.log
	qmp=$work/$sc.qmp
	acksock=$work/$sc.ack
	rm -f "$log" "$log.host" "$qmp" "$acksock"

	words+=("vrbtest.script=/vrb/robust.sh" "vrbtest.scenario=$sc"
		"vrbtest.long=$long" "vrbtest.timeout=$((boot_tmo - 30))"
		"vrbtest.dmesg=1" "vrbtest.disks=$ndisks" "log_buf_len=4M")

	# The second serial port, ttyS1: QEMU listens on $acksock and
	# passes what we write there to the guest.
	qargs+=(-chardev "socket,id=ack,path=$acksock,server=on,wait=off"
		-device "isa-serial,chardev=ack")

	echo "== $sc"
	start=$SECONDS
	"$VRB_ROOT/scripts/qemu-run.sh" -i "$initrd" -l "$log" -t "$boot_tmo" \
		-c "$smp" -q "$qmp" -a "${words[*]}" -- "${qargs[@]}" \
		>"$log.qemu" 2>&1 &
	pid=$!

	# Watch the console for requests from the guest while it runs.  The
	# log appears when QEMU starts, i.e. once the heavy lock is ours.
	booted=""
	while kill -0 "$pid" 2>/dev/null; do
		if [[ -f $log ]]; then
			[[ -n $booted ]] || booted=$SECONDS
			# A tag is acted on once per boot; "TAG.N" repeats
			# the action of TAG.
			while read -r tag; do
				[[ $acted == *" $tag "* ]] && continue
				acted+="$tag "
				status=fail
				if [[ -z ${on_wait[${tag%%.*}]:-} ]]; then
					vrb_record FAIL "$sc/host-$tag" "no host action for VRB-WAIT $tag"
				elif "${on_wait[${tag%%.*}]}"; then
					status=ok
					vrb_record PASS "$sc/host-$tag" ""
				else
					vrb_record FAIL "$sc/host-$tag" "$(tail -n 1 "$log.host")"
				fi
				ack "$tag" "$status"
			done < <(tr -d '\r' <"$log" | sed -n 's/.*VRB-WAIT \([^ ]*\).*/\1/p')
		fi
		sleep 0.2
	done
	rc=0
	wait "$pid" || rc=$?
	ack_close
	[[ -f $log ]] || : >"$log"
	if [[ $rc != 0 && $rc != 124 ]]; then
		sed 's/^/  qemu: /' "$log.qemu" | tail -n 5
	fi
	VRB_KNOWN_WARNING=$known_warning VRB_KNOWN_WARNING_WHY=$known_why \
		vrb_parse_console "$log" "$sc" "$rc" "$boot_tmo"
	[[ -n $booted ]] || booted=$start
	echo "   $sc: $((npass - p0)) passed, $((nfail - f0)) failed" \
		"($((SECONDS - booted)) s in QEMU, $((booted - start)) s waiting" \
		"for the lock; log $log)"
}

# ---- main -------------------------------------------------------------------

if [[ $list == 1 ]]; then
	printf '%s\n' "${scenarios[@]}"
	exit 0
fi
[[ ${#only[@]} -gt 0 ]] || only=("${scenarios[@]}")
for s in "${only[@]}"; do
	declare -F "sc_$s" >/dev/null || vrb_die "unknown scenario $s (--list)"
done
command -v socat >/dev/null || vrb_die "socat not found: run scripts/deps.sh"
# A write to the ack connection after socat died must fail, not kill us.
trap '' PIPE

kver=$(vrb_guest_kver)
mkdir -p "$results"
: >"$results/summary.txt"
work=$(mktemp -d /tmp/vrb-robust.XXXXXX)
if [[ $keep == 0 ]]; then
	trap 'rm -rf "$work"' EXIT
fi

ko=$(vrb_module_ko "$kver" "$build" "$ko")

# Static guest programs: vrbholdfd holds fds across a removal, vrbfrag
# scatters free memory (so a 64 KiB buffer is 16 segments).
bin=$results/bin
mkdir -p "$bin"
vrb_heavy gcc -Wall -Wextra -Werror -O2 -static -o "$bin/vrbholdfd" \
	"$confdir/vrbholdfd.c"
vrb_heavy gcc -Wall -Wextra -Werror -O2 -static -o "$bin/vrbfrag" \
	"$VRB_ROOT/scripts/bench/vrbfrag.c"

initrd=$results/initramfs.cpio
"$VRB_ROOT/scripts/mkinitramfs.sh" -k "$kver" -o "$initrd" -s robust.sh \
	-f "$ko:/vringblk.ko" -f "$bin/vrbholdfd:/usr/bin/vrbholdfd" \
	-f "$bin/vrbfrag:/usr/bin/vrbfrag"

total_start=$SECONDS
for s in "${only[@]}"; do
	run_scenario "$s"
done

echo
echo "robust-test$([[ $long == 1 ]] && echo " (LONG)"): $((SECONDS - total_start)) s, logs in $results"
[[ $keep == 1 ]] && echo "disk images kept in $work"
vrb_summary robust
