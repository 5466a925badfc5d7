#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the raw results of `make bench` into its table and its plot's data.

Reads what tools/bench/guest.sh left (fio/rep*.json, results.txt) and
writes:

  --rst FILE       the results table, in reStructuredText
  --plot-dir DIR   throughput.dat, move.dat and stream.dat for
                   tools/bench/plot.gp
  --ratios FILE    the figures the goals are judged on, as JSON: one key per
                   figure, and "spread", the largest relative difference
                   between the repetitions of any figure
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

DEVICES = ["pflash", "pflash-wb", "pflash-wt", "brd", "zram", "loop"]
DEVICE_TEXT = {
    "pflash": "pflash",
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


class Results:
    def __init__(self, rdir):
        self.fio = {}          # (workload, device) -> [values]
        self.system = {}
        self.devs = {}         # device -> fio-dev line
        self.mig = {}          # (size, image, what) -> [us]
        self.stream = {}       # (size, image) -> bytes
        self.move = {}         # size -> [dict]
        self.live = {}         # size -> [dict]
        self.tool = {}         # what -> [us]
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
            with open(path) as f:
                text = f.read()
            # fio may print notes before the JSON.
            text = text[text.index("{"):] if "{" in text else "{}"
            try:
                data = json.loads(text)
            except ValueError as e:
                self.errors.append("%s: %s" % (os.path.basename(path), e))
                continue
            for job in data.get("jobs", []):
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

    def read_results(self, path):
        with open(path) as f:
            for line in f:
                kind, kv = kv_line(line)
                if kind == "system":
                    self.system = kv
                elif kind == "fio-dev":
                    self.devs[kv["name"]] = kv
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
                    self.live.setdefault(int(kv["size"]), []).append(
                        {k: int(v) for k, v in kv.items()})
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

    def move_us(self, size, field, mode="writeback"):
        return median([m[field] for m in self.move.get((size, mode), [])])

    def move_ratio(self, size, mode):
        """The move's downtime over dd's copy with fsync, as medians."""
        return ratio(self.move_us(size, "us", mode),
                     self.move_us(size, "ddcopy_us", mode))

    def live_med(self, size, field):
        return median([m[field] for m in self.live.get(size, [])])

    def live_ratio(self, size):
        """A live move's downtime over that of a 4 MiB store's move
        without --live (writethrough source), as medians."""
        return ratio(self.live_med(size, "downtime_us"),
                     self.move_us(4 * MIB, "us", "writethrough"))

    def all_series(self):
        """Every figure's repetitions, named, for the run's spread."""
        series = [("fio %s on %s" % k, v) for k, v in self.fio.items()]
        series += [("%s of %s, %s image" % (k[2], fmt_bytes(k[0]), k[1]), v)
                   for k, v in self.mig.items()]
        for (size, mode), moves in self.move.items():
            for field, what in (("us", "move"), ("ddcopy_us", "dd copy")):
                series.append(("%s of %s (%s source)" % (
                    what, fmt_bytes(size), mode),
                    [m[field] for m in moves if field in m]))
        for size, moves in self.live.items():
            series.append(("live move of %s" % fmt_bytes(size),
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
        "run.  What the model leaves out: caches and memory bandwidth (a "
        "copy costs what its instructions count, however far its data "
        "comes from), the cost of one instruction against another, and a "
        "string instruction counts once per iteration, so ``rep movsb`` "
        "counts one per byte copied and ``rep movsq`` one per eight.  The "
        "CPU is ``-cpu max`` with SSE4.2: the crc32 instruction counts "
        "once, as it costs about one cycle on hardware.  The VM has one "
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

    def add(self, key, text, value, target, ok, fmt=fmt_ratio):
        if key:
            self.ratios[key] = None if value is None else round(value, 4)
        self.rows.append([text, "n/a" if value is None else fmt(value),
                          target, "n/a" if value is None else
                          ("met" if ok(value) else "**missed**")])


def goals_of(res):
    g = Goals()
    keys = {
        "randread-4k-qd1": "4k-randread-qd1",
        "randread-4k-qd32": "4k-randread-qd32",
        "randwrite-4k-qd1": "4k-randwrite-qd1",
        "randwrite-4k-qd32": "4k-randwrite-qd32",
        "read-1m": "1m-read",
        "write-1m": "1m-write",
    }
    for wl, text, _, _ in WORKLOADS:
        g.add(keys[wl], "pflash / brd, " + text,
              ratio(res.fio_median(wl, "pflash"), res.fio_median(wl, "brd")),
              ">= 1.2", lambda v: v >= 1.2)
    s = 64 * MIB
    for what in ("export", "import"):
        g.add("%s-64m-random" % what,
              "%s / dd read, random image, 64 MiB" % what,
              ratio(res.mig_mibs(s, "random", what),
                    res.mig_mibs(s, "random", "dd-read")),
              ">= 0.5", lambda v: v >= 0.5)
    g.add("move-ovmf-4m",
          "move of a 4 MiB store (writethrough source) / dd copy with fsync",
          res.move_ratio(4 * MIB, "writethrough"), "<= 2",
          lambda v: v <= 2.0)
    for size in (64 * MIB, 256 * MIB):
        g.add("live-downtime-%dm" % (size // MIB),
              "downtime of a live move of %s, writer at 1 MiB/s / "
              "downtime of a 4 MiB store's move" % fmt_bytes(size),
              res.live_ratio(size), "<= 2", lambda v: v <= 2.0)
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
        "The spread (±) of a figure is the range of its %s repetitions "
        "over their median; the largest spread of any figure in this run "
        "was %.1f%%, of the %s." % (runs, 100 * res.max_spread(),
                                    res.max_spread_name()),
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

    # --- fio -------------------------------------------------------------
    L += heading("Block I/O against brd, zram and loop", "=")
    L += [
        "fio (Debian's), ``libaio``, ``direct=1``, on devices of %s MiB "
        "each, created side by side in the same VM: pflash without a "
        "backing file; pflash in writeback and in writethrough mode, each "
        "over a file on tmpfs; brd; zram (lzo-rle; the data is fio's random "
        "data, which does not compress); loop over a file on tmpfs.  Every "
        "device is written in full first, so that reads read data.  Each "
        "figure is the median of %s repetitions of %s (after %s of "
        "ramp); each repetition runs every workload on every device in "
        "turn, the devices' order rotated from one repetition to the next." % (
            sysinfo.get("size_mb", "?"), runs,
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
            "tag, request or completion.  With blk-mq (a queue per CPU, "
            "128 requests each), the same measurement gave 0.88 of brd for "
            "4 KiB random reads and writes at QD 1, and 1.18 and 1.30 for "
            "1 MiB reads and writes: the request's own work cost more than "
            "brd's page lookup saves.  At 4 KiB the ratio cannot reach 1.2 "
            "in this model: a 4 KiB random read at QD 1 takes %.0f "
            "instructions on pflash and %.0f on brd, nearly all of them "
            "fio's, the system call's and the block layer's, which both "
            "pay; to be 1.2 times brd, pflash would need %.0f fewer, more "
            "than its whole share (the copy of 4 KiB and a bounds check).  "
            "The random reads of pflash in writethrough mode, which were "
            "0.81 of pflash's without a file under blk-mq, are now the same "
            "as theirs: reads never touch the file, and nothing of the "
            "backing file's is on the bio-based read path any more; the "
            "cause under blk-mq was not isolated before it went." % (
                1e9 / pf, 1e9 / br, 1e9 / pf - 1e9 / br / 1.2),
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

    # --- migration -------------------------------------------------------
    sizes = res.sizes()
    L += heading("Migration", "=")
    L += [
        "For each device size: dd reading the whole device (``bs=1M "
        "iflag=direct``, or one block the size of a smaller device) against "
        "``pflashctl export`` to ``/dev/null`` and ``pflashctl import`` from "
        "a stream file on tmpfs, on devices without a backing file.  A "
        "*random* image is written in full with fio's random data; a "
        "*mostly erased* one has one 4 KiB block of data per MiB (one block "
        "in all if the device is smaller), the rest erased.  Each figure is "
        "the median of %s runs; each is one command from its start to its "
        "exit, so the small sizes show the cost of starting a program "
        "more than anything else." % runs,
        "",
    ]
    rows = []
    for s in sizes:
        dd = res.mig_mibs(s, "random", "dd-read")
        row = [fmt_bytes(s)]
        row.append(fmt_mibs(dd) if dd else "n/a")
        for image in ("random", "erased"):
            dd_i = res.mig_mibs(s, image, "dd-read")
            for what in ("export", "import"):
                v = res.mig_mibs(s, image, what)
                row.append("n/a" if v is None else "%s (%s)" % (
                    fmt_mibs(v), fmt_ratio(ratio(v, dd_i))))
        v = res.mig_mibs(s, "random", "inspect")
        row.append("n/a" if v is None else "%s (%s)" % (
            fmt_mibs(v), fmt_ratio(ratio(v, dd))))
        rows.append(row)
    L += list_table(
        "Export and import throughput in MiB/s (ratio to dd reading the "
        "same device)",
        ["device size", "dd read (random)", "export, random",
         "import, random", "export, mostly erased",
         "import, mostly erased", "pflashctl inspect, random"], rows)
    L += [
        "``pflashctl inspect`` is the tool's own check of a stream file, "
        "without the kernel.",
        "",
    ]
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

    L += [
        "The move, the downtime of a move between hosts: from the start of "
        "the source's ``pflashctl inactivate`` through ``pflashctl export "
        "| pflashctl import`` to the end of the target's ``pflashctl "
        "activate`` (the flush of what the import changed to its file), "
        "each device over a file on tmpfs.  A *store* source is in "
        "writethrough mode, its data durable when the move starts, as a "
        "firmware store's is once its VM is stopped; a *dirty* one is in "
        "writeback mode, written in full just before, so that its "
        "inactivation writes back all of it.  Against it, dd copying the "
        "source device into a file of the same size with fsync (``bs=1M "
        "iflag=direct conv=notrunc,fsync``), the floor of any move.",
        "",
    ]
    rows = []
    for mode, what in (("writethrough", "store"), ("writeback", "dirty")):
        for s in sizes:
            tot = res.move_us(s, "us", mode)
            if tot is None:
                continue
            rows.append([fmt_bytes(s), what,
                         fmt_time(res.move_us(s, "inactivate_us", mode)),
                         fmt_time(res.move_us(s, "transfer_us", mode)),
                         fmt_time(res.move_us(s, "activate_us", mode)),
                         fmt_time(tot),
                         fmt_time(res.move_us(s, "ddcopy_us", mode)),
                         fmt_ratio(res.move_ratio(s, mode))])
    L += list_table("From the source's inactivate to the target's activation",
                    ["device size", "source", "inactivate", "export | import",
                     "activate (flush)", "total", "dd copy, fsync",
                     "total / dd (lower is better)"], rows)

    L += [
        "One ``pflashctl list``, started and done, takes %s: a move "
        "runs four pflashctl (inactivate, export, import, activate), so "
        "about %s of a small move's downtime is the tool's start-up "
        "(dynamic linking, the netlink family's resolution), which dd's "
        "copy does not pay." % (
            fmt_time(median(res.tool.get("list", []))),
            fmt_time(4 * median(res.tool.get("list", [])))
            if res.tool.get("list") else "n/a"),
        "",
        "The live move, with shared storage: ``pflashctl export --live -J "
        "| pflashctl import --activate`` of a source in writethrough mode "
        "over a file on tmpfs, filled with random data, to a target "
        "created inactive over the same file, while fio writes 4 KiB at "
        "random places of the source at 1 MiB/s (``--rate=1m``, of guest "
        "time).  The downtime runs from the start of the source's "
        "inactivation, which the export makes itself once the passes are "
        "small (``--max-final 1M``, ``--max-passes 8``), to the end of the "
        "target's activation, which writes to the file the blocks that the "
        "move changed.  The goal: within 2x of the downtime of moving a 4 "
        "MiB store without ``--live`` (above): a downtime set by what "
        "changed, not by the device's size.  Without shared storage, the "
        "target's activation also writes to its own file every block that "
        "differs from what the file held: with a blank file, the whole "
        "device, as the moves above show; that part of a move follows the "
        "size unless the target's file is brought up to date first.",
        "",
    ]
    rows = []
    base = res.move_us(4 * MIB, "us", "writethrough")
    for s in sorted(res.live):
        rows.append([fmt_bytes(s), "%d" % res.live_med(s, "passes"),
                     fmt_bytes(res.live_med(s, "stream_bytes")),
                     fmt_time(res.live_med(s, "inactive_us")),
                     fmt_time(res.live_med(s, "downtime_us")),
                     fmt_time(base), fmt_ratio(res.live_ratio(s))])
    L += list_table("Live move: the downtime, with a writer at 1 MiB/s",
                    ["device size", "passes", "stream sent",
                     "inactive, export side", "downtime",
                     "4 MiB move, not live", "downtime / 4 MiB move "
                     "(goal <= 2)"], rows)

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

    L += heading("Throughput against size", "=")
    L += [".. image:: benchmarks.png",
          "   :alt: export, import, dd, the full flush and the move: "
          "throughput and time against the device's size", ""]
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
        f.write("# size_bytes dd_read export_random export_erased "
                "import_random import_erased full_flush dd_write_fsync "
                "move_overall (MiB/s)\n")
        for s in sizes:
            tot = res.move_us(s, "us")
            f.write(" ".join([str(s)] + [num(v) for v in (
                res.mig_mibs(s, "random", "dd-read"),
                res.mig_mibs(s, "random", "export"),
                res.mig_mibs(s, "erased", "export"),
                res.mig_mibs(s, "random", "import"),
                res.mig_mibs(s, "erased", "import"),
                res.mig_mibs(s, "random", "flush"),
                res.mig_mibs(s, "random", "dd-write"),
                s / MIB / (tot / 1e6) if tot else None)]) + "\n")
    with open(os.path.join(pdir, "move.dat"), "w") as f:
        f.write("# size_bytes inactivate transfer activate total (s), "
                "of the dirty source\n")
        for s in sizes:
            f.write(" ".join([str(s)] + [num(
                None if res.move_us(s, k) is None else
                res.move_us(s, k) / 1e6) for k in (
                    "inactivate_us", "transfer_us", "activate_us", "us")])
                + "\n")
    with open(os.path.join(pdir, "stream.dat"), "w") as f:
        f.write("# size_bytes erased_stream random_stream\n")
        for s in sizes:
            f.write("%d %s %s\n" % (s, num(res.stream.get((s, "erased"))),
                                    num(res.stream.get((s, "random")))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", required=True)
    ap.add_argument("--rst")
    ap.add_argument("--plot-dir")
    ap.add_argument("--version", default="unknown")
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--ratios")
    ap.add_argument("--print-goals", action="store_true")
    args = ap.parse_args()
    res = Results(args.results)
    text, goals = report(res, args)
    if args.rst:
        with open(args.rst + ".tmp", "w") as f:
            f.write(text)
        os.replace(args.rst + ".tmp", args.rst)
    if args.ratios:
        with open(args.ratios + ".tmp", "w") as f:
            json.dump(goals.ratios, f, indent=2)
            f.write("\n")
        os.replace(args.ratios + ".tmp", args.ratios)
    if args.print_goals:
        width = max(len(r[0]) for r in goals.rows)
        for r in goals.rows:
            print("%-*s  %8s  %-7s %s" % (width, r[0], r[1], r[2],
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
