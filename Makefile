# SPDX-License-Identifier: GPL-2.0
#
# pflash top-level build.
#
#   make              the module, pflashctl and the selftests, for the default
#                     kernel (Debian bookworm's 6.1 headers)
#   make module       only pflash.ko (KDIR=... to build for another kernel)
#   make tool         only pflashctl
#   make selftests    only the kselftests (with the kernel's framework,
#                     taken from Debian's linux-source-6.1 into $(BUILD))
#   make netlink-gen  the netlink family's code generated again from its
#                     spec (uapi/linux/pflash.h, module/netlink-gen.[ch]), by
#                     the kernel's ynl_gen_c.py of Debian unstable's 7.2
#   make clean
#
# Installing (as root; DESTDIR=... to stage, for a package):
#
#   make install      pflash.ko in /lib/modules/$(KVER)/extra/ (then depmod,
#                     unless DESTDIR is set), pflashctl and pflash-qemu-migrate
#                     in $(PREFIX)/sbin, their manual pages and pflashctl's
#                     bash completion; PREFIX=/usr/local; and what sets
#                     devices up on a host (install-host): pflash.service,
#                     the udev rules of /dev/pflash/by-uuid/, pflashtab(5),
#                     an example table and libvirt's qemu hook
#   make uninstall    removes what make install put there
#   make install-dkms the module's source in /usr/src/pflash-VERSION, with
#                     dkms.conf, then (unless DESTDIR is set) dkms add, build
#                     and install, so that DKMS rebuilds pflash.ko for every
#                     new kernel
#   make uninstall-dkms
#                     dkms remove --all, and the source in /usr/src
#   make deb          the Debian packages pflash-dkms and pflashctl, with
#                     dpkg-buildpackage from debian/, in $(BUILD)/deb/
#
# Tests (tools/check/ and the rooms of tools/README.md; tools/deps.sh installs what they need):
#
#   make check        the static checks, then, for each kernel in KERNELS,
#                     pflash.ko built for it and the kselftests run in a VM
#                     booted on it; ends with "N passed, N failed, N skipped"
#   make check KERNELS=deb61
#                     a subset of deb61 (bookworm's 6.1), deb612 (Debian's
#                     newest 6.12 for bookworm), deb72 (Debian unstable's
#                     newest 7.2, built for in a debootstrapped unstable
#                     root) and debug (7.2 with KASAN, lockdep, kmemleak,
#                     ...; built once and cached)
#   make check REPEAT=5 KERNELS="deb61 deb72"
#                     a flake hunt: the kernels' jobs five times over on
#                     the same build; the closing lines name every result
#                     that failed in one run and passed in another, with
#                     the seeds it printed.  REPEAT="5 debug=2" gives a
#                     kernel its own count
#   make check KERNELS=deb61 TESTS="pflash_io_test pflashctl_test.sh"
#                     only those tests (named as in selftests/pflash/
#                     Makefile), in one VM per kernel, and nothing else:
#                     no static checks (STATIC=1 adds them), no DKMS, no
#                     move between two VMs
#   make check-static only the static checks
#   make series       pflash as a patch series against Linux 7.2, in
#                     build/series/ (drivers/block/pflash/, its Kconfig,
#                     the uapi headers, Documentation/, the kselftests)
#   make series-check the series applied to Debian's linux-source-7.2 and
#                     built there (module and built in, W=1 C=1),
#                     checkpatch --strict on each patch, coccicheck; make
#                     check runs it beside the VMs when KERNELS has debug
#   make kernels      fetch or build the kernels in KERNELS
#   make demo         boot a VM on deb61 and run the demo in it
#   make coverage-report
#                     the suite on the debug kernel, each test program
#                     alone, to learn which reaches which error path of
#                     pflash.ko; rewrites Documentation/pflash/error-paths.rst
#                     (make check on the debug kernel checks it)
#   make soak         a VM on SOAK_KERNEL (the debug kernel) works four
#                     devices in both cache modes for a fixed number of
#                     operations: fio with verify, moves, flushes and
#                     writebacks, under memory pressure; 0 splats, 0 verify
#                     errors, kmemleak clean (tools/soak/soak.sh: SOAK_*)
#   make bench        boot one VM on BENCH_KERNEL and benchmark pflash
#                     against brd, zram and loop, and its migration, in
#                     QEMU's instruction-counting mode (BENCH_CLOCK=wall
#                     for wall-clock time); writes
#                     Documentation/pflash/benchmarks.rst and .png, and
#                     build/bench/ratios.json (settings: BENCH_* in
#                     tools/bench/bench.sh)
#   make bench-quick  a reduced set (one repetition, 16 MiB fio devices)
#                     in under 10 minutes: ratios.json and the goals
#
# Everything that is downloaded, extracted or built outside the source tree
# lives under $(BUILD), which this Makefile owns.

