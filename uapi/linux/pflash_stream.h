/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The pflash state stream: what PFLASH_CMD_EXPORT produces and
 * PFLASH_CMD_IMPORT consumes, and what `pflashctl export` writes to a file
 * or a pipe.  Documentation/pflash/stream-format.rst specifies it in full.
 *
 * A stream is a sequence of records.  Every record is a struct
 * pflash_stream_rec followed by rec.len bytes of payload.  All integers are
 * little-endian.  A stream is, in order:
 *
 *  - one %PFLASH_REC_HEADER record, whose payload is a struct
 *    pflash_stream_info;
 *  - extent records (%PFLASH_REC_DATA, %PFLASH_REC_ERASED, %PFLASH_REC_ZERO)
 *    that cover the device exactly once, in order, from offset 0 to its
 *    size: each starts where the one before ended;
 *  - one %PFLASH_REC_END record, whose payload is a struct
 *    pflash_stream_end; nothing follows it.
 *
 * A live export (version 1.1) sends the device in passes, each begun by a
 * %PFLASH_REC_PASS record: pass 0, right after the HEADER, covers the
 * device exactly once, in order, as above; each later pass holds extents
 * in increasing order, none overlapping another of the same pass, of what
 * changed since the pass before began.  A reader applies the passes in
 * order, so that what a later pass sends replaces what an earlier one
 * did.  The last pass before the END is marked %PFLASH_STREAM_PASS_F_FINAL.
 *
 * Every record carries a CRC-32C (Castagnoli, as iSCSI uses: reflected,
 * initial value and final XOR 0xffffffff) of its header, with the crc field
 * zero, followed by its payload.
 *
 * Versions.  The major version changes only when a reader of the old major
 * version could misread the stream; a reader refuses every major version
 * but its own.  Every major version starts with a HEADER record in this
 * layout, so that any reader can find the version and refuse cleanly.  A
 * minor version only adds to the format, in ways an older reader of the
 * same major version can skip:
 *  - fields appended to the HEADER and END payloads, which an older reader
 *    ignores (their length is rec.len, and the CRC covers them);
 *  - new record types with %PFLASH_REC_F_OPTIONAL set, which an older
 *    reader skips.
 * A minor version may also add a record type without that flag, which an
 * older reader refuses, cleanly, where the stream would mean something it
 * cannot read: 1.1's PASS, which only live exports write.
 * A record type a reader does not know and that is not optional, or a
 * record flag it does not know, makes it refuse the stream: that record
 * changes what the stream means.  A newer reader reads older minor versions
 * of its major version in full; a field that an older minor version lacks
 * takes the default its documentation gives.  An export that is not live
 * writes 1.2 in the HEADER and no PASS record, and 1.2 only appends a
 * field to the END payload, so that a 1.0 reader reads it in full.
 */
#ifndef _UAPI_LINUX_PFLASH_STREAM_H
#define _UAPI_LINUX_PFLASH_STREAM_H

#include <linux/const.h>
#include <linux/types.h>

#define PFLASH_STREAM_MAGIC		0x534c4650	/* "PFLS" */
#define PFLASH_STREAM_VERSION_MAJOR	1
#define PFLASH_STREAM_VERSION_MINOR	2

/* The largest payload of a DATA record. */
#define PFLASH_STREAM_DATA_MAX		65536
/* The largest payload of any other record. */
#define PFLASH_STREAM_META_MAX		4096
/*
 * The HEADER and END payloads of version 1.0, and the PASS payload of
 * version 1.1, the least a reader of major version 1 accepts: later minor
 * versions may append fields, so a reader must not require sizeof() of the
 * structures it was built with.
 */
#define PFLASH_STREAM_INFO_LEN_1_0	48
#define PFLASH_STREAM_END_LEN_1_0	48
#define PFLASH_STREAM_PASS_LEN_1_1	8
/* The END payload of version 1.2, with @file_token. */
#define PFLASH_STREAM_END_LEN_1_2	56
/* Every major version's HEADER payload starts with the two versions. */
#define PFLASH_STREAM_VERSION_LEN	4

/**
 * enum pflash_stream_rec_type - record types
 * @PFLASH_REC_HEADER: the first record; payload: struct pflash_stream_info.
 * @PFLASH_REC_DATA: the bytes of [offset, offset + length); the payload is
 *	those bytes, so len == length, at most %PFLASH_STREAM_DATA_MAX.
 * @PFLASH_REC_ERASED: [offset, offset + length) is erased, all 0xff; no
 *	payload.
 * @PFLASH_REC_ZERO: [offset, offset + length) is all zero bytes; no
 *	payload.
 * @PFLASH_REC_END: the last record; payload: struct pflash_stream_end.
 * @PFLASH_REC_PASS: (1.1) the start of a pass of a live export; payload:
 *	struct pflash_stream_pass.  Not optional: a reader of 1.0, which
 *	does not know it, refuses the stream, whose later passes overlap the
 *	first.
 */
