#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh - run the vringblk KUnit suites (kunit/) under User Mode Linux.
# This is what `make kunit` runs.
#
# Debian's kernel has no KUnit, so kunit.py builds its own UML kernel from
# a kernel source tree:
#
#   KSRC=<tree>   use that (clean, unconfigured) kernel source tree;
#   otherwise     the Debian source of KVER= (one of the supported
#                 kernels, scripts/lib/kernels.sh; default 6.1): for 6.1
#                 linux-source-6.1, installed with apt-get if missing;
#                 for the newest kernel its suite's linux-source-X.Y,
#                 downloaded into the cache; extracted once into the
#                 cache.  (UML is built with this machine's gcc.)
#   KASAN=1       build with KASAN (separate build directory).
#   VRINGBLK_CACHE=<dir>
#                 where the extracted tree, the scratch tree and the build
#                 directories live (default /var/cache/vringblk if
#                 writable, else ~/.cache/vringblk).
#   KUNIT_JOBS=<n>     make -j for the UML kernel (default 2).
#   KUNIT_TIMEOUT=<s>  time limit for running the tests (default 600).
#
# The build directories persist, so a second run only rebuilds what
# changed (~30 s); the first one builds a UML kernel (~4 min on 2 cores).
#
# The source tree is never modified.  The project is made reachable from
# a scratch copy of it: a `cp -as` symlink farm in which drivers/misc/
# Kconfig and Makefile are replaced by real files that add our kunit/
# directory, and drivers/misc/vringblk is a symlink to this project.
#
# The last line of output is "kunit: N passed, N failed"; the exit status
# is non-zero if anything failed or if no test ran.

set -euo pipefail

proj=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
kasan=${KASAN:-0}

die() {
	echo "kunit: $*" >&2
	echo "kunit: 0 passed, 1 failed"
	exit 1
}

# ---- tools -----------------------------------------------------------

# Install what kunit.py and a UML build need, if missing (CI starts from a
# bare Debian).  kunit.py itself uses only the Python standard library.
need_pkgs=()
for tool in gcc:gcc make:make flex:flex bison:bison bc:bc perl:perl \
	    python3:python3 xz:xz-utils; do
	command -v "${tool%%:*}" >/dev/null || need_pkgs+=("${tool#*:}")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "missing packages: ${need_pkgs[*]}"
	echo "kunit: installing ${need_pkgs[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}"
fi

# ---- cache directory ---------------------------------------------------

if [ -n "${VRINGBLK_CACHE:-}" ]; then
	cache=$VRINGBLK_CACHE
elif mkdir -p /var/cache/vringblk 2>/dev/null && [ -w /var/cache/vringblk ]; then
	cache=/var/cache/vringblk
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/vringblk
fi
mkdir -p "$cache"
cache=$(cd "$cache" && pwd -P)

# One run at a time per cache: the scratch tree and build dirs are shared.
exec 9>"$cache/lock"
flock 9

# ---- kernel source -------------------------------------------------------

if [ -n "${KSRC:-}" ]; then
	src=$(cd "$KSRC" && pwd -P)
	[ -f "$src/tools/testing/kunit/kunit.py" ] || die "KSRC=$KSRC has no kunit.py"
else
	# shellcheck source=lib/host.sh
	. "$proj/scripts/lib/host.sh"
	# shellcheck source=lib/chroot.sh
	. "$proj/scripts/lib/chroot.sh"
	# shellcheck source=lib/kernels.sh
	. "$proj/scripts/lib/kernels.sh"
	kver=$(vrb_kernel_resolve "${KVER:-6.1}") || die "no kernel ${KVER:-6.1}"
	tarball=$(vrb_kernel_source "$kver") || die "no source for $kver"
	tname=$(basename "$tarball" .tar.xz)
	echo "kunit: kernel $kver, source $tarball"
	src=$cache/$tname
	vrb_extract_source "$tarball" "$src"
fi
[ ! -e "$src/.config" ] || die "$src is configured; kunit.py needs a clean tree (make mrproper)"

# ---- scratch tree ----------------------------------------------------------

# The scratch tree and the build directories are named after the source
# tree, so two KSRC trees never share object files.
key=$(echo "$src" | md5sum | cut -c1-12)
scratch=$cache/scratch-$key
if [ ! -d "$scratch" ] || [ "$(cat "$scratch/.vringblk-src" 2>/dev/null)" != "$src" ]; then
	echo "kunit: making symlink farm $scratch"
	rm -rf "$scratch" "$scratch.tmp"
	cp -as "$src" "$scratch.tmp"
	# kunit.py finds the kernel tree from its own resolved path: it must
	# be a real file inside the scratch tree, not a link into $src.
	rm -rf "$scratch.tmp/tools/testing/kunit"
	cp -a "$src/tools/testing/kunit" "$scratch.tmp/tools/testing/kunit"
	echo "$src" >"$scratch.tmp/.vringblk-src"
	mv "$scratch.tmp" "$scratch"
