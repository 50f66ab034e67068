#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# litmus.sh - `make litmus`: prove the ring's barriers with the
# Linux-kernel memory model.
#
# KUnit runs driver and device on one CPU and TCG does not reorder like
# real hardware, so no other test fails when a barrier goes missing.
# herd7 does: it decides a litmus test over every execution the LKMM
# allows.  kunit/litmus/ holds one test per barrier pair labelled in
# mod/vrb_vq.c and kunit/fake_dev.c ("Barrier A" ... "Barrier D"), which
# declares "Result: Never" for the bad outcome, and broken copies (a
# barrier removed or weakened) which declare "Result: Sometimes".
#
#   scripts/litmus.sh          check every test and the documents
#   scripts/litmus.sh --doc    regenerate docs/barriers.md and the
#                              walkthrough's barrier section first
#
# One case per .litmus file: PASS if herd7's "Observation" is the file's
# "Result:", herd7 raised no flag (a data race makes the result
# meaningless), and every code line the file quotes (" *   | " lines,
# after a "FILE, FUNCTION():" line) is still in that function, in that
# order: a test that no longer models the code fails.  herd7's comments
# nest like OCaml's, so a "(*" in a quoted line is written "( *".
# Three more cases:
#   code/barrier-comments  every labelled barrier in mod/ and kunit/ has
#                          a test, and the ring's and the simulated
#                          device's comments name it;
#   doc/barriers           docs/barriers.md is what docs/barriers.md.in
#                          gives with herd7's output of now, and shows
#                          every test;
#   doc/walkthrough        so is the barrier section of
#                          docs/walkthrough.md(.in).
# Ends with "litmus: N passed, N failed"; exit status 1 on any failure.
# A herd7 that cannot run fails every case.
#
# herd7 (herdtools7) is packaged in Debian sid only: it runs in the
# project's cached sid chroot (lib/chroot.sh; ~2 min to create, once).
# The model (tools/memory-model/) comes from linux-source-6.1's tarball,
# extracted once into the cache, like checkpatch for lint.sh.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib/host.sh
. scripts/lib/host.sh
# shellcheck source=scripts/lib/chroot.sh
. scripts/lib/chroot.sh

doc=0
[ "${1:-}" = --doc ] && doc=1

scripts/deps.sh lint chroot >&2

TESTS=kunit/litmus
TEMPLATE=docs/barriers.md.in
DOC=docs/barriers.md
mapfile -t FILES < <(cd "$TESTS" && ls -- *.litmus)
[ "${#FILES[@]}" -gt 0 ] || vrb_die "no tests in $TESTS"

# ---- the model and herd7 ---------------------------------------------

MODEL=$VRB_CACHE/lkmm/linux-source-6.1/tools/memory-model
get_model() {
	local tmp
	[ -f "$MODEL/linux-kernel.cfg" ] && return 0
	vrb_log "extracting tools/memory-model from linux-source-6.1 (once)"
	mkdir -p "$VRB_CACHE/lkmm" || return 1
	tmp=$(mktemp -d "$VRB_CACHE/lkmm/tmp.XXXXXX") || return 1
	tar -xf /usr/src/linux-source-6.1.tar.xz -C "$tmp" \
		linux-source-6.1/tools/memory-model || { rm -rf "$tmp"; return 1; }
	# Another run may have finished first: keep its copy then.
	mv -T "$tmp/linux-source-6.1" "$VRB_CACHE/lkmm/linux-source-6.1" 2>/dev/null ||
		true
	rm -rf "$tmp"
	[ -f "$MODEL/linux-kernel.cfg" ]
}

OUT=build/litmus
rm -rf "$OUT"
mkdir -p "$OUT"

# Run herd7 on every test in one chroot session: the model and the tests
# are copied into the chroot's /tmp (small text files), the outputs copied
# back to $OUT/<test>.out.  Anything missing on the way fails every case
# below, with the reason here.
herd_ok=0
if ! get_model; then
	vrb_log "no LKMM: extracting it from /usr/src/linux-source-6.1.tar.xz failed"
elif ! root=$(vrb_chroot sid herdtools7); then
	vrb_log "no sid chroot with herd7 (see $VRB_CACHE/chroot/sid.log)"
