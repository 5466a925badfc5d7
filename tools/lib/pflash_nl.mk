# SPDX-License-Identifier: GPL-2.0
#
# For a Makefile that builds a program with the pflash netlink library:
#
#   include path/to/tools/lib/pflash_nl.mk
#
# then compile $(PFLASH_NL_SRC) into the program, with $(PFLASH_NL_CFLAGS),
# and link it with $(PFLASH_NL_LDLIBS).
#
# The state stream reader is $(PFLASH_STREAM_SRC), compiled with the same
# $(PFLASH_NL_CFLAGS) and linked with $(PFLASH_STREAM_LDLIBS) (ISA-L, for
# its CRC-32C); it does not need the netlink library.

PFLASH_NL_DIR		:= $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PFLASH_NL_SRC		:= $(PFLASH_NL_DIR)/pflash_nl.c
PFLASH_NL_PKGS		:= libnl-3.0 libnl-genl-3.0
PFLASH_NL_CFLAGS	:= -I$(PFLASH_NL_DIR) -I$(PFLASH_NL_DIR)/../../uapi \
			   $(shell pkg-config --cflags $(PFLASH_NL_PKGS))
PFLASH_NL_LDLIBS	:= $(shell pkg-config --libs $(PFLASH_NL_PKGS))

PFLASH_STREAM_SRC	:= $(PFLASH_NL_DIR)/pflash_stream.c
PFLASH_STREAM_LDLIBS	:= $(shell pkg-config --libs libisal)
