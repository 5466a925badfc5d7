#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The shell commands a document shows, as a script that runs them.

Usage: doc_commands.py DOC [--list] [--group GROUP]

DOC is reStructuredText (.rst) or a manual page (.8).  Its commands are the
lines of its literal blocks (after "::", or in ".. code-block::"; in a
manual page, between .EX and .EE) that start with a prompt, "# " (root) or
"$ " (any user); a command whose line ends with a backslash goes on on the
next line.  The other lines of a block are what the commands print.

A command must succeed, except one that the next command of its block
follows with "echo $?": then it must exit with the status that the line
after "echo $?" shows.  And it must print what the document shows after
it, no more and no less (doc_test.sh says how lines are compared).

Prints a bash script that runs the commands in order, in one shell, as a
reader would type them, each with its output (stdout and stderr) in
$doc_out, and after each calls

    doc_result STATUS WANTED FILE:LINE COMMAND

which doc_test.sh defines, having first given it the output shown with
doc_expect, on standard input.  With --list, prints "LINE: COMMAND" lines.

A section of reStructuredText whose commands need more than the kselftests'
VM has says so in a comment, ".. doc-test: GROUP" (such as "systemd": a
host booted with systemd and udev): its literal blocks, up to the next
section of its level or above, are GROUP's.  Without --group, the commands
of no group are printed; with it, those of GROUP alone, which another test
runs where they can run.
"""
import re
import shlex
import sys

PROMPT = re.compile(r'^([#$]) (.*)$')
GROUP = re.compile(r'^\.\. doc-test: *(\S+)')
ADORNMENT = re.compile(r'^([=\-`:\'"~^_*+#<>])\1+$')


def indent(line):
    return len(line) - len(line.lstrip(' '))


def rst_blocks(lines):
    """The literal blocks of reStructuredText: (group, [(lineno, text)])."""
    levels = []     # the adornments of section titles, outermost first
    level = -1      # the level of the current section
    group, group_level = '', -1
    i = 0
    while i < len(lines):
        line = lines[i].rstrip('\n')
        stripped = line.strip()
        under = lines[i + 1].rstrip('\n') if i + 1 < len(lines) else ''
        if (stripped and line == stripped and ADORNMENT.match(under) and
                len(under) >= len(stripped)):
            if under[0] not in levels:
                levels.append(under[0])
            level = levels.index(under[0])
            if group and level <= group_level:
                group = ''
            i += 2
            continue
        m = GROUP.match(line)
        if m:
            group, group_level = m.group(1), level
            i += 1
            continue
        literal = (stripped.endswith('::') and not stripped.startswith('.. ')
                   or re.match(r'\.\. code-block::', stripped))
        if not literal:
            i += 1
            continue
        base = indent(line)
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or
                                  lines[j].strip().startswith(':') and
                                  stripped.startswith('..')):
            j += 1
        block = []
        while j < len(lines) and (not lines[j].strip() or
                                  indent(lines[j]) > base):
            block.append((j + 1, lines[j].rstrip('\n')))
            j += 1
        if block:
            cut = min(indent(t) for _, t in block if t.strip())
            yield group, [(n, t[cut:]) for n, t in block]
        i = j


def man_unescape(text):
    for a, b in ((r'\-', '-'), (r'\(aq', "'"), (r'\(dq', '"'), (r'\&', ''),
                 (r'\e', '\\')):
        text = text.replace(a, b)
    return text


def man_blocks(lines):
    """The .EX/.EE blocks of a manual page."""
    block = None
    for n, line in enumerate(lines, 1):
        line = line.rstrip('\n')
        if line.startswith('.EX'):
            block = []
        elif line.startswith('.EE'):
            if block:
                yield block
            block = None
        elif block is not None and not line.startswith('.'):
            block.append((n, man_unescape(line)))


def commands(path, group=''):
    """(lineno, command, wanted status) for each command, in order."""
    with open(path) as f:
        lines = f.readlines()
    if re.search(r'\.[1-8]$', path):
        blocks = (('', b) for b in man_blocks(lines))
    else:
        blocks = rst_blocks(lines)
    out = []
    for block_group, block in blocks:
        if block_group != group:
            continue
        cmds = []	# [lineno, command, output lines]
        k = 0
        while k < len(block):
            n, text = block[k]
            m = PROMPT.match(text)
            if m:
                cmd = m.group(2)
                while cmd.endswith('\\') and k + 1 < len(block):
                    k += 1
                    cmd = cmd[:-1] + ' ' + block[k][1].strip()
                cmds.append([n, cmd, []])
            elif cmds and text.strip():
                cmds[-1][2].append(text.strip())
            k += 1
        for c, (n, cmd, output) in enumerate(cmds):
            want = 0
            if c + 1 < len(cmds) and cmds[c + 1][1].strip() == 'echo $?':
                shown = cmds[c + 1][2]
                if len(shown) != 1 or not shown[0].isdigit():
                    sys.exit(f'{path}:{cmds[c + 1][0]}: "echo $?" must show one number')
                want = int(shown[0])
            out.append((n, cmd, want, output))
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    name = path.rsplit('/', 1)[-1]
    args = sys.argv[2:]
    group = args[args.index('--group') + 1] if '--group' in args[:-1] else ''
    cmds = commands(path, group)
    if '--list' in sys.argv[2:]:
        for n, cmd, want, _ in cmds:
            print(f'{n}: {cmd}' + (f'    (exits {want})' if want else ''))
        return
    print('# Generated by doc_commands.py from ' + name)
    for n, cmd, want, output in cmds:
        if cmd.strip() == 'echo $?':
            # The status of the command before, as it was.
            cmd = '(exit $doc_status); echo $?'
        print("doc_expect <<'DOC_COMMANDS_EOF'")
        for line in output:
            print(line)
        print('DOC_COMMANDS_EOF')
        # In this shell, as typed: cd, exec, jobs and variables last.
        # Without the test's descriptor 3 (its TAP): a daemon a command
        # starts, which outlives a failure, must not keep it open.
        print('{ ' + cmd)
        print('} >"$doc_out" 2>&1 </dev/null 3>&-')
        print(f'doc_status=$?; cat "$doc_out"; doc_result $doc_status {want} '
              f'{shlex.quote(f"{name}:{n}")} {shlex.quote(cmd)}')


if __name__ == '__main__':
    main()
