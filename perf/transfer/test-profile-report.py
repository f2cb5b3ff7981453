#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""profile-report.py's counter deltas over the shapes `xferctl --json stats` has: plain
counters, per-port dicts, drops, and lists of dicts (dataplane.source_readers), which
made it stop with a TypeError when that list was added."""
import importlib.util
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("profile_report",
                                              os.path.join(here, "profile-report.py"))
pr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pr)


def snap(frames, whole, parks, drop):
    return {"dataplane": {"frames": frames, "verify": "fast",
                          "source_readers": [{"lcore": 1, "whole_files": whole,
                                              "delta_files": 0, "parks": parks},
                                             {"lcore": 2, "whole_files": 0,
                                              "delta_files": whole, "parks": 0}]},
            "ports": [{"rx_packets": frames, "name": "memif0"}],
            "drops": {"bad_crc": drop}}


got = pr.delta_stats(snap(10, 2, 1, 0), snap(35, 9, 4, 3))
want = {"dp.frames": 25, "port.rx_packets": 25, "drop.bad_crc": 3,
        "dp.source_reader_1_whole_files": 7, "dp.source_reader_1_delta_files": 0,
        "dp.source_reader_1_parks": 3, "dp.source_reader_2_whole_files": 0,
        "dp.source_reader_2_delta_files": 7, "dp.source_reader_2_parks": 0}
if got != want:
    sys.exit("delta_stats: got %r, want %r" % (got, want))
# A reader that appeared during the push counts from zero.
before = snap(10, 2, 1, 0)
before["dataplane"]["source_readers"].pop()
got = pr.delta_stats(before, snap(10, 2, 1, 0))
if got.get("dp.source_reader_2_delta_files") != 2:
    sys.exit("a reader new in the second snapshot: %r" % got)
print("profile-report delta_stats: ok")
