#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check the layering rules of pflash.ko's source.

The rules, and the table of layers, are in the "Layers" section of
Documentation/pflash/internals.rst; this reads the table from there, so
that the document and the check cannot disagree.

  1. Calls go down.  A file of module/ refers to a function or variable of
     another file only if that file's layer is the same or below.
  2. Netlink stays in the interface.  Outside the files of the interface
     layer (and compat.h, which shims the generic netlink API of older
     kernels), no netlink attribute, message or family: no struct nlattr,
     nla_*(), nlmsg_*(), genl_*(), genlmsg_*(), struct sk_buff,
     NL_SET_ERR_MSG_ATTR(), NL_SET_BAD_ATTR(), *_REQ_ATTR_CHECK(),
     PFLASH_A_* or PFLASH_CMD_*, and no <net/...> header.  A netlink
     extended ack (struct netlink_ext_ack, NL_SET_ERR_MSG()) is how the
     core says why, and is allowed everywhere.
  3. No function returns with a lock held that it took, but the lock
     functions, whose names say so: checked by Coccinelle, with
     tools/check/locks.cocci, on every .c file (which must parse whole).

  layers.py [--root DIR]     check the tree at DIR (default: this one)
  layers.py --self-test [--root DIR]
                             break each rule in a copy of the tree, and
                             check that the check fails each time, then
                             that it passes on the tree as it is

Exits 1 if a rule is broken, with one line per finding.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, '..', '..'))
DOC = os.path.join('Documentation', 'pflash', 'internals.rst')
COCCI = os.path.join(HERE, 'locks.cocci')
# The table sits under this comment in DOC.
TABLE_MARK = '.. layers-table: read by tools/check/layers.py'
# Files outside the layers: version shims, which call no pflash function.
UNLAYERED = {'compat.h'}
# Rule 2: what only the interface layer (and compat.h) may name.
NETLINK_RE = re.compile(
    r'\bstruct\s+(nlattr|sk_buff|genl_\w+|nla_policy)\b|'
    r'\b(nla|nlmsg|genl|genlmsg)_\w+\b|'
    r'\b(NL_SET_ERR_MSG_ATTR|NL_SET_BAD_ATTR|NL_SET_ERR_MSG_ATTR_POL|'
    r'NL_REQ_ATTR_CHECK|GENL_REQ_ATTR_CHECK)\b|'
    r'\bPFLASH_(A|CMD)_\w+\b|'
    r'#\s*include\s*<net/')


def strip(text):
    """Blank out comments and the contents of strings, keeping lines."""
    def blank(m):
        return re.sub(r'[^\n]', ' ', m.group(0))
    text = re.sub(r'/\*.*?\*/|//[^\n]*', blank, text, flags=re.S)
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', lambda m: '""', text)


def inlines_only(text):
    """A header with all but its inline functions blanked out, keeping lines:
    its declarations call nothing, its inlines do."""
    keep = [(m.start(), m.end()) for m in
            re.finditer(r'^static\s+inline\b.*?^\}$', text, re.M | re.S)]
    out, pos = [], 0
    for start, end in keep:
        out.append(re.sub(r'[^\n]', ' ', text[pos:start]))
        out.append(text[start:end])
        pos = end
    out.append(re.sub(r'[^\n]', ' ', text[pos:]))
    return ''.join(out)


