// SPDX-License-Identifier: GPL-2.0
/*
 * pfnl: a small client library for the "pflash" generic netlink family.
 *
 * libnl 3.7 has no API for extended acks, so the handle asks for them with
 * NETLINK_EXT_ACK and reads the TLVs that follow the kernel's struct
 * nlmsgerr (or the status of an NLMSG_DONE) itself.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/pflash_stream.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "pfnl.h"
#include "pfnl_internal.h"
#include "pflash_tools.h"

/* The largest request: a PFLASH_CMD_IMPORT with a whole piece. */
#define IMPORT_MSG_MAX	nlmsg_total_size(GENL_HDRLEN +			\
					 nla_total_size(sizeof(uint32_t)) + \
					 nla_total_size(sizeof(uint64_t)) + \
					 nla_total_size(PFLASH_STREAM_CHUNK_MAX))

/*
 * What one recvmsg() takes.  The kernel fills a dump's messages up to the
 * largest read it has seen (at most 32 KiB), and nothing it sends pflash
 * is larger: with a buffer this size libnl need not peek at each datagram
 * to size its buffer, which costs a second copy of every export message.
 */
#define RECV_BUF	(64 * 1024)

/* libnl reports its own error codes: turn one back into a negative errno. */
int pfnl_nlerr(int nle)
{
	static const int errnos[] = {
		[NLE_INTR]		= EINTR,
		[NLE_BAD_SOCK]		= EBADF,
		[NLE_AGAIN]		= EAGAIN,
		[NLE_NOMEM]		= ENOMEM,
		[NLE_EXIST]		= EEXIST,
		[NLE_INVAL]		= EINVAL,
		[NLE_RANGE]		= ERANGE,
		[NLE_MSGSIZE]		= EMSGSIZE,
		[NLE_OPNOTSUPP]		= EOPNOTSUPP,
		[NLE_AF_NOSUPPORT]	= EAFNOSUPPORT,
		[NLE_OBJ_NOTFOUND]	= ENOENT,
		[NLE_MSG_OVERFLOW]	= ENOBUFS,
		[NLE_BUSY]		= EBUSY,
		[NLE_PROTO_MISMATCH]	= EPROTONOSUPPORT,
		[NLE_NOACCESS]		= EACCES,
		[NLE_PERM]		= EPERM,
		[NLE_NODEV]		= ENODEV,
		[NLE_DUMP_INTR]		= EINTR,
	};
	unsigned int i = -nle;

	if (i < ARRAY_SIZE(errnos) && errnos[i])
		return -errnos[i];
	/* Truncated, out-of-sequence or otherwise unexpected messages. */
	return -EPROTO;
}

/* The type of the attribute @offset bytes into request @msg, or 0. */
uint16_t pfnl_attr_at(struct nl_msg *msg, uint32_t offset)
{
	const struct nlmsghdr *nlh = nlmsg_hdr(msg);

	if (offset < NLMSG_HDRLEN + GENL_HDRLEN ||
	    offset > nlh->nlmsg_len - NLA_HDRLEN)
		return 0;
	return nla_type((const struct nlattr *)((const char *)nlh + offset));
}

/*
 * Record the kernel's answer to the request in progress, which ends it:
 * @error is the positive errno (0 for success), and the extended-ack TLVs,
 * if the kernel sent any, start @hdrlen bytes into @nlh's payload.
 */
