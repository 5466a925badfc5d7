# SPDX-License-Identifier: GPL-2.0
#
# pflash top-level build.
#
#   make              the module, pflashctl and the selftests, for the default
#                     kernel (Debian bookworm's 6.1 headers)
#   make module       only pflash.ko (KDIR=... to build for another kernel)
#   make tool         only pflashctl
#   make clean
#
# Everything that is downloaded, extracted or built outside the source tree
# lives under $(BUILD), which this Makefile owns.

BUILD	?= $(CURDIR)/build

# The default kernel: the one Debian's linux-headers-amd64 points at.
KVER	?= $(shell dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
		sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')
KDIR	?= /usr/src/linux-headers-$(KVER)

.PHONY: all module tool clean

all: module tool

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

tool:
	$(MAKE) -C tools/pflashctl

# Not kbuild's `make M=$(CURDIR) clean`: it searches the whole tree, $(BUILD)
# included, and would delete the cached kernels' objects and modules. The
# module's products are only in the top directory and module/.
KBUILD_PRODUCTS := -name '*.o' -o -name '*.ko' -o -name '*.mod' \
	-o -name '*.mod.c' -o -name '.*.cmd' -o -name '.*.d' \
	-o -name modules.order -o -name Module.symvers

clean:
	find . module -maxdepth 1 -type f \( $(KBUILD_PRODUCTS) \) -delete
	$(MAKE) -C tools/pflashctl clean