fi

# Point drivers/misc/vringblk at this project (it may have moved).
ln -sfn "$proj" "$scratch/drivers/misc/vringblk"

# Replace (never edit through the symlink) drivers/misc/Kconfig and
# Makefile by real files with one added line each.  Only rewrite them
# when the content changes, so make does not rebuild for nothing.
replace() {
	local file=$1 line=$2 tmp

	tmp=$(mktemp "$scratch/$file.XXXXXX")
	cat "$src/$file" >"$tmp"
	printf '%s\n' "$line" >>"$tmp"
	if [ -f "$scratch/$file" ] && [ ! -L "$scratch/$file" ] &&
	   cmp -s "$tmp" "$scratch/$file"; then
		rm -f "$tmp"
	else
		chmod 644 "$tmp"
		mv -f "$tmp" "$scratch/$file"
	fi
}
replace drivers/misc/Kconfig 'source "drivers/misc/vringblk/kunit/Kconfig"'
replace drivers/misc/Makefile 'obj-y += vringblk/kunit/'

# ---- build and run -----------------------------------------------------------

build=$cache/build-$key
kconfig_add=()
if [ "$kasan" = 1 ]; then
	build=$build-kasan
	# UML on x86_64 has generic KASAN: its shadow is mapped by a
	# constructor that both the static and the dynamic link scripts
	# keep, so no CONFIG_STATIC_LINK is needed.  In 6.1 a KASAN report
	# fails the running case only with CONFIG_KASAN_KUNIT_TEST (which
	# also builds KASAN's own suite: the filter below skips it).
	# KASAN_VMALLOC also checks vmalloc()ed memory; kasan_multi_shot
	# reports (and so fails) every bad access, not only the first.
	kconfig_add=(--kconfig_add CONFIG_KASAN=y
		     --kconfig_add CONFIG_KASAN_VMALLOC=y
		     --kconfig_add CONFIG_KASAN_KUNIT_TEST=y
		     --kernel_args kasan_multi_shot)
fi
mkdir -p "$build"

# make decides by timestamps.  If this build dir last built another copy
# of the project (another clone using the same cache), its objects may be
# newer than our sources without being built from them: rebuild ours.
if [ "$(cat "$build/.vringblk-project" 2>/dev/null)" != "$proj" ]; then
	rm -rf "$build/drivers/misc/vringblk"
	echo "$proj" >"$build/.vringblk-project"
fi

log=$build/kunit.log
echo "kunit: source $src, build dir $build"
# kunit.py prints the build steps, then one line per case and suite, then
# "Testing complete. Ran N tests: passed: X, failed: Y, ...".
# Building and running the UML kernel is heavy work: it takes the lock
# that kernel builds and QEMU boots share (scripts/lib/host.sh), unless
# the caller already holds it.
heavy=()
# shellcheck disable=SC2031 # host.sh sets it for its children only
[ "${VRB_HEAVY_LOCKED:-0}" = 1 ] ||
	heavy=(env VRB_HEAVY_LOCKED=1 flock "${VRB_HEAVY_LOCK:-/tmp/vringblk-heavy.lock}")
set +e
(cd "$scratch" &&
	"${heavy[@]}" python3 tools/testing/kunit/kunit.py run \
		--kunitconfig="$proj/kunit" \
		--build_dir="$build" \
		--jobs="${KUNIT_JOBS:-2}" \
		--timeout="${KUNIT_TIMEOUT:-600}" \
		"${kconfig_add[@]}" 'vringblk_*') 2>&1 |
	grep --line-buffered -v '^stty: ' | tee "$log"
status=${PIPESTATUS[0]}
set -e

summary=$(grep -E 'Testing complete\. Ran [0-9]+ tests' "$log" | tail -n 1 || true)
if [ -z "$summary" ]; then
	echo "kunit: no test results (see $log)" >&2
	echo "kunit: 0 passed, 1 failed"
	exit 1
fi

count() {
	local n

	n=$(echo "$summary" | grep -oE "$1: [0-9]+" | grep -oE '[0-9]+' || true)
	echo "${n:-0}"
}
passed=$(count passed)
failed=$(( $(count failed) + $(count crashed) + $(count errors) ))

# Belt and braces: a sanitizer or a BUG() report in the kernel log is a
# failure even if no case noticed it.
bugs=$(grep -c -E '^(BUG|UBSAN|WARNING: CPU: .* vringblk)' "$build/test.log" 2>/dev/null || true)
if [ "${bugs:-0}" -gt 0 ]; then
	echo "kunit: $bugs kernel error report(s) in $build/test.log:" >&2
	grep -E '^(BUG|UBSAN|WARNING)' "$build/test.log" | head -n 5 >&2 || true
	failed=$((failed + bugs))
fi

echo "kunit: $passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
	exit 1
fi
exit 0