static int ack_parse(struct pfnl *h, struct nlmsghdr *nlh, int error,
		     int hdrlen)
{
	static const struct nla_policy policy[NLMSGERR_ATTR_MAX + 1] = {
		[NLMSGERR_ATTR_MSG]		= { .type = NLA_STRING },
		[NLMSGERR_ATTR_OFFS]		= { .type = NLA_U32 },
		[NLMSGERR_ATTR_MISS_TYPE]	= { .type = NLA_U32 },
	};
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct pfnl_ack *ack = &h->ack;

	h->done = true;
	ack->error = error;
	/* Without valid TLVs the errno is all there is to tell. */
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    nlmsg_parse(nlh, hdrlen, tb, NLMSGERR_ATTR_MAX, policy) < 0)
		return NL_STOP;

	if (tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(ack->msg, tb[NLMSGERR_ATTR_MSG], sizeof(ack->msg));
	if (tb[NLMSGERR_ATTR_OFFS]) {
		ack->offset = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
		ack->attr = pfnl_attr_at(h->req, ack->offset);
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		ack->miss_type = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
	return NL_STOP;
}

/*
 * An NLMSG_ERROR message: an ACK (error 0) or an error.  The TLVs follow
 * the struct nlmsgerr and, unless the kernel capped it, the payload of the
 * request it echoes.
 */
int pfnl_errmsg_parse(struct pfnl *h, struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = nlmsg_data(nlh);
	int hdrlen = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hdrlen += nlmsg_datalen(&e->msg);
	return ack_parse(h, nlh, -e->error, hdrlen);
}

int pfnl_ack_cb(struct nl_msg *msg, void *arg)
{
	return pfnl_errmsg_parse(arg, nlmsg_hdr(msg));
}

static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	(void)nla;
	/* libnl passes the payload of the message: its header precedes it. */
	return pfnl_errmsg_parse(arg, (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN));
}

/* NLMSG_DONE ends a dump; its payload is the dump's status, 0 or -errno. */
int pfnl_finish_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int status = 0;

	if (nlmsg_datalen(nlh) >= (int)sizeof(status))
		memcpy(&status, nlmsg_data(nlh), sizeof(status));
	return ack_parse(arg, nlh, -status, sizeof(status));
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct pfnl *h = arg;

	if (h->fn && !h->fn_err)
		h->fn_err = h->fn(msg, h->arg);
	return NL_OK;
}

/* Open a handle on generic netlink family @name. */
int pfnl_open_family(struct pfnl **hp, const char *name)
{
	static const int one = 1;
	struct pfnl *h;
	int fd, ret;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->sk = nl_socket_alloc();
	h->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!h->sk || !h->cb) {
		ret = -ENOMEM;
		goto err;
	}

	ret = genl_connect(h->sk);
	if (ret < 0) {
		ret = pfnl_nlerr(ret);
		goto err;
	}
	/* The kernel refuses a request larger than the send buffer. */
	ret = nl_socket_set_buffer_size(h->sk, 0, IMPORT_MSG_MAX);
	if (ret < 0) {
		ret = pfnl_nlerr(ret);
		goto err;
	}
	ret = nl_socket_set_msg_buf_size(h->sk, RECV_BUF);
	if (ret < 0) {
		ret = pfnl_nlerr(ret);
		goto err;
	}
	nl_socket_disable_msg_peek(h->sk);
	fd = nl_socket_get_fd(h->sk);
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one))) {
		ret = -errno;
		goto err;
	}

	ret = genl_ctrl_resolve(h->sk, name);
	if (ret < 0) {
		ret = pfnl_nlerr(ret);
		goto err;
	}
	h->family = ret;

	nl_cb_set(h->cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, h);
	nl_cb_set(h->cb, NL_CB_ACK, NL_CB_CUSTOM, pfnl_ack_cb, h);
	nl_cb_set(h->cb, NL_CB_FINISH, NL_CB_CUSTOM, pfnl_finish_cb, h);
	nl_cb_err(h->cb, NL_CB_CUSTOM, err_cb, h);
	*hp = h;
	return 0;

err:
	pfnl_close(h);
	return ret;
}

int pfnl_open(struct pfnl **hp)
{
	return pfnl_open_family(hp, PFLASH_FAMILY_NAME);
}

void pfnl_close(struct pfnl *h)
{
	if (!h)
		return;
	nl_cb_put(h->cb);
	nl_socket_free(h->sk);
	free(h);
}

const struct pfnl_ack *pfnl_last_ack(const struct pfnl *h)
{
	return &h->ack;
}

