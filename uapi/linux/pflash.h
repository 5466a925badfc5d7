/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pflash: RAM-backed parallel-flash block devices, controlled over the
 * "pflash" generic netlink family.
 *
 * This header is the contract between the kernel module and user space.
 * Numbers are never reused or renumbered; new commands and attributes are
 * only ever appended.  Documentation/netlink/specs/pflash.yaml describes the
 * same family in the kernel's netlink-spec format.
 *
 * Conventions:
 *  - every command needs CAP_NET_ADMIN;
 *  - every attribute is validated strictly: an attribute a command does not
 *    take is rejected, as are attributes of the wrong type or length;
 *  - every rejection carries an extended-ack message, and where one
 *    attribute is at fault, the extended ack points at it;
 *  - a device is named by its index: PFLASH_A_DEV_INDEX = N is /dev/pflashN.
 */
#ifndef _UAPI_LINUX_PFLASH_H
#define _UAPI_LINUX_PFLASH_H

#define PFLASH_FAMILY_NAME		"pflash"
#define PFLASH_FAMILY_VERSION		1

/* Limits of the device model. */
#define PFLASH_INDEX_MAX		1023		/* highest device index */
#define PFLASH_SIZE_MAX			(1ULL << 30)	/* 1 GiB */
#define PFLASH_ERASE_SIZE_MAX		(1U << 24)	/* 16 MiB */
#define PFLASH_ERASE_SIZE_DEFAULT	4096
#define PFLASH_BLOCK_SIZE_DEFAULT	512

/**
 * enum - attributes of a device (the "dev" attribute set)
 *
 * @PFLASH_A_DEV_INDEX: u32, the device's index N (/dev/pflashN), at most
 *	%PFLASH_INDEX_MAX.  Names the device in every command.  In
 *	%PFLASH_CMD_DEV_NEW it is optional: without it the lowest free index
 *	is taken.
 * @PFLASH_A_DEV_SIZE: u64, the device's size in bytes: a whole number of
 *	erase blocks, at least one erase block and at most
 *	%PFLASH_SIZE_MAX.
 * @PFLASH_A_DEV_BLOCK_SIZE: u32, the logical block size in bytes: 512 or
 *	4096.  Defaults to %PFLASH_BLOCK_SIZE_DEFAULT.
 * @PFLASH_A_DEV_ERASE_SIZE: u32, the erase-block size in bytes: a power of
 *	two, at least the logical block size and at most
 *	%PFLASH_ERASE_SIZE_MAX.  Discard erases whole erase blocks to 0xff.
 *	Defaults to %PFLASH_ERASE_SIZE_DEFAULT.
 * @PFLASH_A_DEV_READ_ONLY: u8, 0 or 1.  A read-only device refuses to be
 *	opened for writing (EROFS) and fails every write request (EIO).
 * @PFLASH_A_DEV_PAD: padding for 64-bit attributes; never sent by user
 *	space, and ignored by it in replies.
 */
enum {
	PFLASH_A_DEV_INDEX = 1,
	PFLASH_A_DEV_SIZE,
	PFLASH_A_DEV_BLOCK_SIZE,
	PFLASH_A_DEV_ERASE_SIZE,
	PFLASH_A_DEV_READ_ONLY,
	PFLASH_A_DEV_PAD,

	__PFLASH_A_DEV_MAX,
	PFLASH_A_DEV_MAX = (__PFLASH_A_DEV_MAX - 1)
};

/**
 * enum - commands
 *
 * @PFLASH_CMD_DEV_NEW: create a device.  Takes @PFLASH_A_DEV_SIZE (required)
 *	and, optionally, @PFLASH_A_DEV_INDEX, @PFLASH_A_DEV_BLOCK_SIZE,
 *	@PFLASH_A_DEV_ERASE_SIZE and @PFLASH_A_DEV_READ_ONLY.  A new device
 *	reads as erased flash (0xff).  Replies with the new device, in the
 *	form of a %PFLASH_CMD_DEV_GET reply.
 * @PFLASH_CMD_DEV_DEL: destroy the device named by @PFLASH_A_DEV_INDEX.
 *	Refused with EBUSY while the device is open (mounted, held by a
 *	process, or claimed by another driver).
 * @PFLASH_CMD_DEV_GET: describe the device named by @PFLASH_A_DEV_INDEX, or,
 *	as a dump, every device in index order.  A reply carries
 *	@PFLASH_A_DEV_INDEX, @PFLASH_A_DEV_SIZE, @PFLASH_A_DEV_BLOCK_SIZE,
 *	@PFLASH_A_DEV_ERASE_SIZE and @PFLASH_A_DEV_READ_ONLY.
 */
enum {
	PFLASH_CMD_DEV_NEW = 1,
	PFLASH_CMD_DEV_DEL,
	PFLASH_CMD_DEV_GET,

	__PFLASH_CMD_MAX,
	PFLASH_CMD_MAX = (__PFLASH_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_PFLASH_H */
