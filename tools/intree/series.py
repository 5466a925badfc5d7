#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""pflash as a patch series against the kernel, generated from this tree.

Lays the files of this repository out as the kernel keeps them, in a git
tree of the kernel's source at its pristine commit, one commit a patch,
and writes the series with git format-patch:

  1. the uapi headers and the netlink spec       include/uapi/linux/,
                                                 Documentation/netlink/specs/
  2. the driver, its Kconfig entry and Makefile  drivers/block/pflash/
     hooks
  3. the documentation                           Documentation/admin-guide/
                                                 blockdev/pflash/,
                                                 Documentation/ABI/testing/
  4. the kselftests                              tools/testing/selftests/
                                                 drivers/block/pflash/

with the MAINTAINERS entry growing with each.  Nothing is forked: every
file is this tree's, moved, and what the move needs is done here, each
time, from the tree as it is (the out-of-tree module's compat.h, which
makes older kernels look like this one, stays out; the Makefile comes from
Kbuild's object lists).

  series.py --kernel DIR --out DIR [--base REV]
  series.py --docs DIR

DIR (--kernel) is a git work tree of the kernel's source; --base names its
pristine commit (default: the tag "pristine").  The work tree is reset to
it first.  Prints the patches' paths.  --docs writes only the documents
of patch 3, into DIR (for tools/check/docs.sh).

The documents leave out what speaks of this project's own tree and test
house: a document's end from a ".. out-of-tree:" comment on, a part
between ".. out-of-tree-part:" and ".. end-of-out-of-tree-part"
comments, the ".. doc-test:" marks, and the sentences IN_TREE_PROSE
rewrites.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DRIVER = 'drivers/block/pflash'
DOCS = 'Documentation/admin-guide/blockdev/pflash'
SELFTESTS = 'tools/testing/selftests/drivers/block/pflash'
# Documents of this tree that are about this project's own test house, not
# the driver: they stay out of the kernel's documentation.
DOCS_LEFT_OUT = {'error-paths', 'benchmarks'}
MAINTAINERS_TITLE = 'PFLASH RAM-BACKED PARALLEL-FLASH BLOCK DEVICE DRIVER'
# The kernel's own files the series changes: series.sh takes them from the
# pristine source (series.py --changed-files lists them).
KERNEL_FILES = ['MAINTAINERS', 'drivers/block/Kconfig', 'drivers/block/Makefile',
                'Documentation/admin-guide/blockdev/index.rst',
                'tools/testing/selftests/Makefile']

KCONFIG = '''\
# SPDX-License-Identifier: GPL-2.0

config BLK_DEV_PFLASH
	tristate "RAM-backed parallel-flash block devices (pflash)"
	depends on NET
	depends on FILE_LOCKING
	select CRC32
	help
	  Block devices, /dev/pflashN, whose contents live in one buffer in
	  RAM, as the parallel flash chip in which a virtual machine's
	  firmware keeps its settings does in a hypervisor.  Each is kept in
	  accord with a backing file, has one owner of that file at a time
	  (inactivate and activate, with an OFD lock), and can move between
	  hosts with its state, over the "pflash" generic netlink family.

	  See <file:Documentation/admin-guide/blockdev/pflash/index.rst>.

	  To compile this driver as a module, choose M here: the module will
	  be called pflash.

	  If unsure, say N.
'''

COMMITS = [
    ('uapi: pflash: the pflash netlink family and its state stream',
     '''\
The "pflash" generic netlink family controls RAM-backed parallel-flash
block devices: it creates and destroys them, inactivates and activates
their ownership of a backing file, exports and imports their state, and
announces all of it on an events group.

Add its spec, Documentation/netlink/specs/pflash.yaml, and the uapi
header ynl-gen-c.py generates from it, linux/pflash.h, with the format
of the state stream an export produces and an import consumes,
linux/pflash_stream.h: a versioned, little-endian sequence of records,
each with a CRC-32C, and a closing record with the stream's totals.
'''),
    ('block: pflash: RAM-backed parallel-flash block devices',
     '''\
A virtual machine's firmware keeps its settings (the UEFI variables) in
an emulated parallel flash chip, whose whole contents the hypervisor
holds in RAM and keeps in accord with a small host file.  Moving such a
machine between hosts raises two problems: without shared storage the
target's file only receives what the guest rewrites after the move, and
with shared storage both hosts have the file open until one of them is
declared its owner.

pflash gives those contents a block device of their own, /dev/pflashN,
one vmalloc buffer each, bio-based as brd and zram are, with:

 - a backing file, written through or back (REQ_PREFLUSH and FUA when
   the queue advertises a volatile write cache), whose write errors keep
   the data dirty for a later flush;
 - an owner of that file at a time: an inactive device serves reads and
   never writes the file; activation takes an OFD lock on it and writes
   what an import changed, and inactivation writes back and lets go;
 - its state exported and imported as a stream, also in passes while
   the device stays in use (a live export), whose import is checked
   whole before it replaces the contents in one step;
 - the "pflash" generic netlink family, whose policies and op table are
   generated from its spec; the kernel loads the module when a request
   first names it.

Documentation/admin-guide/blockdev/pflash/ describes it in full.
'''),
    ('Documentation: pflash: its admin guide, design and internals',
     '''\
Add pflash's documentation under the admin guide's block devices: using
it, moving a device between hosts, what it promises about durability,
the netlink family and the state stream's format, its design and its
internals (the layers of its files, its locks, and the paths the data
takes); and its sysfs attributes, in Documentation/ABI/testing.
'''),
    ('selftests: drivers/block/pflash: the pflash kselftests',
     '''\
Tests of pflash through its netlink family and its block devices, with
kselftest_harness.h: the data path, the netlink family's requests and
refusals (and a fuzzer of them), backing files and their errors,
ownership, export and import (by pieces, through a file descriptor, and
live), races, and the sysfs attributes.  They need root, libnl-3 and
libnl-genl-3, and ISA-L's CRC-32C.
'''),
]


def run(*args, cwd=None, check=True):
    res = subprocess.run(args, cwd=cwd, check=False, text=True,
                         capture_output=True)
    if check and res.returncode:
        sys.exit('%s failed: %s' % (' '.join(args), res.stderr))
    return res.stdout


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def install(kernel, src, dst, text=None):
    """Copy this tree's @src to @dst in the kernel tree (or write @text)."""
    write(os.path.join(kernel, dst), read(os.path.join(REPO, src)) if text is None else text)


def kbuild_objects():
    """The driver's objects, from Kbuild's pflash-y lists."""
    text = re.sub(r'\\\n', ' ', read(os.path.join(REPO, 'Kbuild')))
    objs = []
    for m in re.finditer(r'^pflash-y\s*:?\+?=\s*(.*)$', text, re.M):
        objs += [os.path.basename(o) for o in m.group(1).split()]
    return objs


def driver_makefile():
    objs = kbuild_objects()
    lines = ['# SPDX-License-Identifier: GPL-2.0', '',
             'obj-$(CONFIG_BLK_DEV_PFLASH)	+= pflash.o', '']
    cur = 'pflash-y := '
    for o in objs:
        if len(cur) + len(o) + 2 > 78:
            lines.append(cur.rstrip() + ' \\')
            cur = '\t   '
        cur += o + ' '
    lines.append(cur.rstrip())
    return '\n'.join(lines) + '\n'


def newest_includes():
    """The headers compat.h includes for the newest kernels: those of its
    version-keyed blocks that hold on them (a header that newer kernels
    split out, such as <linux/filelock.h>).  Its other includes serve its
    own shims; each file includes what it uses itself."""
    found, keep = [], None
    for line in read(os.path.join(REPO, 'module/compat.h')).split('\n'):
        m = re.match(r'#if LINUX_VERSION_CODE ([<>]=?) KERNEL_VERSION', line)
        if m:
            keep = m.group(1).startswith('>')
            continue
        if line.startswith('#else') and keep is not None:
            keep = not keep
        elif line.startswith('#endif'):
            keep = None
        m = re.match(r'#include (<[^>]+>)', line)
        if m and keep:
            found.append(m.group(1))
    return found


def without_compat(text):
    """A file of the module without the out-of-tree module's compat.h: the
    headers it gives the newest kernels instead."""
    incs = ''.join('#include %s\n' % h for h in newest_includes())
    return text.replace('#include "compat.h"\n', incs)


def insert_after(path, anchor, line):
    if not any(path.endswith('/' + f) for f in KERNEL_FILES):
        sys.exit('%s: not in KERNEL_FILES, which series.sh takes from the pristine source' % path)
    text = read(path)
    if anchor not in text:
        sys.exit('%s: no "%s" to put "%s" after' % (path, anchor.strip(), line.strip()))
    write(path, text.replace(anchor, anchor + line, 1))


# Where this tree's paths are in the kernel's, for the documents.
DOC_PATHS = [
    (r'(?<![\w/])module/compat\.h', 'compat.h (of the out-of-tree module)'),
    (r'(?<![\w/])module/', DRIVER + '/'),
    (r'(?<![\w/])uapi/linux/', 'include/uapi/linux/'),
    (r'(?<![\w/])selftests/pflash/', SELFTESTS + '/'),
    (r'(?<![\w/])Documentation/pflash/', DOCS + '/'),
]


# A document's part about this project's own tree, from this comment on,
# stays out of the kernel's.
OUT_OF_TREE = '\n.. out-of-tree:'
# And a part of one between these two comments (each a line of its own,
# the first followed by the comment's indented text, if any).
OUT_OF_TREE_PART = re.compile(
    r'^\.\. out-of-tree-part:.*?^\.\. end-of-out-of-tree-part\n\n?', re.M | re.S)


# The mark by which this project's layering check finds its table.
LAYERS_MARK = re.compile(r'^\.\. layers-table:[^\n]*\n\n', re.M)
# The marks by which the documents' test (doc_commands.py) groups their
# commands, with the comment's indented text: about this project's tests.
DOC_TEST_MARK = re.compile(r'^\.\. doc-test:[^\n]*\n(?:[ \t]+[^\n]*\n)*\n', re.M)


# The sentences, and parts of them, that speak of this project's test
# house (its scripts, `make check`, the tests that stay out of the
# kernel's selftests), per document: what each reads in the kernel's
# tree.  Each must be found once (words apart by any white space), so that
# a change of the wording here does not slip by.
IN_TREE_PROSE = {
    'admin-guide.rst': [
        (':doc:`durability` tells how both promises are proven: by cutting '
         'the power of virtual machines at random points, and by replaying '
         "the backing file system's writes to every flush.",
         ':doc:`durability` states them, and those around a move between\n'
         'hosts.'),
    ],
    'durability.rst': [
        ('Durability, and how it is proven', 'Durability'),
    ],
    'qemu.rst': [
        ("running (:doc:`admin-guide`, *Moving a VM* and *libvirt*); the "
         "tests run Debian's QEMU and OVMF inside the test VMs "
         "(``selftests/pflash/qemu_qtest_test.py``, ``qemu_ovmf_test.py``).",
         'running (:doc:`admin-guide`, *Moving a VM* and *libvirt*).'),
        ('The wrong orders fail, loudly, and lose nothing '
         '(``qemu_qtest_test.py`` runs each):',
         'The wrong orders fail, loudly, and lose nothing:'),
    ],
    'migration.rst': [
        ('make worse than a retry can mend.  ``make check`` proves it by '
         'killing virtual machines inside each step (:doc:`durability`):',
         'make worse than a retry can mend (:doc:`durability`):'),
    ],
    'index.rst': [
        ('What pflash promises to keep across a power loss, and how it is '
         'proven: virtual machines killed at random points and inside each '
         "step of a move, a replay of the backing file system's writes to "
         'every flush, fuzzers of the netlink family and the state stream, '
         'and a soak on the debug kernel.',
         'What pflash promises to keep across a power loss, and around a\n'
         '    move between hosts.'),
        ('``Documentation/ABI/testing/sysfs-block-pflash``.  Every shell '
         'command these documents and the manual pages show is run, in '
         'order, by ``selftests/pflash/doc_test.sh`` in the test VMs '
         '(``make check``); those of a host with systemd and udev in a VM '
         'booted into Debian with the packages installed '
         '(``tools/check/systemd.sh``).',
         '``Documentation/ABI/testing/sysfs-block-pflash``.'),
    ],
    'netlink.rst': [
        ('only the handlers are written by hand.  ``make check`` generates '
         'them again and fails if they differ, and fails if a number of the '
         'contract changed (``tools/check/ynl-gen.sh``, against '
         '``tools/check/pflash-abi.txt``); the policies the running module '
         'reports must be those the spec states.',
         'only the handlers are\nwritten by hand, and '
         '``tools/net/ynl/ynl-regen.sh`` generates them\nagain.  The '
         'policies the running module reports must be those the spec\n'
         'states.'),
    ],
}


def in_tree_prose(name, text):
    for old, new in IN_TREE_PROSE.get(name, []):
        pattern = r'(?<!\S)' + r'\s+'.join(re.escape(w) for w in old.split()) + r'(?!\S)'
        found = len(re.findall(pattern, text))
        if found != 1:
            sys.exit('Documentation/pflash/%s: "%s" found %d times, not once'
                     % (name, old, found))
        text = re.sub(pattern, lambda m: new, text)
    return text


def kernel_doc(name, text):
    if OUT_OF_TREE in text:
        text = text[:text.index(OUT_OF_TREE)]
    text = OUT_OF_TREE_PART.sub('', text)
    text = LAYERS_MARK.sub('', text)
    text = DOC_TEST_MARK.sub('', text)
    text = in_tree_prose(name, text)
    for old, new in DOC_PATHS:
        text = re.sub(old, new, text)
    return text


def docs_index(text):
    """index.rst without the documents left out, in its toctree and text."""
    out, skip = [], False
    for line in text.split('\n'):
        if line.strip() in DOCS_LEFT_OUT:
            continue
        m = re.match(r'^:doc:`([\w-]+)`', line)
        if m:
            skip = m.group(1) in DOCS_LEFT_OUT
        elif line and not line.startswith(' '):
            skip = False
        if not skip:
            out.append(line)
    return re.sub(r'\n\n\n+', '\n\n', '\n'.join(out))


def maintainers(kernel, who, files):
    """MAINTAINERS with pflash's entry, naming @files, in its place."""
    path = os.path.join(kernel, 'MAINTAINERS')
    text = read(path)
    entry = '%s\nM:\t%s\nL:\tlinux-block@vger.kernel.org\nS:\tMaintained\n' % (
        MAINTAINERS_TITLE, who)
    entry += ''.join('F:\t%s\n' % f for f in sorted(files))
    old = re.search(r'^%s\n(?:[A-Z]:\t.*\n)*' % re.escape(MAINTAINERS_TITLE), text, re.M)
    if old:
        text = text[:old.start()] + entry + text[old.end():]
    else:
        # Sections are in alphabetical order, after the list's head.
        heads = [m for m in re.finditer(r'^(?![A-Z]:\t)([0-9A-Z][^\n]*)\n(?=[A-Z]:\t)',
                                        text, re.M)]
        after = next(m for m in heads if m.group(1) > MAINTAINERS_TITLE)
        text = text[:after.start()] + entry + '\n' + text[after.start():]
    write(path, text)


def in_tree_docs():
    """The documents of Documentation/pflash/ as the kernel's tree has them:
    (file name, text) pairs."""
    for f in sorted(os.listdir(os.path.join(REPO, 'Documentation/pflash'))):
        name, ext = os.path.splitext(f)
        if ext != '.rst' or name in DOCS_LEFT_OUT:
            continue
        text = kernel_doc(f, read(os.path.join(REPO, 'Documentation/pflash', f)))
        if f == 'index.rst':
            text = docs_index(text)
        yield f, text


def stage(kernel, n):
    """The files of commit @n (0-based); returns the paths MAINTAINERS names."""
    if n == 0:
        install(kernel, 'uapi/linux/pflash.h', 'include/uapi/linux/pflash.h')
        install(kernel, 'uapi/linux/pflash_stream.h', 'include/uapi/linux/pflash_stream.h')
        install(kernel, 'Documentation/netlink/specs/pflash.yaml',
                'Documentation/netlink/specs/pflash.yaml')
        return ['Documentation/netlink/specs/pflash.yaml',
                'include/uapi/linux/pflash.h', 'include/uapi/linux/pflash_stream.h']
    if n == 1:
        for f in sorted(os.listdir(os.path.join(REPO, 'module'))):
            if not f.endswith(('.c', '.h')) or f == 'compat.h':
                continue
            text = without_compat(read(os.path.join(REPO, 'module', f)))
            install(kernel, None, os.path.join(DRIVER, f), text)
        install(kernel, None, os.path.join(DRIVER, 'Makefile'), driver_makefile())
        install(kernel, None, os.path.join(DRIVER, 'Kconfig'), KCONFIG)
        insert_after(os.path.join(kernel, 'drivers/block/Kconfig'),
                     'source "drivers/block/zram/Kconfig"\n',
                     '\nsource "drivers/block/pflash/Kconfig"\n')
        insert_after(os.path.join(kernel, 'drivers/block/Makefile'),
                     'obj-$(CONFIG_ZRAM) += zram/\n',
                     'obj-$(CONFIG_BLK_DEV_PFLASH)	+= pflash/\n')
        return [DRIVER + '/']
    if n == 2:
        for f, text in in_tree_docs():
            install(kernel, None, os.path.join(DOCS, f), text)
        install(kernel, 'Documentation/ABI/testing/sysfs-block-pflash',
                'Documentation/ABI/testing/sysfs-block-pflash')
        insert_after(os.path.join(kernel, 'Documentation/admin-guide/blockdev/index.rst'),
                     '   drbd/index\n', '   pflash/index\n')
        return ['Documentation/ABI/testing/sysfs-block-pflash', DOCS + '/']
    if n == 3:
        return stage_selftests(kernel)
    raise ValueError(n)


def without_printf(text):
    """pflash_tools.h without its __printf for older kselftest frameworks:
    the kernel's own, kselftest.h, defines it, and the tests in the tree
    use none."""
    return re.sub(r'#ifndef __printf\n#define __printf\(a, b\)\t[^\n]*\n#endif\n\n?', '', text)


def stage_selftests(kernel):
    """The C kselftests, with the netlink library they link, in-tree."""
    src = os.path.join(REPO, 'selftests/pflash')
    mk = read(os.path.join(src, 'Makefile'))
    tests = re.search(r'PFLASH_C_TESTS := \\\n((?:\t\w+(?: \\)?\n)+)', mk).group(1).split()
    tests = [t for t in tests if t != '\\']
    # The stream differential test reads the repository's fuzzing corpus,
    # which is not the kernel's: it stays out.
    tests = [t for t in tests if t != 'pflash_stream_diff_test']
    # The kselftest framework is three directories up in the kernel's tree,
    # one up in this one's.
    harness = '../' * (SELFTESTS.count('/') - len('tools/testing/selftests'.split('/')) + 1)
    for f in sorted(os.listdir(src)):
        if f.endswith('.h') or f in [t + '.c' for t in tests]:
            text = read(os.path.join(src, f)).replace(
                '#include "../kselftest', '#include "%skselftest' % harness)
            install(kernel, None, os.path.join(SELFTESTS, f), text)
    # The netlink library the tests link, and the macros it shares with
    # the tools.
    for f in ('lib/pfnl.c', 'lib/pfnl.h', 'lib/pfnl_internal.h',
              'include/pflash_tools.h'):
        install(kernel, None, os.path.join(SELFTESTS, os.path.basename(f)),
                without_printf(read(os.path.join(REPO, 'tools', f))))
    install(kernel, 'selftests/pflash/settings', os.path.join(SELFTESTS, 'settings'))
    progs = ' \\\n\t'.join(tests)
    makefile = '''\
# SPDX-License-Identifier: GPL-2.0

TEST_GEN_PROGS := \\
	%s

CFLAGS += -Wall -Wextra -std=gnu11 -O2 $(KHDR_INCLUDES)
CFLAGS += $(shell pkg-config --cflags libnl-3.0 libnl-genl-3.0 2>/dev/null)
CFLAGS += -Wno-unused-parameter -Wno-sign-compare
LDLIBS += $(shell pkg-config --libs libnl-3.0 libnl-genl-3.0 2>/dev/null) -lisal

LOCAL_HDRS += $(wildcard *.h)

include ../../../lib.mk

$(OUTPUT)/pfnl.o: pfnl.c $(LOCAL_HDRS)
	$(CC) $(CFLAGS) -c $< -o $@

$(TEST_GEN_PROGS): $(OUTPUT)/pfnl.o

EXTRA_CLEAN += $(OUTPUT)/pfnl.o
''' % progs
    install(kernel, None, os.path.join(SELFTESTS, 'Makefile'), makefile)
    insert_after(os.path.join(kernel, 'tools/testing/selftests/Makefile'),
                 'TARGETS += drivers/dma-buf\n', 'TARGETS += drivers/block/pflash\n')
    return [SELFTESTS + '/']


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--changed-files', action='store_true',
                    help="list the kernel's files the series changes, and stop")
    ap.add_argument('--kernel')
    ap.add_argument('--out')
    ap.add_argument('--base', default='pristine')
    ap.add_argument('--docs', metavar='DIR',
                    help="write the documents as the kernel's tree has them "
                    "into DIR, and stop")
    args = ap.parse_args()
    if args.changed_files:
        print('\n'.join(KERNEL_FILES))
        return
    if args.docs:
        os.makedirs(args.docs, exist_ok=True)
        for f, text in in_tree_docs():
            write(os.path.join(args.docs, f), text)
        return
    if not args.kernel or not args.out:
        ap.error('--kernel and --out are required')
    kernel = os.path.abspath(args.kernel)
    name = run('git', 'config', 'user.name', cwd=REPO, check=False).strip() or 'pflash developers'
    email = run('git', 'config', 'user.email', cwd=REPO, check=False).strip() or \
        'pflash@example.org'
    who = '%s <%s>' % (name, email)
    git = ['git', '-c', 'user.name=' + name, '-c', 'user.email=' + email]

    run('git', 'checkout', '-q', '-f', '-B', 'pflash-series', args.base, cwd=kernel)
    run('git', 'clean', '-q', '-fdx', '-e', '/.out*', cwd=kernel)
    files = []
    for n, (subject, body) in enumerate(COMMITS):
        files += stage(kernel, n)
        maintainers(kernel, who, files)
        run('git', 'add', '-A', '.', cwd=kernel)
        run(*git, 'commit', '-q', '-s', '-m', subject + '\n\n' + body, cwd=kernel)
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    print(run('git', 'format-patch', '-q', '-o', os.path.abspath(args.out),
              '%s..pflash-series' % args.base, cwd=kernel), end='')


if __name__ == '__main__':
    main()