/* Put the headers of a request in @msg, new; NULL, @msg freed, on failure. */
static struct nl_msg *msg_init(const struct pfnl *h, struct nl_msg *msg,
			       uint8_t cmd, int flags)
{
	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, h->family, 0,
				flags, cmd, PFLASH_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct nl_msg *pfnl_msg_new(const struct pfnl *h, uint8_t cmd,
			    int flags)
{
	return msg_init(h, nlmsg_alloc(), cmd, flags);
}

int pfnl_exec(struct pfnl *h, struct nl_msg *msg,
	      pfnl_msg_fn fn, void *arg)
{
	int ret;

	memset(&h->ack, 0, sizeof(h->ack));
	h->req = msg;
	h->fn = fn;
	h->arg = arg;
	h->fn_err = 0;
	h->done = false;

	/*
	 * The kernel ends a request with an ACK or an error, and a dump with
	 * NLMSG_DONE: each of them sets h->done.
	 */
	ret = nl_send_auto(h->sk, msg);
	while (ret >= 0 && !h->done)
		ret = nl_recvmsgs(h->sk, h->cb);
	h->req = NULL;

	if (h->ack.error)
		return -h->ack.error;
	if (ret < 0)
		return pfnl_nlerr(ret);
	return h->fn_err;
}

/*
 * The attributes of a device: for each PFLASH_A_DEV_* attribute that the
 * library knows, the member of struct pfnl_dev that holds it, by type:
 * NLA_U8 (a flag, held in a bool), NLA_U32, NLA_U64, NLA_STRING (a char
 * array) or NLA_BINARY (a byte array, of exactly its size).
 */
struct dev_attr {
	const char *name;
	int type;
	size_t offset;
	size_t size;
};

/* Member @member of a struct pfnl_dev at 0: its address is its offset. */
#define DEV_MEMBER(member)	((*(struct pfnl_dev *)NULL).member)
/*
 * The entry of @attr, named @str and held in @lval, a DEV_MEMBER(): each
 * of its uses but one is in typeof() or sizeof(), never evaluated.  The
 * _Generic() stops the build if @lval is not a @ctype.
 */
#define DEV_ENTRY(attr, nla_type, ctype, str, lval)			\
	[attr] = {							\
		.name = str,						\
		.type = nla_type,					\
		.offset = _Generic((typeof(lval)){ 0 },			\
				   ctype : (size_t)&(lval)),		\
		.size = sizeof(lval),					\
	}
#define DEV_ATTR(attr, nla_type, ctype, member)				\
	DEV_ENTRY(attr, nla_type, ctype, #member, DEV_MEMBER(member))
#define DEV_FLAG(attr, member)	DEV_ATTR(attr, NLA_U8, bool, member)
#define DEV_U32(attr, member)	DEV_ATTR(attr, NLA_U32, uint32_t, member)
#define DEV_U64(attr, member)	DEV_ATTR(attr, NLA_U64, uint64_t, member)
#define DEV_STRING(attr, member) DEV_ATTR(attr, NLA_STRING, char *, member)
#define DEV_BINARY(attr, member) DEV_ATTR(attr, NLA_BINARY, uint8_t *, member)

static const struct dev_attr dev_attrs[PFLASH_A_DEV_MAX + 1] = {
	DEV_U32(PFLASH_A_DEV_INDEX, index),
	DEV_U64(PFLASH_A_DEV_SIZE, size),
	DEV_U32(PFLASH_A_DEV_BLOCK_SIZE, block_size),
	DEV_U32(PFLASH_A_DEV_ERASE_SIZE, erase_size),
	DEV_FLAG(PFLASH_A_DEV_READ_ONLY, read_only),
	DEV_U32(PFLASH_A_DEV_BACKING_FD, backing_fd),
	DEV_STRING(PFLASH_A_DEV_BACKING_PATH, backing_path),
	DEV_U32(PFLASH_A_DEV_CACHE_MODE, cache_mode),
	DEV_U32(PFLASH_A_DEV_WRITEBACK_INTERVAL, writeback_interval),
	DEV_U64(PFLASH_A_DEV_DIRTY_BYTES, dirty_bytes),
	DEV_U32(PFLASH_A_DEV_WRITEBACK_ERROR, writeback_error),
	DEV_FLAG(PFLASH_A_DEV_FLUSH_FULL, flush_full),
	DEV_FLAG(PFLASH_A_DEV_FORCE, force),
	DEV_U32(PFLASH_A_DEV_STATE, state),
	DEV_U64(PFLASH_A_DEV_EPOCH, epoch),
	DEV_U32(PFLASH_A_DEV_FLUSH_ERROR, flush_error),
	DEV_BINARY(PFLASH_A_DEV_UUID, uuid),
	DEV_FLAG(PFLASH_A_DEV_FLUSH_PENDING, flush_pending),
	DEV_U32(PFLASH_A_DEV_STREAM_FD, stream_fd),
	DEV_U64(PFLASH_A_DEV_STREAM_BYTES, stream_bytes),
	DEV_FLAG(PFLASH_A_DEV_STREAM_FINAL, stream_final),
	DEV_FLAG(PFLASH_A_DEV_LIVE, live),
	DEV_FLAG(PFLASH_A_DEV_LIVE_FINAL, live_final),
	DEV_U32(PFLASH_A_DEV_LIVE_PASS, live_pass),
	DEV_U64(PFLASH_A_DEV_LIVE_PENDING, live_pending),
	DEV_U64(PFLASH_A_DEV_BACKING_DEV, backing_dev),
	DEV_U64(PFLASH_A_DEV_BACKING_INO, backing_ino),
};

static_assert(PFLASH_A_DEV_MAX < 64,
	      "struct pfnl_dev.attrs needs a bit for every attribute");

static const struct dev_attr *dev_attr(int attr)
{
	if (attr <= 0 || attr > PFLASH_A_DEV_MAX || !dev_attrs[attr].name)
		return NULL;
	return &dev_attrs[attr];
}

const char *pfnl_dev_attr_name(int attr)
{
	const struct dev_attr *a = dev_attr(attr);

	return a ? a->name : NULL;
}

uint64_t pfnl_dev_get(const struct pfnl_dev *dev, int attr)
{
	const struct dev_attr *a = dev_attr(attr);
	const char *p = (const char *)dev;

	if (!a)
		return 0;
	p += a->offset;
	switch (a->type) {
	case NLA_U8:
		return *(const bool *)p;
	case NLA_U32:
		return *(const uint32_t *)p;
	case NLA_U64:
		return *(const uint64_t *)p;
	default:
		return 0;
	}
}

void pfnl_dev_set(struct pfnl_dev *dev, int attr, uint64_t val)
{
	const struct dev_attr *a = dev_attr(attr);
	char *p = (char *)dev;

	if (!a)
		return;
	p += a->offset;
	switch (a->type) {
	case NLA_U8:
		*(bool *)p = val;
		break;
	case NLA_U32:
		*(uint32_t *)p = val;
		break;
	case NLA_U64:
		*(uint64_t *)p = val;
		break;
	default:
		return;
	}
	dev->attrs |= PFNL_DEV_ATTR(attr);
}

int pfnl_dev_set_data(struct pfnl_dev *dev, int attr, const void *data,
		      size_t len)
{
	const struct dev_attr *a = dev_attr(attr);
	char *p = (char *)dev;

	if (!a || (a->type == NLA_STRING && len >= a->size) ||
	    (a->type == NLA_BINARY && len != a->size) ||
	    (a->type != NLA_STRING && a->type != NLA_BINARY))
		return -EINVAL;
	p += a->offset;
	memcpy(p, data, len);
	if (a->type == NLA_STRING)
		p[len] = '\0';
	dev->attrs |= PFNL_DEV_ATTR(attr);
	return 0;
}

int pfnl_dev_parse(struct nl_msg *msg, struct pfnl_dev *dev)
{
	struct nla_policy policy[PFLASH_A_DEV_MAX + 1] = { { 0 } };
	struct nlattr *tb[PFLASH_A_DEV_MAX + 1];
	const struct dev_attr *a;
	int attr;

	for (attr = 1; attr <= PFLASH_A_DEV_MAX; attr++) {
		a = &dev_attrs[attr];
		policy[attr].type = a->type;
		if (a->type == NLA_BINARY) {
			policy[attr].minlen = a->size;
			policy[attr].maxlen = a->size;
		}
	}
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, PFLASH_A_DEV_MAX, policy) < 0)
		return -EPROTO;

	memset(dev, 0, sizeof(*dev));
	for (attr = 1; attr <= PFLASH_A_DEV_MAX; attr++) {
		char *p = (char *)dev;

		a = dev_attr(attr);
		if (!a || !tb[attr])
			continue;
		p += a->offset;
		switch (a->type) {
		case NLA_U8:
			pfnl_dev_set(dev, attr, nla_get_u8(tb[attr]));
			break;
		case NLA_U32:
			pfnl_dev_set(dev, attr, nla_get_u32(tb[attr]));
			break;
		case NLA_U64:
			pfnl_dev_set(dev, attr, nla_get_u64(tb[attr]));
			break;
		case NLA_STRING:
			nla_strlcpy(p, tb[attr], a->size);
			break;
		default:
			memcpy(p, nla_data(tb[attr]), a->size);
			break;
		}
		dev->attrs |= PFNL_DEV_ATTR(attr);
	}
	return 0;
}