else
	work=$(mktemp -d "$root/tmp/vringblk-litmus.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	cp -a "$MODEL" "$work/model"
	mkdir "$work/tests"
	cp "${FILES[@]/#/$TESTS/}" "$work/tests/"
	# shellcheck disable=SC2016 # expanded by the chroot's sh
	if vrb_chroot_run sid sh -c 'cd "$1/model" && for f in ../tests/*.litmus; do
			timeout 300 herd7 -conf linux-kernel.cfg "$f" >"${f%.litmus}.out" 2>&1 || true
		done' sh "${work#"$root"}" >&2; then
		herd_ok=1
		cp "$work"/tests/*.out "$OUT/"
		vrb_log "$(vrb_chroot_run sid herd7 -version 2>/dev/null | head -n 1 | sed 's/^/herd7 /; s/,.*//')"
	else
		vrb_log "herd7 did not run in the sid chroot"
	fi
fi

# ---- the quoted code ---------------------------------------------------

# check_quotes TEST: print the first quoted line not found, in order, in
# the function the test names before it; nothing if all are there.
check_quotes() {
	awk '
	# Body of function f in file src: from its definition line (at
	# column 0, "f(" in it, not a prototype) to the closing "}".
	function load(src, f,    line, state, n) {
		n = 0; state = 0
		while ((getline line < src) > 0) {
			if (state == 0 && line ~ /^[A-Za-z_]/ && index(line, f "(") &&
			    (index(line, " " f "(") || index(line, "*" f "(") ||
			     index(line, f "(") == 1))
				state = 1
			else if (state == 1 && line == "{")
				state = 2
			else if (state == 1 && line ~ /;$/)
				state = 0
			else if (state == 2 && line == "}")
				break
			else if (state == 2)
				body[++n] = line
		}
		close(src)
		return n
	}
	/^ \*/ {
		line = $0
		if (match(line, /^ \*   \| /)) {
			q = substr(line, RLENGTH + 1)
			gsub(/\( \*/, "(*", q)
			if (nbody == 0) { print "quote before any FILE, FUNCTION(): " q; exit }
			while (pos <= nbody && !index(body[pos], q)) pos++
			if (pos > nbody) { print file ", " fn "(): not found (in order): " q; exit }
			pos++
			next
		}
		# The last "FILE, FUNCTION()" on a line names where the
		# next quotes are.
		t = ""
		while (match(line, /(mod|kunit)\/[A-Za-z0-9_]+\.[ch], [A-Za-z0-9_]+\(\)/)) {
			t = substr(line, RSTART, RLENGTH)
			line = substr(line, RSTART + RLENGTH)
		}
		if (t != "") {
			split(t, a, ", ")
			file = a[1]; fn = a[2]; sub(/\(\)$/, "", fn)
			delete body
			nbody = load(file, fn); pos = 1
			if (nbody == 0) { print file ": no function " fn "()"; exit }
		}
	}' "$TESTS/$1"
}

# ---- the cases ---------------------------------------------------------

passed=0
failed=0
result() {	# result OK|FAIL name text
	if [ "$1" = OK ]; then
		echo "litmus: PASS $2: $3"
		passed=$((passed + 1))
	else
		echo "litmus: FAIL $2: $3"
		failed=$((failed + 1))
	fi
}

for f in "${FILES[@]}"; do
	name=${f%.litmus}
	want=$(sed -n 's/^ \* Result: \([A-Za-z]*\).*/\1/p' "$TESTS/$f" | head -n 1)
	bad=$(check_quotes "$f")
	if [ "$herd_ok" -eq 0 ]; then
		result FAIL "$name" "herd7 did not run"
	elif [ -z "$want" ]; then
		result FAIL "$name" "no ' * Result: ' line"
	elif ! got=$(awk '/^Observation / { print $3; found = 1 } END { exit !found }' "$OUT/$name.out"); then
		result FAIL "$name" "herd7 gave no result: $(head -n 3 "$OUT/$name.out" | tr '\n' ' ')"
	elif grep -q '^Flag ' "$OUT/$name.out"; then
		result FAIL "$name" "herd7 flagged: $(grep '^Flag ' "$OUT/$name.out" | tr '\n' ' ')"
	elif [ "$got" != "$want" ]; then
		result FAIL "$name" "declares $want, herd7 says $got"
	elif [ -n "$bad" ]; then
		result FAIL "$name" "$got as declared, but stale quote: $bad"
	else
		result OK "$name" "$got, as declared"
	fi
done

# ---- the barrier comments ----------------------------------------------

# Every "Barrier X (for pairing)" comment in mod/ and kunit/ is of a label
# some test proves (declares Never, title "Barrier X: "), and in the ring
# and the simulated device, whose comments are the pairs' reference, names
# such a test that exists: a new labelled barrier without a test, or a
# renamed test, fails here.  (mod/vrb_debugfs.c's Barrier C comments are
# one-line comments; barrier-C-complete.litmus quotes their code instead.)
NAMING=" mod/vrb_vq.c kunit/fake_dev.c "
comments_problem=$(for src in mod/*.c kunit/*.c; do
	awk -v src="$src" '
		/Barrier [A-Z] \(for pairing\)/ {
			match($0, /Barrier [A-Z]/); label = substr($0, RSTART + 8, 1)
			at = FNR; named = ""; open = 1
		}
		open {
			l = $0
			while (match(l, /kunit\/litmus\/[A-Za-z0-9+-]+\.litmus/)) {
				named = named " " substr(l, RSTART, RLENGTH)
				l = substr(l, RSTART + RLENGTH)
			}
		}
		open && /\*\// {
			n = split(named, t, " ")
			if (n == 0)
				print src ":" at " " label " -"
			for (i = 1; i <= n; i++)
				print src ":" at " " label " " t[i]
			open = 0
		}' "$src"
done | while read -r where label test; do
	if [ "$test" = - ] && [[ $NAMING != *" ${where%%:*} "* ]]; then
		grep -lqx ' \* Result: Never' "$TESTS"/barrier-"$label"-*.litmus 2>/dev/null ||
			echo "$where: no kunit/litmus/ test proves Barrier $label"
	elif [ "$test" = - ]; then
		echo "$where: Barrier $label names no kunit/litmus/ test"
	elif [ ! -f "$test" ]; then
		echo "$where: $test does not exist"
	elif ! grep -qx ' \* Result: Never' "$test" ||
		! grep -q "^ \* Barrier $label: " "$test"; then
		echo "$where: $test does not prove Barrier $label"
	fi
done | head -n 1)
if [ -z "$comments_problem" ]; then
	result OK code/barrier-comments "every labelled barrier has its test"
else
	result FAIL code/barrier-comments "$comments_problem"
fi

# ---- docs/barriers.md ----------------------------------------------------

# herd7's output as shown in the document: without the lines that change
# from run to run (Time) or with herdtools7's version (Hash), nor blank ones.
herd_out() {
	grep -vE '^(Time|Hash=|$)' "$OUT/$1.out"
}

# The template's directives, each alone on a line, become:
#   @@TEST name@@    the test, in a code block
#   @@HERD7 name@@   herd7's output for it, in a code block
#   @@DIFF name@@    how a broken copy differs from the test it copies
#   @@BAD name@@     a broken copy's "Bad execution:" paragraph
gen_doc() {
	local line name kind good
	while IFS= read -r line; do
		if [[ $line =~ ^@@(TEST|HERD7|DIFF|BAD)\ ([A-Za-z0-9+-]+)@@$ ]]; then
			kind=${BASH_REMATCH[1]}
			name=${BASH_REMATCH[2]}
			[ -f "$TESTS/$name.litmus" ] || { echo "$TEMPLATE: no test $name" >&2; return 1; }
			case $kind in
			TEST)
				echo '```'
				cat "$TESTS/$name.litmus"
				echo '```' ;;
			HERD7)
				echo '```'
				herd_out "$name"
				echo '```' ;;
			DIFF)
				good=$(sed -n 's/.*Barrier [A-D], broken: \([A-Za-z0-9+-]*\)\.litmus.*/\1/p' \
					"$TESTS/$name.litmus" | head -n 1)
				[ -n "$good" ] || { echo "$name: no 'Barrier X, broken: T.litmus'" >&2; return 1; }
				echo '```diff'
				# Only the code: the comments differ anyway.
				diff -U 1 <(awk '/^\{/ { b = 1 } b' "$TESTS/$good.litmus") \
					<(awk '/^\{/ { b = 1 } b' "$TESTS/$name.litmus") |
					tail -n +3 || true
				echo '```' ;;
			BAD)
				awk '/^ \* Bad execution: / { b = 1 }
					b && /^ \*$/ { exit }
					b && /^ \*\)/ { exit }
					b { sub(/^ \* /, ""); print }' "$TESTS/$name.litmus" ;;
			esac
		else
			printf '%s\n' "$line"
		fi
	done <"$TEMPLATE"
}

