# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# results.sh - the results of guest boots, shared by guest-test.sh and
# robust-test.sh.  Source it after host.sh.  The guest prints
# "VRB-RESULT PASS|FAIL|SKIP <name>[: reason]" lines on its console; these
# functions count them as cases, add two cases per boot of their own (the
# guest finished; the kernel log is clean), and print the summary.
#
# State: npass, nfail, nskip (counts), failures (one line per failure),
# and the file "$results/summary.txt", which the caller creates.

npass=0
nfail=0
nskip=0
failures=()

# Kernel console lines that mean the kernel is unhappy.  Only lines that
# carry a printk timestamp "[   12.345678]" are looked at, so the tests'
# own output cannot match.  None of the messages the robustness scenarios
# provoke on purpose ("I/O error, dev vringblk0", "request timed out",
# "queue broken", "injected", "resetting the device") matches.
# The debug kernel's detectors (scripts/debug-kernel.sh) have their own
# words besides WARNING: and BUG: (lockdep, ODEBUG, list debugging, kmemleak;
# DMA-API debug reports come as WARNING:, and it logs harmless lines too).
VRB_BAD_KERNEL='\[ *[0-9]+\.[0-9]+\].*(WARNING:|BUG:|Oops|hung task|blocked for more than|Call Trace|soft lockup|rcu.*stall|general protection|Kernel panic|UBSAN|KASAN|ODEBUG|list_(add|del) corruption|possible (recursive|circular) locking|inconsistent lock state|kmemleak: [0-9]+ new suspected)'

# VRB_KNOWN_WARNING="SITE|FRAME" (set by a scenario): a WARNING whose
# "WARNING: ... at" line matches the regex SITE and whose call trace has a
# line matching the regex FRAME is the kernel's, not vringblk's; with
# VRB_KNOWN_WARNING_WHY, the reason, shown with the count.
# vrb_known_warnings [strip]: on stdin a console log; print the number of
# such warning blocks, or with "strip" the log without them.
vrb_known_warnings() {
	awk -v spec="$VRB_KNOWN_WARNING" -v strip="${1:-}" '
		BEGIN { split(spec, k, "|"); site = k[1]; frame = k[2] }
		function flush() {
			if (site_ok && frame_ok) { n++ }
			else if (strip) { for (i = 1; i <= nb; i++) print buf[i] }
			nb = 0; inblk = 0; site_ok = 0; frame_ok = 0
		}
		/------------\[ cut here \]------------/ { if (inblk) flush(); inblk = 1 }
		inblk {
			buf[++nb] = $0
			if ($0 ~ /WARNING: / && $0 ~ site) site_ok = 1
			if ($0 ~ frame) frame_ok = 1
			if ($0 ~ /---\[ end trace/) flush()
			next
		}
		strip { print }
		END { if (inblk) flush(); if (!strip) print n + 0 }'
}

# vrb_record STATUS NAME REASON: count one case; print failures and skips.
vrb_record() {
	case $1 in
	PASS) npass=$((npass + 1)) ;;
	FAIL) nfail=$((nfail + 1)); failures+=("$2: $3"); echo "  FAIL $2: $3" ;;
	SKIP) nskip=$((nskip + 1)); echo "  SKIP $2: $3" ;;
	esac
	# shellcheck disable=SC2154 # results: the caller's results directory
	echo "$1 $2${3:+: $3}" >>"$results/summary.txt"
}

# vrb_parse_console LOG GROUP RC TIMEOUT: the cases of one boot, whose
# console is in LOG, named GROUP/<case>; RC is QEMU's exit status (124:
# killed after TIMEOUT seconds).
vrb_parse_console() {
	local log=$1 group=$2 rc=$3 tmo=$4 line status rest name reason n=0
	local clean
	clean=$(tr -d '\r' <"$log")
	while read -r line; do
		status=${line#VRB-RESULT }
		status=${status%% *}
		rest=${line#VRB-RESULT "$status" }
		name=${rest%%:*}
		name=${name%% *}
		reason=""
		[[ $rest == *:* ]] && reason=${rest#*: }
		vrb_record "$status" "$group/$name" "$reason"
		n=$((n + 1))
	done < <(grep -aoE 'VRB-RESULT (PASS|FAIL|SKIP) .*' <<<"$clean" || true)

	if grep -q '^VRB-DONE' <<<"$clean" && [[ $n -gt 0 ]]; then
		vrb_record PASS "guest-finished/$group" ""
	elif [[ $rc == 124 ]]; then
		vrb_record FAIL "guest-finished/$group" "killed after ${tmo}s (host timeout)"
	elif grep -q 'VRB-TIMEOUT' <<<"$clean"; then
		vrb_record FAIL "guest-finished/$group" "guest watchdog fired"
	elif ! grep -q 'VRB-BOOT' <<<"$clean"; then
		vrb_record FAIL "guest-finished/$group" "guest script never started (rc $rc)"
	elif [[ $n == 0 ]]; then
		vrb_record FAIL "guest-finished/$group" "no VRB-RESULT lines"
	else
		vrb_record FAIL "guest-finished/$group" "guest stopped early (panic?)"
	fi

	# Warnings of the kernel's own, known and explained, that this boot
	# provokes on purpose: their whole "cut here" .. "end trace" blocks
	# are taken out, and counted here, before the log is judged.
	if [[ -n ${VRB_KNOWN_WARNING:-} ]]; then
		local known
		known=$(vrb_known_warnings <<<"$clean")
		if [[ $known != 0 ]]; then
			echo "  $group: $known known kernel warning(s) left out of the log check: $VRB_KNOWN_WARNING_WHY"
			clean=$(vrb_known_warnings strip <<<"$clean")
		fi
	fi
	line=$(grep -aE "$VRB_BAD_KERNEL" <<<"$clean" | head -n 1 || true)
	if [[ -z $line ]]; then
		vrb_record PASS "guest-log-clean/$group" ""
	else
		vrb_record FAIL "guest-log-clean/$group" "$line"
		# The report in full (a KASAN or lockdep report is 30-80
		# lines): from the first bad line on, at most 150 lines.
		echo "  the kernel's report ($log):"
		grep -aE -A100 "$VRB_BAD_KERNEL" <<<"$clean" | head -n 150 |
			sed 's/^/    /'
	fi
}

# vrb_summary WHAT: the failures, then the last line
# "WHAT: N passed, N failed[, N skipped]"; status 1 if anything failed.
vrb_summary() {
	local line
	if [[ ${#failures[@]} -gt 0 ]]; then
		echo "failures:"
		printf '  %s\n' "${failures[@]}"
	fi
	line="$npass passed, $nfail failed"
	[[ $nskip -gt 0 ]] && line+=", $nskip skipped"
	echo "$1${1:+: }$line"
	[[ $nfail == 0 ]]
}