int pfnl_dev_put(struct nl_msg *msg, const struct pfnl_dev *dev)
{
	int attr, ret;

	for (attr = 0; attr < 64; attr++) {
		const struct dev_attr *a = dev_attr(attr);
		uint64_t val = pfnl_dev_get(dev, attr);
		const char *p = (const char *)dev;

		if (!pfnl_dev_has(dev, attr))
			continue;
		if (!a)
			return -EINVAL;
		p += a->offset;
		switch (a->type) {
		case NLA_U8:
			ret = nla_put_u8(msg, attr, val);
			break;
		case NLA_U32:
			ret = nla_put_u32(msg, attr, val);
			break;
		case NLA_U64:
			ret = nla_put_u64(msg, attr, val);
			break;
		case NLA_STRING:
			ret = nla_put_string(msg, attr, p);
			break;
		default:
			ret = nla_put(msg, attr, a->size, p);
			break;
		}
		if (ret < 0)
			return pfnl_nlerr(ret);
	}
	return 0;
}

static int dev_request(struct pfnl *h, uint8_t cmd, int flags,
		       const struct pfnl_dev *req, pfnl_msg_fn fn,
		       void *arg)
{
	struct nl_msg *msg;
	int ret = 0;

	msg = pfnl_msg_new(h, cmd, flags);
	if (!msg)
		return -ENOMEM;
	if (req)
		ret = pfnl_dev_put(msg, req);
	if (!ret)
		ret = pfnl_exec(h, msg, fn, arg);
	nlmsg_free(msg);
	return ret;
}

