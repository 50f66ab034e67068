#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""hotlines.py - vringblk's hottest source lines in one benchmark job.

Usage:  scripts/bench/hotlines.py [--results DIR] [--top N] JOB [DRIVER]

After `make bench` (results in build/bench), prints the source lines of
vringblk.ko that executed the most guest instructions per I/O in JOB, e.g.

    scripts/bench/hotlines.py randread-4k-qd1

The instruction counts come from the insncount plugin (one count per
translation block, by its start address, see report.py); the guest's
/proc/kallsyms gives each function's address, the .ko's own symbol table
its offset in .text, and addr2line (binutils) turns the offset into a
source line, printed from the copy of mod/ that bench.sh took when it
built the module (<results>/bin/src).  A block is counted on the line of
its first instruction, so read the numbers per few lines, not per line.

DRIVER is vringblk (default); the in-kernel stack has no debug info in
Debian's packages, so only its functions can be named (see the report).
"""

import argparse
import bisect
import collections
import os
import subprocess
import sys

sys.dont_write_bytecode = True      # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (the same parsing as the report)


def ko_text_symbols(ko):
    """{name: offset in .text} of the module's functions."""
    out = subprocess.run(["nm", ko], capture_output=True, text=True,
                         check=True).stdout
    syms = {}
    for line in out.splitlines():
        w = line.split()
        if len(w) == 3 and w[1] in "tT":
            syms[w[2]] = int(w[0], 16)
    return syms


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", default=os.path.join(root, "build/bench"))
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("job")
    ap.add_argument("driver", nargs="?", default="vringblk")
    args = ap.parse_args()

    res = args.results
    ko = os.path.join(res, "bin", "vringblk.ko")
    src = os.path.join(res, "bin", "src")
    mine, wins = [], {}
    for b in report.boot_files(res):
        boot = report.load_boot(*b)
        mine += [(r, boot.wins[r.window]) for r in boot.runs
                 if r.job == args.job and r.drv == args.driver
                 and r.window in boot.wins and r.m.get("window_ios")]
    if not mine:
        sys.exit("no runs of %s on %s in %s" % (args.job, args.driver, res))

    # Guest address -> function of vringblk -> offset in the .ko's .text,
    # then mean instructions per I/O by that offset.  Each run with the
    # symbols of its own layout: a module reloaded (the polled jobs) sits
    # at other addresses.
    offsets = ko_text_symbols(ko)
    per_off = collections.Counter()
    for r, w in mine:
        funcs = sorted((a, n.split()[0]) for a, n in r.layout.syms
                       if n.endswith("[vringblk]"))
        starts = [a for a, _ in funcs]
        for addr, n in w["addrs"].items():
            i = bisect.bisect_right(starts, addr) - 1
            if i < 0 or funcs[i][1] not in offsets:
                continue
            per_off[(offsets[funcs[i][1]] + addr - starts[i],
                     funcs[i][1])] += n / r.m["window_ios"] / len(mine)
    hits = [(off, v, fn) for (off, fn), v in per_off.items()]
    where = subprocess.run(
        ["addr2line", "-j", ".text", "-e", ko],
        input="\n".join("%x" % off for off, _, _ in hits),
        capture_output=True, text=True, check=True).stdout.splitlines()

    per_line = collections.Counter()
    for (off, v, fn), loc in zip(hits, where):
        loc = loc.split(" ")[0]
        per_line[(fn, os.path.basename(loc.split(":")[0]),
                  loc.rsplit(":", 1)[-1])] += v

    total = sum(per_line.values())
    print("%s on %s: %.0f vringblk instructions per I/O (%d runs)" % (
        args.job, args.driver, total, len(mine)))
    for (fn, f, line), v in per_line.most_common(args.top):
        text = ""
        try:
            with open(os.path.join(src, f)) as fh:
                text = fh.readlines()[int(line) - 1].strip()
        except (OSError, ValueError, IndexError):
            pass
        print("%7.1f  %-24s %s:%s  %s" % (v, fn, f, line, text[:60]))


if __name__ == "__main__":
    main()
