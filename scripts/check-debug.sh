#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-debug.sh - `make check-debug`: the in-guest tests judged by the
# kernel's own bug detectors.  It builds (once; cached) the debug guest
# kernel, Debian's linux-source-6.1 with KASAN, lockdep, kmemleak,
# DMA-API debug, object and list debugging, UBSAN and fault injection
# (scripts/debug-kernel.sh), builds vringblk against it (W=1 -Werror),
# and runs under it
#
#   debug-guest    the in-guest test matrix (scripts/guest-test.sh),
#                  every device configuration;
#   debug-robust   every robustness scenario (scripts/robust-test.sh),
#                  with the probe allocation sweep, probe_alloc, and the
#                  block layer's own dropped completions (fail_io_timeout).
#
# Every boot adds two cases of its own: guest-log-clean (any detector
# report, i.e. KASAN, lockdep, WARNING, BUG, DMA-API error, UBSAN, ODEBUG,
# list corruption, hung task, fails it and is printed in full) and
# kmemleak (scanned after the boot's script, scripts/guest/init.sh; a
# leak fails it).  Ends with "N passed, N failed".
#
#   scripts/check-debug.sh            all of it (LONG=1: the long forms)
#   scripts/check-debug.sh --short    a quick form: guest
#                                     config "default"; robust reset_state
#                                     and probe_alloc
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib/host.sh
. scripts/lib/host.sh

short=0
case ${1:-} in
--short) short=1 ;;
"") ;;
*) vrb_die "usage: check-debug.sh [--short]" ;;
esac

LOGDIR=build/check-debug
# shellcheck source=scripts/lib/stage.sh
. scripts/lib/stage.sh

# The module is built in its own copy of the project, so the project's
# vringblk.ko stays the default guest kernel's.
moddir=$LOGDIR/module
build_debug() {
	local tree
	if ! tree=$(scripts/debug-kernel.sh); then
		echo "debug-build: FAIL the debug kernel did not build"
		echo "debug-build: 0 passed, 1 failed"
		return 1
	fi
	if build_for debug "$moddir"; then
		echo "debug-build: PASS vringblk.ko for $(cat "$tree/kernelrelease")"
		echo "debug-build: 1 passed, 0 failed"
	else
		echo "debug-build: FAIL vringblk.ko"
		echo "debug-build: 0 passed, 1 failed"
		return 1
	fi
}

stage debug-build build_debug
ko=$moddir/vringblk.ko
if [[ $short == 1 ]]; then
	guest=(default)
	robust=(reset_state probe_alloc)
else
	guest=()
	robust=()
fi
stage debug-guest env KVER=debug scripts/guest-test.sh --ko "$ko" \
	--results build/guest-test-debug "${guest[@]}"
stage debug-robust env KVER=debug scripts/robust-test.sh --ko "$ko" \
	--results build/robust-test-debug "${robust[@]}"
[[ $short == 1 ]] && what="make check-debug --short" || what="make check-debug"
stage_summary "$what"