static int dev_store(struct nl_msg *msg, void *arg)
{
	return pfnl_dev_parse(msg, arg);
}

int pfnl_dev_do(struct pfnl *h, uint8_t cmd,
		const struct pfnl_dev *req, struct pfnl_dev *reply)
{
	/* Parse into a copy: @reply may be @req. */
	struct pfnl_dev dev = { 0 };
	int ret;

	ret = dev_request(h, cmd, 0, req, reply ? dev_store : NULL, &dev);
	if (reply)
		*reply = dev;
	return ret;
}

struct dev_dump {
	pfnl_dev_fn fn;
	void *arg;
};

static int dev_dump_one(struct nl_msg *msg, void *arg)
{
	const struct dev_dump *dump = arg;
	struct pfnl_dev dev;
	int ret;

	ret = pfnl_dev_parse(msg, &dev);
	return ret ? ret : dump->fn(&dev, dump->arg);
}

int pfnl_dev_dump(struct pfnl *h, pfnl_dev_fn fn, void *arg)
{
	struct dev_dump dump = { .fn = fn, .arg = arg };

	return dev_request(h, PFLASH_CMD_DEV_GET, NLM_F_DUMP, NULL,
			   dev_dump_one, &dump);
}

int pfnl_import(struct pfnl *h, uint32_t index, uint64_t offset,
		const void *data, size_t len, struct pfnl_dev *reply)
{
	struct pfnl_dev dev = { 0 };
	struct nl_msg *msg;
	int ret;

	if (len > PFLASH_STREAM_CHUNK_MAX)
		return -EINVAL;
	msg = msg_init(h, nlmsg_alloc_size(IMPORT_MSG_MAX), PFLASH_CMD_IMPORT,
		       0);
	if (!msg)
		return -ENOMEM;
	ret = nla_put_u32(msg, PFLASH_A_DEV_INDEX, index);
	if (!ret)
		ret = nla_put_u64(msg, PFLASH_A_DEV_STREAM_OFFSET, offset);
	if (!ret)
		ret = nla_put(msg, PFLASH_A_DEV_STREAM_DATA, len, data);
	ret = ret < 0 ? pfnl_nlerr(ret) : pfnl_exec(h, msg, dev_store, &dev);
	nlmsg_free(msg);
	*reply = dev;
	return ret;
}

