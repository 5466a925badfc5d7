#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The live module driven through its netlink spec, with the kernel's ynl.

Usage: ynl_test.py YNL_ROOT

YNL_ROOT is a tree in the kernel's layout with tools/net/ynl/ (cli.py and
its lib, from linux-source-6.12) and Documentation/netlink/ (the schemas,
specs/nlctrl.yaml and specs/pflash.yaml).

  - cli.py itself creates, lists, inactivates, activates and destroys a
    device, and each result is checked;
  - the ynl library does every other operation of the spec, export dump
    and import included, and checks each reply and notification against
    the spec's attribute lists;
  - the family's policies, as the generic netlink controller dumps them,
    match the spec: for each operation, the attributes it takes, their
    types and their checks.

Prints TAP; exits 1 if a test failed.
"""
import json
import os
import subprocess
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else '/opt/ynl'
sys.path.insert(0, os.path.join(ROOT, 'tools/net/ynl'))
from lib import YnlFamily, NlError  # noqa: E402

SPECS = os.path.join(ROOT, 'Documentation/netlink/specs')
SPEC = os.path.join(SPECS, 'pflash.yaml')
CLI = os.path.join(ROOT, 'tools/net/ynl/cli.py')
# Indexes well away from the ones other tests and the module take.
IDX_A, IDX_B = 1000, 1001

n = 0
failed = 0
validated = False


def result(ok, name, *diag):
    global n, failed
    n += 1
    print(f"{'ok' if ok else 'not ok'} {n} - {name}")
    if not ok:
        failed += 1
        for d in diag:
            for line in str(d).splitlines():
                print('# ' + line)
    sys.stdout.flush()
    return ok


def cli(*args):
    """Run cli.py on the spec: its JSON output (None if it failed) and a
    description of the run.  The first run checks the spec against its
    schema, as cli.py does by default; the others skip that, which takes
    seconds in a slow VM."""
    global validated
    cmd = [sys.executable, CLI, '--spec', SPEC, '--output-json'] + list(args)
    if validated:
        cmd.insert(4, '--no-schema')
    validated = True
    p = subprocess.run(cmd, capture_output=True, text=True)
    what = f'{" ".join(cmd)}: status {p.returncode}\n{p.stdout}{p.stderr}'
    if p.returncode:
        return None, what
    return json.loads(p.stdout), what


def reply_attrs(spec, op, mode='do'):
    return set(spec[op][mode]['reply']['attributes'])


def dev_attrs_ok(spec, msg, op='dev-get', mode='do'):
    """The attributes of @msg are all in the spec's reply of @op."""
    extra = set(msg) - reply_attrs(spec, op, mode) - {'pad'}
    return not extra, extra


