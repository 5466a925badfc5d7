/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pfnl: a small client library for the "pflash" generic netlink family,
 * built on libnl-3 and libnl-genl-3.  pflashctl and the kselftests link it.
 *
 * Conventions:
 *  - every function that can fail returns 0 (or a documented non-negative
 *    value) on success and a negative errno on failure; nothing is printed
 *    and nothing exits;
 *  - there is no global state: a handle is one netlink socket, and a
 *    program that issues requests from several threads opens one handle
 *    per thread;
 *  - a handle issues one request at a time and reads all its replies before
 *    it returns, so a new request always starts on a quiet socket.
 */
#ifndef PFNL_H
#define PFNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/msg.h>

#include <linux/pflash.h>

struct pfnl;

/*
 * The longest extended-ack message kept, including the terminating NUL: a
 * message may name a backing file, of up to PFLASH_BACKING_PATH_MAX bytes.
 */
#define PFNL_MSG_MAX	(PFLASH_BACKING_PATH_MAX + 512)

/**
 * struct pfnl_ack - the kernel's answer to the last request
 * @error: the positive errno the kernel answered with, 0 for success
 * @msg: the kernel's extended-ack message, "" if it sent none.  With
 *	@error 0 it is a warning.
 * @offset: byte offset, from the start of the request's netlink header, of
 *	the attribute the kernel blamed; 0 if it blamed none
 * @attr: the type of the attribute at @offset in the request; 0 if none
 * @miss_type: the type of a required attribute the request lacked; 0 if
 *	none
 *
 * Attribute types start at 1, so 0 never names one.
 */
struct pfnl_ack {
	int error;
	char msg[PFNL_MSG_MAX];
	uint32_t offset;
	uint16_t attr;
	uint16_t miss_type;
};

/**
 * pfnl_open() - connect to the pflash family
 * @hp: where to store the new handle
 *
 * Return: 0, -ENOENT if the kernel has no "pflash" family (the module is
 * not loaded), or another negative errno.
 */
int pfnl_open(struct pfnl **hp);

/** pfnl_close() - close a handle; NULL is allowed. */
void pfnl_close(struct pfnl *h);

/**
 * pfnl_last_ack() - the kernel's answer to the handle's last request
 *
 * Cleared when a request starts; filled in from the kernel's ACK, error or
 * end-of-dump message.  Valid until the next request on the same handle.
 */
const struct pfnl_ack *pfnl_last_ack(const struct pfnl *h);

/**
 * pfnl_msg_new() - start a request
 * @h: handle
 * @cmd: a PFLASH_CMD_* command (or any other number, to test the kernel)
 * @flags: extra netlink flags, e.g. NLM_F_DUMP
 *
 * Return: a message with the netlink and genetlink headers in place, ready
 * for nla_put*() calls, or NULL if out of memory.  Free it with
 * nlmsg_free().
 */
struct nl_msg *pfnl_msg_new(const struct pfnl *h, uint8_t cmd,
			    int flags);

/**
 * typedef pfnl_msg_fn - called with each reply message
 *
 * Return: 0, or a negative errno that ends the request with that error.
 * The remaining replies are still read, but no longer passed on.
 */
typedef int (*pfnl_msg_fn)(struct nl_msg *msg, void *arg);

/**
 * pfnl_exec() - send a request and read every reply to it
 * @h: handle
 * @msg: the request, from pfnl_msg_new(); the caller still owns it
 * @fn: called with each reply message, may be NULL
 * @arg: passed to @fn
 *
 * Sends @msg with NLM_F_REQUEST and NLM_F_ACK added to its flags, and a
 * sequence number, then waits for the kernel's ACK (a request without
 * NLM_F_DUMP) or the end of the dump (with NLM_F_DUMP).
 * pfnl_last_ack() then tells what the kernel said.
 *
 * Return: 0; the negated errno of a kernel error; -EINTR if a dump was
 * interrupted by a concurrent change (repeat it); the error @fn returned;
 * or another negative errno if the socket failed.
 */
int pfnl_exec(struct pfnl *h, struct nl_msg *msg,
	      pfnl_msg_fn fn, void *arg);

/**
 * struct pfnl_dev - a device, as PFLASH_A_DEV_* attributes describe it
 * @attrs: which attributes are valid: bit PFNL_DEV_ATTR(a) for each
 *	attribute a.  pfnl_dev_parse() sets it to the attributes the reply
 *	carried; pfnl_dev_put() sends the attributes set in it.
 *
 * Each other member holds the attribute named after it (@block_size holds
 * PFLASH_A_DEV_BLOCK_SIZE); uapi/linux/pflash.h says what they mean.  A
 * string member is NUL-terminated.
 */