doc_problem=""
if [ "$herd_ok" -eq 0 ]; then
	doc_problem="herd7 did not run"
elif ! gen_doc >"$OUT/barriers.md"; then
	doc_problem="$TEMPLATE does not expand"
else
	for f in "${FILES[@]}"; do
		grep -qx "@@HERD7 ${f%.litmus}@@" "$TEMPLATE" ||
			doc_problem="$TEMPLATE does not show ${f%.litmus}"
	done
	if [ -z "$doc_problem" ] && [ "$doc" -eq 1 ]; then
		cp "$OUT/barriers.md" "$DOC"
		vrb_log "wrote $DOC"
	fi
	if [ -z "$doc_problem" ] && ! cmp -s "$OUT/barriers.md" "$DOC"; then
		doc_problem="$DOC differs from what herd7 says now (scripts/litmus.sh --doc; diff $OUT/barriers.md)"
	fi
fi
if [ -z "$doc_problem" ]; then
	result OK doc/barriers "$DOC is up to date"
else
	result FAIL doc/barriers "$doc_problem"
fi

# ---- the walkthrough's section ------------------------------------------

# docs/walkthrough.md is generated by trace-demo.sh (a QEMU run) from
# docs/walkthrough.md.in, which it copies but for its @@SECTION@@ lines.
# Its barrier section is herd7's, not the guest's: the text between these
# two lines is written by --doc into both files, the same in each, so a
# trace-demo run carries it over unchanged.
BEGIN_MARK='<!-- generated by scripts/litmus.sh --doc from kunit/litmus/: do not edit -->'
END_MARK='<!-- end of scripts/litmus.sh --doc -->'
WALK=(docs/walkthrough.md.in docs/walkthrough.md)

