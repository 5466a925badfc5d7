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
#   make clean
#
# Tests (tools/vm/; tools/deps.sh installs what they need):
#
#   make check        the static checks, then, for each kernel in KERNELS,
#                     pflash.ko built for it and the kselftests run in a VM
#                     booted on it; ends with "N passed, N failed, N skipped"
#   make check KERNELS=deb61
#                     a subset of deb61 (bookworm's 6.1), deb612 (Debian's
#                     newest 6.12 for bookworm) and debug (6.1 with KASAN,
#                     lockdep, kmemleak, ...; built once and cached)
#   make check-static only the static checks
#   make kernels      fetch or build the kernels in KERNELS
#   make demo         boot a VM on deb61 and run the demo in it
#
# Everything that is downloaded, extracted or built outside the source tree
# lives under $(BUILD), which this Makefile owns.

BUILD	?= $(CURDIR)/build

# The default kernel: the one Debian's linux-headers-amd64 points at.
KVER	?= $(shell dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
		sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')
KDIR	?= /usr/src/linux-headers-$(KVER)

# The kernels `make check` boots.
KERNELS	?= deb61 deb612 debug

.PHONY: all module tool selftests clean check check-static kernels demo

all: module tool selftests

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

tool:
	$(MAKE) -C tools/pflashctl

selftests:
	BUILD=$(BUILD) tools/vm/build-selftests.sh >/dev/null

check:
	BUILD=$(BUILD) tools/vm/check.sh $(KERNELS)

check-static:
	BUILD=$(BUILD) tools/vm/check.sh --static-only

kernels:
	BUILD=$(BUILD) tools/vm/kernels.sh $(KERNELS)

demo:
	BUILD=$(BUILD) tools/vm/boot-demo.sh

# Not kbuild's `make M=$(CURDIR) clean`: it searches the whole tree, $(BUILD)
# included, and would delete the cached kernels' objects and modules. The
# module's products are only in the top directory and module/.
KBUILD_PRODUCTS := -name '*.o' -o -name '*.ko' -o -name '*.mod' \
	-o -name '*.mod.c' -o -name '.*.cmd' -o -name '.*.d' \
	-o -name modules.order -o -name Module.symvers

clean:
	find . module -maxdepth 1 -type f \( $(KBUILD_PRODUCTS) \) -delete
	$(MAKE) -C tools/pflashctl clean
