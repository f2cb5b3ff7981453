#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Timeline of one delta re-push from the trace perf/delta/timeline.patch compiles in.

  perf/delta/timeline.py DIR [RUNTIME.data]

DIR holds the xfdt.PID files of the sending (A) and the receiving (B) xferd; the last job
in them is the one analysed (it starts at the last FLIST of file 0, ends at the last
COMMIT the sender applies). RUNTIME.data, optional: `perf record -a -k mono -e
sched:sched_stat_runtime` over the run, for the CPU of the kernel's threads (writeback,
the loop device, XFS) in the job's window.

Events (file, argument). Sender: 12 listed, 1 DECISION DELTA, 13 SIG frame (count), 2
every signature in, 3 read request (offset), 4 the reader takes it (offset), 5 its read
completes (bytes), 6 and 7 CRC-64 and matcher begin and end (ops queued), 8 a request's
last answer (offset), 9 end of file (size), 10 FILE_END queued, 11 settled by COMMIT,
41 a storage submit that took 2 us or more of CPU (its CPU ns: the inline preadv).
Receiver: 20 entry listed, 21 decided, 22 its SIG frames all sent, 23 COPY, 24 DATA, 25
FILE_END, 26 verified, 27 committed, 28 COMMIT sent (committed, credit), 50
sync_file_range of a dirty basis (ns), 51 FICLONERANGE (ns). Both: 30 and 31 an idle
sleep begins and ends (us asked).
"""
import collections
import glob
import statistics
import struct
import subprocess
import sys

EV = struct.Struct('<QIHHQQ')  # ns, file, event, tid, arg, thread CPU ns


def load(path):
    b = open(path, 'rb').read()
    n = min(struct.unpack_from('<Q', b, 0)[0], (len(b) - 64) // EV.size)
    return [EV.unpack_from(b, 64 + EV.size * i) for i in range(n)]


def main():
    sides = {}
    for p in glob.glob(sys.argv[1] + '/xfdt.*'):
        ev = load(p)
        sides['A' if any(e[2] == 3 for e in ev) else 'B'] = ev
    a, b = sides['A'], sides['B']
    t0 = [e[0] for e in a if e[2] == 12 and e[1] == 0][-1]
    tend = max(e[0] for e in a if e[2] == 11)
    a = [e for e in a if t0 <= e[0] <= tend]
    b = [e for e in b if t0 <= e[0] <= tend]
    span = (tend - t0) / 1e6
    print('job: first FLIST to last COMMIT %.1f ms' % span)
    per = collections.defaultdict(dict)
    names = {12: 'listed', 1: 'decided', 2: 'sigs_in', 3: 'req1', 9: 'eof', 10: 'file_end',
             11: 'settled', 20: 'B_listed', 21: 'B_decided', 25: 'B_file_end', 26: 'B_verified',
             27: 'B_committed'}
    for e in a + b:
        if e[2] in names and e[1] <= 1 << 20:
            per[e[1]].setdefault(names[e[2]], e[0])
    for x, y in [('B_listed', 'B_decided'), ('decided', 'sigs_in'), ('sigs_in', 'req1'),
                 ('req1', 'eof'), ('eof', 'file_end'), ('file_end', 'B_verified'),
                 ('B_verified', 'B_committed'), ('B_committed', 'settled')]:
        v = sorted((d[y] - d[x]) / 1e6 for d in per.values() if x in d and y in d)
        if v:
            print('  %-11s -> %-11s median %7.2f  p90 %7.2f  max %7.2f ms  (%d files)' %
                  (x, y, statistics.median(v), v[int(0.9 * (len(v) - 1))], v[-1], len(v)))
    for side, ev in (('A', a), ('B', b)):
        tid = collections.Counter(e[3] for e in ev).most_common(1)[0][0]
        te = [e for e in ev if e[3] == tid]
        cpu = (te[-1][5] - te[0][5]) / 1e6
        match = sub = slept = 0
        nsleep = 0
        ms = st = None
        for e in te:
            if e[2] == 6:
                ms = e[5]
            elif e[2] == 7 and ms is not None:
                match += e[5] - ms
                ms = None
            elif e[2] == 41:
                sub += e[4]
            elif e[2] == 30:
                st = e[0]
            elif e[2] == 31 and st is not None:
                slept += e[0] - st
                nsleep += 1
                st = None
        sfr = [e[4] for e in te if e[2] == 50]
        clo = [e[4] for e in te if e[2] == 51]
        print('%s: lcore thread CPU %.1f ms; idle sleeps %d, %.1f ms asleep' %
              (side, cpu, nsleep, slept / 1e6))
        if side == 'A':
            print('   reads (preadv CPU) %.1f ms, CRC-64 + matcher CPU %.1f ms' %
                  (sub / 1e6, match / 1e6))
        else:
            print('   sync_file_range: %d calls, %.1f ms in them (max %.1f); FICLONERANGE: %d, '
                  '%.1f ms' % (len(sfr), sum(sfr) / 1e6, max(sfr, default=0) / 1e6, len(clo),
                               sum(clo) / 1e6))
    if len(sys.argv) > 2:
        out = subprocess.run(['perf', 'script', '-i', sys.argv[2], '-F', 'tid,trace', '--time',
                              '%.9f,%.9f' % (t0 / 1e9, tend / 1e9)],
                             capture_output=True, text=True).stdout
        rt = collections.Counter()
        for line in out.splitlines():
            f = line.split()
            try:
                comm = next(x for x in f if x.startswith('comm='))[5:]
                r = int(next(x for x in f if x.startswith('runtime='))[8:])
            except StopIteration:
                continue
            if comm.startswith(('kworker', 'iou-wrk', 'loop', 'xfs')):
                rt[comm.split(':')[0] if comm.startswith('kworker') else comm] += r
        print('kernel threads in the window (all of the machine):',
              ', '.join('%s %.1f ms' % (k, v / 1e6) for k, v in rt.most_common(6)))


main()