struct pfnl_dev {
	uint64_t attrs;
	uint32_t index;
	uint64_t size;
	uint32_t block_size;
	uint32_t erase_size;
	bool read_only;
	uint32_t backing_fd;
	char backing_path[PFLASH_BACKING_PATH_MAX];
	uint32_t cache_mode;
	uint32_t writeback_interval;
	uint64_t dirty_bytes;
	uint32_t writeback_error;
	bool flush_full;
	bool force;
	uint32_t state;
	uint64_t epoch;
	uint32_t flush_error;
	uint8_t uuid[PFLASH_UUID_LEN];
	bool flush_pending;
	uint32_t stream_fd;
	uint64_t stream_bytes;
	bool stream_final;
	bool live;
	bool live_final;
	uint32_t live_pass;
	uint64_t live_pending;
	uint64_t backing_dev;
	uint64_t backing_ino;
};

#define PFNL_DEV_ATTR(attr)	(1ULL << (attr))

/* Whether @dev has a valid @attr. */
static inline bool pfnl_dev_has(const struct pfnl_dev *dev, int attr)
{
	return dev->attrs & PFNL_DEV_ATTR(attr);
}

/**
 * pfnl_dev_parse() - read a device reply
 * @msg: a reply carrying PFLASH_A_DEV_* attributes
 * @dev: filled in; attributes the reply lacks read as 0 and are not in
 *	@dev->attrs.  Attributes this library does not know are ignored.
 *
 * Return: 0, or -EPROTO if an attribute is malformed (too short, a string
 * without its NUL, a binary of the wrong length).
 */
int pfnl_dev_parse(struct nl_msg *msg, struct pfnl_dev *dev);

/**
 * pfnl_dev_put() - add the attributes set in @dev->attrs to a request
 *
 * Return: 0, -EINVAL if @dev->attrs has an attribute this library does not
 * know, or another negative errno if @msg is full.
 */
int pfnl_dev_put(struct nl_msg *msg, const struct pfnl_dev *dev);

/**
 * pfnl_dev_get() - the value of an integer or flag attribute of @dev
 *
 * Return: the value, whether or not @dev->attrs has @attr; 0 for a string
 * or binary attribute, or one this library does not know.
 */
uint64_t pfnl_dev_get(const struct pfnl_dev *dev, int attr);

/**
 * pfnl_dev_set() - set an integer or flag attribute of @dev
 *
 * Stores @val in the member that holds @attr (a flag becomes @val != 0)
 * and adds @attr to @dev->attrs.  Does nothing for a string or binary
 * attribute (see pfnl_dev_set_data()), or one this library does not know.
 */
void pfnl_dev_set(struct pfnl_dev *dev, int attr, uint64_t val);

/**
 * pfnl_dev_set_data() - set a string or binary attribute of @dev
 * @dev: the device
 * @attr: a string or binary attribute
 * @data: the value: a string's characters, or a binary's bytes
 * @len: how many: a string's length (without a NUL), or exactly the size
 *	of a binary's member
 *
 * Copies @data into the member that holds @attr, a string with its NUL,
 * and adds @attr to @dev->attrs.
 *
 * Return: 0, or -EINVAL for an attribute that is not a string or binary
 * this library knows, or a value that does not fit its member.
 */
int pfnl_dev_set_data(struct pfnl_dev *dev, int attr, const void *data,
		      size_t len);

/**
 * pfnl_dev_attr_name() - the name of a PFLASH_A_DEV_* attribute
 *
 * Return: the name of the struct pfnl_dev member ("size", "block_size"),
 * or NULL for an attribute this library does not know.
 */
const char *pfnl_dev_attr_name(int attr);

/**
 * pfnl_dev_do() - send a device command and wait for its ACK
 * @h: handle
 * @cmd: PFLASH_CMD_*
 * @req: the attributes to send (those set in @req->attrs); NULL sends none
 * @reply: if not NULL, receives the device the kernel replied with;
 *	@reply->attrs stays 0 if it replied with none
 *
 * Return: as for pfnl_exec().
 */
int pfnl_dev_do(struct pfnl *h, uint8_t cmd,
		const struct pfnl_dev *req, struct pfnl_dev *reply);

/**
 * typedef pfnl_dev_fn - called with each device of a dump
 *
 * Return: 0, or a negative errno that ends the dump with that error.
 */
typedef int (*pfnl_dev_fn)(const struct pfnl_dev *dev, void *arg);

/**
 * pfnl_dev_dump() - dump every device, in index order
 *
 * Return: as for pfnl_exec().
 */
