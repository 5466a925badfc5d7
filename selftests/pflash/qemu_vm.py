# SPDX-License-Identifier: GPL-2.0
"""What the QEMU tests share: QEMU with its store on a pflash device,
driven through QMP, the qtest protocol (the flash's CFI commands, with no
guest code) or the serial console of OVMF's shell; pflash's devices
through pflashctl; and results as TAP.

QEMU and OVMF are Debian's, in the test VM as on the host
(tools/images/initramfs.sh puts them there): /usr/bin/qemu-system-x86_64, its
TCG accelerator, a module (accel-tcg-x86_64.so, in QEMU_MODULE_DIR), and
/usr/share/OVMF.  QMP is pflash-qemu-migrate's own client
(tools/pflash-qemu-migrate/), loaded from where the command is.
"""
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

QEMU = shutil.which('qemu-system-x86_64')
TOOL = shutil.which('pflash-qemu-migrate')
OVMF_DIR = '/usr/share/OVMF'
MODULE_DIR = '/usr/lib/x86_64-linux-gnu/qemu'
# QEMU's ROM files: q35 loads kvmvapic.bin, even under TCG.
ROM_DIR = '/usr/share/qemu'

# The two builds of OVMF Debian ships: code, and the variable store.
OVMF = {
    '4m': ('OVMF_CODE_4M.fd', 'OVMF_VARS_4M.fd', 540672),
    '2m': ('OVMF_CODE.fd', 'OVMF_VARS.fd', 131072),
}

# CFI commands of QEMU's pflash_cfi01 (Intel's command set), 1 byte wide
# on x86.
CFI_PROGRAM = 0x40
CFI_ERASE = 0x20
CFI_CONFIRM = 0xd0
CFI_READ_ARRAY = 0xff
SECTOR = 4096


_tool = None


def load_tool():
    """pflash-qemu-migrate, as a module: its QMP client and its move.
    Loaded once, so that its exceptions are one class wherever caught."""
    global _tool
    if _tool is None:
        loader = importlib.machinery.SourceFileLoader('pflash_qemu_migrate',
                                                      TOOL)
        spec = importlib.util.spec_from_loader(loader.name, loader)
        _tool = importlib.util.module_from_spec(spec)
        loader.exec_module(_tool)
    return _tool


def missing():
    """Why the QEMU tests cannot run here, or None."""
    if not QEMU:
        return 'needs qemu-system-x86_64'
    if not TOOL:
        return 'needs pflash-qemu-migrate in PATH'
    for code, store, _ in OVMF.values():
        for f in (code, store):
            if not os.path.exists(os.path.join(OVMF_DIR, f)):
                return 'needs %s/%s' % (OVMF_DIR, f)
    return None


def begin():
    """The TAP of a QEMU test, and pflash-qemu-migrate's module; a SKIP,
    and the exit, where QEMU or what it needs is missing."""
    tap = TAP()
    why = missing()
    if why:
        print('1..0 # SKIP %s' % why, flush=True)
        sys.exit(4)
    return tap, load_tool()


class TAP:
    """Results as TAP, numbered; the plan at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        print('TAP version 13', flush=True)

    def ok(self, cond, name, *diag):
        self.n += 1
        print('%s %d - %s' % ('ok' if cond else 'not ok', self.n, name))
        if not cond:
            self.failed += 1
            for d in diag:
                for line in str(d).splitlines():
                    print('# ' + line)
        sys.stdout.flush()
        return cond

    def diag(self, text):
        for line in str(text).splitlines():
            print('# ' + line)
        sys.stdout.flush()

    def done(self):
        print('1..%d' % self.n, flush=True)
        return 1 if self.failed else 0

    def replay(self, record):
        """Print what a Record kept, in its order."""
        for kind, args in record.items:
            getattr(self, kind)(*args)


class Record:
    """Results kept for TAP to print later: a test run in a thread of its
    own, beside others, keeps its results together."""

    def __init__(self):
        self.items = []

    def ok(self, cond, name, *diag):
        self.items.append(('ok', (cond, name) + diag))
        return cond

    def diag(self, text):
        self.items.append(('diag', (text,)))


def sh(*argv, check=True):
    """Run a command: (status, stdout, stderr)."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if check and p.returncode:
        raise RuntimeError('%s: status %d: %s' % (' '.join(argv), p.returncode,
                                                  p.stderr.strip()))
    return p.returncode, p.stdout, p.stderr


