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
 *
 * A lost backing file.  A device holds its backing file open, and follows
 * the file, not its path.  The file is lost when it was deleted, or
 * replaced by another file renamed over it (its contents then go when the
 * device does), or moved, it or a directory above it, within its
 * filesystem (its path at the device's creation then names another file,
 * or none).  The kernel looks at every writeback, and at each command
 * below that depends on it.  A device whose backing file is a regular file
 * that was deleted writes nothing more into it: each writeback fails with
 * ENOENT and leaves its blocks dirty (a write in writethrough mode fails
 * with EIO), and %PFLASH_CMD_INACTIVATE (of a writable device) and
 * %PFLASH_CMD_DEV_DEL (without @PFLASH_A_DEV_FORCE) are refused with
 * ENOENT.  A file lost in either way makes %PFLASH_CMD_ACTIVATE and
 * %PFLASH_CMD_FLUSH fail with ENOENT, and an extended-ack message that
 * names its path.  @PFLASH_A_DEV_BACKING_PATH shows it, and the disk
 * announces each change with a "change" uevent that carries
 * PFLASH_BACKING_STATE ("deleted", "moved" or, moved back, "ok") and
 * PFLASH_BACKING_FILE (the path as @PFLASH_A_DEV_BACKING_PATH shows it).
 */
#ifndef _UAPI_LINUX_PFLASH_H
#define _UAPI_LINUX_PFLASH_H

#include <linux/const.h>

#define PFLASH_FAMILY_NAME		"pflash"
#define PFLASH_FAMILY_VERSION		1

/*
 * The multicast group of events: a PFLASH_CMD_*_NTF message for each device
 * that is created, destroyed, inactivated, activated, flushed (with the
 * result) or imported into.  Joining it needs CAP_NET_ADMIN, as events
 * carry backing-file paths.
 */
#define PFLASH_MCGRP_EVENTS		"events"

/* Limits of the device model. */
#define PFLASH_INDEX_MAX		1023		/* highest device index */
#define PFLASH_SIZE_MAX			_BITULL(30)	/* 1 GiB */
#define PFLASH_ERASE_SIZE_MAX		_BITUL(24)	/* 16 MiB */
#define PFLASH_ERASE_SIZE_DEFAULT	4096
#define PFLASH_BLOCK_SIZE_DEFAULT	512
#define PFLASH_BACKING_PATH_MAX		1024		/* bytes, with the NUL */
#define PFLASH_WRITEBACK_INTERVAL_MAX	3600000		/* ms: one hour */
#define PFLASH_WRITEBACK_INTERVAL_DEFAULT 5000		/* ms */
#define PFLASH_UUID_LEN			16
#define PFLASH_STREAM_CHUNK_MAX		61440		/* bytes per message */

/**
 * enum pflash_cache_mode - when a write reaches the backing file
 * @PFLASH_CACHE_MODE_WRITETHROUGH: a write completes only once its data is
 *	in the backing file and durable (written, then fsync'ed).  The queue
 *	has no volatile write cache.
 * @PFLASH_CACHE_MODE_WRITEBACK: a write completes once it is in RAM, and
 *	its blocks are marked dirty.  Dirty blocks reach the file on a flush
 *	(REQ_PREFLUSH, REQ_FUA, %PFLASH_CMD_FLUSH), on the periodic
 *	writeback, and when the device is destroyed or the module unloaded.
 *	The queue advertises a volatile write cache with FUA.
 */
enum pflash_cache_mode {
	PFLASH_CACHE_MODE_WRITETHROUGH,
	PFLASH_CACHE_MODE_WRITEBACK,
};

/**
 * enum pflash_state - who owns the backing file
 * @PFLASH_STATE_ACTIVE: the device serves reads and writes and owns its
 *	backing file: it holds an OFD lock on it, exclusive for a writable
 *	device and shared for a read-only one.
 * @PFLASH_STATE_INACTIVE: the device serves reads only.  Opening it for
 *	writing fails with EROFS, a write that still reaches it fails with
 *	EIO, and nothing is ever written to the backing file: not on flush,
 *	not on destroy, not on module unload.  It holds no lock.
 */
