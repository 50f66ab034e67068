#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: every project .c/.h must pass, with zero findings,
#   1. checkpatch.pl --strict (from the kernel source tarball),
#   2. a W=1 build with -Werror (W=1 also runs kernel-doc on each file),
#   3. sparse over every file (C=2), against every supported kernel
#      whose Debian suite has a sparse that can read its headers,
#   4. kernel-doc -Werror -none on every file, headers included.
# Prints one "lint: N passed, N failed" line; exit status 1 on findings.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1

# shellcheck source=scripts/lib/host.sh
. scripts/lib/host.sh

scripts/deps.sh lint build >&2
# KVER= (6.1, 6.12, newest) picks the kernel of the build steps; KDIR=
# (headers on the host) overrides it.  Without either, sparse runs against
# every supported kernel (the W=1 build against the default one: make
# check's build stage builds each kernel with W=1 -Werror).
if [ -n "${KVER:-}" ] || [ -n "${KDIR:-}" ]; then
	KVER=$(scripts/guest-kver.sh)
	SPARSE_KVERS=("$KVER")
else
	KVER=$(scripts/guest-kver.sh)
	mapfile -t SPARSE_KVERS < <(scripts/guest-kver.sh --all)
fi

# checkpatch.pl and kernel-doc come from the kernel source, not the
# headers package: take them from KSRC, else from linux-source-6.1's
# tarball, extracting just those files once into the cache.
if [ -n "${KSRC:-}" ]; then
	KSRC_TREE=$KSRC
else
	cache=${VRINGBLK_CACHE:-/var/cache/vringblk}
	mkdir -p "$cache" 2>/dev/null || cache=${XDG_CACHE_HOME:-$HOME/.cache}/vringblk
	KSRC_TREE=$cache/lint-tools/linux-source-6.1
	if [ ! -f "$KSRC_TREE/scripts/checkpatch.pl" ]; then
		mkdir -p "$cache/lint-tools"
		tar -xf /usr/src/linux-source-6.1.tar.xz -C "$cache/lint-tools" \
			linux-source-6.1/scripts/checkpatch.pl \
			linux-source-6.1/scripts/spelling.txt \
			linux-source-6.1/scripts/const_structs.checkpatch \
			linux-source-6.1/scripts/kernel-doc
	fi
fi

passed=0
failed=0
skipped=0
step() {	# step NAME COMMAND...: run, keep output, count
	local name=$1 out
	shift
	if out=$("$@" 2>&1) && [ -z "$(echo "$out" | grep -vE '^(make|  (CC|LD|MODPOST|BTF|CHECK)|Skipping BTF|kbuild: vringblk for )|total: 0 errors, 0 warnings, 0 checks' || true)" ]; then
		echo "lint: PASS $name"
		passed=$((passed + 1))
	else
		echo "lint: FAIL $name"
		printf '%s\n' "$out" | while IFS= read -r l; do echo "    $l"; done
		failed=$((failed + 1))
	fi
}

# Kernel code: everything in mod/ and kunit/.  (scripts/bench/ holds a
# user-space QEMU plugin, built with -Wall -Wextra -Werror by bench.sh.)
mapfile -t FILES < <(git ls-files --cached --others --exclude-standard \
	'mod/*.[ch]' 'kunit/*.[ch]' 2>/dev/null || true)
if [ "${#FILES[@]}" -eq 0 ]; then
	mapfile -t FILES < <(find mod kunit -name '*.[ch]' | sort)
fi

CP="$KSRC_TREE/scripts/checkpatch.pl"
for f in "${FILES[@]}"; do
	ignore=()
	# TRACE_EVENT() blocks are laid out as in include/trace/events/:
	# checkpatch's parenthesis rules do not fit that macro language.
	if [ "$f" = mod/vrb_trace.h ]; then
		ignore=(--ignore 'OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT')
	fi
	step "checkpatch $f" perl "$CP" --strict --no-tree --terse --show-types \
		--summary-file "${ignore[@]}" -f "$f"
done

BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
# Build a copy so that lint never leaves objects in the tree.
cp -a Kbuild Makefile mod kunit "$BUILD"/
# kmake KVER ARGS...: build the copy for KVER (or against $KDIR).  The
# newest kernel builds in its suite's chroot, which gets sparse too.
kmake() {
	local kver=$1
	shift
	if [ -n "${KDIR:-}" ]; then
		make -s -C "$KDIR" M="$BUILD" "$@" modules
	else
		VRB_BUILD_DIR=$BUILD VRB_CHROOT_EXTRA=sparse \
			scripts/kbuild.sh "$kver" -s "$@"
	fi
}
step "build W=1 -Werror ($KVER)" kmake "$KVER" W=1 KCFLAGS=-Werror
# sparse_unusable KVER: why the sparse that would check against KVER
# cannot, if it cannot.  The kernel asks the same (scripts/checker-valid.sh,
# 6.14 on; Debian's headers packages leave it out, and kbuild then warns
# and quietly checks nothing): can sparse parse __typeof_unqual__, which
# newer kernels' headers use?  Only the newest kernel, built in its
# suite's chroot with that suite's sparse, is asked.
sparse_unusable() {
	local dir out
	[ -z "${KDIR:-}" ] || return 1
	[ "$1" = "$(KVER=newest scripts/guest-kver.sh)" ] || return 1
	(
		# shellcheck source=scripts/lib/chroot.sh
		. scripts/lib/chroot.sh
		# shellcheck source=scripts/lib/kernels.sh
		. scripts/lib/kernels.sh
		vrb_chroot "$VRB_NEWEST_SUITE" sparse >/dev/null
		dir=$(vrb_chroot_dir "$VRB_NEWEST_SUITE")
		printf '%s\n' 'static inline int u(const int *q)' '{' \
			'	__typeof_unqual__(*q) v = *q;' '	return v;' '}' \
			>"$dir/tmp/vrb-checker-valid.c"
		# All of sparse's output first, then grep: under pipefail,
		# "sparse | grep -q" fails when grep leaves at the first error
		# line and sparse dies writing the next (SIGPIPE), which read
		# as "sparse is usable" in 3 runs of 20.
		out=$(vrb_chroot_run "$VRB_NEWEST_SUITE" sparse \
			/tmp/vrb-checker-valid.c 2>&1 || true)
		if grep -q error <<<"$out"; then
			echo "$VRB_NEWEST_SUITE's sparse $(vrb_chroot_run \
				"$VRB_NEWEST_SUITE" sparse --version) cannot parse" \
				"__typeof_unqual__, which these headers use"
			exit 0
		fi
		exit 1
	)
}
for k in "${SPARSE_KVERS[@]}"; do
	if why=$(sparse_unusable "$k"); then
		echo "lint: SKIP sparse C=2 ($k): $why"
		skipped=$((skipped + 1))
		continue
	fi
	step "sparse C=2 ($k)" kmake "$k" C=2 CHECK="sparse -Wno-decl" \
		CF=-D__CHECK_ENDIAN__
done
for f in "${FILES[@]}"; do
	step "kernel-doc $f" perl "$KSRC_TREE/scripts/kernel-doc" -Werror -none "$f"
done

# The shell scripts that drive QEMU and the tests deserve lint too.
mapfile -t SH < <(git ls-files --cached --others --exclude-standard \
	'scripts/*.sh' 'scripts/**/*.sh' .ci/run 2>/dev/null || true)
step "shellcheck scripts" shellcheck -x "${SH[@]}"

if [ "$skipped" -gt 0 ]; then
	echo "lint: $passed passed, $failed failed, $skipped skipped"
else
	echo "lint: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