def pflashctl(*args, check=True):
    return sh('pflashctl', *args, check=check)


class Dev:
    """A pflash device over a backing file, made with pflashctl."""

    def __init__(self, backing, cache='writethrough', inactive=False,
                 uuid=None):
        args = ['create', '--show', '--backing', backing, '--cache', cache]
        if cache == 'writeback':
            args += ['--writeback-interval', '0']
        if inactive:
            args.append('--inactive')
        if uuid:
            args += ['--uuid', uuid]
        self.backing = backing
        self.path = pflashctl(*args)[1].strip()
        self.name = os.path.basename(self.path)

    def info(self):
        out = pflashctl('list', '-J', '-b', self.name)[1]
        return json.loads(out)['pflashdevices'][0]

    def state(self):
        return self.info()['state']

    def read(self):
        """The device's contents, read past the page cache."""
        with open(self.path, 'rb', buffering=0) as f:
            return f.read()

    def destroy(self):
        if self.path:
            pflashctl('destroy', '--force', self.name, check=False)
            self.path = None

    close = destroy


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def diff(a, b):
    """Where two byte strings first differ, as a message; '' if equal."""
    if a == b:
        return ''
    if len(a) != len(b):
        return 'lengths %d and %d' % (len(a), len(b))
    i = next(i for i in range(len(a)) if a[i] != b[i])
    return 'first difference at byte %d (%#x): %02x vs %02x' % (i, i, a[i],
                                                               b[i])


def fd_modes(pid, dev_path):
    """The access modes (O_RDONLY, O_RDWR, ...) of process @pid's
    descriptors of the block device @dev_path."""
    rdev = os.stat(dev_path).st_rdev
    modes = []
    fddir = '/proc/%d/fd' % pid
    for fd in os.listdir(fddir):
        try:
            st = os.stat(os.path.join(fddir, fd))
        except OSError:
            continue
        if st.st_rdev != rdev or not (st.st_mode & 0o170000) == 0o060000:
            continue
        with open('/proc/%d/fdinfo/%s' % (pid, fd)) as f:
            for line in f:
                if line.startswith('flags:'):
                    modes.append(int(line.split()[1], 8) & os.O_ACCMODE)
    return sorted(modes)


