# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# stage.sh - the stages of `make check` and `make check-debug`: each stage
# is a command that prints its own "N passed, N failed[, N skipped]" line
# last; stage() runs it, keeps its log, and adds its counts up;
# stage_summary prints the one last line, "N passed, N failed".  Source
# it after setting LOGDIR.

total_pass=0
total_fail=0
total_skip=0
stage_start=$(date +%s)
mkdir -p "$LOGDIR"

# stage NAME COMMAND...: run a stage, show its output, add its counts.
# A stage that prints no result line, or exits non-zero with no failed
# case, counts as one failure.
stage() {
	local name=$1 log=$LOGDIR/$1.log line p f s rc t0
	shift
	t0=$(date +%s)
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "=== $name: no result line (exit $rc): counted as 1 failure"
		total_fail=$((total_fail + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/.*\b([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "=== $name: exit $rc with no failed case: counted as 1 failure"
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + ${s:-0}))
	echo "=== $name: $p passed, $f failed in $(($(date +%s) - t0)) s"
}

# stage_summary WHAT: the time taken, then the last line, always exactly
# "N passed, N failed"; skipped cases (a tool or kernel feature missing
# here) are listed in the stage logs and counted on the line before it.
# Status 1 if anything failed.
stage_summary() {
	echo "=== $1 took $(($(date +%s) - stage_start)) s; logs in $LOGDIR/"
	[ "$total_skip" -gt 0 ] && echo "($total_skip skipped, see the logs)"
	echo "$total_pass passed, $total_fail failed"
	[ "$total_fail" -eq 0 ]
}

# build_for KVER DIR: build vringblk with W=1 -Werror against KVER (one of
# scripts/lib/kernels.sh's names) in DIR: "." is the project itself,
# anything else a fresh copy of its sources (so the project's vringblk.ko
# stays the default guest kernel's).  Status 0 if DIR/vringblk.ko was
# built.
build_for() {
	local kver=$1 dir=$2
	if [[ $dir != . ]]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		cp -a Kbuild Makefile mod kunit "$dir"/
	fi
	VRB_BUILD_DIR=$dir scripts/kbuild.sh "$kver" -s W=1 KCFLAGS=-Werror &&
		[[ -f $dir/vringblk.ko ]]
}
