#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""QEMU's pflash_cfi01 on /dev/pflashN, with no guest code: the flash is
driven through QEMU's qtest protocol, as the firmware would drive it (CFI
program and erase commands to unit 1), and QEMU is migrated between two
processes with the pflash device moved underneath.

  - programs and erases reach the backing file: at once in writethrough
    mode with cache=none, at QEMU's flush (stop) otherwise, for both
    pflash cache modes and QEMU's default cache and cache=none;
  - a migration without shared storage, step by step, and the wrong
    orders on the way: pflash refuses an inactivation under the running
    VM, the inactive source refuses a buffered write, the destination's
    cont before activation fails and writes nothing, the source's cont
    after the move fails and writes nothing; QEMU holds its drive
    read-only once its migration completed and read-write after cont;
  - a migration with shared storage, by pflash-qemu-migrate;
  - a destination started without late-block-activate: QEMU's early
    activation fails, and the right steps after it lose nothing;
  - pflash-qemu-migrate's rollback when the destination's device cannot
    take the store: the source runs on, with it.

Every check is by bytes (the backing files, the devices) and by the state
QEMU (query-status, its descriptors' modes, its events) and pflash report.
Prints TAP.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_vm as qv  # noqa: E402

tap, tool = qv.begin()

ORIG = qv.read(os.path.join(qv.OVMF_DIR, qv.OVMF['4m'][1]))
SIZE = len(ORIG)
P1, P2, P3 = 0x41000, 0x41800, 0x60010
ERASED = 0		# the first sector: the firmware volume's header
D1, D2, D3 = b'pflash-one', b'pflash-two', b'pflash-three'


def put(img, off, data):
    img[off:off + len(data)] = data


def events(q, name):
    q.qmp.poll_events()
    return [e for e in q.qmp.events if e['event'] == name]


def run_tool(*args):
    p = subprocess.run(['pflash-qemu-migrate'] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    return p.returncode, p.stdout, p.stderr


def writes_reach_the_file(w):
    """Program and erase, in each pairing of the cache modes."""
    for pcache in ('writethrough', 'writeback'):
        for qcache in (None, 'none'):
            what = 'pflash %s, QEMU cache=%s' % (pcache, qcache or 'default')
            vars_ = w.file('vars-%s-%s.fd' % (pcache, qcache), ORIG)
            with qv.Scope() as s:
                dev = s.add(qv.Dev(vars_, pcache))
                q = s.add(qv.Qemu(w.path, 'q', dev, qtest=True,
                                  cache=qcache))
                expect = bytearray(ORIG)
                q.program(P1, D1)
                q.erase(ERASED)
                put(expect, P1, D1)
                put(expect, ERASED, b'\xff' * qv.SECTOR)
                tap.ok(q.flash(P1, len(D1)) == D1 and
                       q.flash(ERASED, 16) == b'\xff' * 16,
                       '%s: the guest reads what it programmed and erased'
                       % what)
                tap.ok(q.modes() == [os.O_RDWR],
                       '%s: QEMU holds the device read-write' % what,
                       q.modes())
                if pcache == 'writethrough' and qcache == 'none':
                    tap.ok(qv.read(vars_) == expect,
                           '%s: the backing file has it at once' % what,
                           qv.diff(qv.read(vars_), expect))
                if pcache == 'writeback' and qcache == 'none':
                    info = dev.info()
                    tap.ok(info['dirty'] > 0 and qv.read(vars_) == ORIG,
                           '%s: it waits in pflash, dirty, for a flush' % what,
                           info)
                q.qmp.cmd('stop')
                tap.ok(qv.read(vars_) == expect and dev.read() == expect,
                       "%s: at QEMU's flush (stop), the file and the device "
                       'have it' % what, qv.diff(qv.read(vars_), expect))
                tap.ok('Could not update' not in q.stderr(),
                       '%s: QEMU wrote without an error' % what, q.stderr())


def migrate(src, dst, uri):
    """QEMU's migration, to its end; the source's status after it."""
    dst.qmp.cmd('migrate-incoming', uri=uri)
    src.qmp.cmd('migrate', uri=uri)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        st = src.qmp.cmd('query-migrate').get('status')
        if st in ('completed', 'failed', 'cancelled'):
            return st
        time.sleep(0.1)
    return 'timed out'


def late_block_activate(q):
    q.qmp.cmd('migrate-set-capabilities', capabilities=[
        {'capability': 'late-block-activate', 'state': True}])


def move_without_shared_storage(w):
    """The right order, by hand, and each wrong order on its way."""
    fa = w.file('a.fd', ORIG)
    fb = w.file('b.fd', ORIG)
    with qv.Scope() as s:
        a = s.add(qv.Dev(fa, 'writethrough'))
        b = s.add(qv.Dev(fb, 'writeback', inactive=True))
        src = s.add(qv.Qemu(w.path, 'src', a, qtest=True))
        dst = s.add(qv.Qemu(w.path, 'dst', b, qtest=True, cache='none',
                            incoming=True))
        expect = bytearray(ORIG)
        src.program(P1, D1)
        put(expect, P1, D1)

        # Wrong: inactivating under the running VM.
        rc, _, err = qv.pflashctl('inactivate', a.name, check=False)
        tap.ok(rc == 1 and a.state() == 'active' and
               '(pid %d,' % src.pid in err,
               'inactivate under the running VM: refused, naming QEMU; '
               'the device stays active', rc, err)
        src.program(P2, D2)
        put(expect, P2, D2)
        src.qmp.cmd('stop')
        src.qmp.cmd('cont')
        tap.ok(qv.read(fa) == expect and
               'Could not update' not in src.stderr(),
               '... and the VM goes on writing its store', src.stderr())

        late_block_activate(dst)
        tap.ok(dst.modes() == [os.O_RDONLY],
               'the incoming destination holds its device read-only',
               dst.modes())
        st = migrate(src, dst, 'unix:%s/mig.sock' % w.path)
        tap.ok(st == 'completed' and src.status() == 'postmigrate',
               "QEMU's migration completes; the source is postmigrate", st)
        tap.ok(src.modes() == [os.O_RDONLY],
               'QEMU reopened its drive read-only when it inactivated it',
               src.modes())
        tap.ok(events(src, 'STOP'), 'the source announced STOP')
        tap.ok(qv.read(fa) == expect, "the source's file holds its final "
               'store', qv.diff(qv.read(fa), expect))

        rc, _, err = qv.pflashctl('inactivate', a.name, check=False)
        tap.ok(rc == 0 and a.state() == 'inactive',
               'pflashctl inactivate: the source holds it read-only: done',
               err)

        # Wrong: a buffered write to the inactive source.
        rc, _, err = qv.sh('dd', 'if=/dev/zero', 'of=' + a.path, 'bs=512',
                           'count=1', 'conv=notrunc', check=False)
        ro = qv.sh('blockdev', '--getro', a.path)[1].strip()
        tap.ok(rc != 0 and ro == '1' and a.read() == expect and
               qv.read(fa) == expect,
               'a buffered write to the inactive source fails at once, and '
               'changes nothing', rc, err, ro)

        exp = subprocess.Popen(['pflashctl', 'export', '-q', a.name],
                               stdout=subprocess.PIPE)
        rc_i = subprocess.run(['pflashctl', 'import', '-q', b.name],
                              stdin=exp.stdout).returncode
        exp.stdout.close()
        tap.ok(exp.wait() == 0 and rc_i == 0 and b.state() == 'inactive',
               'export | import: the destination holds the state, inactive')

        # Wrong: cont on the destination before activation.
        try:
            dst.qmp.cmd('cont')
            refused = None
        except tool.QMPError as e:
            refused = e.desc
        tap.ok(refused is not None and dst.status() != 'running' and
               not dst.qmp.cmd('query-status')['running'],
               'cont on the destination before activation fails', refused)
        tap.ok(qv.read(fb) == ORIG and b.state() == 'inactive' and
               dst.modes() == [os.O_RDONLY],
               '... and writes nothing: the file is as it was',
               qv.diff(qv.read(fb), ORIG), dst.modes())

        qv.pflashctl('activate', b.name)
        tap.ok(qv.read(fb) == expect,
               "activation: the destination's file equals the source's "
               'final store', qv.diff(qv.read(fb), expect))
        dst.qmp.cmd('cont')
        tap.ok(dst.status() == 'running' and dst.modes() == [os.O_RDWR] and
               events(dst, 'RESUME'),
               'cont: the destination runs, its drive read-write',
               dst.status(), dst.modes())
        tap.ok(dst.flash(P1, len(D1)) == D1 and dst.flash(P2, len(D2)) == D2,
               'the guest reads what it wrote before the move')
        dst.program(P3, D3)
        put(expect, P3, D3)
        dst.qmp.cmd('stop')
        tap.ok(qv.read(fb) == expect and b.read() == expect,
               "what it writes after the move reaches the destination's "
               'file', qv.diff(qv.read(fb), expect))

        # Wrong: cont on the source after the move.
        before = qv.read(fa)
        try:
            src.qmp.cmd('cont')
            refused = None
        except tool.QMPError as e:
            refused = e.desc
        tap.ok(refused is not None and src.status() == 'postmigrate' and
               a.state() == 'inactive',
               'cont on the source after the move fails', refused,
               src.status())
        tap.ok(qv.read(fa) == before and src.modes() == [os.O_RDONLY],
               '... and the source writes nothing', src.modes())


def move_with_shared_storage(w):
    """One file, ownership handed over, by pflash-qemu-migrate."""
    fs = w.file('shared.fd', ORIG)
    with qv.Scope() as s:
        a = s.add(qv.Dev(fs, 'writeback'))
        b = s.add(qv.Dev(fs, 'writethrough', inactive=True))
        src = s.add(qv.Qemu(w.path, 'src', a, qtest=True, cache='none'))
        dst = s.add(qv.Qemu(w.path, 'dst', b, qtest=True, incoming=True))
        expect = bytearray(ORIG)
        src.program(P1, D1)
        put(expect, P1, D1)
        tap.ok(a.info()['dirty'] > 0 and qv.read(fs) == ORIG,
               'shared: the source wrote; it waits in pflash, dirty')
        t0 = time.monotonic()
        rc, out, err = run_tool('--source-qmp', src.tool_qmp_path,
                                '--dest-qmp', dst.tool_qmp_path,
                                '--source-device', a.name,
                                '--dest-device', b.path,
                                '--uri', 'unix:%s/mig.sock' % w.path)
        qv.timed(tap, 'pflash-qemu-migrate, shared storage', t0)
        tap.ok(rc == 0 and 'destination running' in out,
               'shared: pflash-qemu-migrate moves the VM', rc, out, err)
        tap.ok(a.state() == 'inactive' and b.state() == 'active' and
               b.info()['epoch'] == 1,
               'shared: the source let go; the destination owns the file, '
               'at the next epoch', a.info(), b.info())
        tap.ok(qv.read(fs) == expect, 'shared: the file holds the final store',
               qv.diff(qv.read(fs), expect))
        tap.ok(src.status() == 'postmigrate' and src.modes() == [os.O_RDONLY]
               and dst.status() == 'running' and dst.modes() == [os.O_RDWR],
               'shared: QEMU: the source postmigrate, read-only; the '
               'destination running, read-write', src.modes(), dst.modes())
        dst.program(P3, D3)
        put(expect, P3, D3)
        dst.qmp.cmd('stop')
        tap.ok(qv.read(fs) == expect and dst.flash(P1, len(D1)) == D1,
               'shared: the destination reads the old write, and its new one '
               'reaches the file', qv.diff(qv.read(fs), expect))
        try:
            src.qmp.cmd('cont')
            refused = None
        except tool.QMPError as e:
            refused = e.desc
        tap.ok(refused is not None and qv.read(fs) == expect and
               src.status() == 'postmigrate',
               'shared: the source cannot take the file back by cont', refused)


def destination_without_late_activation(w):
    """QEMU activates its drives as the migration ends: refused by the
    inactive device; the right steps after it lose nothing."""
    fa = w.file('a.fd', ORIG)
    fb = w.file('b.fd', ORIG)
    with qv.Scope() as s:
        a = s.add(qv.Dev(fa))
        b = s.add(qv.Dev(fb, inactive=True))
        src = s.add(qv.Qemu(w.path, 'src', a, qtest=True))
        dst = s.add(qv.Qemu(w.path, 'dst', b, qtest=True, incoming=True))
        expect = bytearray(ORIG)
        src.program(P1, D1)
        put(expect, P1, D1)
        st = migrate(src, dst, 'unix:%s/mig.sock' % w.path)
        deadline = time.monotonic() + 60
        while dst.status() == 'inmigrate' and time.monotonic() < deadline:
            time.sleep(0.1)
        err = dst.stderr()
        tap.ok(st == 'completed' and 'Read-only file system' in err and
               dst.status() == 'paused',
               'no late-block-activate: the destination fails to take its '
               'drive, loudly, and stays paused', st, err, dst.status())
        tap.ok(qv.read(fb) == ORIG and b.state() == 'inactive',
               '... and writes nothing', qv.diff(qv.read(fb), ORIG))
        qv.pflashctl('inactivate', a.name)
        exp = subprocess.Popen(['pflashctl', 'export', '-q', a.name],
                               stdout=subprocess.PIPE)
        subprocess.run(['pflashctl', 'import', '-q', '--activate', b.name],
                       stdin=exp.stdout, check=True)
        exp.stdout.close()
        exp.wait()
        dst.qmp.cmd('cont')
        dst.qmp.cmd('stop')
        tap.ok(dst.flash(P1, len(D1)) == D1 and qv.read(fb) == expect,
               '... then inactivate, move, activate, cont: nothing lost',
               qv.diff(qv.read(fb), expect))


def rollback_when_the_destination_fails(w):
    """The destination's file has no room: its activation fails; the tool
    gives the source its store back and runs it."""
    fa = w.file('a.fd', ORIG)
    small = os.path.join(w.path, 'small')
    os.mkdir(small)
    qv.sh('mount', '-t', 'tmpfs', '-o', 'size=64k', 'pflash-small', small)
    w.undo.append(lambda: qv.sh('umount', small))
    fb = os.path.join(small, 'b.fd')
    with open(fb, 'wb') as f:
        f.truncate(SIZE)		# a hole: the writes find no room
    with qv.Scope() as s:
        a = s.add(qv.Dev(fa))
        b = s.add(qv.Dev(fb, inactive=True))
        src = s.add(qv.Qemu(w.path, 'src', a, qtest=True))
        dst = s.add(qv.Qemu(w.path, 'dst', b, qtest=True, incoming=True))
        rc, out, err = run_tool('--source-qmp', src.tool_qmp_path,
                                '--dest-qmp', dst.tool_qmp_path,
                                '--source-device', a.name,
                                '--dest-device', b.name,
                                '--uri', 'unix:%s/mig.sock' % w.path)
        tap.ok(rc == 1 and 'No space left on device' in err and
               'the source runs on' in err,
               "the destination's activation fails: pflash-qemu-migrate "
               'says so, and rolls back', rc, out, err)
        tap.ok(a.state() == 'active' and b.state() == 'inactive' and
               src.status() == 'running' and src.modes() == [os.O_RDWR],
               '... the source owns its store again, and runs',
               a.info(), b.info(), src.status())
        expect = bytearray(ORIG)
        src.program(P1, D1)
        put(expect, P1, D1)
        src.qmp.cmd('stop')
        tap.ok(qv.read(fa) == expect, '... and its writes reach its file',
               qv.diff(qv.read(fa), expect))


def main():
    w = qv.Workdir()
    try:
        for f in (writes_reach_the_file, move_without_shared_storage,
                  move_with_shared_storage,
                  destination_without_late_activation,
                  rollback_when_the_destination_fails):
            t0 = time.monotonic()
            try:
                f(w)
            except Exception as e:
                tap.ok(False, '%s: ran to its end' % f.__name__, repr(e))
            qv.timed(tap, f.__name__, t0)
    finally:
        w.cleanup()
    return tap.done()


sys.exit(main())