enum pflash_state {
	PFLASH_STATE_ACTIVE,
	PFLASH_STATE_INACTIVE,
};

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
 * @PFLASH_A_DEV_BACKING_FD: u32, request only: a file descriptor, in the
 *	sender's file table, of the backing file: a regular file or a block
 *	device, open for reading, and for writing too unless the device is
 *	read-only.  The device opens its own file description on the same
 *	file, so the sender may close its descriptor afterwards.
 * @PFLASH_A_DEV_BACKING_PATH: string, reply only: the backing file's path
 *	as the kernel sees it now (d_path(), in the requester's root), cut to
 *	%PFLASH_BACKING_PATH_MAX bytes: where it was moved, if it was, and
 *	with " (deleted)" appended if it was deleted, or replaced by another
 *	file renamed over it.  Absent when the device has no backing file.
 * @PFLASH_A_DEV_CACHE_MODE: u32, &enum pflash_cache_mode.  Only for a
 *	writable device with a backing file; writethrough by default.
 * @PFLASH_A_DEV_WRITEBACK_INTERVAL: u32, milliseconds between periodic
 *	writebacks of dirty blocks in writeback mode; 0 turns periodic
 *	writeback off.  At most %PFLASH_WRITEBACK_INTERVAL_MAX; by default
 *	%PFLASH_WRITEBACK_INTERVAL_DEFAULT.  Only in writeback mode.
 * @PFLASH_A_DEV_DIRTY_BYTES: u64, reply only: bytes written to the device
 *	and not yet known to be durable in the backing file.
 * @PFLASH_A_DEV_WRITEBACK_ERROR: u32, reply only: the errno (positive) of
 *	the last writeback that failed, or 0 when the last writeback
 *	succeeded.
 * @PFLASH_A_DEV_FLUSH_FULL: u8, 0 or 1, %PFLASH_CMD_FLUSH only: write the
 *	entire device to the backing file, not only its dirty blocks.
 * @PFLASH_A_DEV_FORCE: u8, 0 or 1.  In %PFLASH_CMD_DEV_DEL: destroy the
 *	device even if its final writeback fails, discarding the dirty data
 *	(the kernel log says how much).  In %PFLASH_CMD_INACTIVATE:
 *	inactivate even if the device is held exclusively (mounted, or
 *	claimed by another driver), whose writes will then fail.
 * @PFLASH_A_DEV_STATE: u32, &enum pflash_state.  In %PFLASH_CMD_DEV_NEW,
 *	%PFLASH_STATE_INACTIVE creates the device inactive: the incoming side
 *	of a move.  Active by default.
 * @PFLASH_A_DEV_EPOCH: u64, the ownership epoch.  Starts at 0; every
 *	activation sets it, to the epoch %PFLASH_CMD_ACTIVATE names or else
 *	to one more than before.
 * @PFLASH_A_DEV_FLUSH_ERROR: u32, %PFLASH_CMD_FLUSH_NTF only: the errno
 *	(positive) the flush failed with, 0 if it succeeded.
 * @PFLASH_A_DEV_UUID: binary, %PFLASH_UUID_LEN bytes: the device's
 *	identity, which its exported state carries and an import takes on.
 *	Random at creation unless %PFLASH_CMD_DEV_NEW gives one.
 * @PFLASH_A_DEV_FLUSH_PENDING: u8, reply only: 1 if the device owes its
 *	backing file a flush of every block an import changed, which
 *	activation performs: an import set it.
 * @PFLASH_A_DEV_STREAM_OFFSET: u64: where in the state stream the bytes of
 *	@PFLASH_A_DEV_STREAM_DATA belong.
 * @PFLASH_A_DEV_STREAM_DATA: binary, at most %PFLASH_STREAM_CHUNK_MAX
 *	bytes of the state stream (see linux/pflash_stream.h).
 * @PFLASH_A_DEV_STREAM_FD: u32, request only: a file descriptor, in the
 *	sender's file table, that the whole state stream is written to
 *	(%PFLASH_CMD_EXPORT) or read from (%PFLASH_CMD_IMPORT): a pipe, a
 *	socket, a regular file or a character device, open for writing or
 *	for reading; an export's never a block device, nor the backing file
 *	of a pflash device.  The kernel reads or writes it from the file's position
 *	on (which it leaves where it was), in the sender's context, in steps
 *	of up to a MiB, holding no lock meanwhile.
 * @PFLASH_A_DEV_STREAM_BYTES: u64, reply only: the length in bytes of the
 *	stream that a %PFLASH_CMD_EXPORT or %PFLASH_CMD_IMPORT with
 *	@PFLASH_A_DEV_STREAM_FD moved.
 * @PFLASH_A_DEV_STREAM_FINAL: u8, reply only: 1 if the stream that a
 *	%PFLASH_CMD_EXPORT or %PFLASH_CMD_IMPORT with @PFLASH_A_DEV_STREAM_FD
 *	moved is a device's final state (%PFLASH_STREAM_END_F_FINAL).
 * @PFLASH_A_DEV_LIVE: u8, 0 or 1, %PFLASH_CMD_EXPORT with
 *	@PFLASH_A_DEV_STREAM_FD only: a pass of a live export, driven by the
 *	sending socket.  Its first pass starts it and covers the whole
 *	device; each later one covers what was written since the pass before
 *	began, and the stream is one across them (see linux/pflash_stream.h):
 *	each pass is written at the file's position (which stays as it was)
 *	plus the stream bytes of the passes before, so that a regular file
 *	given for every pass holds the whole stream.
 *	Another socket's live export of the device is refused with EBUSY.
 *	Closing the socket, a pass that fails, an import into the device and
 *	destroying it end the live export; the device is unchanged.
 * @PFLASH_A_DEV_LIVE_FINAL: u8, 0 or 1, with @PFLASH_A_DEV_LIVE: the last
 *	pass, after which the stream ends; the device must be inactive.
 * @PFLASH_A_DEV_LIVE_PASS: u32, with @PFLASH_A_DEV_LIVE, required: the pass
 *	asked for, counted from 0.  0 starts the live export (again, in a new
 *	stream, if one was under way); any other must be the one after the
 *	last pass, or is refused with EINVAL, and with ENOENT if no live
 *	export of the socket is under way.  In the reply: the pass written.
 * @PFLASH_A_DEV_LIVE_PENDING: u64, reply only: the bytes written to the
 *	device since that pass began: what the next pass would send, at
 *	most.
 * @PFLASH_A_DEV_BACKING_DEV: u64, reply only: the device of the
 *	filesystem that holds the backing file, as stat(2) gives it in
 *	st_dev (makedev(major, minor)), taken when the device was created.
 *	With @PFLASH_A_DEV_BACKING_INO it names the backing file's inode,
 *	which stays the device's file whatever happens to the paths that
 *	name it: user space compares them with stat(2) of a path to know
 *	whether that path names a device's backing file, through hard links,
 *	symbolic links and bind mounts, and even after the file was moved,
 *	deleted or replaced (when @PFLASH_A_DEV_BACKING_PATH says so).
 *	Absent when the device has no backing file.
 * @PFLASH_A_DEV_BACKING_INO: u64, reply only: the backing file's inode
 *	number, as stat(2) gives it in st_ino.  Absent when the device has
 *	no backing file.
 * @__PFLASH_A_DEV_MAX: one more than the highest attribute
 * @PFLASH_A_DEV_MAX: the highest attribute
 */
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

/**
 * enum - commands
 *
 * @PFLASH_CMD_DEV_NEW: create a device.  Takes, all optional,
 *	@PFLASH_A_DEV_INDEX, @PFLASH_A_DEV_SIZE, @PFLASH_A_DEV_BLOCK_SIZE,
 *	@PFLASH_A_DEV_ERASE_SIZE, @PFLASH_A_DEV_READ_ONLY,
 *	@PFLASH_A_DEV_BACKING_FD, @PFLASH_A_DEV_CACHE_MODE,
 *	@PFLASH_A_DEV_WRITEBACK_INTERVAL, @PFLASH_A_DEV_STATE and
 *	@PFLASH_A_DEV_UUID.  Without
 *	a backing file the size is required and the device reads as erased
 *	flash (0xff).  With one, the device's contents are loaded from the
 *	file's first bytes, and the size defaults to the file's size; a file
 *	shorter than the size is refused.  A device created active with a
 *	backing file takes the file's lock, and is refused with EBUSY if
 *	another owner holds it.  Replies with the new device, in the form of
 *	a %PFLASH_CMD_DEV_GET reply.
 * @PFLASH_CMD_DEV_DEL: destroy the device named by @PFLASH_A_DEV_INDEX.
 *	Refused with EBUSY while the device is open (mounted, held by a
 *	process, or claimed by another driver).  Dirty blocks are written
 *	back first; if that fails, the device is kept and the command fails
 *	with the error, unless @PFLASH_A_DEV_FORCE is 1.  A device whose
 *	backing file was deleted (see "A lost backing file" below) is kept,
 *	and the command fails with ENOENT, unless @PFLASH_A_DEV_FORCE is 1:
 *	its contents are in memory only.
 * @PFLASH_CMD_DEV_GET: describe the device named by @PFLASH_A_DEV_INDEX, or,
 *	as a dump, every device in index order.  A reply carries
 *	@PFLASH_A_DEV_INDEX, @PFLASH_A_DEV_SIZE, @PFLASH_A_DEV_BLOCK_SIZE,
 *	@PFLASH_A_DEV_ERASE_SIZE, @PFLASH_A_DEV_READ_ONLY,
 *	@PFLASH_A_DEV_STATE, @PFLASH_A_DEV_EPOCH, @PFLASH_A_DEV_UUID and
 *	@PFLASH_A_DEV_FLUSH_PENDING, and for a device with a backing file,
 *	@PFLASH_A_DEV_BACKING_PATH, @PFLASH_A_DEV_BACKING_DEV,
 *	@PFLASH_A_DEV_BACKING_INO,
 *	@PFLASH_A_DEV_DIRTY_BYTES and @PFLASH_A_DEV_WRITEBACK_ERROR; for a
 *	writable one also @PFLASH_A_DEV_CACHE_MODE, and in writeback mode
 *	@PFLASH_A_DEV_WRITEBACK_INTERVAL.
 * @PFLASH_CMD_FLUSH: write the dirty blocks of the device named by
 *	@PFLASH_A_DEV_INDEX to its backing file, or the whole device with
 *	@PFLASH_A_DEV_FLUSH_FULL, then fsync the file.  On failure the blocks
 *	stay dirty and the command fails with the error (EIO, ENOSPC, ...).
 *	A device without a backing file, or a read-only one, has nothing to
 *	write: the command succeeds and writes nothing.  So does an inactive
 *	device, which wrote everything back when it was inactivated; but a
 *	full flush of an inactive device is refused with EROFS.  Refused
 *	with ENOENT if the backing file was lost (see below), the blocks
 *	still dirty.
 * @PFLASH_CMD_INACTIVATE: give up ownership of the backing file.  Waits for
 *	the requests in flight, writes back every dirty block and fsyncs,
 *	then turns the device inactive and drops its lock.  If the writeback
 *	fails, the device stays active and the command fails with the
 *	error.  Refused with EBUSY while the device is held exclusively,
 *	unless @PFLASH_A_DEV_FORCE is 1, and with ENOENT if the device
 *	writes its backing file and that file was deleted (see below).
 *	Inactivating an inactive device succeeds and changes nothing.
 *	Replies with the device.
 * @PFLASH_CMD_ACTIVATE: take ownership of the backing file.  Takes
 *	@PFLASH_A_DEV_INDEX and, optionally, @PFLASH_A_DEV_EPOCH, which must
 *	be greater than the device's epoch (else ESTALE).  Takes the file's
 *	lock (EBUSY if another owner holds it).  If the device owes a full
 *	flush (@PFLASH_A_DEV_FLUSH_PENDING), it then writes the entire device
 *	to the backing file and fsyncs, and only after that accepts writes;
 *	if that fails, the device stays inactive and still owes the flush.
 *	Refused with ENOENT if the backing file was lost (see below).
 *	Activating an active device succeeds and changes nothing, if it
 *	names no epoch or the device's own.  Replies with the device.
 * @PFLASH_CMD_DEV_NEW_NTF: event: a device was created.  Carries the
 *	device, as a %PFLASH_CMD_DEV_GET reply does, as do all events.
 * @PFLASH_CMD_DEV_DEL_NTF: event: a device was destroyed.
 * @PFLASH_CMD_INACTIVATE_NTF: event: a device turned inactive.
 * @PFLASH_CMD_ACTIVATE_NTF: event: a device turned active.
 * @PFLASH_CMD_FLUSH_NTF: event: %PFLASH_CMD_FLUSH ran; also carries
 *	@PFLASH_A_DEV_FLUSH_FULL and @PFLASH_A_DEV_FLUSH_ERROR.
 * @PFLASH_CMD_EXPORT: the state stream of the device named by
 *	@PFLASH_A_DEV_INDEX.  Allowed in any state, and changes nothing.  Only
 *	an export of an inactive device is final (see
 *	%PFLASH_STREAM_END_F_FINAL).  Ends with ENODEV if the device is
 *	destroyed meanwhile.  As a do request with @PFLASH_A_DEV_STREAM_FD,
 *	the kernel writes the whole stream into that file descriptor and
 *	then replies with the device, @PFLASH_A_DEV_STREAM_BYTES and
 *	@PFLASH_A_DEV_STREAM_FINAL; a signal ends it with ECANCELED, a reader
 *	that closed a pipe with EPIPE (and SIGPIPE, as for write(2)).  The
 *	stream never overwrites a store: a block device is refused with
 *	EINVAL, and the backing file of any pflash device with EBUSY.  As a
 *	dump, in messages that each carry @PFLASH_A_DEV_INDEX,
 *	@PFLASH_A_DEV_STREAM_OFFSET and @PFLASH_A_DEV_STREAM_DATA; the stream
 *	is their data, in order.
 * @PFLASH_CMD_IMPORT: one piece of a state stream for the device named by
 *	@PFLASH_A_DEV_INDEX, in @PFLASH_A_DEV_STREAM_DATA, which belongs at
 *	@PFLASH_A_DEV_STREAM_OFFSET.  The device must be inactive.  Offset 0
 *	starts an import, dropping any unfinished one; every later piece
 *	must come from the same socket and start where the one before ended.
 *	The stream is checked as it comes, into a staging buffer; the piece
 *	that ends it commits it: the device's contents, epoch and identity
 *	are replaced in one step, and unless the device is read-only or has
 *	no backing file it owes its file a flush (@PFLASH_A_DEV_FLUSH_PENDING)
 *	of every block the stream changed against the device's contents,
 *	which are its file's while it is inactive.
 *	The backing file is never touched.  That piece's reply is the
 *	device; earlier pieces are only acknowledged.  A bad piece fails
 *	with a message that says what is wrong, ends the import, and leaves
 *	the device exactly as it was.  Closing the socket ends an
 *	unfinished import.  With @PFLASH_A_DEV_STREAM_FD instead of the
 *	offset and the data, the kernel reads the whole stream from that
 *	file descriptor, up to its end of file, which must follow the END
 *	record, commits it and replies with the device,
 *	@PFLASH_A_DEV_STREAM_BYTES and @PFLASH_A_DEV_STREAM_FINAL; a signal
 *	ends it with ECANCELED.  While such
 *	an import runs, another import of the device is refused with EBUSY,
 *	and activating or destroying the device ends it.
 * @PFLASH_CMD_IMPORT_NTF: event: an import was committed.
 * @__PFLASH_CMD_MAX: one more than the highest command
 * @PFLASH_CMD_MAX: the highest command
 */
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

	__PFLASH_CMD_MAX,
	PFLASH_CMD_MAX = (__PFLASH_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_PFLASH_H */
