#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# init.sh - /init of the vringblk test initramfs (busybox ash).
#
# The kernel runs this as process 1 once it has unpacked the initramfs.  It
# prepares a minimal system, runs ONE guest script with its output on the
# serial console (which the host captures), and powers the machine off,
# whatever the script did.  Process 1 must never exit: if it did, the kernel
# would panic.
#
# Kernel command line words it reads (the kernel leaves words with a dot in
# /proc/cmdline and passes them to nobody else):
#   vrbtest.script=PATH   script to run instead of the one recorded at build
#                         time in /etc/vrb-script; "shell" gives a shell
#   vrbtest.timeout=SEC   guest watchdog (default 600): after SEC seconds,
#                         dump blocked tasks and power off
#   vrbtest.dmesg=1       print the whole kernel log at the end
#
# Lines for the host:  VRB-BOOT (script starts), VRB-DONE rc=N (script
# ended), VRB-TIMEOUT (watchdog fired).

export PATH=/usr/bin
export HOME=/tmp

# devtmpfs: the kernel fills /dev with a node for every device it knows,
# so no mdev/udev is needed.  Then make sure our stdio is the console.
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /dev/shm /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t devpts devpts /dev/pts
hostname vrbguest

# TCG is slow: report a task stuck in D state after 60 s, not 120 s.
if [ -w /proc/sys/kernel/hung_task_timeout_secs ]; then
	echo 60 >/proc/sys/kernel/hung_task_timeout_secs
fi

# Modules every script may rely on (ext4 and what it needs), in
# dependency order, as computed on the host by mkinitramfs.sh.
while read -r ko; do
	insmod "$ko" 2>/dev/null || echo "init: could not load $ko"
done </etc/vrb-preload

script=$(cat /etc/vrb-script)
timeout=600
dmesg_dump=0
read -r cmdline </proc/cmdline
for word in $cmdline; do
	case $word in
	vrbtest.script=*) script=${word#*=} ;;
	vrbtest.timeout=*) timeout=${word#*=} ;;
	vrbtest.dmesg=*) dmesg_dump=${word#*=} ;;
	esac
done

if [ "$script" = shell ]; then
	echo "init: interactive shell; 'poweroff -f' to leave"
	setsid cttyhack sh -l
	poweroff -f
fi

# The watchdog: a background subshell that, if the script has not finished
# after $timeout seconds, asks the kernel to list every blocked (D state)
# task with its stack (SysRq "w") and powers off.  The host also has its
# own timeout, in case the guest is too far gone even for this.
(
	sleep "$timeout"
	echo "VRB-TIMEOUT after ${timeout}s: blocked tasks follow"
	echo w >/proc/sysrq-trigger
	sleep 2
	poweroff -f
) &
watchdog=$!

# kmemleak (the debug kernel only): what boot left behind is marked
# reported before the script runs (objects count once they are 5 s old),
# and after the script two scans report what the script leaked, as one
# more case, "kmemleak", of this boot.  Any leak fails it, vringblk's or
# not: a leak the tests provoke in the kernel is a finding too.
KMEMLEAK=/sys/kernel/debug/kmemleak
kmemleak_arm() {
	[ -e $KMEMLEAK ] || return 0
	sleep 5
	if ! { echo scan >$KMEMLEAK && echo clear >$KMEMLEAK; } 2>/dev/null; then
		echo "VRB-RESULT FAIL kmemleak: kmemleak does not scan" \
			"($(dmesg | grep -m1 'kmemleak:'))"
		KMEMLEAK=/nonexistent
	fi
}
kmemleak_check() {
	[ -e $KMEMLEAK ] || return 0
	sleep 6
	echo scan >$KMEMLEAK
	echo scan >$KMEMLEAK
	if [ -s $KMEMLEAK ]; then
		echo "kmemleak: what the script leaked:"
		cat $KMEMLEAK
		echo "VRB-RESULT FAIL kmemleak: $(grep -c '^unreferenced object' \
			$KMEMLEAK) unreferenced object(s), listed above"
	else
		echo "VRB-RESULT PASS kmemleak"
	fi
}

kmemleak_arm
echo "VRB-BOOT kernel=$(uname -r) script=$script"
sh "$script"
rc=$?
kmemleak_check
echo "VRB-DONE rc=$rc"
kill "$watchdog" 2>/dev/null

if [ "$dmesg_dump" = 1 ]; then
	echo "VRB-DMESG-BEGIN"
	dmesg
	echo "VRB-DMESG-END"
fi

# poweroff -f: no init system to ask, power off right now.  The kernel
# tells QEMU through ACPI and QEMU exits.  The SysRq "o" (power off) is a
# fallback that should never be needed.
sync
poweroff -f
sleep 5
echo o >/proc/sysrq-trigger
