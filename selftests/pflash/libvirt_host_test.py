#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""libvirt on a host with pflash's packages (the systemd VM,
tools/guests/systemd.sh runs it): a TCG domain whose UEFI variable store
is <nvram type='block'> on /dev/pflash/by-uuid/UUID, and the qemu hook
that pflashctl's package installs (/etc/libvirt/hooks/qemu.d/pflash).

  - at prepare, the hook creates the device from /etc/pflash/pflashtab,
    where the host lists it, and activates it; OVMF boots on it, and the
    variables it writes reach the backing file (at QEMU's flush, when the
    domain is suspended: libvirt's nvram drive writes through the page
    cache);
  - at release, once QEMU is gone, the hook inactivates it: it wrote back
    and let go of its file; the next start activates it again;
  - the hook leaves a domain whose store is not on pflash alone, and
    refuses, saying why, a store that is not on this host or that another
    device owns (shared storage, which libvirt cannot hand over).

Prints TAP.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_vm as qv  # noqa: E402

HOOK = '/etc/libvirt/hooks/qemu.d/pflash'
TAB = '/etc/pflash/pflashtab'
UUID = '3e9a6c1d-27b4-4f08-9c5e-8d1a2b3c4d5e'
LINK = '/dev/pflash/by-uuid/' + UUID
NVRAM = '/var/lib/libvirt/qemu/nvram/vm1_VARS.fd'
SERIAL = '/var/lib/libvirt/qemu/vm1.serial'
DOMAIN = """<domain type='qemu'>
  <name>vm1</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram type='block'>
      <source dev='%s'/>
    </nvram>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <serial type='unix'>
      <source mode='bind' path='%s'/>
    </serial>
  </devices>
</domain>
""" % (LINK, SERIAL)
BOOT_TIMEOUT = 900


def virsh(*args, check=True):
    return qv.sh('virsh', '-c', 'qemu:///system', *args, check=check)


def hook(op, subop, xml):
    p = subprocess.run([HOOK, 'vm1', op, subop, '-'], input=xml,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    return p.returncode, p.stderr


def state(dev):
    return qv.pflashctl('list', '-rn', '-o', 'STATE', dev)[1].strip()


def main():
    tap = qv.TAP()
    if not shutil.which('virsh') or not os.path.exists(HOOK):
        print('1..0 # SKIP needs libvirt and the hook of pflashctl\'s '
              'package')
        return 4
    os.makedirs(os.path.dirname(NVRAM), exist_ok=True)
    shutil.copy('/usr/share/OVMF/OVMF_VARS_4M.fd', NVRAM)
    template = qv.read(NVRAM)
    with open(TAB) as f:
        table = f.read()
    with open(TAB, 'a') as f:
        f.write('%s %s writethrough -\n' % (UUID, NVRAM))
    try:
        tap.ok(not os.path.exists(LINK),
               'the store is in the table, its device not made yet')
        with open('/tmp/vm1.xml', 'w') as f:
            f.write(DOMAIN)
        virsh('define', '/tmp/vm1.xml')
        t0 = time.monotonic()
        rc, out, err = virsh('start', 'vm1', check=False)
        tap.ok(rc == 0, 'virsh start: the domain starts', out, err)
        dev = os.path.realpath(LINK)
        tap.ok(os.path.exists(LINK) and state(dev) == 'active',
               'prepare: the hook made the device from the table, and '
               'activated it', dev)
        con = qv.Console(SERIAL, 'vm1')
        # OVMF's boot manager: it loads the shell built into the
        # firmware where there is one (bookworm's), or says that nothing
        # is bootable (sid's, built without a shell).
        con.expect(rb'BdsDxe: ((loading|starting) Boot|No bootable option)',
                   BOOT_TIMEOUT)
        qv.timed(tap, 'OVMF to its boot manager, under libvirt', t0)
        virsh('suspend', 'vm1')
        store = qv.read(NVRAM)
        tap.ok(qv.var_in(store, 'BootOrder', b'') and store != template,
               "OVMF's variables reach the backing file (BootOrder), at "
               "QEMU's flush")
        virsh('resume', 'vm1')
        virsh('destroy', 'vm1')
        con.close()
        tap.ok(state(dev) == 'inactive' and qv.read(NVRAM) == qv.read(dev),
               'release: the hook inactivated the device; its file holds '
               'all of it')
        virsh('start', 'vm1')
        tap.ok(state(dev) == 'active',
               'prepare: the next start activates it again')
        virsh('destroy', 'vm1')
        tap.ok(state(dev) == 'inactive', 'release: and inactivates it')

        rc, err = hook('prepare', 'begin',
                       DOMAIN.replace("<nvram type='block'>\n      <source "
                                      "dev='%s'/>\n    </nvram>" % LINK, ''))
        tap.ok(rc == 0 and state(dev) == 'inactive',
               'the hook leaves a store that is not on pflash alone', err)
        gone = '/dev/pflash/by-uuid/00000000-0000-4000-8000-000000000001'
        rc, err = hook('prepare', 'begin', DOMAIN.replace(LINK, gone))
        tap.ok(rc == 1 and 'list the store there' in err,
               'a store neither here nor in the table: refused, and why',
               err)
        # Another device over the same file, active: the store's owner,
        # as the source of a migration with shared storage would be.
        other = qv.Dev(NVRAM)
        try:
            rc, err = hook('prepare', 'begin', DOMAIN)
            tap.ok(rc == 1 and 'owned elsewhere' in err and
                   'pflash-qemu-migrate' in err and state(dev) == 'inactive',
                   'a store another device owns: refused, and why', err)
        finally:
            other.destroy()
    finally:
        virsh('destroy', 'vm1', check=False)
        # The store is the device's: libvirt does not remove it.
        virsh('undefine', '--keep-nvram', 'vm1', check=False)
        with open(TAB, 'w') as f:
            f.write(table)
        if os.path.exists(LINK):
            qv.pflashctl('destroy', '--force', os.path.realpath(LINK),
                         check=False)
    return tap.done()


sys.exit(main())