# For each test declaring Never: its title, its code (without the header
# comment), herd7's verdicts on it and on its broken copies, and each
# copy's "Bad execution:" paragraph as one line.
gen_walk() {
	local f name title copies c
	for f in "${FILES[@]}"; do
		name=${f%.litmus}
		grep -qx ' \* Result: Never' "$TESTS/$f" || continue
		title=$(sed -n 's/^ \* \(Barrier [A-D]: .*\)\.$/\1/p' "$TESTS/$f" | head -n 1)
		[ -n "$title" ] || { echo "$f: no ' * Barrier X: title.' line" >&2; return 1; }
		mapfile -t copies < <(grep -l "Barrier [A-D], broken: $name\.litmus" \
			"${FILES[@]/#/$TESTS/}" | sed 's|.*/||; s|\.litmus$||')
		echo "**$title** ([\`$f\`](../$TESTS/$f)):"
		echo
		echo '```'
		awk '/^\{/ { b = 1 } b' "$TESTS/$f"
		echo '```'
		echo
		echo '```'
		for c in "$name" "${copies[@]}"; do
			grep '^Observation ' "$OUT/$c.out"
		done
		echo '```'
		echo
		for c in "${copies[@]}"; do
			printf -- "- \`%s\`: " "$c"
			awk '/^ \* Bad execution: / { b = 1; sub(/^ \* Bad execution: /, "") }
				b && /^ \*$/ { exit }
				b && /^ \*\)/ { exit }
				b { sub(/^ \* /, ""); printf "%s%s", sep, $0; sep = " " }
				END { print "" }' "$TESTS/$c.litmus"
		done
		echo
	done
}

# walk_block FILE: the lines between the marks, marks excluded.
walk_block() {
	awk -v b="$BEGIN_MARK" -v e="$END_MARK" '
		$0 == e { exit } in_block { print } $0 == b { in_block = 1 }' "$1"
}

# walk_replace FILE NEW: FILE with the lines between the marks replaced by
# the file NEW.
walk_replace() {
	awk -v b="$BEGIN_MARK" -v e="$END_MARK" -v new="$2" '
		$0 == e { skip = 0 }
		!skip { print }
		$0 == b { while ((getline l < new) > 0) print l; skip = 1 }' "$1" >"$1.tmp" &&
		mv "$1.tmp" "$1"
}

walk_problem=""
if [ "$herd_ok" -eq 0 ]; then
	walk_problem="herd7 did not run"
elif ! gen_walk >"$OUT/walkthrough-section.md"; then
	walk_problem="cannot generate the section"
else
	for w in "${WALK[@]}"; do
		if [ "$(grep -cxF -e "$BEGIN_MARK" -e "$END_MARK" "$w")" -ne 2 ]; then
			walk_problem="$w: not exactly one pair of marks"
			continue
		fi
		[ "$doc" -eq 1 ] && walk_replace "$w" "$OUT/walkthrough-section.md" &&
			vrb_log "wrote the barrier section of $w"
		cmp -s <(walk_block "$w") "$OUT/walkthrough-section.md" ||
			walk_problem="$w: barrier section differs from what herd7 says now (scripts/litmus.sh --doc; diff $OUT/walkthrough-section.md)"
	done
fi
if [ -z "$walk_problem" ]; then
	result OK doc/walkthrough "the barrier section of ${WALK[*]} is up to date"
else
	result FAIL doc/walkthrough "$walk_problem"
fi

echo "litmus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
