#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the raw results of `make bench` into its table and its plot's data.

Reads what tools/vm/bench-guest.sh left (fio/rep*.json, results.txt) and
writes:

  --rst FILE       the results table, in reStructuredText
  --plot-dir DIR   throughput.dat, move.dat and stream.dat for
                   tools/vm/bench-plot.gp

Every figure is the median of its repetitions; the spread is half the range
(max - min) over the median.  Only ratios between figures of the same run
mean anything: the VM runs under TCG, on a shared host.
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
    """Half the range, as a fraction of the median."""
    if not values or len(values) < 2:
        return 0.0
    m = statistics.median(values)
    return (max(values) - min(values)) / 2 / m if m else 0.0


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
                    self.move.setdefault(int(kv["size"]), []).append(
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

    def move_us(self, size, field):
        return median([m[field] for m in self.move.get(size, [])])


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


def report(res, args):
    L = []
    sysinfo = res.system
    runs = sysinfo.get("runs", "?")
    L += [".. SPDX-License-Identifier: GPL-2.0", ""]
    L += ["=" * 17, "pflash benchmarks", "=" * 17, ""]
    L += [
        "This page is written by ``make bench`` (``tools/vm/bench.sh``); do "
        "not edit it by hand.  It shows one run: version ``%s``, kernel "
        "``%s``, %s CPUs, under QEMU's TCG (KVM is not usable on the "
        "machines it runs on), on a host that other VMs share.  TCG distorts "
        "absolute figures, and they wobble from run to run: only the ratios "
        "between figures of the same run mean anything.  ``make bench`` "
        "took %s." % (args.version, sysinfo.get("kernel", "?"),
                 sysinfo.get("cpus", "?"),
                 fmt_time(args.seconds * 1e6) if args.seconds else "n/a"),
        "",
    ]
    if res.errors:
        L += ["**Errors in this run:**", ""]
        L += ["- " + e.replace("_", " ") for e in res.errors] + [""]

    # --- fio -------------------------------------------------------------
    L += heading("Block I/O against brd, zram and loop", "=")
    L += [
        "fio %s (Debian's), ``libaio``, ``direct=1``, on devices of %s MiB "
        "each, created side by side in the same VM: pflash without a "
        "backing file; pflash in writeback and in writethrough mode, each "
        "over a file on tmpfs; brd; zram (lzo-rle; the data is fio's random "
        "data, which does not compress); loop over a file on tmpfs.  Every "
        "device is written in full first, so that reads read data.  Each "
        "figure is the median of %s repetitions of %s s (after %s s of "
        "ramp); each repetition runs every workload on every device in "
        "turn, the devices' order rotated from one repetition to the next, "
        "so that all of them see the same conditions.  The spread (±) is "
        "half the range of the repetitions over the median." % (
            "3.33", sysinfo.get("size_mb", "?"), runs,
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
            row.append("%s ±%.0f%%" % (f, 100 * spread(vals)))
        rows.append(row)
    L += list_table("Throughput: median ± spread", header, rows)

    rows = []
    for wl, text, _, _ in WORKLOADS:
        b = res.fio_median(wl, "brd")
        rows.append([text] + [fmt_ratio(ratio(res.fio_median(wl, d), b))
                              for d in DEVICES])
    L += list_table("Ratio to brd (higher is better)", header, rows)

    L += [
        "With a backing file (issue 4): write throughput of pflash in "
        "writeback and in writethrough mode against loop over a file on the "
        "same file system (tmpfs), as ratios of the medians above.  In "
        "writethrough mode a write completes only once its data is in the "
        "file and fsynced; loop over tmpfs completes it once it is in the "
        "file's page cache.",
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
        "the median of %s runs (%s for sizes of 1 GiB); each is one command "
        "from its start to its exit, so the small sizes show the cost of "
        "starting a program under TCG more than anything else.  "
        "``pflashctl`` checks every record of the stream as it passes, on "
        "export too." % (sysinfo.get("migruns", runs),
                         sysinfo.get("bigruns", "?")),
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
        "the one ``export`` and ``import`` make of every record that "
        "passes, without the kernel: where export and import run at about "
        "its speed, the tool's check is what bounds them, not the kernel.",
        "",
    ]
    if res.crc32c_bps:
        L += [
            "The kernel's CRC-32C alone (``tcrypt`` mode 319, 8 KiB per "
            "update, driver ``%s``) ran at %s MiB/s in this VM, %s of dd's "
            "read of 1 GiB: an export computes it once over every byte of "
            "data, an import checks it once, and ``pflashctl`` checks it "
            "once more on each, with ISA-L's table-driven code (the VM has "
            "no SSE4.2; see ``tools/vm/bench.sh``), whose speed ``pflashctl "
            "inspect`` shows.  Where export and import run well below both, "
            "the rest of their time goes elsewhere, which this run does not "
            "measure apart; the likeliest place is the messages' way through "
            "libnl in ``pflashctl``, one message of at most 32 KiB at a "
            "time." % (
                res.crc32c_driver, fmt_mibs(res.crc32c_bps / 1048576.0),
                fmt_ratio(ratio(res.crc32c_bps / 1048576.0,
                                res.mig_mibs(1 << 30, "random", "dd-read")))),
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
        "The move: a source device in writeback mode over a file on tmpfs, "
        "written in full just before (so all of it is dirty), and a target "
        "device created inactive over a file of its own; from the start of "
        "the source's ``pflashctl inactivate`` (which writes back "
        "everything) through ``pflashctl export | pflashctl import`` to the "
        "end of the target's ``pflashctl activate`` (the full flush of the "
        "imported contents to its file).",
        "",
    ]
    rows = []
    for s in sizes:
        tot = res.move_us(s, "us")
        rows.append([fmt_bytes(s), fmt_time(res.move_us(s, "inactivate_us")),
                     fmt_time(res.move_us(s, "transfer_us")),
                     fmt_time(res.move_us(s, "activate_us")), fmt_time(tot),
                     "%.0f" % (s / MIB / (tot / 1e6)) if tot else "n/a"])
    L += list_table("From the source's inactivate to the target's activation",
                    ["device size", "inactivate", "export | import",
                     "activate (full flush)", "total", "MiB/s overall"], rows)

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

    # --- goals -----------------------------------------------------------
    L += heading("Goals", "=")
    goals = []

    def goal(text, value, target, ok, fmt=fmt_ratio):
        goals.append([text, fmt(value) if value is not None else "n/a",
                      target, "n/a" if value is None else
                      ("met" if ok(value) else "**missed**")])

    for wl, text, _, _ in WORKLOADS:
        goal("pflash / brd, " + text,
             ratio(res.fio_median(wl, "pflash"), res.fio_median(wl, "brd")),
             ">= 1.0", lambda v: v >= 1.0)
    # The goals on throughput count from 64 MiB: below, starting the
    # programs takes most of the time.
    big = [s for s in sizes if s >= 64 * MIB]
    for s in big:
        goal("export / dd read, random image, %s" % fmt_bytes(s),
             ratio(res.mig_mibs(s, "random", "export"),
                   res.mig_mibs(s, "random", "dd-read")),
             ">= 0.5", lambda v: v >= 0.5)
    if (64 * MIB, "erased") in res.stream:
        goal("stream of a mostly erased 64 MiB image / its size",
             res.stream[(64 * MIB, "erased")] / (64 * MIB), "< 1%",
             lambda v: v < 0.01, lambda v: "%.3f%%" % (100 * v))
    for s in big:
        goal("full flush time / dd time, %s" % fmt_bytes(s),
             ratio(res.mig_us(s, "random", "flush"),
                   res.mig_us(s, "random", "dd-write")),
             "<= 1.2", lambda v: v <= 1.2)
    L += list_table("Goals, in this run", ["goal", "reached", "target",
                                           ""], goals)

    L += heading("Throughput against size", "=")
    L += [".. image:: benchmarks.png",
          "   :alt: export, import, dd, the full flush and the move: "
          "throughput and time against the device's size", ""]
    L += [
        "Regenerate with ``make bench`` (about %s).  ``BENCH_RUNS``, "
        "``BENCH_RUNTIME``, ``BENCH_SIZE``, ``BENCH_SIZES`` and "
        "``BENCH_MEM`` change the settings (see ``tools/vm/bench.sh``); "
        "the raw results of every run stay in ``build/runs/bench-*/``." % (
            fmt_time(args.seconds * 1e6) if args.seconds else "n/a"),
        "",
    ]
    return "\n".join(L)


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
        f.write("# size_bytes inactivate transfer activate total (s)\n")
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
    args = ap.parse_args()
    res = Results(args.results)
    if args.rst:
        with open(args.rst + ".tmp", "w") as f:
            f.write(report(res, args))
        os.replace(args.rst + ".tmp", args.rst)
    if args.plot_dir:
        plot_data(res, args.plot_dir)
    for e in res.errors:
        print("bench-report: " + e, file=sys.stderr)
    return 1 if res.errors else 0


if __name__ == "__main__":
    sys.exit(main())
