#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - `make bench`: vringblk against the kernel's own virtio_blk on
# the same kind of QEMU device in the same guest, and the report
# docs/benchmarks.md (+ docs/bench.png) that says who wins, and by how much.
#
# Usage:
#   scripts/bench.sh [options]
#
#   --smoke        short form for `make check`: 1 repetition, 1 s windows,
#                  no warm-up, no report; one case per job and driver
#                  ("ran and produced numbers"; a polled or multiqueue job
#                  also "its requests went to the poll queue / to both
#                  queues"), no thresholds
#   --reps N       repetitions of each job per driver (default 8: even, so
#                  each driver runs first in half of them; with 4, kicks
#                  and interrupts per I/O at QD>1 still swung by 2-5%
#                  between full runs, which is timing, not the driver)
#   --window SEC   instruction-count window per run (default 4)
#   --jobs LIST    comma-separated jobs (default: all eight, see
#                  scripts/bench/guest-bench.sh); a boot none of whose
#                  jobs are listed is left out
#   --ko FILE      module to measure (default: <project>/vringblk.ko, built
#                  first unless --no-build)
#   --no-build     do not run make; use the .ko as it is
#   --results DIR  logs, results.json (default build/bench, build/bench-smoke)
#   --no-docs      do not write docs/benchmarks.md and docs/bench.png
#   --timeout SEC  kill each QEMU after SEC seconds (default 2400, smoke
#                  300)
#   --ktrace       debugging: record vringblk's tracepoints in the guest and
#                  print the last ones if a run stalls (costs instructions)
#
# What happens (details in scripts/bench/*):
#   1. builds vringblk.ko, the QEMU plugin insncount.so and the static guest
#      programs vrbmark and vrbfrag, and an initramfs with
#      virtio_pci/virtio_blk (-V);
#   2. boots a guest (one vCPU, TCG) with two identical legacy null-co
#      disks of one queue each, the plugin loaded and QEMU's
#      virtio_queue_notify/virtio_notify trace events going to the same log
#      as the plugin's output;
#   3. the guest binds disk 0 to vringblk and disk 1 to virtio_blk, and runs
#      each of the five classic fio jobs on both, interleaved, --reps times;
#   4. boots a second guest, with two vCPUs and two disks of two queues
#      each, for the jobs that need them: the multiqueue job (two fio jobs
#      pinned to the two CPUs, two interrupt queues), then, both drivers
#      reloaded with poll_queues=1, the polled jobs (io_uring hipri);
#   5. scripts/bench/report.py turns the consoles and the QEMU logs into
#      numbers: throughput/latency (fio), instructions per I/O per module and
#      for the whole guest kernel, kicks and interrupts per I/O, where the
#      requests of the polled and multiqueue runs went.
#
# The last line is "bench: N passed, N failed" (cases: each guest finished,
# every job produced numbers on both drivers); exit status 1 on a failure.

set -euo pipefail
# shellcheck source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"

smoke=0
reps=8
window=4
jobs=""
ko=${VRB_KO:-}
build=1
results=""
docs=1
tmo=""
ktrace=0

while [[ $# -gt 0 ]]; do
	case $1 in
	--smoke) smoke=1 ;;
	--reps) reps=$2; shift ;;
	--window) window=$2; shift ;;
	--jobs) jobs=$2; shift ;;
	--ko) ko=$2; build=0; shift ;;
	--no-build) build=0 ;;
	--results) results=$2; shift ;;
	--no-docs) docs=0 ;;
	--timeout) tmo=$2; shift ;;
	--ktrace) ktrace=1 ;;
	-h | --help) sed -n '/^# Usage/,/^# The last/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) vrb_die "unknown option $1 (try --help)" ;;
	esac
	shift
done

warmup=1
syms=1
if [[ $smoke == 1 ]]; then
	reps=1
	window=1
	warmup=0
	syms=0
	docs=0
	results=${results:-$VRB_ROOT/build/bench-smoke}
	tmo=${tmo:-300}
fi