BUILD	?= $(CURDIR)/build

# The default kernel: the running one if its headers are installed, else the
# one Debian's linux-headers-amd64 points at.
KVER	?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; else \
		dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
		sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p'; fi)
KDIR	?= /usr/src/linux-headers-$(KVER)

# The release, as pflashctl --version gives it; dkms.conf gets it too.
PFLASH_VERSION := $(shell sed -n 's/^VERSION[[:space:]]*:= *//p' tools/pflashctl/Makefile)

# Where make install puts things.
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
BASHCOMPDIR	?= $(PREFIX)/share/bash-completion/completions
MODDIR		?= /lib/modules/$(KVER)/extra
DKMS_SRC	?= /usr/src/pflash-$(PFLASH_VERSION)
UNITDIR		?= $(PREFIX)/lib/systemd/system
UDEVRULESDIR	?= $(PREFIX)/lib/udev/rules.d
EXAMPLEDIR	?= $(PREFIX)/share/doc/pflashctl/examples
# libvirt looks for its hooks under /etc whatever the prefix.
LIBVIRTHOOKDIR	?= /etc/libvirt/hooks/qemu.d
INSTALL		?= install

# The kernels `make check` boots, and the tests it runs there (all if empty).
KERNELS	?= deb61 deb612 deb72 debug
TESTS	?=
# How many times the kernels' jobs run over (a flake hunt), and how many
# jobs (a kernel's kselftests, or a host's suites) run at once: two; each
# VM has two vCPUs, so on a two-core host they share the cores.
REPEAT	?= 1
CHECK_JOBS ?= 2

.PHONY: all module tool selftests clean check check-static check-nfs kernels demo \
	install install-module install-tool uninstall install-dkms uninstall-dkms

all: module tool selftests

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

tool:
	$(MAKE) -C tools/pflashctl

selftests:
	BUILD=$(BUILD) tools/images/selftests.sh >/dev/null

check:
	BUILD=$(BUILD) TESTS="$(TESTS)" REPEAT="$(REPEAT)" \
		CHECK_JOBS="$(CHECK_JOBS)" tools/check/check.sh $(KERNELS)

check-static:
	BUILD=$(BUILD) tools/check/check.sh --static-only

# Shared storage between hosts over NFS, three VMs (tools/check/nfs.sh),
# alone: `make check` runs it too, on deb61 and deb72.
NFS_KERNELS ?= deb61

check-nfs:
	BUILD=$(BUILD) tools/check/check.sh --nfs-only $(NFS_KERNELS)

kernels:
	BUILD=$(BUILD) tools/kernels/kernels.sh $(KERNELS)

demo:
	BUILD=$(BUILD) tools/boot/demo.sh

# The kernel `make soak` boots.
SOAK_KERNEL ?= debug

.PHONY: soak
soak:
	BUILD=$(BUILD) tools/soak/soak.sh $(SOAK_KERNEL)

# The kernel `make bench` boots.
BENCH_KERNEL ?= deb61

.PHONY: bench bench-quick
bench:
	BUILD=$(BUILD) tools/bench/bench.sh $(BENCH_KERNEL)

bench-quick:
	BUILD=$(BUILD) BENCH_QUICK=1 tools/bench/bench.sh $(BENCH_KERNEL)

# pflash as a patch series against Linux 7.2 (tools/intree/series.sh):
# written into $(BUILD)/series/; series-check applies it and builds it
# there (module and built in, W=1 C=1), with checkpatch and coccicheck,
# as `make check` does when its kernels include debug.
.PHONY: series series-check
series:
	BUILD=$(BUILD) tools/intree/series.sh write

series-check:
	BUILD=$(BUILD) tools/intree/series.sh check

.PHONY: netlink-gen
netlink-gen:
	BUILD=$(BUILD) tools/check/ynl-gen.sh write

.PHONY: coverage-report
coverage-report:
	BUILD=$(BUILD) tools/coverage/run.sh

install: install-module install-tool install-host

install-module: module
	$(INSTALL) -D -m 644 pflash.ko $(DESTDIR)$(MODDIR)/pflash.ko
ifeq ($(DESTDIR),)
	depmod -a $(KVER)
endif