enum pflash_stream_rec_type {
	PFLASH_REC_HEADER = 1,
	PFLASH_REC_DATA,
	PFLASH_REC_ERASED,
	PFLASH_REC_ZERO,
	PFLASH_REC_END,
	PFLASH_REC_PASS,
};

/* A reader that does not know the record's type may skip it. */
#define PFLASH_REC_F_OPTIONAL		_BITUL(0)

/**
 * struct pflash_stream_rec - the header of every record (32 bytes)
 * @magic: %PFLASH_STREAM_MAGIC
 * @type: &enum pflash_stream_rec_type
 * @flags: PFLASH_REC_F_*
 * @len: payload bytes that follow this header
 * @crc: CRC-32C of this header, with @crc zero, and the payload
 * @offset: for extent records, the device offset the record starts at;
 *	else 0
 * @length: for extent records, the device bytes the record covers, at
 *	least 1; else 0
 */
struct pflash_stream_rec {
	__le32 magic;
	__le16 type;
	__le16 flags;
	__le32 len;
	__le32 crc;
	__le64 offset;
	__le64 length;
};

/* The source device was read-only. */
#define PFLASH_STREAM_INFO_F_READ_ONLY	_BITUL(0)
/* The source device was inactive when the export began. */
#define PFLASH_STREAM_INFO_F_INACTIVE	_BITUL(1)
/* (1.1) The stream is a live export's, in passes. */
#define PFLASH_STREAM_INFO_F_LIVE	_BITUL(2)

/**
 * struct pflash_stream_info - the HEADER payload (48 bytes in 1.0)
 * @version_major: %PFLASH_STREAM_VERSION_MAJOR of the writer
 * @version_minor: %PFLASH_STREAM_VERSION_MINOR of the writer
 * @flags: PFLASH_STREAM_INFO_F_*; a reader ignores flags it does not know
 * @size: the device's size in bytes
 * @epoch: the device's ownership epoch
 * @block_size: the device's logical block size
 * @erase_size: the device's erase-block size
 * @uuid: the device's identity, which an importing device takes on
 */
struct pflash_stream_info {
	__le16 version_major;
	__le16 version_minor;
	__le32 flags;
	__le64 size;
	__le64 epoch;
	__le32 block_size;
	__le32 erase_size;
	__u8 uuid[16];
};

/* (1.1) The pass was made while the source device was inactive. */
#define PFLASH_STREAM_PASS_F_FINAL	_BITUL(0)

/**
 * struct pflash_stream_pass - the PASS payload (8 bytes in 1.1)
 * @pass: the pass's number: 0, then one more for each
 * @flags: PFLASH_STREAM_PASS_F_*; a reader ignores flags it does not know
 */
struct pflash_stream_pass {
	__le32 pass;
	__le32 flags;
};

/*
 * The device was inactive for the whole export (of a live export: for
 * its final pass), so the stream is its final state.  Without it, the
 * stream is a snapshot of a device that may have changed while it was
 * read.
 */
#define PFLASH_STREAM_END_F_FINAL	_BITUL(0)

/**
 * struct pflash_stream_end - the END payload (48 bytes in 1.0, 56 in 1.2)
 * @flags: PFLASH_STREAM_END_F_*; a reader ignores flags it does not know
 * @reserved: written as zero, ignored by readers
 * @records: the number of records before this one, HEADER (and PASS)
 *	included
 * @stream_bytes: the number of stream bytes before this record
 * @data_bytes: the device bytes that DATA records cover
 * @erased_bytes: the device bytes that ERASED records cover
 * @zero_bytes: the device bytes that ZERO records cover
 * @file_token: (1.2) of a final stream, a token for the source device's
 *	backing file as it held the stream's contents, which only the kernel
 *	that wrote the stream can resolve (Documentation/pflash/design.rst);
 *	0 for none, and for a shorter payload
 *
 * @data_bytes + @erased_bytes + @zero_bytes is the device's size, and of a
 * live export's stream, that and what the later passes sent.
 */
struct pflash_stream_end {
	__le32 flags;
	__le32 reserved;
	__le64 records;
	__le64 stream_bytes;
	__le64 data_bytes;
	__le64 erased_bytes;
	__le64 zero_bytes;
	__le64 file_token;
};

#endif /* _UAPI_LINUX_PFLASH_STREAM_H */
