#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu-run.sh - boot Debian's kernel with one of our initramfs images in
# QEMU, with the disks you give it, and return when the guest powers off.
#
# Usage:
#   scripts/qemu-run.sh -i INITRD [options] [-- QEMU ARGS...]
#
#   -i FILE    initramfs built by mkinitramfs.sh (required)
#   -k FILE    kernel image (default: the guest kernel's, see
#              scripts/guest-kver.sh; KVER= selects another)
#   -m MEM     guest memory (default 1G)
#   -c N       number of vCPUs (default 1)
#   -T         under TCG, run all vCPUs on one host thread (thread=single)
#              instead of one thread each: a plugin whose counters are not
#              atomic (scripts/bench/insncount.c) stays exact with -c 2
#   -t SEC     hard timeout: QEMU is killed after SEC seconds (default 300)
#   -l FILE    write the serial console to FILE instead of stdout
#   -q SOCK    open a QMP control socket (JSON) at the unix socket SOCK
#   -a WORDS   append WORDS to the kernel command line (may repeat)
#   -B         do not blacklist virtio_pci/virtio_blk (reference runs)
#   -P         panic at the first Oops (oops=panic) instead of going on
#   -I         interactive: keep stdin connected to the serial console
#   -n         print the QEMU command line and exit
#
# Everything after "--" goes to QEMU unchanged: that is where the disks
# under test go.  A legacy virtio-blk disk (PCI 1af4:1001, revision 0) is
#
#   -drive if=none,id=d0,file=disk.img,format=raw,cache=unsafe
#   -device virtio-blk-pci,drive=d0,disable-modern=on
#
# Exit status: QEMU's (0 when the guest powered off), 124 on timeout.
#
# Notes for newcomers:
# - Acceleration: KVM only when /dev/kvm is writable AND the CPU has
#   vmx/svm; here (nested virtualisation) neither holds and QEMU emulates
#   the CPU in software (TCG), which is slower but needs nothing.
#   VRB_ACCEL=tcg|kvm overrides the choice.
# - modprobe.blacklist=virtio_pci,virtio_blk: Debian's virtio_pci would
#   claim every 1af4 PCI device, ours included.  Our initramfs does not
#   even contain it unless built with -V, and has no udev to autoload
#   anything, so this is a second belt.
# - panic=-1 reboots at once on a panic, and -no-reboot turns the reboot
#   into a QEMU exit: a dead guest ends the run instead of hanging.
# - loglevel=5: kernel messages of level warning and worse (WARNING:, BUG:,
#   Oops, hung task...) reach the console; informational ones stay in the
#   kernel log (dmesg), which vrbtest.dmesg=1 prints at the end.
# - The run holds /tmp/vringblk-heavy.lock: boots and builds take turns on
#   this 2-core machine.  The timeout starts once the lock is held.

set -euo pipefail
# shellcheck source=lib/host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"
# shellcheck source=lib/chroot.sh
. "$VRB_ROOT/scripts/lib/chroot.sh"
# shellcheck source=lib/kernels.sh
. "$VRB_ROOT/scripts/lib/kernels.sh"

initrd=""
kernel=""
mem=1G
cpus=1
tmo=300
log=""
qmp=""
append=()
blacklist=1
oops_panic=0
interactive=0
dry_run=0
one_thread=0

while getopts "i:k:m:c:t:l:q:a:TBPInh" opt; do
	case $opt in
	i) initrd=$OPTARG ;;
	k) kernel=$OPTARG ;;
	m) mem=$OPTARG ;;
	c) cpus=$OPTARG ;;
	t) tmo=$OPTARG ;;
	l) log=$OPTARG ;;
	q) qmp=$OPTARG ;;
	a) append+=("$OPTARG") ;;
	T) one_thread=1 ;;
	B) blacklist=0 ;;
	P) oops_panic=1 ;;
	I) interactive=1 ;;
	n) dry_run=1 ;;
	h) sed -n '/^# Usage/,/^# Exit/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) vrb_die "bad option (try -h)" ;;
	esac
done
shift $((OPTIND - 1))
[[ -n $initrd ]] || vrb_die "-i INITRD is required (try -h)"
[[ -f $initrd ]] || vrb_die "$initrd: no such file"
kwords=""	# what this kernel needs on its command line (lib/kernels.sh)
if [[ -z $kernel ]]; then
	kver=$(vrb_guest_kver)
	kernel=$(vrb_kernel_image "$kver")
	kwords=$(vrb_kernel_cmdline "$kver")
fi
[[ -r $kernel ]] || vrb_die "$kernel: not readable"

# kvm_usable: the rule from ENVIRONMENT.md.  A /dev/kvm that exists is not
# enough: without vmx (Intel) or svm (AMD) in the CPU flags the guest
# hangs in early boot.
kvm_usable() {
	[[ -w /dev/kvm ]] && grep -qwE 'vmx|svm' /proc/cpuinfo
}
accel=${VRB_ACCEL:-}
if [[ -z $accel ]]; then
	if kvm_usable; then accel=kvm; else accel=tcg; fi
fi
if [[ $accel == kvm ]]; then
	cpu=host
else
	cpu=max		# everything TCG can emulate (SSE4.2 for crc32c...)
	# QEMU's default for an x86 guest is one host thread per vCPU
	# (MTTCG); thread=single makes the vCPUs take turns on one thread.
	[[ $one_thread == 1 ]] && accel+=",thread=single"
fi

cmdline="console=ttyS0 loglevel=5 panic=-1 rdinit=/init${kwords:+ $kwords}"
[[ $blacklist == 1 ]] && cmdline+=" modprobe.blacklist=virtio_pci,virtio_blk"
[[ $oops_panic == 1 ]] && cmdline+=" oops=panic"
[[ ${#append[@]} -gt 0 ]] && cmdline+=" ${append[*]}"

qemu=(qemu-system-x86_64
	-accel "$accel" -cpu "$cpu" -smp "$cpus" -m "$mem"
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	-display none -vga none -monitor none -nic none -no-reboot)

# The serial port (ttyS0, the guest's console) goes to a file or stdout.
if [[ -n $log ]]; then
	qemu+=(-chardev "file,id=con,path=$log" -serial chardev:con)
else
	qemu+=(-chardev "stdio,id=con" -serial chardev:con)
fi
if [[ -n $qmp ]]; then
	# server=on: QEMU listens; wait=off: it boots without waiting for a
	# client to connect first.
	qemu+=(-qmp "unix:$qmp,server=on,wait=off")
fi
qemu+=("$@")

if [[ $dry_run == 1 ]]; then
	printf '%q ' "${qemu[@]}"
	echo
	exit 0
fi

# timeout(1): SIGTERM after $tmo s, SIGKILL 10 s later if still there.
# Without -I, stdin is /dev/null so QEMU never touches the terminal.
if [[ $interactive == 1 ]]; then
	vrb_heavy timeout -k 10 "$tmo" "${qemu[@]}"
else
	vrb_heavy timeout -k 10 "$tmo" "${qemu[@]}" </dev/null
fi
