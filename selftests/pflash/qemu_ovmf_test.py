#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""OVMF's variable store on /dev/pflashN, in QEMU under TCG (nested in the
test VM): Debian's 4 MiB build (540672-byte store) and 2 MiB build
(131072 bytes).  One boot of each serves every check:

  - OVMF's first boot changes the store;
  - a variable set in the UEFI shell (setvar, typed on the serial
    console) reaches the backing file: at once in writethrough mode with
    QEMU's cache=none, at QEMU's flush otherwise, and never before in
    pflash's writeback mode;
  - the VM moves (pflash-qemu-migrate): without shared storage with the
    4 MiB build, with shared storage with the 2 MiB one; the destination's
    file equals the source's final store, byte for byte; the variable set
    before the move reads back after it; one set after it reaches the
    destination's file; the source can no longer write (its cont fails,
    and its file and device stay as they were).

The four pairings of pflash's cache mode and QEMU's (default or
cache=none) each serve one side of one move.  The wrong orders are
qemu_qtest_test's, which need no guest code.  The two builds run side by
side, one on each of the VM's CPUs: a boot takes minutes.  Prints TAP,
with the time each step took.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_vm as qv  # noqa: E402

tap, tool = qv.begin()
BOOT_TIMEOUT = 900	# OVMF to its shell, nested under TCG, on a busy host

# build, shared storage, (pflash cache, QEMU cache) of source, destination
MOVES = [
    ('4m', False, ('writethrough', 'none'), ('writeback', None)),
    ('2m', True, ('writeback', 'none'), ('writethrough', None)),
]


def step(t, name, t0):
    qv.timed(t, name, t0)
    return time.monotonic()


def at_once(pcache, qcache):
    return pcache == 'writethrough' and qcache == 'none'


def setvar_reaches(t, q, con, dev, path, var, data, pcache, qcache, what):
    """Set @var in the shell; check when it reaches the file at @path."""
    out = con.shell(qv.setvar_cmd(var, data))
    t.ok(b'setvar:' not in out, '%s: setvar %s' % (what, var), out)
    if at_once(pcache, qcache):
        t.ok(qv.var_in(qv.read(path), var, data),
             '%s: writethrough, cache=none: %s is in the file at once'
             % (what, var))
    elif pcache == 'writeback' and qcache == 'none':
        t.ok(not qv.var_in(qv.read(path), var, data) and
             dev.info()['dirty'] > 0,
             '%s: writeback: %s waits in pflash, dirty, not yet in the file'
             % (what, var), dev.info())
    elif pcache == 'writeback':
        # In the page cache, or in pflash's RAM once the kernel wrote that
        # back: never in the file before a flush.
        t.ok(not qv.var_in(qv.read(path), var, data),
             '%s: writeback: %s is not yet in the file' % (what, var))
    q.qmp.cmd('stop')
    t.ok(qv.var_in(qv.read(path), var, data),
         "%s: at QEMU's flush (stop), %s is in the file" % (what, var))
    q.qmp.cmd('cont')


def move(t, w, build, shared, src_modes, dst_modes):
    _, store_name, size = qv.OVMF[build]
    orig = qv.read(os.path.join(qv.OVMF_DIR, store_name))
    what = 'OVMF %s' % build
    fa = w.file('%s-a.fd' % build, orig)
    fb = fa if shared else w.file('%s-b.fd' % build, orig)
    a = qv.Dev(fa, src_modes[0])
    b = qv.Dev(fb, dst_modes[0], inactive=True)
    w.undo += [a.destroy, b.destroy]
    var1, data1 = 'PflashBefore', b'moved-' + build.encode()
    var2, data2 = 'PflashAfter', b'after-' + build.encode()
    t0 = time.monotonic()
    src = qv.Qemu(w.path, 'src' + build, a, ovmf=build, cache=src_modes[1])
    dst = None
    try:
        con = src.console()
        con.boot(BOOT_TIMEOUT)
        t0 = step(t, '%s: boot to the shell' % what, t0)
        src.qmp.cmd('stop')
        changed = sum(x != y for x, y in zip(qv.read(fa), orig))
        t.ok(len(qv.read(fa)) == size and changed > 0,
             '%s: the first boot changed the store (%d bytes of %d)'
             % (what, changed, size))
        src.qmp.cmd('cont')
        setvar_reaches(t, src, con, a, fa, var1, data1, *src_modes,
                       what + ' (source: pflash %s, cache=%s)' %
                       (src_modes[0], src_modes[1] or 'default'))
        t0 = step(t, '%s: a variable set, and flushed' % what, t0)

        dst = qv.Qemu(w.path, 'dst' + build, b, ovmf=build,
                      cache=dst_modes[1], incoming=True)
        dcon = dst.console()
        rc, out, err = qv.sh('pflash-qemu-migrate', '--source-qmp',
                             src.tool_qmp_path, '--dest-qmp',
                             dst.tool_qmp_path, '--source-device', a.name,
                             '--dest-device', b.name, '--uri',
                             'unix:%s/mig-%s.sock' % (w.path, build),
                             check=False)
        t.ok(rc == 0 and dst.status() == 'running' and
             src.status() == 'postmigrate',
             '%s: pflash-qemu-migrate moves the VM (%s storage)'
             % (what, 'shared' if shared else 'no shared'), out, err)
        t0 = step(t, '%s: the move' % what, t0)
        final = a.read()
        t.ok(qv.read(fb) == final and b.read() == final and
             qv.var_in(final, var1, data1),
             "%s: the destination's file equals the source's final store"
             % what, qv.diff(qv.read(fb), final))

        out = dcon.shell(qv.getvar_cmd(var1))
        t.ok(qv.shown(out, data1),
             '%s: the variable set before the move reads back after it'
             % what, out)
        setvar_reaches(t, dst, dcon, b, fb, var2, data2, *dst_modes,
                       what + ' (destination: pflash %s, cache=%s)' %
                       (dst_modes[0], dst_modes[1] or 'default'))
        t0 = step(t, '%s: read back, and a variable set after the move'
                  % what, t0)

        before = qv.read(fa)
        try:
            src.qmp.cmd('cont')
            refused = None
        except tool.QMPError as e:
            refused = e.desc
        ro = qv.sh('blockdev', '--getro', a.path)[1].strip()
        t.ok(refused is not None and src.status() == 'postmigrate' and
             ro == '1' and a.read() == final and qv.read(fa) == before,
             '%s: the source can no longer write: its cont fails, its '
             'device is read-only, its store unchanged' % what, refused, ro)
    finally:
        src.quit()
        if dst:
            dst.quit()
    a.destroy()
    b.destroy()


def run(t, w, m):
    t0 = time.monotonic()
    try:
        move(t, w, *m)
    except Exception as e:
        t.ok(False, 'OVMF %s: ran to its end' % m[0], repr(e))
    qv.timed(t, 'OVMF %s, in all' % m[0], t0)


def main():
    w = qv.Workdir('256m')
    t0 = time.monotonic()
    try:
        records = [qv.Record() for _ in MOVES]
        threads = [threading.Thread(target=run, args=(r, w, m))
                   for r, m in zip(records, MOVES)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        for r in records:
            tap.replay(r)
        qv.timed(tap, 'both builds, side by side', t0)
    finally:
        w.cleanup()
    return tap.done()


sys.exit(main())