def main():
    print('TAP version 13')
    try:
        ynl = YnlFamily(SPEC)
    except Exception as e:
        print('1..1')
        result(False, 'the spec loads (valid against its schema) and the family resolves', e)
        return 1
    result(True, 'the spec loads, valid against the genetlink schema, and the family resolves')
    spec = {op['name']: op for op in ynl.yaml['operations']['list']}
    for idx in (IDX_A, IDX_B):
        try:
            ynl.do('dev-del', {'index': idx, 'force': 1})
        except NlError:
            pass

    # --- cli.py: create, list, inactivate, activate, destroy -------------
    dev, out = cli('--do', 'dev-new', '--json',
                   json.dumps({'index': IDX_A, 'size': 65536,
                               'block-size': 4096, 'erase-size': 16384}))
    result(dev is not None and dev.get('index') == IDX_A and
           dev.get('size') == 65536 and dev.get('block-size') == 4096 and
           dev.get('erase-size') == 16384 and dev.get('state') == 'active' and
           dev.get('epoch') == 0 and dev.get('read-only') == 0 and
           dev.get('flush-pending') == 0 and 'backing-path' not in dev,
           'cli.py --do dev-new replies with the new device', out)
    uuid = dev.get('uuid') if dev else None
    result(isinstance(uuid, str) and len(uuid) == 36,
           'cli.py: the uuid is shown as a UUID (display-hint)', uuid)
    ok, extra = dev_attrs_ok(spec, dev or {}, 'dev-new')
    result(ok, "cli.py: dev-new's reply has only the spec's attributes", extra)

    devs, out = cli('--dump', 'dev-get')
    mine = [d for d in devs or [] if d.get('index') == IDX_A]
    result(len(mine) == 1 and mine[0] == dev,
           'cli.py --dump dev-get lists it, as dev-new described it', out)
    got, out = cli('--do', 'dev-get', '--json', json.dumps({'index': IDX_A}))
    result(got == dev, 'cli.py --do dev-get describes it', out)

    got, out = cli('--do', 'inactivate', '--json', json.dumps({'index': IDX_A}))
    result(got is not None and got.get('state') == 'inactive' and
           got.get('epoch') == 0, 'cli.py --do inactivate: it is inactive', out)
    got, out = cli('--do', 'activate', '--json',
                   json.dumps({'index': IDX_A, 'epoch': 7}))
    result(got is not None and got.get('state') == 'active' and
           got.get('epoch') == 7,
           'cli.py --do activate with an epoch: active, at that epoch', out)
    got, out = cli('--do', 'activate', '--json',
                   json.dumps({'index': IDX_A, 'epoch': 3}))
    result(got is None and 'status 1' in out and
           'Device or resource busy' in out and "'bad-attr': '.epoch'" in out,
           'cli.py: another epoch for an active device: EBUSY, the epoch blamed', out)

    # --- the library: notifications, flush, export, import --------------
    # A socket of its own: one that has sent cannot join a group any more.
    ev = YnlFamily(SPEC)
    ev.ntf_subscribe('events')
    ynl.do('flush', {'index': IDX_A})
    ynl.do('flush', {'index': IDX_A, 'flush-full': 1})
    chunks = ynl.dump('export', {'index': IDX_A})
    offsets = [c['stream-offset'] for c in chunks]
    stream = b''.join(bytes.fromhex(c['stream-data']) if isinstance(c['stream-data'], str)
                      else c['stream-data'] for c in chunks)
    exp_offsets = []
    pos = 0
    for c in chunks:
        exp_offsets.append(pos)
        pos += len(bytes.fromhex(c['stream-data']) if isinstance(c['stream-data'], str)
                   else c['stream-data'])
    result(chunks and all(c.get('index') == IDX_A for c in chunks) and
           offsets == exp_offsets and stream[:4] == b'PFLS' and
           all(set(c) <= reply_attrs(spec, 'export', 'dump') | {'pad'}
               for c in chunks),
           'export: a dump of contiguous pieces of a stream, attributes as specified',
           offsets, stream[:8])

    b = ynl.do('dev-new', {'index': IDX_B, 'size': 65536, 'block-size': 4096,
                           'erase-size': 16384, 'state': 'inactive'})
    result(b and b['state'] == 'inactive' and b['uuid'] != uuid,
           'dev-new with state inactive: the incoming side, its own uuid', b)
    try:
        ynl.do('import', {'index': IDX_B, 'stream-offset': 0,
                          'stream-data': stream[:100]})
        rest = ynl.do('import', {'index': IDX_B, 'stream-offset': 100,
                                 'stream-data': stream[100:]})
        result(rest and rest['uuid'] == uuid and rest['epoch'] == 7 and
               rest['state'] == 'inactive' and rest['flush-pending'] == 0,
               "import in two pieces: committed, the source's identity and epoch",
               rest)
    except NlError as e:
        result(False, 'import in two pieces', e)
    try:
        ynl.do('import', {'index': IDX_A, 'stream-offset': 0,
                          'stream-data': stream})
        result(False, 'import into an active device is refused')
    except NlError as e:
        result(e.error == 16 and 'inactivate it' in e.nl_msg.extack.get('msg', ''),
               'import into an active device is refused, EBUSY, saying what to do',
               e)

    try:
        ynl.do('dev-new', {'size': 65536, 'block-size': 1000})
        result(False, 'a block size out of range is refused')
    except NlError as e:
        result(e.error == 22 and e.nl_msg.extack.get('bad-attr') == '.block-size',
               'the policy refuses a block size out of the range of the spec, and blames it', e)
    try:
        ynl.do('dev-get', {'index': 1023})
        result(False, 'dev-get of no device fails')
    except NlError as e:
        result(e.error == 19 and e.nl_msg.extack.get('msg') == 'no such device',
               'dev-get of no device: ENODEV, "no such device"', e)

    # cli.py destroys.
    for idx in (IDX_A, IDX_B):
        got, out = cli('--do', 'dev-del', '--json', json.dumps({'index': idx}))
        result(got is None and 'status 0' in out,
               f'cli.py --do dev-del {idx}: acknowledged', out)
    devs, out = cli('--dump', 'dev-get')
    result(devs is not None and
           not [d for d in devs if d.get('index') in (IDX_A, IDX_B)],
           'cli.py --dump dev-get: they are gone', out)

    ev.check_ntf()
    ntfs = [(m['name'], m['msg']) for m in ev.async_msg_queue
            if m['msg'].get('index') in (IDX_A, IDX_B)]
    names = [nm for nm, _ in ntfs]
    want = ['flush-ntf', 'flush-ntf', 'dev-new-ntf', 'import-ntf',
            'dev-del-ntf', 'dev-del-ntf']
    result(names == want, 'the events group: each change announced, in order',
           names, want)
    bad = []
    for nm, msg in ntfs:
        allowed = (set(spec[nm]['event']['attributes']) if 'event' in spec[nm]
                   else reply_attrs(spec, spec[nm]['notify']))
        if set(msg) - allowed - {'pad'}:
            bad.append((nm, set(msg) - allowed))
    flushes = [m for nm, m in ntfs if nm == 'flush-ntf']
    result(not bad and len(flushes) == 2 and
           [f.get('flush-full') for f in flushes] == [0, 1] and
           all(f.get('flush-error') == 0 for f in flushes),
           "events carry the spec's attributes; flush-ntf its full and error",
           bad, flushes)

    # --- the policies, as the kernel has them ----------------------------
    check_policies(ynl)
    print(f'1..{n}')
    return 1 if failed else 0