class Qemu:
    """One QEMU, q35, with OVMF's build @ovmf and its store on @dev.

    qtest: no OVMF code runs: unit 0 is one page of HLT instructions, at
    the reset vector, and the flash is driven through the qtest protocol
    on QEMU's standard input and output.  Debian builds no qtest
    accelerator, so this is TCG with a vCPU that halts at once.
    Else OVMF runs, its serial console on a socket (console()).
    """

    def __init__(self, workdir, name, dev, ovmf='4m', cache=None,
                 incoming=False, qtest=False, mem='256M'):
        self.dir, self.name, self.dev = workdir, name, dev
        self.qtest = qtest
        self.qmp_path = os.path.join(workdir, name + '.qmp')
        # A second monitor, for pflash-qemu-migrate: a QMP socket serves
        # one client at a time, and the test keeps its own.
        self.tool_qmp_path = os.path.join(workdir, name + '-tool.qmp')
        self.serial_path = os.path.join(workdir, name + '.serial')
        self.err_path = os.path.join(workdir, name + '.err')
        code, _, self.vars_size = OVMF[ovmf]
        if qtest:
            code_path = os.path.join(workdir, 'hlt.fd')
            if not os.path.exists(code_path):
                with open(code_path, 'wb') as f:
                    f.write(b'\xf4' * SECTOR)
            code_size = SECTOR
        else:
            code_path = os.path.join(OVMF_DIR, code)
            code_size = os.path.getsize(code_path)
        # pc maps the flash units from 4 GiB down: unit 0, then unit 1.
        self.base = (1 << 32) - code_size - self.vars_size
        drive = 'if=pflash,format=raw,unit=1,file=' + dev.path
        if cache:
            drive += ',cache=' + cache
        argv = [QEMU, '-machine', 'q35', '-accel', 'tcg', '-m', mem,
                '-nodefaults', '-display', 'none', '-no-user-config',
                '-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=' +
                code_path, '-drive', drive,
                '-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path,
                '-qmp', 'unix:%s,server=on,wait=off' % self.tool_qmp_path]
        if os.path.isdir(ROM_DIR):
            argv += ['-L', ROM_DIR]
        if qtest:
            argv += ['-qtest', 'stdio']
        else:
            argv += ['-chardev', 'socket,id=ser,path=%s,server=on,wait=off'
                     % self.serial_path, '-serial', 'chardev:ser']
        if incoming:
            argv += ['-incoming', 'defer', '-S']
        env = dict(os.environ)
        if os.path.isdir(MODULE_DIR):
            env['QEMU_MODULE_DIR'] = MODULE_DIR
        self.err = open(self.err_path, 'w')
        self.proc = subprocess.Popen(
            argv, env=env, stderr=self.err,
            stdin=subprocess.PIPE if qtest else subprocess.DEVNULL,
            stdout=subprocess.PIPE if qtest else subprocess.DEVNULL)
        self.pid = self.proc.pid
        self.qmp = self._connect()

    def _connect(self):
        mod = load_tool()
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError('%s: QEMU exited with status %d: %s' %
                                   (self.name, self.proc.returncode,
                                    self.stderr()))
            if os.path.exists(self.qmp_path):
                try:
                    return mod.QMP.unix(self.qmp_path, self.name, timeout=120)
                except mod.Error:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError('%s: no QMP socket after 60 s' % self.name)
            time.sleep(0.1)

    def stderr(self):
        self.err.flush()
        with open(self.err_path) as f:
            return f.read()

    def status(self):
        return self.qmp.status()

    def modes(self):
        """The access modes of QEMU's descriptors of its pflash device."""
        return fd_modes(self.pid, self.dev.path)

    # --- the qtest protocol -------------------------------------------------
    def qt(self, line):
        self.proc.stdin.write((line + '\n').encode())
        self.proc.stdin.flush()
        while True:
            reply = self.proc.stdout.readline().decode()
            if not reply:
                raise RuntimeError('%s: qtest: QEMU went away: %s' %
                                   (self.name, self.stderr()))
            if reply.startswith(('OK', 'FAIL', 'ERR')):
                break
        if not reply.startswith('OK'):
            raise RuntimeError('%s: qtest: %s: %s' % (self.name, line, reply))
        return reply.split()[1:]

    def writeb(self, off, val):
        self.qt('writeb %#x %#x' % (self.base + off, val))

    def readb(self, off):
        return int(self.qt('readb %#x' % (self.base + off))[0], 16)

    def program(self, off, data):
        """Program @data at @off of the store, byte by byte, as firmware
        does: each write is a command byte, then the data byte."""
        for i, b in enumerate(data):
            self.writeb(off + i, CFI_PROGRAM)
            self.writeb(off + i, b)
        self.writeb(0, CFI_READ_ARRAY)

    def erase(self, off):
        """Erase the 4 KiB sector at @off."""
        self.writeb(off, CFI_ERASE)
        self.writeb(off, CFI_CONFIRM)
        self.writeb(0, CFI_READ_ARRAY)

    def flash(self, off, length):
        """What the guest reads of the store."""
        return bytes(self.readb(off + i) for i in range(length))

    # --- OVMF's serial console ---------------------------------------------
    def console(self):
        return Console(self.serial_path, self.name)

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.qmp.cmd('quit')
            except Exception:
                pass
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.qmp.close()
        self.err.close()

    close = quit