/*
 * EXPORT or IMPORT of the stream through file descriptor @fd, with what
 * else @req asks for.
 */
static int transfer_fd(struct pfnl *h, uint8_t cmd, struct pfnl_dev *req,
		       uint32_t index, int fd, struct pfnl_dev *reply)
{
	if (fd < 0)
		return -EBADF;
	pfnl_dev_set(req, PFLASH_A_DEV_INDEX, index);
	pfnl_dev_set(req, PFLASH_A_DEV_STREAM_FD, fd);
	return pfnl_dev_do(h, cmd, req, reply);
}

int pfnl_export_fd(struct pfnl *h, uint32_t index, int fd,
		   struct pfnl_dev *reply)
{
	struct pfnl_dev req = { 0 };

	return transfer_fd(h, PFLASH_CMD_EXPORT, &req, index, fd, reply);
}

int pfnl_export_pass(struct pfnl *h, uint32_t index, int fd, uint32_t pass,
		     bool final, struct pfnl_dev *reply)
{
	struct pfnl_dev req = { 0 };

	pfnl_dev_set(&req, PFLASH_A_DEV_LIVE, true);
	pfnl_dev_set(&req, PFLASH_A_DEV_LIVE_PASS, pass);
	if (final)
		pfnl_dev_set(&req, PFLASH_A_DEV_LIVE_FINAL, true);
	return transfer_fd(h, PFLASH_CMD_EXPORT, &req, index, fd, reply);
}

int pfnl_import_fd(struct pfnl *h, uint32_t index, int fd,
		   struct pfnl_dev *reply)
{
	struct pfnl_dev req = { 0 };

	return transfer_fd(h, PFLASH_CMD_IMPORT, &req, index, fd, reply);
}

/* Events carry the sequence number of the request that caused them. */
int pfnl_seq_any(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int pfnl_events_open(struct pfnl **hp)
{
	struct pfnl *h;
	int ret;

	ret = pfnl_open(&h);
	if (ret)
		return ret;
	ret = genl_ctrl_resolve_grp(h->sk, PFLASH_FAMILY_NAME,
				    PFLASH_MCGRP_EVENTS);
	if (ret >= 0)
		ret = nl_socket_add_membership(h->sk, ret);
	if (!ret)
		ret = nl_socket_set_buffer_size(h->sk, EVENTS_RCVBUF, 0);
	if (ret < 0) {
		pfnl_close(h);
		return pfnl_nlerr(ret);
	}
	nl_cb_set(h->cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, pfnl_seq_any, NULL);
	*hp = h;
	return 0;
}

int pfnl_event_one(struct nl_msg *msg, void *arg)
{
	const struct pfnl_events *ev = arg;
	struct pfnl_dev dev;
	int ret;

	ret = pfnl_dev_parse(msg, &dev);
	if (ret)
		return ret;
	return ev->fn(genlmsg_hdr(nlmsg_hdr(msg))->cmd, &dev, ev->arg);
}

int pfnl_events_recv(struct pfnl *h, pfnl_event_fn fn,
		     void *arg)
{
	struct pfnl_events ev = { .fn = fn, .arg = arg };
	int ret;

	/*
	 * Wait for the next message.  If the kernel dropped events, this is
	 * where it says so, with ENOBUFS, which libnl would not tell apart
	 * from ENOMEM.
	 */
	do {
		ret = recv(nl_socket_get_fd(h->sk), NULL, 0, MSG_PEEK | MSG_TRUNC);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;

	h->fn = pfnl_event_one;
	h->arg = &ev;
	h->fn_err = 0;
	ret = nl_recvmsgs(h->sk, h->cb);
	h->fn = NULL;
	if (ret < 0)
		return pfnl_nlerr(ret);
	return h->fn_err;
}