int pfnl_dev_dump(struct pfnl *h, pfnl_dev_fn fn, void *arg);

/**
 * pfnl_import() - send one piece of a state stream to a device
 * @h: handle; every piece of an import must be sent on the same handle
 * @index: the device
 * @offset: where in the stream the piece belongs: 0 starts an import, and
 *	each later piece starts where the one before ended
 * @data: the piece
 * @len: its length, at most PFLASH_STREAM_CHUNK_MAX
 * @reply: receives the device, if the kernel replied with it: it does to
 *	the piece that completes the stream, and commits it; else
 *	@reply->attrs is 0
 *
 * Return: as for pfnl_exec(); -EINVAL if @len is too large.  A piece
 * the kernel refuses ends the import, and leaves the device as it was.
 */
int pfnl_import(struct pfnl *h, uint32_t index, uint64_t offset,
		const void *data, size_t len, struct pfnl_dev *reply);

/**
 * pfnl_export_fd() - export a device's state stream into a file descriptor
 * @h: handle
 * @index: the device
 * @fd: where the kernel writes the whole stream: a pipe, a socket, a file
 *	open for writing (from its position on)
 * @reply: receives the device, with @stream_bytes and @stream_final
 *
 * The kernel writes the stream itself, so this returns only once it is all
 * written, or the export failed.  A signal ends it (-ECANCELED), and so does a
 * reader that closed a pipe (-EPIPE, and SIGPIPE, as for write(2)).
 *
 * Return: as for pfnl_exec().
 */
int pfnl_export_fd(struct pfnl *h, uint32_t index, int fd,
		   struct pfnl_dev *reply);

/**
 * pfnl_export_pass() - write the next pass of a live export
 * @h: handle, which drives the live export: every pass must come through
 *	it, and closing it ends the export
 * @index: the device
 * @fd: where the kernel writes the pass: the same stream for every pass
 * @pass: the pass asked for, counted from 0: the one after the last pass
 *	of @h, or 0, which starts the export again (in a new stream)
 * @final: the last pass, after which the stream ends; the device must be
 *	inactive
 * @reply: receives the device, with @stream_bytes (of the pass),
 *	@stream_final, @live_pass and @live_pending (written since the pass
 *	began)
 *
 * The first pass of @h starts the export with the stream's header, and
 * covers the whole device; each later one what was written since the pass
 * before began.  A failed pass ends the export: the next starts again at
 * pass 0, in a new stream.
 *
 * Return: as for pfnl_export_fd().
 */
int pfnl_export_pass(struct pfnl *h, uint32_t index, int fd, uint32_t pass,
		     bool final, struct pfnl_dev *reply);

/**
 * pfnl_import_fd() - import a state stream from a file descriptor
 * @h: handle
 * @index: the device, inactive
 * @fd: where the kernel reads the whole stream from, up to its end of
 *	file, which must follow the stream's END record
 * @reply: receives the device, with @stream_bytes, once committed
 *
 * A signal ends it (-ECANCELED); the device is then as it was.
 *
 * Return: as for pfnl_exec().
 */
int pfnl_import_fd(struct pfnl *h, uint32_t index, int fd,
		   struct pfnl_dev *reply);

/**
 * pfnl_events_open() - open a handle on the events group
 * @hp: where to store the new handle
 *
 * The handle receives the family's events (PFLASH_MCGRP_EVENTS), with
 * pfnl_events_recv(); it is meant for nothing else.
 *
 * Return: as for pfnl_open(); -EPERM without CAP_NET_ADMIN.
 */
int pfnl_events_open(struct pfnl **hp);

/**
 * typedef pfnl_event_fn - called with each event
 * @cmd: the event: PFLASH_CMD_*_NTF
 * @dev: the device it is about, as the event describes it
 * @arg: the caller's
 *
 * Return: 0, or a negative errno that pfnl_events_recv() returns.
 */
typedef int (*pfnl_event_fn)(uint8_t cmd, const struct pfnl_dev *dev,
			     void *arg);

/**
 * pfnl_events_recv() - wait for events, and pass them on
 * @h: a handle from pfnl_events_open()
 * @fn: called with each event that arrived, in order
 * @arg: passed to @fn
 *
 * Waits for the next message, then passes on the events it carries.
 *
 * Return: 0; -ENOBUFS if events arrived faster than they were read, and
 * the kernel dropped some; the error @fn returned; or another negative
 * errno if the socket failed.
 */
int pfnl_events_recv(struct pfnl *h, pfnl_event_fn fn,
		     void *arg);

#endif /* PFNL_H */
