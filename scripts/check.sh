#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - `make check`: every test of the project, in the order a
# reader would want them: lint, the module build, the ring's KUnit suites
# (under KASAN, and on the newest kernel's source), the
# barriers' litmus tests (herd7), the in-guest tests over the device
# matrix, the robustness scenarios (short forms; LONG=1 for the long
# ones), the walkthrough's trace check, DKMS on every supported kernel,
# the benchmark's smoke run, and the in-guest tests on the other supported
# kernels (scripts/lib/kernels.sh).  Each stage
# prints its own "<stage>: N passed, N failed" line; this script adds
# them up and ends with one line
#
#	N passed, N failed
#
# and exit status 1 if anything failed (or a stage did not report).
# Installs what is missing from Debian's packages first.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib/host.sh
. scripts/lib/host.sh

LOGDIR=build/check
# shellcheck source=scripts/lib/stage.sh
. scripts/lib/stage.sh

# build_module: W=1 -Werror against every supported kernel, each in its
# own copy of the project; the default guest kernel's last, in the
# project itself (the guest stages test that vringblk.ko).
build_module() {
	local kver p=0 f=0 dir
	for kver in $(scripts/guest-kver.sh --all | tac); do
		dir=$LOGDIR/build-$kver
		[[ $kver == "$(scripts/guest-kver.sh)" ]] && dir=.
		if build_for "$kver" "$dir"; then
			echo "build: PASS $kver"
			p=$((p + 1))
		else
			echo "build: FAIL $kver"
			f=$((f + 1))
		fi
	done
	echo "build: $p passed, $f failed"
	[[ $f == 0 ]]
}

scripts/deps.sh all || { echo "0 passed, 1 failed"; exit 1; }

stage lint scripts/lint.sh
stage build build_module
# The ring's KUnit suites through kunit.py, under KASAN (`make kunit`
# without KASAN=1 runs the same suites on a plain UML kernel; make check
# spends that build's time, 4-8 minutes cold, on blktests instead).
stage kunit-kasan env KASAN=1 scripts/kunit.sh
# The same suites on the newest kernel's own source (linux-source-X.Y of
# its suite), UML built with this machine's gcc.
stage kunit-newest env KVER=newest scripts/kunit.sh
# The barriers: herd7 and the Linux-kernel memory model (a few seconds,
# once the sid chroot exists).
stage litmus scripts/litmus.sh
stage guest scripts/guest-test.sh --no-build
stage robust scripts/robust-test.sh --no-build
stage trace-demo scripts/trace-demo.sh --check
stage dkms scripts/dkms-test.sh
# The benchmark's short form: every job runs once and produces numbers on
# both drivers (both guests: the one-vCPU one, and the two-vCPU one whose
# polled and multiqueue runs must also have used the poll queue / both
# queues); no thresholds (those are judged on `make bench`'s report).
stage bench-smoke scripts/bench.sh --smoke --no-build
# blktests, the block layer's own suite: its short form on a vringblk
# disk (the tests that take a test device); make check-long runs both
# sides, vringblk and virtio_blk on the same device (make blktests).
if [[ ${LONG:-0} == 1 ]]; then
	stage blktests scripts/blktests.sh --no-build --no-docs
else
	stage blktests scripts/blktests.sh --short --no-build
fi

# The other supported kernels (6.12 LTS, the newest Debian ships), each
# booting its own Debian image with the module the build stage made for
# it: probe and takeover from the built-in virtio_pci, data round trips,
# fio, ext4 + fsck, rmmod/insmod (guest config "default"); one
# timeout-and-reset recovery and one hot-unplug (robust scenarios
# "timeout" and "unplug"); each boot's kernel log must be clean.
for kver in $(scripts/guest-kver.sh --all); do
	[[ $kver == "$(scripts/guest-kver.sh)" ]] && continue
	ko=$LOGDIR/build-$kver/vringblk.ko
	stage "guest-$kver" env KVER="$kver" scripts/guest-test.sh \
		--ko "$ko" --results "build/guest-test-$kver" default
	stage "robust-$kver" env KVER="$kver" scripts/robust-test.sh \
		--ko "$ko" --results "build/robust-test-$kver" timeout unplug
done

# make check-long only: everything on the debug kernel (make check-debug:
# the guest matrix and every robustness scenario under KASAN, lockdep,
# kmemleak, DMA-API debug, UBSAN; the probe allocation sweep; the block
# layer's fail_io_timeout).  Its kernel build alone takes ~16 minutes on
# 2 cores, and a cold make check already takes about 60 (README).
if [[ ${LONG:-0} == 1 ]]; then
	stage debug scripts/check-debug.sh
fi

stage_summary "make check"
