# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# chroot.sh - Debian chroots of other suites, created and cached by the
# project.  Source it after host.sh.
#
# Why: the newest Debian kernels' headers name their own suite's compiler
# (sid's .kernelvariables say gcc-16), and some tools (herd7, in
# herdtools7) are packaged in sid only.  A `debootstrap --variant=minbase`
# chroot of that suite runs both on this bookworm machine without
# installing anything of that suite on the host.
#
#   vrb_chroot SUITE [PKG...]      print the chroot's path; create it the
#                                  first time (~2 min, ~300 MB), install
#                                  the packages it lacks.  SUITE may be
#                                  "<base>-backports" (trixie-backports):
#                                  a <base> chroot that also has the
#                                  backports suite in its apt sources;
#                                  "<base>-security" likewise, with the
#                                  security archive (bookworm-security);
#                                  "<suite>+<tag>" (bookworm+blktests): a
#                                  chroot of <suite> of its own, for one
#                                  purpose (a guest's root file system)
#   vrb_chroot_run SUITE CMD...    run CMD inside, with /proc and /dev
#                                  mounted for the command and unmounted
#                                  after, however it ends; the directories
#                                  in VRB_CHROOT_BIND (space-separated
#                                  absolute paths) are bind-mounted at the
#                                  same paths inside for the command
#
# Chroots live in $VRB_CACHE/chroot/<suite> (default /var/cache/vringblk),
# one lock file each: two scripts never change one at the same time.
# Needs root (debootstrap, chroot, mount).
#
# This mirror's sid Release file has expired: apt inside every chroot is
# told not to check Valid-Until (the packages are still signed).

VRB_CACHE=${VRB_CACHE:-${VRINGBLK_CACHE:-/var/cache/vringblk}}
VRB_MIRROR=${VRB_MIRROR:-http://deb.debian.org/debian}
VRB_SECURITY_MIRROR=${VRB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# vrb_chroot_dir SUITE: where SUITE's chroot lives.
vrb_chroot_dir() {
	echo "$VRB_CACHE/chroot/$1"
}

# vrb_chroot SUITE [PKG...]
vrb_chroot() {
	local suite=$1 dir tmp missing=() p base
	shift
	dir=$(vrb_chroot_dir "$suite")
	mkdir -p "$VRB_CACHE/chroot"
	(
		flock 8
		if [[ ! -x $dir/usr/bin/apt-get ]]; then
			command -v debootstrap >/dev/null ||
				vrb_die "debootstrap missing: scripts/deps.sh chroot"
			tmp=$dir.tmp
			rm -rf "$tmp"
			base=${suite%%+*}
			base=${base%-backports}
			base=${base%-security}
			vrb_log "debootstrap $base into $dir (once)"
			debootstrap --variant=minbase "$base" "$tmp" \
				"$VRB_MIRROR" >"$VRB_CACHE/chroot/$suite.log" 2>&1 ||
				vrb_die "debootstrap $suite failed: $VRB_CACHE/chroot/$suite.log"
			printf '%s\n' 'Acquire::Check-Valid-Until "false";' \
				'APT::Install-Recommends "false";' \
				>"$tmp/etc/apt/apt.conf.d/99vringblk"
			case ${suite%%+*} in
			*-backports) echo "deb $VRB_MIRROR $suite main" \
				>"$tmp/etc/apt/sources.list.d/backports.list" ;;
			*-security) echo "deb $VRB_SECURITY_MIRROR $suite main" \
				>"$tmp/etc/apt/sources.list.d/security.list" ;;
			esac
			mv "$tmp" "$dir"
		fi
		for p in "$@"; do
			# shellcheck disable=SC2016 # ${Status} is dpkg-query's, not ours
			chroot "$dir" dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
				grep -q 'install ok installed' || missing+=("$p")
		done
		if [[ ${#missing[@]} -gt 0 ]]; then
			vrb_log "$suite chroot: installing ${missing[*]}"
			_vrb_chroot_exec "$dir" sh -c \
				"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing[*]}" \
				>>"$VRB_CACHE/chroot/$suite.log" 2>&1 ||
				vrb_die "$suite chroot: installing ${missing[*]} failed: $VRB_CACHE/chroot/$suite.log"
		fi
	) 8>"$VRB_CACHE/chroot/$suite.lock" || return 1
	echo "$dir"
}

# _vrb_chroot_exec DIR CMD...: mount /proc and /dev, run CMD, unmount.
_vrb_chroot_exec() {
	local dir=$1 rc=0 b binds=()
	shift
	mountpoint -q "$dir/proc" || mount -t proc proc "$dir/proc"
	mountpoint -q "$dir/dev" || mount --bind /dev "$dir/dev"
	cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
	for b in ${VRB_CHROOT_BIND:-}; do
		mkdir -p "$dir$b"
		mountpoint -q "$dir$b" || { mount --bind "$b" "$dir$b" && binds+=("$b"); }
	done
	chroot "$dir" "$@" || rc=$?
	for b in "${binds[@]}"; do
		umount "$dir$b" 2>/dev/null || umount -l "$dir$b" || true
	done
	umount "$dir/dev" 2>/dev/null || umount -l "$dir/dev" || true
	umount "$dir/proc" 2>/dev/null || umount -l "$dir/proc" || true
	return "$rc"
}

# vrb_chroot_run SUITE CMD...: the chroot must exist (vrb_chroot first).
vrb_chroot_run() {
	local suite=$1 dir
	shift
	dir=$(vrb_chroot_dir "$suite")
	[[ -x $dir/usr/bin/apt-get ]] || vrb_die "no $suite chroot: vrb_chroot $suite"
	(
		flock 8
		_vrb_chroot_exec "$dir" "$@"
	) 8>"$VRB_CACHE/chroot/$suite.lock"
}