# Which job runs in which guest: the five classic jobs in the first, with
# one vCPU and one queue per disk, exactly as before the second existed;
# the multiqueue and polled jobs in the second.
jobs1=randread-4k-qd1,randread-4k-qd32,randwrite-4k-qd32,seqread-128k-qd8,seqwrite-1m-qd8
jobs2=mq-randread-4k-qd32x2,poll-randread-4k-qd1,poll-randread-4k-qd32
if [[ -n $jobs ]]; then
	sel1="" sel2=""
	for j in ${jobs//,/ }; do
		if [[ ,$jobs1, == *",$j,"* ]]; then
			sel1+=${sel1:+,}$j
		elif [[ ,$jobs2, == *",$j,"* ]]; then
			sel2+=${sel2:+,}$j
		else
			vrb_die "unknown job $j (jobs: $jobs1,$jobs2)"
		fi
	done
	jobs1=$sel1 jobs2=$sel2
fi

results=$(realpath -m "${results:-$VRB_ROOT/build/bench}")
tmo=${tmo:-2400}
start=$SECONDS

# Whatever stops us before the report, `make check` still gets its line.
reported=0
trap '[[ $reported == 1 ]] || echo "bench: 0 passed, 1 failed (see above)"' EXIT

# ---- what we need ------------------------------------------------------------

kver=$("$VRB_ROOT/scripts/deps.sh" guest build)
# python3 parses the logs (standard library only); gnuplot draws the chart.
need=()
pkgs=(python3)
[[ $docs == 1 ]] && pkgs+=(gnuplot-nox)
for pkg in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
		grep -q 'install ok installed' || need+=("$pkg")
done
if [[ ${#need[@]} -gt 0 ]]; then
	vrb_log "installing ${need[*]}"
	vrb_as_root apt-get update -qq >&2
	vrb_as_root apt-get install -y -qq "${need[@]}" >&2
fi

mkdir -p "$results"
rm -f "$results"/{console,qemu}{,-*}.{log,log.gz,out} \
	"$results"/{meta.txt,results.json,times}
bin=$results/bin
mkdir -p "$bin"

# ---- build -----------------------------------------------------------------------

ko=$(vrb_module_ko "$kver" "$build" "$ko")
# A copy: the tree's .ko may be rebuilt while we run.  With it, its
# sources, for scripts/bench/hotlines.py (source lines of the hot spots).
cp "$ko" "$bin/vringblk.ko"
rm -rf "$bin/src"
mkdir -p "$bin/src"
cp "$VRB_ROOT"/mod/*.[ch] "$bin/src/"

# The plugin: a shared object QEMU loads (-plugin).  vrbmark (the marks)
# and vrbfrag (scattered buffers): static guest programs, the initramfs
# has no libc of its own to spare.
src=$VRB_ROOT/scripts/bench
vrb_heavy gcc -Wall -Wextra -Werror -O2 -shared -fPIC -fvisibility=hidden \
	-o "$bin/insncount.so" "$src/insncount.c"
for prog in vrbmark vrbfrag; do
	vrb_heavy gcc -Wall -Wextra -Werror -O2 -static -o "$bin/$prog" \
		"$src/$prog.c"
done

initrd=$bin/initramfs
"$VRB_ROOT/scripts/mkinitramfs.sh" -V -k "$kver" -o "$initrd" \
	-s "$src/guest-bench.sh" -f "$bin/vringblk.ko:/vringblk.ko" \
	-f "$bin/vrbmark:/usr/bin/vrbmark" -f "$bin/vrbfrag:/usr/bin/vrbfrag"

# ---- the guests ------------------------------------------------------------------
#
# Two identical legacy disks per guest: null-co stores nothing and reads
# zeroes, so the host's disk is not part of the measurement.  Every ring
# feature is left at QEMU's default, which is on: indirect descriptors,
# EVENT_IDX, MSI-X (a config vector + one per queue).  The first guest's
# disks have one queue each, the second guest's two (num-queues=2, so
# VIRTIO_BLK_F_MQ is offered, with 3 vectors).
disk_size=1G
disk_drive="driver=null-co,size=$disk_size,read-zeroes=on,if=none"
disk_dev="virtio-blk-pci,disable-modern=on,num-queues=1"
disk_dev2="virtio-blk-pci,disable-modern=on,num-queues=2"

# The plugin's output (-d plugin) and the trace events share QEMU's log
# (-D), in the order they happened: the events between the plugin's
# "start N" and "stop N" belong to window N.
#   virtio_queue_notify   the driver wrote QUEUE_NOTIFY (a kick)
#   virtio_notify         the device interrupts the driver (after the
#   virtio_notify_irqfd   EVENT_IDX / NO_INTERRUPT check; irqfd: the path
#                         QEMU's virtio-blk takes for MSI-X)
#   virtqueue_pop         the device took a request: its buffer counts
#                         give the data segments per request
# Each event is a line written to the log: this costs QEMU some time,
# the same for both drivers per kick, interrupt and request.
printf '%s\n' virtio_queue_notify virtio_notify virtio_notify_irqfd \
	virtqueue_pop >"$results/trace-events"

# Host load: the load average, and how busy the host's CPUs were while
# QEMU ran (from /proc/stat), minus QEMU's own CPU time (bash's `times`:
# CPU time of the children we waited for).
cpu_busy() {	# prints "busy steal total" jiffies over all CPUs
	# user nice system idle iowait irq softirq steal (guest time is
	# already counted in user): steal is time the hypervisor below us
	# gave our CPUs to someone else.
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i
		print t - $5 - $6 - $9, $9, t }' /proc/stat
}
# cpu_children VAR: set VAR to the user+system seconds used by the children
# this shell has waited for (the second line of the `times` builtin, e.g.
# "0m1.500s 0m0.250s").  `times` must run in this shell: in a $(...)
# subshell it would report the subshell's own children.
cpu_children() {
	times >"$results/times"
	printf -v "$1" '%s' "$(awk 'NR == 2 { t = 0
		for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
		print t }' "$results/times")"
}

nproc=$(nproc)
meta_boot=()	# "key: value" lines about each boot, for meta.txt
accel=""
qemu_total=0

# boot NAME CPUS JOBS DEVICE: one guest of CPUS vCPUs with two disks
# "-device DEVICE" that runs JOBS (comma-separated).  Its console goes to
# console<SFX>.log, QEMU's log (plugin + trace events) to qemu<SFX>.log,
# where SFX is "" for the first guest ("1cpu") and "-NAME" for others;
# its meta.txt keys are prefixed "NAME." (none for the first).
boot() {
	local name=$1 ncpu=$2 bjobs=$3 dev=$4 sfx="" key="" i qargs words run
	local plugin=$bin/insncount.so pid rc busy0 steal0 total0 busy1 steal1
	local total1 cpu0=0 cpu1=0 qemu_start qemu_secs loadavg_before
	local loadavg_after
	if [[ $name != 1cpu ]]; then
		sfx=-$name
		key=$name.
	fi
	qargs=()
	for i in 0 1; do
		qargs+=(-drive "$disk_drive,id=d$i"
			-device "$dev,drive=d$i,serial=bench-$i")
	done
	run=("$VRB_ROOT/scripts/qemu-run.sh" -P -B -c "$ncpu" -m 1G
		-t "$tmo" -i "$initrd" -l "$results/console$sfx.log")
	# More than one vCPU: they take turns on one host thread
	# (thread=single), and the plugin is told so: its counters are not
	# atomic (scripts/bench/insncount.c).
	if [[ $ncpu -gt 1 ]]; then
		run+=(-T)
		plugin+=",one_thread=on"
	fi
	qargs+=(-plugin "$plugin" -d plugin -D "$results/qemu$sfx.log"
		-trace "events=$results/trace-events")
	words=("vrbtest.bench_reps=$reps" "vrbtest.bench_window=$window"
		"vrbtest.bench_warmup=$warmup" "vrbtest.bench_syms=$syms"
		"vrbtest.bench_ktrace=$ktrace" "vrbtest.bench_jobs=$bjobs"
		"vrbtest.timeout=$((tmo - 30))")
	run+=(-a "${words[*]}")
	[[ -n $accel ]] ||
		accel=$("${run[@]}" -n -- "${qargs[@]}" | sed -n 's/.*-accel \([a-z]*\).*/\1/p')

	loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
	cpu_children cpu0
	vrb_log "booting the $name guest: $bjobs (waits for $VRB_HEAVY_LOCK; timeout ${tmo}s)"
	"${run[@]}" -- "${qargs[@]}" >"$results/qemu$sfx.out" 2>&1 &
	pid=$!
	# The console log appears when QEMU starts, i.e. once the lock is ours.
	while kill -0 "$pid" 2>/dev/null && [[ ! -f $results/console$sfx.log ]]; do
		sleep 0.5
	done
	read -r busy0 steal0 total0 < <(cpu_busy)
	qemu_start=$SECONDS
	rc=0
	wait "$pid" || rc=$?
	qemu_secs=$((SECONDS - qemu_start))
	qemu_total=$((qemu_total + qemu_secs))
	read -r busy1 steal1 total1 < <(cpu_busy)
	cpu_children cpu1
	loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)
	[[ -f $results/console$sfx.log ]] || : >"$results/console$sfx.log"
	[[ -f $results/qemu$sfx.log ]] || : >"$results/qemu$sfx.log"
	if [[ $rc != 0 ]]; then
		vrb_log "QEMU exited with status $rc ($([[ $rc == 124 ]] && echo timeout || echo error)):"
		tail -n 5 "$results/qemu$sfx.out" >&2
	fi
	grep -a 'VRB-BENCH-ERROR' "$results/console$sfx.log" >&2 || true
	vrb_log "the $name guest ran ${qemu_secs}s"

	meta_boot+=("${key}disk: -drive $disk_drive -device $dev")
	if [[ $ncpu -gt 1 ]]; then
		meta_boot+=("${key}cpus: $ncpu (TCG thread=single: the vCPUs take turns on one host thread)")
	else
		meta_boot+=("${key}cpus: $ncpu")
	fi
	meta_boot+=("${key}loadavg_before: $loadavg_before")
	meta_boot+=("${key}loadavg_after: $loadavg_after")
	mapfile -t -O "${#meta_boot[@]}" meta_boot < <(
		awk -v b="$((busy1 - busy0))" -v t="$((total1 - total0))" \
		-v st="$((steal1 - steal0))" -v q0="$cpu0" -v q1="$cpu1" \
		-v s="$qemu_secs" -v n="$nproc" -v k="$key" 'BEGIN {
		busy = t ? n * b / t : 0; qemu = s ? (q1 - q0) / s : 0
		printf "%shost_busy: %.2f of %d cores\n", k, busy, n
		printf "%sqemu_cpu: %.2f cores\n", k, qemu
		# (parentheses: a bare ">" in a print statement redirects)
		printf "%sother_cpu: %.2f cores\n", k, (busy > qemu ? busy - qemu : 0)
		printf "%ssteal: %.2f cores\n", k, t ? n * st / t : 0 }')
	meta_boot+=("${key}qemu_secs: $qemu_secs")
	report+=(--boot "$name" "$results/console$sfx.log" "$results/qemu$sfx.log")
}

report=(python3 "$src/report.py")
[[ -z $jobs1 ]] || boot 1cpu 1 "$jobs1" "$disk_dev"
[[ -z $jobs2 ]] || boot 2cpu 2 "$jobs2" "$disk_dev2"

# ---- the report ------------------------------------------------------------------

git_rev=$(git -C "$VRB_ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
git -C "$VRB_ROOT" diff --quiet HEAD -- mod 2>/dev/null || git_rev+=" with uncommitted changes in mod/"
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu: $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n 1)"
	echo "nproc: $nproc"
	echo "host_kernel: Linux $(uname -r)"
	echo "qemu: $(qemu-system-x86_64 --version | head -n 1 | sed 's/QEMU emulator version //')"
	echo "accel: ${accel:-?}"
	echo "features: all ring features at QEMU's defaults (indirect_desc=on, event_idx=on, MSI-X with a config vector and one per queue, queue-size=256)"
	printf '%s\n' "${meta_boot[@]}"
	echo "qemu_secs_all: $qemu_total"
	echo "total_secs: $((SECONDS - start))"
	echo "source: vringblk at $git_rev, module srcversion $(modinfo -F srcversion "$bin/vringblk.ko")"
} >"$results/meta.txt"

report+=(--meta "$results/meta.txt" --json "$results/results.json" --check
	--functions-out "$results/functions.json")
# The run issue 14's "before and after" compares with (report.py says how
# it was made); --smoke renders it too, so a broken comparison fails early.
[[ ! -f $VRB_ROOT/docs/bench-baseline.json ]] ||
	report+=(--baseline "$VRB_ROOT/docs/bench-baseline.json")
if [[ $docs == 1 ]]; then
	mkdir -p "$VRB_ROOT/docs"
	report+=(--md "$VRB_ROOT/docs/benchmarks.md"
		--png "$VRB_ROOT/docs/bench.png" --png-link bench.png)
else
	# Rendered all the same (not into docs/), so that a report the
	# smoke run's data breaks fails make check, not the next make bench.
	report+=(--md "$results/benchmarks.md")
fi
vrb_log "QEMU ran ${qemu_total}s; all took $((SECONDS - start))s; logs in $results"
rc=0
"${report[@]}" || rc=$?
reported=1
# The QEMU logs hold a line per kick and interrupt: hundreds of MB.
# report.py reads them compressed too.
for log in "$results"/qemu.log "$results"/qemu-*.log; do
	[[ -f $log ]] && gzip -1f "$log"
done
exit "$rc"
