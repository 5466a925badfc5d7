#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the raw results of `make bench` into its table and its plot's data.

Reads what tools/bench/guest.sh left (fio/*.json, results.txt,
profile-*.txt) and writes:

  --rst FILE       the results table, in reStructuredText
  --plot-dir DIR   throughput.dat and move.dat for tools/bench/plot.gp
  --ratios FILE    the figures the goals are judged on, as JSON: one key per
                   figure, and "spread", the largest relative difference
                   between the repetitions of any figure
  --compare FILE   another run's ratios.json: print how far each figure of
                   this run is from that run's (a run against itself)
  --print-goals    print the goals' table to stdout

Every figure is the median of its repetitions; the spread of a figure is
its range (max - min) over its median.
"""

import argparse
import glob
import json
import os
import re
import statistics
import sys

DEVICES = ["pflash", "pflash-iostats", "pflash-wb", "pflash-wt", "brd",
           "zram", "loop"]
DEVICE_TEXT = {
    "pflash": "pflash",
    "pflash-iostats": "pflash, I/O statistics on",
    "pflash-wb": "pflash writeback",
    "pflash-wt": "pflash writethrough",
    "brd": "brd",
    "zram": "zram",
    "loop": "loop",
}
WORKLOADS = [
    ("randread-4k-qd1", "4 KiB random read, QD 1", "read", "iops"),
    ("randread-4k-qd32", "4 KiB random read, QD 32", "read", "iops"),
    ("randwrite-4k-qd1", "4 KiB random write, QD 1", "write", "iops"),
    ("randwrite-4k-qd32", "4 KiB random write, QD 32", "write", "iops"),
    ("read-1m", "1 MiB sequential read", "read", "bw"),
    ("write-1m", "1 MiB sequential write", "write", "bw"),
]
# The keys of ratios.json for the workloads against brd.
BRD_KEYS = {
    "randread-4k-qd1": "4k-randread-qd1",
    "randread-4k-qd32": "4k-randread-qd32",
    "randwrite-4k-qd1": "4k-randwrite-qd1",
    "randwrite-4k-qd32": "4k-randwrite-qd32",
    "read-1m": "1m-read",
    "write-1m": "1m-write",
}
# The stream's figures: pflash's and dd's, moving the same bytes between
# the same two ends.
STREAM = [
    ("export", "dd-to-file", "export into a file",
     "``dd if=DEV of=FILE bs=1M iflag=direct``"),
    ("import", "dd-from-file", "import from a file",
     "``dd if=FILE of=DEV bs=1M oflag=direct``"),
    ("pipe", "dd-dev-to-dev", "export piped into import",
     "``dd if=DEV1 of=DEV2 bs=1M iflag=direct oflag=direct``"),
]
MIB = 1 << 20


def kv_line(line):
    """'kind k=v k=v' -> (kind, {k: v})."""
    words = line.split()
    if not words:
        return None, {}
    return words[0], dict(w.split("=", 1) for w in words[1:] if "=" in w)


def median(values):
    return statistics.median(values) if values else None


def spread(values):
    """The range, as a fraction of the median."""
    if not values or len(values) < 2:
        return 0.0
    m = statistics.median(values)
    return (max(values) - min(values)) / m if m else 0.0


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_ratio(r):
    return "n/a" if r is None else "%.2f" % r


def fmt_iops(v):
    return "%.1fk" % (v / 1000) if v >= 1000 else "%.0f" % v


def fmt_mibs(v):
    return "%.0f" % v if v >= 100 else "%.1f" % v


def fmt_ms(v):
    return "%.1f ms" % v


def fmt_bytes(n):
    for unit, div in (("GiB", 1 << 30), ("MiB", MIB), ("KiB", 1024)):
        if n >= div:
            v = n / div
            return ("%d %s" % (v, unit)) if v == int(v) else \
                ("%.1f %s" % (v, unit))
    return "%d B" % n


def fmt_time(us):
    if us is None:
        return "n/a"
    if us >= 120e6:
        return "%.0f min" % (us / 60e6)
    if us >= 1e6:
        return "%.2f s" % (us / 1e6)
    return "%.0f ms" % (us / 1e3) if us >= 1e4 else "%.1f ms" % (us / 1e3)


def fio_jobs(path, errors):
    with open(path) as f:
        text = f.read()
    # fio may print notes before the JSON.
    text = text[text.index("{"):] if "{" in text else "{}"
    try:
        return json.loads(text).get("jobs", [])
    except ValueError as e:
        errors.append("%s: %s" % (os.path.basename(path), e))
        return []


class Results:
    def __init__(self, rdir):
        self.rdir = rdir
        self.fio = {}          # (workload, device) -> [values]
        self.system = {}
        self.devs = {}         # device -> fio-dev line
        self.default_iostats = "?"
        self.ovmf = {}         # device -> [us, the writes' latencies summed]
        self.ovmf_writes = {}  # device -> writes per replay
        self.mig = {}          # (size, image, what) -> [us]
        self.stream = {}       # (size, image) -> bytes
        self.move = {}         # (size, mode) -> [dict]
        self.live = {}         # (size, fs) -> [dict]
        self.tool = {}         # what -> [us]
        self.profiles = {}     # name -> text
        self.phases = {}
        self.errors = []
        self.crc32c_bps = None  # the kernel's crc32c, tcrypt's figure
        self.crc32c_driver = "?"
        self.read_fio(rdir)
        self.read_results(os.path.join(rdir, "results.txt"))
        self.read_tcrypt(os.path.join(rdir, "dmesg.txt"))

    def read_tcrypt(self, path):
        """tcrypt's crc32c figure for one update of 8 KiB, from the log,
        where the kernel may have broken its line in two."""
        if not os.path.exists(path):
            return
        with open(path, errors="replace") as f:
            log = re.sub(r"\n\[[ 0-9.]*\]", "", f.read())
        m = re.search(r"\(\s*8192 byte blocks,\s*8192 bytes per update,\s*1 "
                      r"updates\):\s*\d+ opers/sec,\s*(\d+) bytes/sec", log)
        if m:
            self.crc32c_bps = int(m.group(1))

    def read_fio(self, rdir):
        for path in sorted(glob.glob(os.path.join(rdir, "fio", "rep*.json"))):
            for job in fio_jobs(path, self.errors):
                wl, _, dev = job["jobname"].partition("@")
                spec = [w for w in WORKLOADS if w[0] == wl]
                if not spec:
                    continue
                side = job[spec[0][2]]
                if spec[0][3] == "iops":
                    value = side["iops"]
                else:
                    value = side["bw_bytes"] / MIB
                if job.get("error"):
                    self.errors.append("fio %s: error %s" %
                                       (job["jobname"], job["error"]))
                    continue
                self.fio.setdefault((wl, dev), []).append(value)

    def read_ovmf(self, dev, path):
        """One replay of the OVMF pattern: the writes' latencies, summed,
        in microseconds: the time the device took, without fio's own
        start."""
        for job in fio_jobs(path, self.errors):
            w = job["write"]
            if job.get("error"):
                self.errors.append("fio ovmf on %s: error %s" %
                                   (dev, job["error"]))
                continue
            self.ovmf.setdefault(dev, []).append(
                w["lat_ns"]["mean"] * w["total_ios"] / 1e3)
            self.ovmf_writes[dev] = w["total_ios"]

    def read_results(self, path):
        with open(path) as f:
            for line in f:
                kind, kv = kv_line(line)
                if kind == "system":
                    self.system = kv
                elif kind == "default":
                    self.default_iostats = kv.get("iostats", "?")
                elif kind == "fio-dev":
                    self.devs[kv["name"]] = kv
                elif kind == "ovmf":
                    self.read_ovmf(kv["dev"],
                                   os.path.join(self.rdir, kv["json"]))
                elif kind == "mig":
                    key = (int(kv["size"]), kv["image"], kv["what"])
                    self.mig.setdefault(key, []).append(int(kv["us"]))
                elif kind == "stream":
                    self.stream[(int(kv["size"]), kv["image"])] = \
                        int(kv["stream_bytes"])
                elif kind == "move":
                    key = (int(kv["size"]), kv.get("mode", "writeback"))
                    self.move.setdefault(key, []).append(
                        {k: int(v) for k, v in kv.items() if k != "mode"})
                elif kind == "tool":
                    self.tool.setdefault(kv["what"], []).append(int(kv["us"]))
                elif kind == "live":
                    key = (int(kv["size"]), kv.get("fs", "tmpfs"))
                    self.live.setdefault(key, []).append(
                        {k: int(v) for k, v in kv.items() if k != "fs"})
                elif kind == "profile":
                    p = os.path.join(self.rdir, kv["file"])
                    if os.path.exists(p):
                        with open(p, errors="replace") as pf:
                            self.profiles[kv["name"]] = pf.read()
                elif kind == "phase":
                    self.phases[kv["name"]] = int(kv["us"])
                elif kind == "crc32c":
                    self.crc32c_driver = kv.get("drivers", "?")
                elif kind == "error":
                    self.errors.append(kv.get("msg", line.strip()))

    def fio_median(self, wl, dev):
        return median(self.fio.get((wl, dev), []))

    def sizes(self):
        return sorted({k[0] for k in self.mig})

    def mig_us(self, size, image, what):
        return median(self.mig.get((size, image, what), []))

    def mig_mibs(self, size, image, what):
        us = self.mig_us(size, image, what)
        return size / MIB / (us / 1e6) if us else None

    def stream_ratio(self, size, image, what, dd):
        """dd's time over pflash's, moving the same bytes: pflash's
        throughput as a share of dd's."""
        return ratio(self.mig_us(size, image, dd),
                     self.mig_us(size, image, what))

    def move_us(self, size, field, mode="writethrough"):
        return median([m[field] for m in self.move.get((size, mode), [])])

    def move_ratio(self, size, mode):
        """The move's time over dd's copy with fsync, as medians."""
        return ratio(self.move_us(size, "us", mode),
                     self.move_us(size, "ddcopy_us", mode))

    def live_med(self, size, fs, field):
        return median([m[field] for m in self.live.get((size, fs), [])])

    def live_ms(self, size, fs="ext4"):
        us = self.live_med(size, fs, "downtime_us")
        return None if us is None else us / 1e3

    def ovmf_ratio(self, dev):
        """loop's time over pflash's, for the OVMF pattern."""
        return ratio(median(self.ovmf.get("loop", [])),
                     median(self.ovmf.get(dev, [])))

    def all_series(self):
        """Every figure's repetitions, named, for the run's spread."""
        series = [("fio %s on %s" % k, v) for k, v in self.fio.items()]
        series += [("%s of %s, %s image" % (k[2], fmt_bytes(k[0]), k[1]), v)
                   for k, v in self.mig.items()]
        series += [("OVMF pattern on %s" % k, v)
                   for k, v in self.ovmf.items()]
        for (size, mode), moves in self.move.items():
            for field, what in (("us", "move"), ("ddcopy_us", "dd copy")):
                series.append(("%s of %s (%s source)" % (
                    what, fmt_bytes(size), mode),
                    [m[field] for m in moves if field in m]))
        for (size, fs), moves in self.live.items():
            series.append(("live move of %s on %s" % (fmt_bytes(size), fs),
                           [m["downtime_us"] for m in moves]))
        return [(n, s) for n, s in series if len(s) > 1]

    def max_spread(self):
        return max([spread(s) for _, s in self.all_series()], default=0.0)

    def max_spread_name(self):
        spreads = [(spread(s), n) for n, s in self.all_series()]
        return max(spreads)[1] if spreads else "n/a"


def list_table(title, header, rows, widths=None):
    out = [".. list-table:: %s" % title, "   :header-rows: 1"]
    if widths:
        out.append("   :widths: " + " ".join(str(w) for w in widths))
    out.append("")
    for row in [header] + rows:
        out.append("   * - " + str(row[0]))
        out.extend("     - " + str(c) for c in row[1:])
    out.append("")
    return out


def heading(text, char):
    return [text, char * len(text), ""]


CLOCK_TEXT = {
    "icount": (
        "QEMU counted instructions (``-icount shift=0,sleep=off,"
        "align=off``): the guest's clock advances by one nanosecond per "
        "guest instruction, whatever the host does, so every figure below "
        "is a count of instructions shown as time, and repeats from run to "
        "run.  So that the instructions themselves repeat, the guest draws "
        "no randomness from the host (no RDRAND or RDSEED; ``nokaslr``, "
        "``norandmaps``), and each phase starts on a whole 2 s of guest "
        "time, after the disk that keeps the results, whose I/O completes "
        "when the host lets it, has been written; and each timed command starts after 1.1 s of idle "
        "guest time, so that what the one before deferred (the free of "
        "the contents an import replaced, 1 s after it) does not fall into "
        "its time: an import's figure leaves that free out.  A live move's "
        "downtime, a few milliseconds in which the processes of both sides, "
        "fio's writer and the kernel's workers take turns on the one vCPU, "
        "repeats because each of them has its place: the writer goes on "
        "past its refused writes, not ending inside the window in some "
        "repetitions; the pipe ends once the export's process has ended, "
        "so that its exit is inside the window in every run; and the "
        "export inactivates the device once the import has read what the "
        "passes sent, where before the stream the import had still to "
        "read, up to a pipe of 1 MiB, fell in the window or before it as "
        "the scheduler ran the two (by up to 1.3 ms).  What the model leaves out: caches and memory bandwidth (a "
        "copy costs what its instructions count, however far its data "
        "comes from), the cost of one instruction against another, and a "
        "string instruction counts once per iteration, so ``rep movsb`` "
        "counts one per byte copied and ``rep movsq`` one per eight.  The "
        "CPU is ``-cpu max`` with SSE4.2: the crc32 instruction counts "
        "once, as it costs about one cycle on hardware.  It has no ERMS "
        "(``erms=off,fsrm=off``): with ERMS the kernel copies and clears "
        "pages with ``rep movsb`` and ``rep stosb`` (``memcpy_erms``, "
        "``clear_page_erms``, the user copies), which the model charges a "
        "count per byte, eight times what it charges the ``rep movsq`` "
        "that the compiler inlines into the block layer's page copies "
        "(``memcpy_to_page()``), where on hardware the two move data at "
        "about the same speed; without it every bulk copy and clear is "
        "counted per eight bytes, whoever makes it.  The VM has one "
        "vCPU: under ``-icount`` QEMU runs the vCPUs one after the other on "
        "one host thread, so a second would add no parallelism, only "
        "scheduling; fio and pflash's writeback worker share the one CPU, "
        "and the work of both counts."),
    "wall": (
        "wall-clock time under QEMU's TCG, two vCPUs, on a host that other "
        "VMs may share: figures wobble by tens of percent from run to run, "
        "and only ratios between figures of the same run mean anything.  "
        "The CPU has no SSE4.2 (TCG emulates the crc32 instruction a bit "
        "at a time)."),
}


class Goals:
    """The goals, each a figure, its target and whether it is met; the
    figures named by a key also go to ratios.json."""

    def __init__(self):
        self.rows = []
        self.ratios = {}
        self.missed = set()     # the keys of the goals missed

    def add(self, key, text, value, target, ok, fmt=fmt_ratio):
        if key:
            self.ratios[key] = None if value is None else round(value, 4)
        verdict = "n/a" if value is None else \
            "" if ok is None else "met" if ok(value) else "**missed**"
        if key and verdict == "**missed**":
            self.missed.add(key)
        self.rows.append([text, "n/a" if value is None else fmt(value),
                          target, verdict])


def goals_of(res):
    g = Goals()
    for wl, text, _, _ in WORKLOADS:
        target = 1.2 if wl.endswith("1m") else 1.0
        g.add(BRD_KEYS[wl], "pflash / brd, " + text,
              ratio(res.fio_median(wl, "pflash"), res.fio_median(wl, "brd")),
              ">= %.1f" % target, lambda v, t=target: v >= t)
    g.add("wt-4k-randwrite-qd1",
          "pflash writethrough / loop over tmpfs, 4 KiB random write, QD 1",
          ratio(res.fio_median("randwrite-4k-qd1", "pflash-wt"),
                res.fio_median("randwrite-4k-qd1", "loop")),
          ">= 1.0", lambda v: v >= 1.0)
    for dev, mode in (("pflash-wb", "writeback"),
                      ("pflash-wt", "writethrough")):
        g.add("ovmf-boot-pattern-%s" % mode,
              "OVMF's first-boot writes, loop's time / pflash %s's" % mode,
              res.ovmf_ratio(dev), ">= 1.0", lambda v: v >= 1.0)
    s = 64 * MIB
    for what, dd, text, _ in STREAM:
        target = 0.5 if what == "pipe" else 0.7
        g.add("%s-64m-random" % what,
              "%s, 64 MiB random: dd's time / pflashctl's" % text,
              res.stream_ratio(s, "random", what, dd),
              ">= %.1f" % target, lambda v, t=target: v >= t)
    g.add("move-ovmf-4m",
          "move of a 4 MiB store, one pflashctl per side / dd copy with "
          "fsync (lower is better)",
          res.move_ratio(4 * MIB, "writethrough"), "<= 1.5",
          lambda v: v <= 1.5)
    for size in (64 * MIB, 256 * MIB):
        g.add("live-downtime-%dm" % (size // MIB),
              "downtime of a live move of %s, shared file on ext4, writer "
              "at 1 MiB/s (ms)" % fmt_bytes(size),
              res.live_ms(size), "<= 15", lambda v: v <= 15, fmt_ms)
    g.add("live-downtime-256m-over-64m",
          "downtime at 256 MiB / downtime at 64 MiB",
          ratio(res.live_ms(256 * MIB), res.live_ms(64 * MIB)),
          "<= 1.10", lambda v: v <= 1.10)
    for wl in ("randread-4k-qd1", "randwrite-4k-qd1", "read-1m",
               "write-1m"):
        g.add("iostats-on-" + BRD_KEYS[wl],
              "pflash with I/O statistics on / off, %s" %
              [w[1] for w in WORKLOADS if w[0] == wl][0],
              ratio(res.fio_median(wl, "pflash-iostats"),
                    res.fio_median(wl, "pflash")), "(measured)", None)
    if (s, "erased") in res.stream:
        g.add(None, "stream of a mostly erased 64 MiB image / its size",
              res.stream[(s, "erased")] / s, "< 1%",
              lambda v: v < 0.01, lambda v: "%.3f%%" % (100 * v))
    for size in [x for x in res.sizes() if x >= s]:
        g.add(None, "full flush time / dd time, %s" % fmt_bytes(size),
              ratio(res.mig_us(size, "random", "flush"),
                    res.mig_us(size, "random", "dd-write")),
              "<= 1.2", lambda v: v <= 1.2)
    g.ratios["spread"] = round(res.max_spread(), 4)
    return g


# In the instruction model, a copy by `rep movsq` counts once per eight
# bytes, and so does a page zeroed by `rep stosq` (ERMS off: see bench.sh).
def copy_us(nbytes):
    return nbytes / 8 / 1e3


def floors_section(res, g):
    """For each goal this run missed, the floor that the model and the
    design set, from this run's own figures; icount only (in the model a
    nanosecond is an instruction)."""
    if res.system.get("clock") != "icount":
        return []
    missed = g.missed
    if not missed:
        return []
    L = heading("What bounds the goals missed", "=")
    L += [
        "Each goal this run missed, with the floor that this model and the "
        "design set under it, worked out from this run's own figures.  In "
        "the model a nanosecond is an instruction: a copy of 8 bytes "
        "(``rep movsq``) counts one, a page zeroed (``rep stosq``) 512.",
        "",
    ]
    for wl, dev, base, key in (("read-1m", "pflash", "brd", "1m-read"),
                               ("randwrite-4k-qd1", "pflash-wt", "loop",
                                "wt-4k-randwrite-qd1")):
        if key not in missed:
            continue
        spec = [w for w in WORKLOADS if w[0] == wl][0]
        a, b = res.fio_median(wl, dev), res.fio_median(wl, base)
        if not a or not b:
            continue
        # I/O a second, or MiB a second of 1 MiB I/O: either way, at QD 1
        # on the one vCPU, 10^9 over it is the instructions of one I/O.
        ia, ib = 1e9 / a, 1e9 / b
        nbytes = MIB if spec[3] == "bw" else 4096
        target = 1.2 if key == "1m-read" else 1.0
        text = ("**%s**: one %s takes %s instructions on %s and %s on %s; "
                "the copy of its %s alone counts %s.  The goal needs %s to "
                "take at most %s, %s fewer than now." % (
                    key, spec[1], "{:,.0f}".format(ia), DEVICE_TEXT[dev],
                    "{:,.0f}".format(ib), base, fmt_bytes(nbytes),
                    "{:,.0f}".format(copy_us(nbytes) * 1e3),
                    DEVICE_TEXT[dev], "{:,.0f}".format(ib / target),
                    "{:,.0f}".format(ia - ib / target)))
        if key == "1m-read":
            text += (
                "  Both devices copy the same bytes with the same "
                "instruction; what else pflash does for a bio is a bounds "
                "check and one walk of its segments.  The rest, and most of "
                "the difference, is what both pay: fio, the system call, "
                "the pinning of fio's pages for direct I/O and the block "
                "layer; brd adds a lookup per page.  The ratio is bounded "
                "by how much of the whole brd's lookups are, not by "
                "pflash's path.")
        else:
            text += (
                "  In writethrough mode a write is copied into the buffer, "
                "then written by pflash's worker into the file (a second "
                "copy) before it completes; loop's worker makes the one "
                "copy into the file.  The second copy, %s instructions, and "
                "the handing over to the worker are what pflash's design "
                "adds; the buffer is what serves reads and the moves.  The "
                "pass reads the dirty bitmap's summary (a bit per word of "
                "the bitmap: %d words of it on these %s MiB devices) and the "
                "words it marks, not every word." % (
                    "{:,.0f}".format(copy_us(nbytes) * 1e3),
                    max(1, int(res.system.get("size_mb", 0) or 0) * 256 // 64
                        // 64),
                    res.system.get("size_mb", "?")))
        L += [text, ""]
    s64 = 64 * MIB
    dd = res.mig_us(s64, "random", "dd-dev-to-dev")
    pipe = res.mig_us(s64, "random", "pipe")
    if "pipe-64m-random" in missed and dd and pipe and res.crc32c_bps:
        crc = s64 / res.crc32c_bps * 1e6
        cp = copy_us(s64)
        floor = dd + 2 * crc + 3 * cp
        L += [
            "**pipe-64m-random**: dd moves 64 MiB from one device to the "
            "other in %s: two copies, into its buffer and out of it.  "
            "Export piped into import makes those two (into the pipe's "
            "pages and out of them, into the import's staging buffer), and "
            "more that the stream's guarantees need: the export copies "
            "each record into its step buffer, under the device's lock, so "
            "that the record's CRC-32C covers the bytes it sends; both ends "
            "compute that CRC-32C (the kernel's, at %s MiB/s here: %s for "
            "64 MiB, each); and Debian's kernels zero every page they "
            "allocate (``init_on_alloc=1``): the pipe's pages and the "
            "import's staging buffer, which lets a failed import leave the "
            "device as it was.  One more copy and two zeroings, %s each, "
            "and two CRCs: at least %s, so the ratio cannot pass %s; this "
            "run's pipe took %s.  A pipe that carried the device's pages "
            "without copying them (``splice``) would lift the floor; it is "
            "not written." % (
                fmt_time(dd), "{:,.0f}".format(res.crc32c_bps / MIB),
                fmt_time(crc), fmt_time(cp), fmt_time(floor),
                fmt_ratio(dd / floor), fmt_time(pipe)),
            "",
        ]
    pair, dd0 = median(res.tool.get("pair", [])), median(res.tool.get("dd", []))
    mv, ddc = res.move_us(4 * MIB, "us"), res.move_us(4 * MIB, "ddcopy_us")
    if "move-ovmf-4m" in missed and pair and dd0 and mv and ddc:
        floor = pair + (ddc - dd0)
        L += [
            "**move-ovmf-4m**: the move takes %s and dd's copy with fsync "
            "%s, of which starting dd and ending it, with nothing to copy, "
            "takes %s.  The move starts two pflashctl, one per side, joined "
            "by a pipe, from ``sh -c``: with nothing to do, they take %s.  "
            "So the move cannot take less than %s (the two processes, and "
            "what dd does besides starting), %s times dd's time, before "
            "the stream's own work (a CRC-32C at each end, the copies "
            "through the pipe, the staging buffer) and the target's "
            "activation, which writes the device to its file; the goal, "
            "1.5 times dd's time, leaves %s beyond the two processes' start "
            "for all of the move's work.  Most of the two "
            "processes' figure is the kernel's: exec, and mapping and "
            "faulting in pflashctl's libraries (libnl-3, libnl-genl-3, "
            "libsmartcols, json-c, libuuid and ISA-L, besides the C "
            "library), where dd maps the C library alone." % (
                fmt_time(mv), fmt_time(ddc), fmt_time(dd0), fmt_time(pair),
                fmt_time(floor), fmt_ratio(floor / ddc),
                fmt_time(max(0, 1.5 * ddc - pair))),
            "",
        ]
    l64, l256 = res.live_ms(64 * MIB), res.live_ms(256 * MIB)
    if "live-downtime-256m-over-64m" in missed and l64 and l256:
        i64 = res.live_med(64 * MIB, "ext4", "inactive_us") or 0
        i256 = res.live_med(256 * MIB, "ext4", "inactive_us") or 0
        L += [
            "**live-downtime-256m-over-64m**: the downtime at 256 MiB is "
            "%.2f ms against %.2f ms at 64 MiB.  The final pass is small "
            "at both sizes (the passes go on until at most 64 KiB is "
            "left), and the source's part, from its inactivation to the "
            "end of the final pass, is %.2f and %.2f ms.  The rest, from "
            "there to the import's end (the export's exit, which ends the "
            "pipe, the import's last read, its commit, the target's "
            "activation and the import's exit), is %.2f ms against %.2f "
            "ms: the growth is there, and the profile of the downtime's "
            "window below is where to look for it; it is not yet named." % (
                l256, l64, i256 / 1e3, i64 / 1e3, l256 - i256 / 1e3,
                l64 - i64 / 1e3),
            "",
        ]
    return L


def profile_section(res):
    if not res.profiles:
        return []
    L = heading("Where the time goes: profiles", "=")
    L += [
        "``perf record -a`` (Debian's ``linux-perf``) of the CPU clock, "
        "which under ``-icount`` counts instructions: a sample every so "
        "many instructions, of the whole system.  The flat profile by "
        "symbol, each symbol's share of the samples, down to 0.5%.",
        "",
    ]
    names = [("export", "pflashctl export of 64 MiB of random data into a "
              "file on tmpfs"),
             ("import", "pflashctl import of that stream from the file"),
             ("pipe", "export piped into import, 64 MiB"),
             ("live-downtime", "a live move of 64 MiB (shared file on "
              "ext4, writer at 1 MiB/s), the downtime's window only: from "
              "the start of the source's inactivation to the end of the "
              "import's process, once the target is active")]
    for name, text in names:
        if name not in res.profiles:
            continue
        L += heading(text[0].upper() + text[1:], "-")
        L += ["::", ""]
        L += ["    " + l for l in res.profiles[name].splitlines()
              if not l.startswith("#")]
        L += [""]
    return L


def report(res, args):
    L = []
    sysinfo = res.system
    runs = sysinfo.get("runs", "?")
    clock = sysinfo.get("clock", "wall")
    L += [".. SPDX-License-Identifier: GPL-2.0", ""]
    L += ["=" * 17, "pflash benchmarks", "=" * 17, ""]
    L += [
        "This page is written by ``make bench`` (``tools/bench/bench.sh``); do "
        "not edit it by hand.  It shows one run: version ``%s``, kernel "
        "``%s``, %s vCPU(s), under QEMU's TCG (KVM is not usable on the "
        "machines it runs on).  ``make bench`` took %s of wall time." % (
            args.version, sysinfo.get("kernel", "?"),
            sysinfo.get("cpus", "?"),
            fmt_time(args.seconds * 1e6) if args.seconds else "n/a"),
        "",
        "The clock: %s" % CLOCK_TEXT.get(clock, clock),
        "",
        "Every figure compares like with like: pflash against the kernel's "
        "own devices, or against dd moving the same bytes between the same "
        "two ends, in the same VM.  The spread (±) of a figure is the range "
        "of its %s repetitions over their median; the largest spread of "
        "any figure in this run was %.1f%%, of the %s." % (
            runs, 100 * res.max_spread(), res.max_spread_name()),
        "",
    ]
    if res.errors:
        L += ["**Errors in this run:**", ""]
        L += ["- " + e.replace("_", " ") for e in res.errors] + [""]

    g = goals_of(res)
    L += heading("Goals", "=")
    L += list_table("Goals, in this run", ["goal", "reached", "target", ""],
                    g.rows)
    L += [
        "The same figures are in ``build/bench/ratios.json``, with "
        "``spread``.",
        "",
    ]
    L += floors_section(res, g)

    # --- fio -------------------------------------------------------------
    L += heading("Block I/O against brd, zram and loop", "=")
    L += [
        "fio (Debian's), ``libaio``, ``direct=1``, on devices of %s MiB "
        "each, created side by side in the same VM: pflash without a "
        "backing file, with its queue's I/O statistics off, and on; pflash "
        "in writeback and in writethrough mode, each over a file on tmpfs; "
        "brd; zram (lzo-rle; the data is fio's random data, which does not "
        "compress); loop over a file on tmpfs.  Every queue's I/O "
        "statistics are set, whatever its device's default (pflash's is "
        "%s in this build): off, but on the one pflash device that "
        "measures their cost.  Every device is written in full first, so "
        "that reads read data.  Each figure is the median of %s "
        "repetitions of %s (after %s of ramp); each repetition runs every "
        "workload on every device in turn, the devices' order rotated from "
        "one repetition to the next." % (
            sysinfo.get("size_mb", "?"),
            {"0": "off", "1": "on"}.get(res.default_iostats, "?"), runs,
            sysinfo.get("runtime", "?"), sysinfo.get("ramp", "?")),
        "",
    ]
    header = ["workload"] + [DEVICE_TEXT[d] for d in DEVICES]
    rows = []
    for wl, text, _, unit in WORKLOADS:
        row = [text + (" (IOPS)" if unit == "iops" else " (MiB/s)")]
        for d in DEVICES:
            vals = res.fio.get((wl, d), [])
            if not vals:
                row.append("n/a")
                continue
            m = median(vals)
            f = fmt_iops(m) if unit == "iops" else fmt_mibs(m)
            row.append("%s ±%.1f%%" % (f, 100 * spread(vals)))
        rows.append(row)
    L += list_table("Throughput: median ± spread", header, rows)

    rows = []
    for wl, text, _, _ in WORKLOADS:
        b = res.fio_median(wl, "brd")
        rows.append([text] + [fmt_ratio(ratio(res.fio_median(wl, d), b))
                              for d in DEVICES])
    L += list_table("Ratio to brd (higher is better)", header, rows)

    pf, br = (res.fio_median("randread-4k-qd1", d) for d in ("pflash", "brd"))
    if pf and br and clock == "icount":
        L += [
            "The data path is bio-based, as brd's, zram's and pmem's: a bio "
            "is served in ``->submit_bio()`` from the flat buffer, with no "
            "tag, request or completion.  At 4 KiB the ratio to brd cannot "
            "go far above 1 in this model: a 4 KiB random read at QD 1 "
            "takes %.0f instructions on pflash and %.0f on brd, nearly all "
            "of them fio's, the system call's and the block layer's, which "
            "both pay; pflash's own share is the copy of 4 KiB and a bounds "
            "check." % (1e9 / pf, 1e9 / br),
            "",
        ]

    L += [
        "With a backing file: write throughput of pflash in writeback and "
        "in writethrough mode against loop over a file on the same file "
        "system (tmpfs), as ratios of the medians above.  In writethrough "
        "mode a write completes only once its data is in the file and "
        "fsynced; loop over tmpfs completes it once it is in the file's "
        "page cache.",
        "",
    ]
    rows = []
    for wl, text, side, _ in WORKLOADS:
        if side != "write":
            continue
        lp = res.fio_median(wl, "loop")
        rows.append([text,
                     fmt_ratio(ratio(res.fio_median(wl, "pflash-wb"), lp)),
                     fmt_ratio(ratio(res.fio_median(wl, "pflash-wt"), lp))])
    L += list_table("Writes with a backing file: ratio to loop",
                    ["workload", "pflash writeback / loop",
                     "pflash writethrough / loop"], rows)

    rows = []
    for wl, text, _, _ in WORKLOADS:
        rows.append([text, fmt_ratio(ratio(
            res.fio_median(wl, "pflash-iostats"),
            res.fio_median(wl, "pflash")))])
    L += list_table("The cost of I/O statistics: pflash with them on / off "
                    "(1.00: none)", ["workload", "on / off"], rows)

    L += ["Queue settings in this run:", ""]
    rows = []
    for d in DEVICES:
        kv = res.devs.get(d, {})
        rows.append([DEVICE_TEXT[d], kv.get("scheduler", "?").strip(","),
                     kv.get("max_sectors_kb", "?"), kv.get("nomerges", "?"),
                     kv.get("iostats", "?")])
    L += list_table("The devices' queues",
                    ["device", "scheduler", "max_sectors_kb", "nomerges",
                     "iostats"], rows)

    # --- the OVMF pattern ---------------------------------------------------
    if res.ovmf:
        L += heading("The writes of OVMF's first boot", "=")
        L += [
            "OVMF's variable driver appends each variable to its store a "
            "few words at a time, and QEMU's flash writes the 512-byte "
            "sector of each word it programs.  The replay: %d writes of 512 "
            "bytes, each sector four times in a row, the sectors one after "
            "the other through the store's first 256 KiB, starting over "
            "there at the end, as a reclaim does.  fio replays it from an "
            "I/O log (``read_iolog``, ``replay_no_stall``), one write at a "
            "time, ``psync``, ``direct=1``, on each device over its own "
            "copy of ``OVMF_VARS_4M.fd`` on tmpfs.  The figure is the time "
            "the device took, the writes' latencies summed (without fio's "
            "own start), the median of %s replays." % (
                max(res.ovmf_writes.values(), default=0), runs),
            "",
        ]
        rows = []
        for d in ("pflash-wb", "pflash-wt", "loop"):
            t = median(res.ovmf.get(d, []))
            rows.append([DEVICE_TEXT[d], fmt_time(t),
                         "n/a" if t is None else "%.1f" % (
                             t / max(res.ovmf_writes.get(d, 1), 1)),
                         fmt_ratio(res.ovmf_ratio(d))])
        L += list_table("OVMF's first-boot writes",
                        ["device", "time", "µs per write",
                         "loop's time / this one's"], rows)

    # --- the stream ---------------------------------------------------------
    sizes = res.sizes()
    L += heading("The state stream", "=")
    L += [
        "For each device size, on devices without a backing file, filled "
        "with fio's random data (*random*) or with one 4 KiB block of data "
        "per MiB, the rest erased (*mostly erased*), each figure against dd "
        "moving the same bytes between the same two ends: a file on tmpfs "
        "and the device, or two devices.  Each is one command, from its "
        "start to its exit, dd's included, and the median of %s runs; "
        "pflash's figure is dd's time over pflashctl's (higher is better)." %
        runs,
        "",
    ]
    L += list_table("What each figure compares",
                    ["figure", "pflash", "dd"],
                    [[t, "``pflashctl %s``" % (
                        "export -q DEV -o FILE" if w == "export" else
                        "import -q -i FILE DEV" if w == "import" else
                        "export -q DEV1 | pflashctl import -q DEV2"), d]
                     for w, _, t, d in STREAM])
    rows = []
    for s in sizes:
        for image in ("random", "erased"):
            row = [fmt_bytes(s), image]
            for what, dd, _, _ in STREAM:
                v, d = res.mig_mibs(s, image, what), \
                    res.mig_mibs(s, image, dd)
                row.append("n/a" if v is None else "%s / %s (%s)" % (
                    fmt_mibs(v), fmt_mibs(d) if d else "n/a",
                    fmt_ratio(res.stream_ratio(s, image, what, dd))))
            rows.append(row)
    L += list_table(
        "MiB/s of pflashctl / of dd (dd's time over pflashctl's)",
        ["device size", "image"] + [t for _, _, t, _ in STREAM], rows)
    rows = []
    for s in sizes:
        v = res.mig_mibs(s, "random", "inspect")
        rows.append([fmt_bytes(s), "n/a" if v is None else fmt_mibs(v)])
    L += list_table("``pflashctl inspect`` of a stream file, without the "
                    "kernel, random image (MiB/s)",
                    ["device size", "MiB/s"], rows)
    if res.crc32c_bps:
        L += [
            "The kernel's CRC-32C alone (``tcrypt`` mode 319, 8 KiB per "
            "update, driver ``%s``) ran at %s MiB/s in this VM." % (
                res.crc32c_driver, fmt_mibs(res.crc32c_bps / 1048576.0)),
            "",
        ]

    rows = []
    for s in sizes:
        row = [fmt_bytes(s)]
        for image in ("erased", "random"):
            b = res.stream.get((s, image))
            row.append("n/a" if b is None else
                       "%d (%.3f%%)" % (b, 100.0 * b / s))
        rows.append(row)
    L += list_table("Stream size in bytes (share of the device's size)",
                    ["device size", "mostly erased", "random"], rows)

    # --- the move -----------------------------------------------------------
    L += heading("The move", "=")
    L += [
        "A move between hosts, without shared storage, one pflashctl per "
        "side: ``pflashctl export -q --inactivate SRC | pflashctl import -q "
        "--activate DST``, from the start of the source's inactivation to "
        "the end of the target's activation, each device over a file on "
        "tmpfs.  tmpfs keeps no change attribute that pflash trusts, so the "
        "target's activation writes the whole device to its file and "
        "fsyncs it.  A *store* source is in writethrough mode, its data "
        "durable when the move starts, as a firmware store's is once its "
        "VM is stopped; a *dirty* one is in writeback mode, written in full "
        "just before, so that its inactivation writes back all of it.  "
        "Against it, dd copying the source device into a file of the same "
        "size with fsync (``bs=1M iflag=direct conv=notrunc,fsync``), the "
        "floor of any move: the device's bytes, read once and written to a "
        "file once.",
        "",
    ]
    rows = []
    for mode, what in (("writethrough", "store"), ("writeback", "dirty")):
        for s in sizes:
            tot = res.move_us(s, "us", mode)
            if tot is None:
                continue
            rows.append([fmt_bytes(s), what, fmt_time(tot),
                         fmt_time(res.move_us(s, "ddcopy_us", mode)),
                         fmt_ratio(res.move_ratio(s, mode))])
    L += list_table("The move against dd with fsync",
                    ["device size", "source", "move", "dd copy, fsync",
                     "move / dd (lower is better)"], rows)
    L += [
        "One ``pflashctl list``, started and done, takes %s: each side of "
        "the move starts one pflashctl, as dd starts itself." % (
            fmt_time(median(res.tool.get("list", [])))),
        "",
    ]

    L += [
        "The live move, with shared storage: ``pflashctl export --live -J "
        "| pflashctl import --activate`` of a source in writethrough mode, "
        "filled with random data, to a target created inactive over the "
        "same file, while fio writes 4 KiB at random places of the source "
        "at 1 MiB/s (``--rate=1m``, of guest time) and goes on, its writes "
        "refused, until the move has ended (``--continue_on_error``), as "
        "a paused guest would.  The downtime runs from "
        "the start of the source's inactivation, which the export makes "
        "itself once the passes are small (pflashctl's defaults: at "
        "most 64 KiB left, or 8 passes) and the pipe holds nothing of "
        "what they sent (``inactivated-at`` in its JSON), to the end of "
        "the import's process, once the target is active.  "
        "It counts the export's process exit as well: the VM's one vCPU "
        "runs both sides, and the pipe ends only once the export's "
        "process has ended, so that the exit falls inside the window in "
        "every run, not where the scheduler puts it; between two hosts it "
        "would run on the source's CPU.  On "
        "ext4 (on a brd), the file's change attribute proves that the file "
        "holds what the source left, which is what the target imported: "
        "the activation writes nothing.  On tmpfs, whose attribute pflash "
        "does not trust, it writes the whole device, inside the downtime: "
        "that downtime follows the device's size.",
        "",
    ]
    rows = []
    for (s, fs) in sorted(res.live):
        rows.append([fmt_bytes(s), fs,
                     "%d" % res.live_med(s, fs, "passes"),
                     fmt_bytes(res.live_med(s, fs, "stream_bytes")),
                     fmt_time(res.live_med(s, fs, "inactive_us")),
                     fmt_time(res.live_med(s, fs, "downtime_us"))])
    L += list_table("Live move: the downtime, with a writer at 1 MiB/s",
                    ["device size", "shared file on", "passes",
                     "stream sent", "inactive, export side", "downtime"],
                    rows)

    L += [
        "The full flush (``pflashctl flush --full`` of the active target) "
        "against dd writing the same bytes, read from the device, to a file "
        "of the same size on the same file system, with fsync "
        "(``bs=1M iflag=direct conv=notrunc,fsync``).",
        "",
    ]
    rows = []
    for s in sizes:
        fl, dw = res.mig_us(s, "random", "flush"), \
            res.mig_us(s, "random", "dd-write")
        rows.append([fmt_bytes(s), fmt_time(fl), fmt_time(dw),
                     fmt_ratio(ratio(fl, dw))])
    L += list_table("Full flush against dd with fsync",
                    ["device size", "full flush", "dd, fsync",
                     "flush time / dd time (lower is better)"], rows)

    L += profile_section(res)

    L += heading("Throughput against size", "=")
    L += [".. image:: benchmarks.png",
          "   :alt: export, import, the pipe and dd, the full flush and the "
          "move: throughput and time against the device's size", ""]
    L += [
        "Regenerate with ``make bench`` (about %s); ``make bench-quick`` "
        "runs a reduced set and writes only ``build/bench/ratios.json``.  "
        "``BENCH_CLOCK``, ``BENCH_RUNS``, ``BENCH_RUNTIME``, ``BENCH_SIZE`` "
        "and ``BENCH_SIZES`` change the settings (see "
        "``tools/bench/bench.sh``); the raw results of every run stay in "
        "``build/runs/bench-*/``." % (
            fmt_time(args.seconds * 1e6) if args.seconds else "n/a"),
        "",
    ]
    return "\n".join(L), g


