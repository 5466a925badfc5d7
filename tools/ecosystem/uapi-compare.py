#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Compare two C headers' constants by value.

Usage: uapi-compare.py GENERATED.h UAPI.h [CC]

GENERATED.h is what ynl-gen-c.py --mode uapi renders from the netlink spec;
UAPI.h is the hand-written contract (uapi/linux/pflash.h).  Both must name
the same object-like macros (but their include guards), the same enum types
and the same enumerators, each with the same value: each header is compiled
into a program that prints every name with its value, as the compiler sees
it, and the two lists are compared.  Prints what differs; exits 1 if
anything does.
"""
import os
import re
import subprocess
import sys
import tempfile

DEFINE = re.compile(r'^\s*#\s*define\s+([A-Za-z_]\w*)(\(?)', re.M)
ENUM = re.compile(r'\benum\s*([A-Za-z_]\w*)?\s*\{(.*?)\}', re.S)
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)


def names(path):
    """The header's macros, enum tags and enumerators."""
    with open(path) as f:
        text = COMMENT.sub('', f.read())
    guard = re.search(r'^\s*#\s*ifndef\s+(\w+)', text, re.M)
    macros = {m.group(1) for m in DEFINE.finditer(text)
              if not m.group(2) and (not guard or m.group(1) != guard.group(1))}
    tags, enumerators = set(), set()
    for m in ENUM.finditer(text):
        if m.group(1):
            tags.add(m.group(1))
        for item in m.group(2).split(','):
            item = item.strip()
            if item:
                enumerators.add(re.match(r'\w+', item).group(0))
    return macros, tags, enumerators


PROGRAM = r'''
#include <stdio.h>
#include "%s"

#define P(x) _Generic((x), \
	char *: printf("%%s \"%%s\"\n", #x, (const char *)(uintptr_t)(x)), \
	const char *: printf("%%s \"%%s\"\n", #x, (const char *)(uintptr_t)(x)), \
	default: printf("%%s %%llu\n", #x, (unsigned long long)(uintptr_t)(x)))
#include <stdint.h>

int main(void)
{
%s
	return 0;
}
'''


def values(header, symbols, cc, tmp):
    """NAME VALUE lines for @symbols, as compiled from @header."""
    base = os.path.join(tmp, os.path.basename(os.path.dirname(header)) + '-' +
                        os.path.basename(header))
    src, exe = base + '.c', base + '.bin'
    body = '\n'.join(f'\tP({s});' for s in sorted(symbols))
    with open(src, 'w') as f:
        f.write(PROGRAM % (os.path.abspath(header), body))
    subprocess.run([cc, '-std=gnu11', '-Wall', '-Werror', '-o', exe, src],
                   check=True)
    out = subprocess.run([exe], check=True, capture_output=True, text=True)
    return dict(line.split(' ', 1) for line in out.stdout.splitlines())


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    gen, uapi = sys.argv[1], sys.argv[2]
    cc = sys.argv[3] if len(sys.argv) == 4 else 'cc'
    problems = []
    gm, gt, ge = names(gen)
    um, ut, ue = names(uapi)
    for what, g, u in (('macro', gm, um), ('enum type', gt, ut),
                       ('enumerator', ge, ue)):
        for n in sorted(g - u):
            problems.append(f'{what} {n}: in the spec, not in {uapi}')
        for n in sorted(u - g):
            problems.append(f'{what} {n}: in {uapi}, not in the spec')
    common = (gm & um) | (ge & ue)
    with tempfile.TemporaryDirectory() as tmp:
        gv = values(gen, common, cc, tmp)
        uv = values(uapi, common, cc, tmp)
    for n in sorted(common):
        if gv[n] != uv[n]:
            problems.append(f'{n}: {gv[n]} in the spec, {uv[n]} in {uapi}')
    for p in problems:
        print(p)
    print(f'{len(common)} constants compared by value, {len(gt & ut)} enum '
          f'types by name: {len(problems)} difference(s)')
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
