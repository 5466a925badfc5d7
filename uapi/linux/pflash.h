/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/pflash.yaml */
/* YNL-GEN uapi header */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#ifndef _UAPI_LINUX_PFLASH_H
#define _UAPI_LINUX_PFLASH_H

#define PFLASH_FAMILY_NAME	"pflash"
#define PFLASH_FAMILY_VERSION	1

#define PFLASH_INDEX_MAX			1023
#define PFLASH_SIZE_MAX				1073741824
#define PFLASH_ERASE_SIZE_MAX			16777216
#define PFLASH_ERASE_SIZE_DEFAULT		4096
#define PFLASH_BLOCK_SIZE_DEFAULT		512
#define PFLASH_BACKING_PATH_MAX			1024
#define PFLASH_WRITEBACK_INTERVAL_MAX		3600000
#define PFLASH_WRITEBACK_INTERVAL_DEFAULT	5000
#define PFLASH_UUID_LEN				16
#define PFLASH_STREAM_CHUNK_MAX			61440

/**
 * enum pflash_cache_mode - When a write reaches the backing file.
 * @PFLASH_CACHE_MODE_WRITETHROUGH: A write completes once its data is in the
 *   backing file and durable. The queue has no volatile write cache.
 * @PFLASH_CACHE_MODE_WRITEBACK: A write completes once it is in RAM and marked
 *   dirty. Dirty blocks reach the file on a flush, periodically, and when the
 *   device is destroyed or the module unloaded.
 */
enum pflash_cache_mode {
	PFLASH_CACHE_MODE_WRITETHROUGH,
	PFLASH_CACHE_MODE_WRITEBACK,
};

/**
 * enum pflash_state - Who owns the backing file.
 * @PFLASH_STATE_ACTIVE: Reads and writes are served; the device owns its
 *   backing file and holds an OFD lock on it.
 * @PFLASH_STATE_INACTIVE: Reads only; writes fail, and nothing is ever written
 *   to the backing file.
 * @PFLASH_STATE_LOST: The device was active and lost its backing file's lock
 *   to another owner (a network filesystem's lease ran out while its host was
 *   cut off). Reads only, as inactive (its disk is read-only); it never writes
 *   its backing file again, and activate, inactivate, flush and import are
 *   refused with ENOLCK. Never given to dev-new.
 */
enum pflash_state {
	PFLASH_STATE_ACTIVE,
	PFLASH_STATE_INACTIVE,
	PFLASH_STATE_LOST,
};

enum {
	PFLASH_A_DEV_INDEX = 1,
	PFLASH_A_DEV_SIZE,
	PFLASH_A_DEV_BLOCK_SIZE,
	PFLASH_A_DEV_ERASE_SIZE,
	PFLASH_A_DEV_READ_ONLY,
	PFLASH_A_DEV_PAD,
	PFLASH_A_DEV_BACKING_FD,
	PFLASH_A_DEV_BACKING_PATH,
	PFLASH_A_DEV_CACHE_MODE,
	PFLASH_A_DEV_WRITEBACK_INTERVAL,
	PFLASH_A_DEV_DIRTY_BYTES,
	PFLASH_A_DEV_WRITEBACK_ERROR,
	PFLASH_A_DEV_FLUSH_FULL,
	PFLASH_A_DEV_FORCE,
	PFLASH_A_DEV_STATE,
	PFLASH_A_DEV_EPOCH,
	PFLASH_A_DEV_FLUSH_ERROR,
	PFLASH_A_DEV_UUID,
	PFLASH_A_DEV_FLUSH_PENDING,
	PFLASH_A_DEV_STREAM_OFFSET,
	PFLASH_A_DEV_STREAM_DATA,
	PFLASH_A_DEV_STREAM_FD,
	PFLASH_A_DEV_STREAM_BYTES,
	PFLASH_A_DEV_STREAM_FINAL,
	PFLASH_A_DEV_LIVE,
	PFLASH_A_DEV_LIVE_FINAL,
	PFLASH_A_DEV_LIVE_PASS,
	PFLASH_A_DEV_LIVE_PENDING,
	PFLASH_A_DEV_BACKING_DEV,
	PFLASH_A_DEV_BACKING_INO,

	__PFLASH_A_DEV_MAX,
	PFLASH_A_DEV_MAX = (__PFLASH_A_DEV_MAX - 1)
};

enum {
	PFLASH_CMD_DEV_NEW = 1,
	PFLASH_CMD_DEV_DEL,
	PFLASH_CMD_DEV_GET,
	PFLASH_CMD_FLUSH,
	PFLASH_CMD_INACTIVATE,
	PFLASH_CMD_ACTIVATE,
	PFLASH_CMD_DEV_NEW_NTF,
	PFLASH_CMD_DEV_DEL_NTF,
	PFLASH_CMD_INACTIVATE_NTF,
	PFLASH_CMD_ACTIVATE_NTF,
	PFLASH_CMD_FLUSH_NTF,
	PFLASH_CMD_EXPORT,
	PFLASH_CMD_IMPORT,
	PFLASH_CMD_IMPORT_NTF,
	PFLASH_CMD_LOST_NTF,

	__PFLASH_CMD_MAX,
	PFLASH_CMD_MAX = (__PFLASH_CMD_MAX - 1)
};

#define PFLASH_MCGRP_EVENTS	"events"

#endif /* _UAPI_LINUX_PFLASH_H */