install-tool: tool
	$(INSTALL) -D -m 755 tools/pflashctl/pflashctl $(DESTDIR)$(SBINDIR)/pflashctl
	$(INSTALL) -D -m 644 Documentation/man/pflashctl.8 \
		$(DESTDIR)$(MANDIR)/man8/pflashctl.8
	$(INSTALL) -D -m 644 tools/pflashctl/pflashctl.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/pflashctl
	$(INSTALL) -D -m 755 tools/pflash-qemu-migrate/pflash-qemu-migrate \
		$(DESTDIR)$(SBINDIR)/pflash-qemu-migrate
	$(INSTALL) -D -m 644 Documentation/man/pflash-qemu-migrate.8 \
		$(DESTDIR)$(MANDIR)/man8/pflash-qemu-migrate.8

# A host's devices from a table at boot, and their names by uuid: the
# unit runs pflashctl from $(SBINDIR).
install-host:
	$(INSTALL) -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/pflash.service.in \
		>$(DESTDIR)$(UNITDIR)/pflash.service
	chmod 644 $(DESTDIR)$(UNITDIR)/pflash.service
	$(INSTALL) -D -m 644 udev/60-pflash.rules \
		$(DESTDIR)$(UDEVRULESDIR)/60-pflash.rules
	$(INSTALL) -D -m 644 Documentation/man/pflashtab.5 \
		$(DESTDIR)$(MANDIR)/man5/pflashtab.5
	$(INSTALL) -D -m 644 systemd/pflashtab.example \
		$(DESTDIR)$(EXAMPLEDIR)/pflashtab
	$(INSTALL) -D -m 755 libvirt/pflash-hook $(DESTDIR)$(LIBVIRTHOOKDIR)/pflash

uninstall:
	$(RM) $(DESTDIR)$(MODDIR)/pflash.ko $(DESTDIR)$(SBINDIR)/pflashctl \
		$(DESTDIR)$(MANDIR)/man8/pflashctl.8 $(DESTDIR)$(BASHCOMPDIR)/pflashctl \
		$(DESTDIR)$(SBINDIR)/pflash-qemu-migrate \
		$(DESTDIR)$(MANDIR)/man8/pflash-qemu-migrate.8
	$(RM) $(DESTDIR)$(UNITDIR)/pflash.service \
		$(DESTDIR)$(UDEVRULESDIR)/60-pflash.rules \
		$(DESTDIR)$(MANDIR)/man5/pflashtab.5 $(DESTDIR)$(EXAMPLEDIR)/pflashtab \
		$(DESTDIR)$(LIBVIRTHOOKDIR)/pflash
ifeq ($(DESTDIR),)
	depmod -a $(KVER)
endif

# The module's source, as DKMS builds it: Kbuild, module/, uapi/ and a
# dkms.conf of PFLASH_VERSION (which may be overridden, say for a test).
install-dkms:
	$(INSTALL) -d $(DESTDIR)$(DKMS_SRC)/module $(DESTDIR)$(DKMS_SRC)/uapi/linux
	$(INSTALL) -m 644 Kbuild $(DESTDIR)$(DKMS_SRC)/
	$(INSTALL) -m 644 module/*.[ch] $(DESTDIR)$(DKMS_SRC)/module/
	$(INSTALL) -m 644 uapi/linux/*.h $(DESTDIR)$(DKMS_SRC)/uapi/linux/
	sed 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="$(PFLASH_VERSION)"/' dkms.conf \
		>$(DESTDIR)$(DKMS_SRC)/dkms.conf
ifeq ($(DESTDIR),)
	dkms add pflash/$(PFLASH_VERSION)
	dkms install pflash/$(PFLASH_VERSION) -k $(KVER)
endif

uninstall-dkms:
ifeq ($(DESTDIR),)
	if dkms status pflash/$(PFLASH_VERSION) | grep -q .; then \
		dkms remove pflash/$(PFLASH_VERSION) --all; fi
endif
	$(RM) -r $(DESTDIR)$(DKMS_SRC)

# The Debian packages, built from a copy of the tree (debian/rules).
.PHONY: deb install-host
deb:
	BUILD=$(BUILD) tools/ecosystem/deb.sh

# Not kbuild's `make M=$(CURDIR) clean`: it searches the whole tree, $(BUILD)
# included, and would delete the cached kernels' objects and modules. The
# module's products are only in the top directory and module/.
KBUILD_PRODUCTS := -name '*.o' -o -name '*.ko' -o -name '*.mod' \
	-o -name '*.mod.c' -o -name '.*.cmd' -o -name '.*.d' \
	-o -name modules.order -o -name Module.symvers

clean:
	find . module -maxdepth 1 -type f \( $(KBUILD_PRODUCTS) \) -delete
	$(MAKE) -C tools/pflashctl clean