def read_table(root):
    """{file: layer number} and {layer: [files]}, from the document."""
    path = os.path.join(root, DOC)
    with open(path) as f:
        lines = f.read().split('\n')
    try:
        start = lines.index(TABLE_MARK)
    except ValueError:
        sys.exit('%s: no "%s" line before the table of layers' % (DOC, TABLE_MARK))
    # A simple table: a rule of = signs, the header, a rule, rows, a rule.
    rules = [i for i in range(start, len(lines)) if re.match(r'^=+( +=+)+$', lines[i])]
    if len(rules) < 3:
        sys.exit('%s: the table of layers is not a simple table' % DOC)
    cols = [m.start() for m in re.finditer(r'=+', lines[rules[0]])]
    layer_of, files_of, layer = {}, {}, None
    for line in lines[rules[1] + 1:rules[2]]:
        first = line[cols[0]:cols[1]].strip()
        files = line[cols[1]:cols[2]].split()
        if first:
            layer = int(first)
            files_of[layer] = []
        if layer is None:
            sys.exit('%s: the table of layers has a row with no layer' % DOC)
        for name in files:
            if name in layer_of:
                sys.exit('%s: %s is in two layers' % (DOC, name))
            layer_of[name] = layer
            files_of[layer].append(name)
    return layer_of, files_of


def module_files(root):
    mod = os.path.join(root, 'module')
    return sorted(f for f in os.listdir(mod) if f.endswith(('.c', '.h')))


def definitions(root, files):
    """{symbol: file}: what each file gives the others.

    Functions and variables that are not static, and a header's static
    inline functions."""
    defs = {}
    fn_re = re.compile(r'^(?!static\b)(?:[\w\*]+[ \t\*]+)+\**(\w+)\((?:[^;{]|\n)*?\)\s*\{', re.M)
    inline_re = re.compile(r'^static\s+inline\s+(?:[\w\*]+[ \t\*]+)+\**(\w+)\(', re.M)
    var_re = re.compile(r'^(?!static\b|extern\b|typedef\b|#)(?:[\w\*]+[ \t\*]+)+\**(\w+)(\[\w*\])*\s*(=|;)', re.M)
    for name in files:
        with open(os.path.join(root, 'module', name)) as f:
            text = strip(f.read())
        found = fn_re.findall(text)
        if name.endswith('.h'):
            found += inline_re.findall(text)
        else:
            found += [m[0] for m in var_re.findall(text)]
        for sym in found:
            if sym.startswith('pflash_'):
                defs.setdefault(sym, name)
    return defs


def check_calls(root, files, layer_of, defs):
    errors = []
    for name in files:
        if name in UNLAYERED:
            continue
        with open(os.path.join(root, 'module', name)) as f:
            text = strip(f.read())
        if name.endswith('.h'):
            text = inlines_only(text)
        seen = set()
        for m in re.finditer(r'\bpflash_\w+\b', text):
            sym = m.group(0)
            target = defs.get(sym)
            if not target or target == name or target in UNLAYERED:
                continue
            if layer_of[target] < layer_of[name] and (sym, target) not in seen:
                seen.add((sym, target))
                line = text.count('\n', 0, m.start()) + 1
                errors.append('module/%s:%d: %s() of %s (layer %d) is above %s (layer %d): '
                              'calls go down' % (name, line, sym, target, layer_of[target],
                                                 name, layer_of[name]))
    return errors


def check_netlink(root, files, interface):
    errors = []
    for name in files:
        if name in interface or name in UNLAYERED:
            continue
        with open(os.path.join(root, 'module', name)) as f:
            text = strip(f.read())
        for m in NETLINK_RE.finditer(text):
            line = text.count('\n', 0, m.start()) + 1
            errors.append('module/%s:%d: %s: netlink requests belong to %s; the core '
                          'takes plain values' % (name, line, m.group(0).strip(),
                                                  ' and '.join(sorted(interface))))
    return errors


def check_locks(root, files):
    sources = [os.path.join('module', f) for f in files if f.endswith('.c')]
    if not shutil.which('spatch'):
        return ['spatch (Debian\'s coccinelle) is not installed: the lock rule is not checked']
    # A function Coccinelle cannot parse escapes its rules: none may.
    out = subprocess.run(['spatch', '--parse-c'] + sources, cwd=root,
                         capture_output=True, text=True).stdout
    m = re.search(r'nb bad = (\d+)', out)
    if not m or m.group(1) != '0':
        return ['Coccinelle cannot parse all of module/*.c (spatch --parse-c): %s' %
                (m.group(0) if m else 'no summary')]
    res = subprocess.run(['spatch', '--very-quiet', '-D', 'report', '--no-show-diff',
                          '--sp-file', COCCI] + sources, cwd=root,
                         capture_output=True, text=True)
    if res.returncode:
        return ['spatch failed: %s' % res.stderr.strip()]
    return [line for line in res.stdout.split('\n') if line.strip()]