def int_range(attr_type):
    bits = int(attr_type[1:])
    return 0, (1 << bits) - 1


def expected_policy(ynl, attr_name):
    """What the controller should report of attribute @attr_name."""
    attr = ynl.attr_sets['dev'][attr_name]
    t = attr['type']
    checks = attr.get('checks', {})

    def val(v):
        return ynl.consts[v]['value'] if isinstance(v, str) else v

    if t in ('u8', 'u16', 'u32', 'u64'):
        lo, hi = int_range(t)
        if 'enum' in attr.yaml:
            hi = len(ynl.consts[attr.yaml['enum']]['entries']) - 1
        lo = val(checks.get('min', lo))
        hi = val(checks.get('max', hi))
        return {'type': t, 'min-value-u': lo, 'max-value-u': hi}
    if t == 'binary':
        p = {'type': 'binary'}
        if 'exact-len' in checks:
            p['min-length'] = p['max-length'] = val(checks['exact-len'])
        if 'max-len' in checks:
            p['max-length'] = val(checks['max-len'])
        return p
    return {'type': t}


def check_policies(ynl):
    ctrl = YnlFamily(os.path.join(SPECS, 'nlctrl.yaml'))
    dump = ctrl.dump('getpolicy', {'family-name': 'pflash'})
    op_pol = {}
    policies = {}
    for m in dump:
        if 'op-policy' in m:
            p = m['op-policy']
            op_pol[p['op-id']] = p
        if 'policy' in m:
            p = dict(m['policy'])
            pid, aid = p.pop('policy-id'), p.pop('attr-id')
            policies.setdefault(pid, {})[aid] = p
    names = {a.value: name for name, a in ynl.attr_sets['dev'].items()}
    for op in ynl.yaml['operations']['list']:
        if 'notify' in op or 'event' in op:
            continue
        oid = ynl.ops[op['name']].req_value
        kp = op_pol.get(oid, {})
        for mode in ('do', 'dump'):
            want = set((op.get(mode, {}).get('request') or {}).get('attributes', []))
            if mode not in op:
                result(mode not in kp, f"policy: {op['name']}: no {mode} in the spec, none in the kernel", kp)
                continue
            if mode not in kp:
                result(False, f"policy: {op['name']} {mode}: the kernel has no policy", kp)
                continue
            got = {names.get(aid, aid): p for aid, p in policies.get(kp[mode], {}).items()}
            note = ''
            if mode == 'dump' and 'do' in kp and kp['do'] == kp['dump']:
                # One policy for both (6.1 has no split ops): the dump
                # takes what the do takes, and ignores it.
                want |= set(op['do']['request']['attributes'])
                note = ' (shared with do)'
            diffs = []
            if set(got) != want:
                diffs.append(f'kernel takes {sorted(map(str, got))}, spec {sorted(want)}')
            for a in want & set(got):
                exp = expected_policy(ynl, a)
                if got[a] != exp:
                    diffs.append(f'{a}: kernel {got[a]}, spec {exp}')
            result(not diffs, f"policy: {op['name']} {mode}{note}: the attributes, types and checks of the spec", *diffs)


if __name__ == '__main__':
    sys.exit(main())
