#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py - blktests' results of each side (vringblk, virtio_blk) as
cases, and the side-by-side report docs/blktests.md (scripts/blktests.sh).

Each side's directory holds what scripts/blktests.sh kept of one boot:
console.log (the guest's serial console), qemu.rc, secs, and res/ (the
guest's results disk: check.log, ./check's output; out/, blktests' results
directory; dmesg.txt).

The status of a test is what ./check printed for it ("[passed]",
"[failed]", "[not run]" and the reasons under it); nothing is inferred.

Cases (printed as "PASS|FAIL|SKIP name: reason", then the summary line
"blktests: N passed, N failed[, N skipped]"):
  <side>/finished        the guest got to the end of ./check
  <side>/log-clean       no kernel warning/oops/hung task on the console
  vringblk/<test>        passed (PASS), failed (FAIL), not run (SKIP);
                         only the tests run on the disk under test (the
                         others, on null_blk/scsi_debug, are in the report)
  parity/<test>          with both sides: virtio_blk passed it, so must
                         vringblk (block/011 is vringblk's own case above)
Exit status 1 when a case failed.
"""

import argparse
import os
import re
import sys

STATUS_RE = re.compile(
    r'^(?P<test>[a-z]+/(?:\d{3}|\*\*\*))(?: => (?P<dev>\S+))?\s.*'
    r'\[(?P<status>passed|failed|not run)\]\s*$')


def parse_check_log(path):
    """{test: {"status", "reasons": [...], "detail": [...]}} from ./check."""
    tests = {}
    if not os.path.exists(path):
        return tests
    cur = None
    with open(path, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n').replace('\r', '')
            m = STATUS_RE.match(line)
            if m:
                cur = {'status': m.group('status'), 'reasons': [],
                       'detail': [], 'dev': m.group('dev') or ''}
                tests[m.group('test')] = cur
                continue
            if cur is None or not line.startswith('    '):
                if not line.startswith('    '):
                    cur = None
                continue
            text = line.strip()
            # "runtime  ...  1.2s" lines (key, last value, value)
            if re.match(r'^\S+\s+.*\.\.\.', text):
                continue
            if cur['status'] == 'not run':
                cur['reasons'].append(text)
            else:
                cur['detail'].append(text)
    return tests


def read(path, default=''):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return default


def failure_summary(side_dir, test, info, src):
    """A few lines on why a test failed, from blktests' results dir."""
    out = []
    res = os.path.join(side_dir, 'res', 'out')
    for dev in sorted(os.listdir(res)) if os.path.isdir(res) else []:
        base = os.path.join(res, dev, test)
        if not os.path.exists(base):
            continue
        fields = dict(l.split('\t', 1) for l in read(base).splitlines()
                      if '\t' in l)
        why = fields.get('reason', '?')
        if why == 'exit':
            why += ' status ' + fields.get('exit_status', '?')
        out.append('%s (%s): failed on %s' % (test, dev, why))
        bad = read(base + '.out.bad')
        if bad:
            want = read(os.path.join(src, 'tests', test + '.out'))
            wl, bl = want.splitlines(), bad.splitlines()
            diff = [l for l in bl if l not in wl][:6]
            out.append('  output: expected %s' %
                       ' / '.join(wl)[:200] if wl else '  output:')
            out.append('  got: %s' % ' / '.join(diff)[:300])
        full = read(base + '.full').strip().splitlines()
        if full:
            out.append('  .full (last lines): %s' %
                       ' / '.join(full[-4:])[:300])
        dm = read(base + '.dmesg').strip().splitlines()
        if dm:
            out.append('  dmesg: %s' % ' / '.join(dm[:5])[:400])
    if not out:
        out.append('%s: failed; ./check said: %s' %
                   (test, ' / '.join(info['detail'])[:400]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--side', action='append', default=[],
                    help='NAME=DIR')
    ap.add_argument('--src', required=True, help='the blktests source')
    ap.add_argument('--bad-kernel', required=True,
                    help='regex of bad kernel console lines')
    ap.add_argument('--meta', action='append', default=[])
    ap.add_argument('--md', help='write the markdown report here')
    a = ap.parse_args()

    sides = dict(s.split('=', 1) for s in a.side)
    meta = dict(m.split('=', 1) for m in a.meta)
    bad_re = re.compile(a.bad_kernel)
    results = {}
    cases = []          # (status, name, reason)
    guest = {}

    for side, d in sides.items():
        results[side] = parse_check_log(os.path.join(d, 'res', 'check.log'))
        console = read(os.path.join(d, 'console.log')).replace('\r', '')
        rc = read(os.path.join(d, 'qemu.rc'), '?').strip()
        m = re.search(r'VRB-BLKTESTS-END rc=(\d+)', console)
        err = re.search(r'VRB-BLKTESTS-ERROR (.*)', console)
        if m and results[side]:
            cases.append(('PASS', side + '/finished', ''))
        elif err:
            cases.append(('FAIL', side + '/finished', err.group(1)))
        elif rc == '124':
            cases.append(('FAIL', side + '/finished',
                          'killed by the host timeout'))
        elif 'VRB-TIMEOUT' in console:
            cases.append(('FAIL', side + '/finished',
                          'guest watchdog fired'))
        else:
            cases.append(('FAIL', side + '/finished',
                          'guest stopped early (qemu rc %s)' % rc))
        badl = [l for l in console.splitlines() if bad_re.search(l)]
        if badl:
            cases.append(('FAIL', side + '/log-clean', badl[0].strip()))
        else:
            cases.append(('PASS', side + '/log-clean', ''))
        m = re.search(r'VRB-BLKTESTS-BEGIN dev=/dev/(\S+)', console)
        guest[side] = {
            'dev': m.group(1) if m else side,
            'secs': read(os.path.join(d, 'secs'), '?').strip(),
            'counts': {s: sum(1 for t in results[side].values()
                              if t['status'] == s)
                       for s in ('passed', 'failed', 'not run')},
        }

    failures = {}       # (side, test) -> lines
    for side in sides:
        for test, info in sorted(results[side].items()):
            if info['status'] == 'failed':
                failures[(side, test)] = failure_summary(
                    sides[side], test, info, a.src)

    vr = results.get('vringblk')
    vb = results.get('virtio_blk')
    # Cases are the tests blktests ran on the disk under test; the others
    # (null_blk, scsi_debug, loop: the same kernel code on both sides,
    # whatever the driver) are in the report only.
    def on_disk(side, info):
        return info['dev'] == guest[side]['dev']

    if vr is not None:
        for test, info in sorted(vr.items()):
            if not on_disk('vringblk', info):
                continue
            st = info['status']
            if st == 'passed':
                cases.append(('PASS', 'vringblk/' + test, ''))
            elif st == 'failed':
                cases.append(('FAIL', 'vringblk/' + test,
                              failures[('vringblk', test)][0]))
            else:
                cases.append(('SKIP', 'vringblk/' + test,
                              '; '.join(info['reasons'])))
    if vr is not None and vb is not None:
        for test, info in sorted(vb.items()):
            if info['status'] != 'passed' or not on_disk('virtio_blk', info):
                continue
            mine = vr.get(test, {}).get('status', 'missing')
            if mine == 'passed':
                cases.append(('PASS', 'parity/' + test, ''))
            elif mine == 'not run' and test in LACKS:
                # Not faked, not hidden: skipped, and the report says
                # which capability vringblk lacks.
                cases.append(('SKIP', 'parity/' + test,
                              'virtio_blk passed it; vringblk lacks ' +
                              LACKS[test]))
            else:
                cases.append(('FAIL', 'parity/' + test,
                              'virtio_blk passed it, vringblk: ' + mine))

    npass = nfail = nskip = 0
    for st, name, why in cases:
        if st == 'PASS':
            npass += 1
        elif st == 'FAIL':
            nfail += 1
            print('  FAIL %s: %s' % (name, why))
        else:
            nskip += 1
            print('  SKIP %s: %s' % (name, why))
    for (side, test), lines in sorted(failures.items()):
        print('\n'.join('  ' + l for l in lines))

    if a.md:
        write_md(a.md, sides, results, failures, guest, meta, cases)

    line = 'blktests: %d passed, %d failed' % (npass, nfail)
    if nskip:
        line += ', %d skipped' % nskip
    print(line)
    return 1 if nfail else 0


def cell(info, dev):
    """The status; "(on X)" when blktests ran it on a device of its own."""
    if info is None:
        return '-'
    c = {'passed': 'pass', 'failed': '**FAIL**',
         'not run': 'not run'}[info['status']]
    if info['dev'] and info['dev'] != dev:
        c += ' (on %s)' % info['dev']
    return c


def md_escape(s):
    return s.replace('|', '\\|')


def write_md(path, sides, results, failures, guest, meta, cases):
    names = list(sides)
    tests = sorted(set().union(*[set(results[s]) for s in names]))
    L = []
    L.append('# blktests: vringblk and virtio_blk side by side')
    L.append('')
    L.append('Generated by `make blktests` (scripts/blktests.sh); do not '
             'edit.  blktests ([github.com/osandov/blktests]'
             '(https://github.com/osandov/blktests)) ran in a QEMU guest '
             '(TCG) of Debian\'s kernel %s, once with the test device '
             '(`TEST_DEVS`) a legacy virtio-blk disk (PCI 1af4:1001 rev 0) '
             'bound to vringblk, once with the same device, same QEMU '
             'options, bound to the kernel\'s virtio_pci + virtio_blk.'
             % meta.get('kernel', '?'))
    L.append('')
    L.append('- blktests: %s' % meta.get('blktests', '?'))
    L.append('- vringblk: %s' % meta.get('vringblk', '?'))
    L.append('- run: `%s`, `TIMEOUT=%s` (the cap of blktests\' timed '
             'tests)' % (meta.get('check', '?'), meta.get('timeout', '?')))
    L.append('- disk: `-drive if=none,id=d0,file=<2G sparse file>,'
             'format=raw,cache=unsafe,discard=unmap -device %s`; '
             '2 vCPUs, 2 GB; root file system: Debian bookworm on an IDE '
             'disk' % meta.get('disk', '?'))
    L.append('- driver parameters, both sides: `%s` (vringblk: insmod; '
             'virtio_blk: modprobe)' % meta.get('modargs', 'none'))
    for s in names:
        c = guest[s]['counts']
        L.append('- %s: %d passed, %d failed, %d not run (%s s in QEMU)'
                 % (s, c['passed'], c['failed'], c['not run'],
                    guest[s]['secs']))
    fails = [c for c in cases if c[0] == 'FAIL']
    L.append('- checks: %d passed, %d failed (every test virtio_blk passes '
             'vringblk passes too; each guest finished with a clean kernel '
             'log)' % (sum(1 for c in cases if c[0] == 'PASS'), len(fails)))
    for c in fails:
        L.append('  - FAIL %s: %s' % (c[1], md_escape(c[2])))
    L.append('')
    L.append('"group/***": the whole group, not run on this device.  '
             '"(on nullb1)": blktests ran the test on a device of its own '
             '(null_blk, scsi_debug), not on the disk under test.')
    L.append('')
    L.append('| test | %s | reason / notes |' % ' | '.join(names))
    L.append('|---|%s---|' % ('---|' * len(names)))
    for t in tests:
        infos = [results[s].get(t) for s in names]
        notes = []
        # The same reason on both sides but for the device's name is
        # said once, with "<dev>" for the name.
        reasons = [tuple(re.sub(r'\b%s\b' % re.escape(guest[s]['dev']),
                                '<dev>', r) for r in i['reasons'])
                   if i and i['status'] == 'not run' else None
                   for s, i in zip(names, infos)]
        if len(set(reasons)) == 1 and reasons[0]:
            notes.append('; '.join(reasons[0]))
        else:
            for s, i in zip(names, infos):
                if i and i['status'] == 'not run':
                    notes.append('%s: %s' % (s, '; '.join(i['reasons'])))
        for s in names:
            if (s, t) in failures:
                notes.append('%s: see below' % s)
        note = NOTES.get(t)
        if note:
            notes.append(note)
        L.append('| %s | %s | %s |' % (t, ' | '.join(
            cell(i, guest[s]['dev']) for s, i in zip(names, infos)),
                                       md_escape('; '.join(notes))))
    if failures:
        L.append('')
        L.append('## Failures')
        L.append('')
        L.append('From blktests\' results directory (`.out.bad`, `.full`, '
                 '`.dmesg`); the whole of it is in build/blktests/<side>/res/.')
        for (s, t), lines in sorted(failures.items()):
            L.append('')
            L.append('### %s on %s' % (t, s))
            L.append('')
            L.append('```')
            L.extend(lines)
            L.append('```')
    L.append('')
    with open(path, 'w') as f:
        f.write('\n'.join(L))


# Tests vringblk cannot run only because it lacks a capability virtio_blk
# has: their parity case is skipped (with this reason), not failed.
LACKS = {
    # None today.  block/007 (polled I/O) was here until vringblk got
    # poll queues (issue 14).
}


# What a reader should know about a test beyond what blktests says.
NOTES = {
    'block/007': 'polled I/O (io_poll, io_poll_delay, fio hipri): both '
                 'drivers are loaded with poll_queues=1 on a device with two '
                 'virtqueues and a guest with two vCPUs, so each has one '
                 'interrupt queue and one poll queue.',
    'block/011': 'bus mastering off under I/O: requests stall; vringblk\'s '
                 'timeout handler kicks/resets the device and the test '
                 'passes; virtio_blk has no timeout handler and hangs for '
                 'good, so scripts/blktests.sh excludes it there (-x).',
    'block/019': 'needs a PCIe hotplug slot; the disk sits on the plain '
                 'PCI bus of QEMU\'s default machine (pc), not behind a '
                 'q35 pcie-root-port.',
    'block/036': 'Debian\'s kernel has no CONFIG_FAULT_INJECTION, so no '
                 '/sys/kernel/debug/fail_make_request.',
    'dm/001': 'blktests wants kernel 6.2 or later for it.',
    'dm/002': 'Debian\'s kernel has no CONFIG_DM_DUST.',
}


if __name__ == '__main__':
    sys.exit(main())