class Console:
    """OVMF's serial console: what it printed, and typing into it."""

    def __init__(self, path, name):
        self.name = name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b''
        self.log = b''
        self.lock = threading.Condition()
        self.closed = False
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b''
            with self.lock:
                if not data:
                    self.closed = True
                else:
                    self.buf += data
                    self.log += data
                self.lock.notify_all()
            if not data:
                return

    def expect(self, pattern, timeout):
        """Wait for @pattern (bytes regex); what came up to its end."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                m = rx.search(self.buf)
                if m:
                    out, self.buf = self.buf[:m.end()], self.buf[m.end():]
                    return out
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise RuntimeError('%s: no %r on the console in %d s; '
                                       'last: %r' % (self.name, pattern,
                                                     timeout, self.buf[-300:]))
                self.lock.wait(left)

    def send(self, data):
        self.sock.sendall(data)

    def type(self, text, timeout=30):
        """Type @text and Enter, a key at a time, each once the shell has
        echoed the one before: its serial input drops keys that come
        faster than it reads them, and a nested VM reads slowly."""
        for ch in text:
            with self.lock:
                seen = len(self.log)
            self.send(ch.encode())
            deadline = time.monotonic() + timeout
            with self.lock:
                while ch.encode() not in self.log[seen:]:
                    left = deadline - time.monotonic()
                    if left <= 0 or self.closed:
                        raise RuntimeError('%s: the shell did not echo %r'
                                           % (self.name, ch))
                    self.lock.wait(left)
        self.send(b'\r')

    def boot(self, timeout):
        """Wait for OVMF's shell, skipping startup.nsh's countdown."""
        self.expect(rb'Press .{0,40}ESC', timeout)
        self.send(b'\x1b')
        self.expect(rb'Shell> ', 120)

    def shell(self, text, timeout=120):
        """Run a shell command; what it printed, escapes taken out."""
        with self.lock:
            self.buf = b''
        self.type(text)
        out = self.expect(rb'Shell> ', timeout)
        return re.sub(rb'\x1b\[[0-9;=?]*[A-Za-z]', b'', out)

    def close(self):
        self.sock.close()


# --- UEFI variables ----------------------------------------------------------
VAR_GUID = '5b0c9b8e-7a51-4f6e-9d2a-3c7f1e8a6b42'


def setvar_cmd(name, data):
    """The shell's command that sets non-volatile variable @name to @data."""
    return 'setvar %s -guid %s -nv -bs -rt =%s' % (name, VAR_GUID, data.hex())


def getvar_cmd(name):
    return 'setvar %s -guid %s' % (name, VAR_GUID)


def var_in(store, name, data):
    """Whether a variable store holds variable @name with @data: its
    record has the name (UTF-16, NUL-terminated) right before the data."""
    return (name.encode('utf-16-le') + b'\0\0' + data) in store


def shown(out, data):
    """Whether the shell's setvar printed @data, as hex bytes."""
    hexes = ' '.join('%02X' % b for b in data)
    return hexes.encode() in out


class Scope:
    """What a test made, undone in reverse at its end, however it ends:
    QEMUs quit, then the devices they ran on destroyed."""

    def __init__(self):
        self.things = []

    def __enter__(self):
        return self

    def add(self, thing):
        self.things.append(thing)
        return thing

    def __exit__(self, *exc):
        while self.things:
            self.things.pop().close()


class Workdir:
    """A scratch directory on a tmpfs of its own, and what to undo."""

    def __init__(self, size='64m'):
        self.path = tempfile.mkdtemp(prefix='pflash-qemu.')
        sh('mount', '-t', 'tmpfs', '-o', 'size=' + size, 'pflash-qemu',
           self.path)
        self.undo = []

    def file(self, name, content):
        p = os.path.join(self.path, name)
        with open(p, 'wb') as f:
            f.write(content)
        return p

    def cleanup(self):
        for f in reversed(self.undo):
            try:
                f()
            except Exception as e:  # a cleanup that fails is only said
                print('# cleanup: %s' % e)
        sh('umount', '-l', self.path, check=False)
        os.rmdir(self.path)


def timed(tap, name, t0):
    tap.diag('%s: %.1f s' % (name, time.monotonic() - t0))