def plot_data(res, pdir):
    os.makedirs(pdir, exist_ok=True)
    sizes = res.sizes()

    def num(v):
        return "NaN" if v is None else "%.6g" % v

    with open(os.path.join(pdir, "throughput.dat"), "w") as f:
        f.write("# size_bytes export dd_to_file import dd_from_file pipe "
                "dd_dev_to_dev full_flush dd_write_fsync (MiB/s, random)\n")
        for s in sizes:
            f.write(" ".join([str(s)] + [num(res.mig_mibs(s, "random", w))
                                         for w in (
                "export", "dd-to-file", "import", "dd-from-file", "pipe",
                "dd-dev-to-dev", "flush", "dd-write")]) + "\n")
    with open(os.path.join(pdir, "move.dat"), "w") as f:
        f.write("# size_bytes move_store dd_copy_store move_dirty "
                "dd_copy_dirty (s)\n")
        for s in sizes:
            f.write(" ".join([str(s)] + [num(
                None if res.move_us(s, k, m) is None else
                res.move_us(s, k, m) / 1e6)
                for m in ("writethrough", "writeback")
                for k in ("us", "ddcopy_us")]) + "\n")


def compare(goals, path):
    """How far each figure is from another run's: the largest share."""
    with open(path) as f:
        other = json.load(f)
    worst, name = 0.0, "n/a"
    for key, v in sorted(goals.ratios.items()):
        o = other.get(key)
        if key == "spread" or v is None or o is None:
            print("%-34s %10s %10s" % (key, v, o))
            continue
        d = abs(v - o) / abs(o) if o else 0.0
        if d > worst:
            worst, name = d, key
        print("%-34s %10.4f %10.4f  %5.2f%%" % (key, v, o, 100 * d))
    print("largest difference from %s: %.2f%% (%s)" % (path, 100 * worst,
                                                        name))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", required=True)
    ap.add_argument("--rst")
    ap.add_argument("--plot-dir")
    ap.add_argument("--version", default="unknown")
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--ratios")
    ap.add_argument("--compare")
    ap.add_argument("--print-goals", action="store_true")
    args = ap.parse_args()
    res = Results(args.results)
    text, goals = report(res, args)
    if args.rst:
        with open(args.rst + ".tmp", "w") as f:
            f.write(text)
        os.replace(args.rst + ".tmp", args.rst)
    if args.compare and os.path.exists(args.compare):
        compare(goals, args.compare)
    if args.ratios:
        with open(args.ratios + ".tmp", "w") as f:
            json.dump(goals.ratios, f, indent=2)
            f.write("\n")
        os.replace(args.ratios + ".tmp", args.ratios)
    if args.print_goals:
        width = max(len(r[0]) for r in goals.rows)
        for r in goals.rows:
            print("%-*s  %8s  %-10s %s" % (width, r[0], r[1], r[2],
                                            r[3].strip("*")))
        print("%-*s  %7.1f%%" % (width, "largest spread between repetitions",
                                 100 * res.max_spread()))
    if args.plot_dir:
        plot_data(res, args.plot_dir)
    for e in res.errors:
        print("report.py: " + e, file=sys.stderr)
    return 1 if res.errors else 0


if __name__ == "__main__":
    sys.exit(main())
