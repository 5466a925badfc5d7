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

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools/pflashctl clean