def check(root):
    layer_of, files_of = read_table(root)
    files = module_files(root)
    errors = []
    for name in files:
        if name not in layer_of and name not in UNLAYERED:
            errors.append('module/%s: not in any layer of the table in %s' % (name, DOC))
    for name in layer_of:
        if name not in files:
            errors.append('%s: the table of layers names %s, which module/ does not have'
                          % (DOC, name))
    if errors:
        return errors
    defs = definitions(root, files)
    errors += check_calls(root, files, layer_of, defs)
    # The interface is the layer of netlink.c.
    errors += check_netlink(root, files, set(files_of[layer_of['netlink.c']]))
    errors += check_locks(root, files)
    return errors


# --self-test: each rule broken once, in a copy of the tree.
BREAKS = [
    ('a call up: export.c into live.c', 'module/export.c',
     'void pflash_export_free(struct pflash_export *ex)\n{\n',
     'void pflash_export_free(struct pflash_export *ex)\n{\n\tWARN_ON(pflash_live_count());\n',
     'calls go down'),
    ('a netlink attribute in the core', 'module/owner.c',
     '#include "pflash.h"\n',
     '#include "pflash.h"\n\nstatic int pflash_owner_attr(const struct nlattr *a)\n'
     '{\n\treturn nla_get_u32(a);\n}\n',
     'netlink requests belong to'),
    ('a return with ctl_lock held', 'module/export.c',
     '\tmutex_unlock(&dev->ctl_lock);\n\tif (!ex) {\n',
     '\tif (!ex) {\n',
     'still held'),
    ('a lock in a form the check cannot follow', 'module/dev.c',
     '\tif (pflash_dev_lock_live(dev, NULL))\n\t\treturn;\n',
     '\tint busy = pflash_dev_lock_live(dev, NULL);\n\n\tif (busy)\n\t\treturn;\n',
     'cannot follow'),
    ('a file in no layer', 'module/extra.c', None,
     '// SPDX-License-Identifier: GPL-2.0\n',
     'not in any layer'),
]


def self_test(src):
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for what, path, old, new, expect in BREAKS:
            root = os.path.join(tmp, 'tree')
            shutil.rmtree(root, ignore_errors=True)
            os.makedirs(os.path.join(root, 'Documentation', 'pflash'))
            shutil.copytree(os.path.join(src, 'module'), os.path.join(root, 'module'))
            shutil.copy(os.path.join(src, DOC), os.path.join(root, DOC))
            target = os.path.join(root, path)
            if old is None:
                text = new
            else:
                with open(target) as f:
                    text = f.read()
                if old not in text:
                    print('not ok - %s: the source changed, the break does not apply' % what)
                    failed = 1
                    continue
                text = text.replace(old, new, 1)
            with open(target, 'w') as f:
                f.write(text)
            errors = check(root)
            if any(expect in e for e in errors):
                print('ok - the check finds %s' % what)
            else:
                print('not ok - the check misses %s: %s' % (what, errors))
                failed = 1
    errors = check(src)
    print('%s - the tree as it is passes' % ('not ok' if errors else 'ok'))
    for e in errors:
        print('# ' + e)
    return failed or bool(errors)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=REPO)
    ap.add_argument('--self-test', action='store_true')
    args = ap.parse_args()
    if args.self_test:
        sys.exit(1 if self_test(args.root) else 0)
    errors = check(args.root)
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == '__main__':
    main()
