# SPDX-License-Identifier: GPL-2.0
#
# For a Makefile that builds a program with the pflash netlink library
# (its $(PFNL_CFLAGS) reach tools/include/ too):
#
#   include path/to/tools/lib/pfnl.mk
#
# then compile $(PFNL_SRC) into the program, with $(PFNL_CFLAGS),
# and link it with $(PFNL_LDLIBS).
#
# The state stream reader is $(PFSTREAM_SRC), compiled with the same
# $(PFNL_CFLAGS) and linked with $(PFSTREAM_LDLIBS) (ISA-L, for
# its CRC-32C); it does not need the netlink library.

PFNL_DIR		:= $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PFNL_SRC		:= $(PFNL_DIR)/pfnl.c
PFNL_PKGS		:= libnl-3.0 libnl-genl-3.0
PFNL_CFLAGS		:= -I$(PFNL_DIR) -I$(PFNL_DIR)/../include \
			   -I$(PFNL_DIR)/../../uapi \
			   $(shell pkg-config --cflags $(PFNL_PKGS))
PFNL_LDLIBS		:= $(shell pkg-config --libs $(PFNL_PKGS))

PFSTREAM_SRC	:= $(PFNL_DIR)/pfstream.c
PFSTREAM_LDLIBS	:= $(shell pkg-config --libs libisal)
