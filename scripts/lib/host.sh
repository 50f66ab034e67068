# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# host.sh - helpers shared by the host-side scripts in scripts/.
# Source it; do not run it:
#
#	. "$(dirname "${BASH_SOURCE[0]}")/lib/host.sh"
#
# It defines no behaviour of its own, only names used by several scripts:
# where the project lives, the "heavy work" lock, logging, and the guest
# kernel version.

# The project root, whatever the caller's working directory is.
VRB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)

# This machine has two cores.  Kernel and module builds and QEMU boots each
# want all of them, and other people's scripts (KUnit builds) run here too,
# so every heavy step takes this lock first and they run one at a time.
VRB_HEAVY_LOCK=${VRB_HEAVY_LOCK:-/tmp/vringblk-heavy.lock}

# vrb_log MSG...: progress message on stderr, prefixed with the script name.
vrb_log() {
	echo "${0##*/}: $*" >&2
}

# vrb_die MSG...: print an error and exit with status 1.
vrb_die() {
	echo "${0##*/}: error: $*" >&2
	exit 1
}

# vrb_heavy CMD ARGS...: run CMD while holding the heavy-work lock.
#
# flock(1) waits for the lock, runs the command and releases the lock when
# the command ends, however it ends.  Set VRB_HEAVY_LOCKED=1 in the
# environment if the caller already holds the lock.
vrb_heavy() {
	if [[ ${VRB_HEAVY_LOCKED:-0} == 1 ]]; then
		"$@"
	else
		VRB_HEAVY_LOCKED=1 flock "$VRB_HEAVY_LOCK" "$@"
	fi
}

# vrb_guest_kver: print the guest kernel version (KVER= or the default),
# the kernel fetched if need be (see guest-kver.sh).
vrb_guest_kver() {
	"$VRB_ROOT/scripts/guest-kver.sh"
}

# vrb_module_ko KVER BUILD KO: print the path of the module to test.  KO
# if given, else the project's vringblk.ko, first built against KVER's
# headers when BUILD is 1.  Dies (status 1: use it as ko=$(...) under
# set -e) when the file is missing or was built for another kernel.
vrb_module_ko() {
	local kver=$1 build=$2 ko=$3 vermagic
	if [[ -z $ko ]]; then
		ko=$VRB_ROOT/vringblk.ko
		if [[ $build == 1 ]]; then
			vrb_log "building the module for $kver"
			"$VRB_ROOT/scripts/kbuild.sh" "$kver" -s >&2
		fi
	fi
	[[ -f $ko ]] || vrb_die "$ko not found (make KVER=$kver)"
	vermagic=$(modinfo -F vermagic "$ko")
	[[ $vermagic == "$kver "* ]] ||
		vrb_die "$ko was built for '${vermagic%% *}', the guest runs $kver"
	echo "$ko"
}

# vrb_as_root CMD ARGS...: run CMD as root (through sudo when needed).
vrb_as_root() {
	if [[ $(id -u) == 0 ]]; then
		"$@"
	else
		sudo "$@"
	fi
}

# vrb_extract_source TARBALL DIR: extract a linux-source tarball (its one
# top directory, named like the tarball) into DIR, once per tarball
# version (size and mtime, kept in DIR.stamp).  It goes into a temporary
# directory renamed into place, so an interrupted run leaves no
# half-extracted tree behind.  The caller holds the cache's lock.
vrb_extract_source() {
	local tarball=$1 dir=$2 stamp
	stamp=$(stat -c '%s %Y' "$tarball")
	[[ -d $dir && $(cat "$dir.stamp" 2>/dev/null) == "$stamp" ]] && return 0
	vrb_log "extracting $tarball"
	rm -rf "$dir" "$dir.tmp" "$dir.stamp"
	mkdir "$dir.tmp"
	tar -xf "$tarball" -C "$dir.tmp"
	mv "$dir.tmp/$(basename "$tarball" .tar.xz)" "$dir"
	rmdir "$dir.tmp"
	echo "$stamp" >"$dir.stamp"
}
