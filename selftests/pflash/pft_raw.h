/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw generic netlink for the pflash kselftests that send what libnl would
 * not (malformed requests) or read what it hides (a dump one message at a
 * time, the padding of every attribute): a socket, the family's id and its
 * policies as the kernel's controller dumps them, and checks that a message
 * the kernel sent is well formed with all its padding zero.
 */
#ifndef PFT_RAW_H
#define PFT_RAW_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/pflash.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

/* Netlink's own alignment helpers work on struct nlattr, from the uapi. */
#define PFT_NLA(p, off)		((struct nlattr *)((uint8_t *)(p) + (off)))

/* The largest request the tests send: an import piece and some slack. */
#define PFT_RAW_MSG_MAX		(PFLASH_STREAM_CHUNK_MAX + 8192)

/**
 * struct pft_raw - a raw generic netlink socket
 * @fd: the socket
 * @family: the pflash family's id
 * @seq: the sequence number of the last request sent
 */
struct pft_raw {
	int fd;
	uint16_t family;
	uint32_t seq;
};

/* A raw socket with extended acks and capped acks; 0 or -errno. */
static inline int pft_raw_socket(int *fdp)
{
	static const int one = 1, big = 4 << 20;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0)
		return -errno;
	/* Big buffers: nothing a test sends or is sent is ever dropped. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	*fdp = fd;
	return 0;
}

/* The pflash family's id, as the controller resolves it; or -errno. */
static inline int pft_raw_family(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int id = -ENOMEM;

	if (sk)
		id = genl_connect(sk) ? -ECONNREFUSED :
		     genl_ctrl_resolve(sk, PFLASH_FAMILY_NAME);
	nl_socket_free(sk);
	return id < 0 && id != -ENOMEM ? -ENOENT : id;
}

/* Open @r on the pflash family; 0 or -errno. */
static inline int pft_raw_open(struct pft_raw *r)
{
	int id = pft_raw_family();

	r->fd = -1;
	if (id < 0)
		return id;
	r->family = id;
	r->seq = 0;
	return pft_raw_socket(&r->fd);
}

/* Append an attribute to the message at @buf, of @*len bytes so far. */
static inline void pft_raw_put(uint8_t *buf, size_t *len, uint16_t type,
			       const void *data, size_t n)
{
	struct nlattr *nla = PFT_NLA(buf, *len);

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + n;
	memcpy((uint8_t *)nla + NLA_HDRLEN, data, n);
	memset((uint8_t *)nla + NLA_HDRLEN + n, 0, NLA_ALIGN(n) - n);
	*len += NLA_ALIGN(NLA_HDRLEN + n);
}

/* Start a request: the netlink and genetlink headers; returns its length. */
static inline size_t pft_raw_start(uint8_t *buf, uint16_t type, uint16_t flags,
				   uint32_t seq, uint8_t cmd)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(buf + NLMSG_HDRLEN);

	memset(buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	g->cmd = cmd;
	g->version = PFLASH_FAMILY_VERSION;
	return NLMSG_HDRLEN + GENL_HDRLEN;
}

/* Send @len bytes (one or more messages); 0 or -errno. */
static inline int pft_raw_send(int fd, const void *buf, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t n = sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa));

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/*
 * Receive one datagram into @buf, of @size bytes, asking the kernel for
 * @ask bytes (which is what sizes its dump messages); waits up to
 * @timeout_ms.  Returns its length, -ETIMEDOUT, -EMSGSIZE if it did not fit,
 * or -errno.
 */
static inline int pft_raw_recv(int fd, void *buf, size_t size, size_t ask,
			       int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (ask > size)
		ask = size;
	for (;;) {
		int r = poll(&p, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -ETIMEDOUT;
		n = recv(fd, buf, ask, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		return (size_t)n > ask ? -EMSGSIZE : (int)n;
	}
}

/*
 * Check the attributes in [@p, @p + @len): each fits, and the bytes that
 * align it are zero.  Returns NULL, or what is wrong.
 */
static inline const char *pft_raw_check_attrs(const uint8_t *p, size_t len)
{
	size_t off = 0, i;

	while (off < len) {
		const struct nlattr *nla = PFT_NLA(p, off);

		if (len - off < NLA_HDRLEN || nla->nla_len < NLA_HDRLEN ||
		    nla->nla_len > len - off)
			return "an attribute runs past its message";
		for (i = nla->nla_len; i < NLA_ALIGN(nla->nla_len) &&
		     off + i < len; i++)
			if (p[off + i])
				return "an attribute's padding is not zero";
		off += NLA_ALIGN(nla->nla_len);
	}
	return NULL;
}

/*
 * Check one message the kernel sent, @nlh of at most @len bytes: it fits,
 * its genetlink header's reserved byte is zero, and every padding byte of
 * it and its attributes (top level; the payload of a pflash attribute is
 * never nested) is zero.  Returns NULL, or what is wrong.
 */
static inline const char *pft_raw_check_msg(const struct nlmsghdr *nlh,
					    size_t len)
{
	const uint8_t *p = (const uint8_t *)nlh;
	size_t i, hdr = NLMSG_HDRLEN;

	if (len < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN ||
	    nlh->nlmsg_len > len)
		return "a message runs past its datagram";
	for (i = nlh->nlmsg_len; i < NLMSG_ALIGN(nlh->nlmsg_len) && i < len; i++)
		if (p[i])
			return "a message's padding is not zero";
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nlh);

		if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
			return "an error message is short";
		hdr += sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			hdr += e->msg.nlmsg_len - NLMSG_HDRLEN;
		hdr = NLMSG_ALIGN(hdr);
	} else if (nlh->nlmsg_type == NLMSG_DONE) {
		hdr += sizeof(int);
	} else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
		const struct genlmsghdr *g = NLMSG_DATA(nlh);

		if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
			return "a genetlink message is short";
		if (g->reserved)
			return "a genetlink header's reserved byte is not zero";
		hdr += GENL_HDRLEN;
	}
	if (hdr > nlh->nlmsg_len)
		return "a message is shorter than its headers";
	return pft_raw_check_attrs(p + hdr, nlh->nlmsg_len - hdr);
}

/*
 * A walk through the attributes in [@p, @p + @len); the last attribute's
 * alignment may take @off past @len (a sender need not pad the end).
 */
struct pft_attr_walk {
	const uint8_t *p;
	size_t len, off;
};

/* The walk's next attribute, or NULL past the last one that fits. */
static inline struct nlattr *pft_attr_next(struct pft_attr_walk *w)
{
	struct nlattr *nla;

	if (w->off > w->len || w->len - w->off < NLA_HDRLEN)
		return NULL;
	nla = PFT_NLA(w->p, w->off);
	if (nla->nla_len < NLA_HDRLEN || nla->nla_len > w->len - w->off)
		return NULL;
	w->off += NLA_ALIGN(nla->nla_len);
	return nla;
}

/* @nla steps through the attributes in [@p, @p + @len). */
#define pft_for_each_nla(nla, p, len)					\
	for (struct pft_attr_walk walk_##nla = { (p), (len), 0 };	\
	     ((nla) = pft_attr_next(&walk_##nla));)

/* The attribute of type @type (flags ignored) in [@p, @p + @len), or NULL. */
static inline const struct nlattr *pft_raw_attr(const uint8_t *p, size_t len,
						uint16_t type)
{
	const struct nlattr *found = NULL;
	const struct nlattr *nla;

	/* As the kernel parses: the last one of a type wins. */
	pft_for_each_nla(nla, p, len)
		if ((nla->nla_type & NLA_TYPE_MASK) == type)
			found = nla;
	return found;
}

/* The extended ack's message of an error or done message, or NULL. */
static inline const char *pft_raw_ext_msg(const struct nlmsghdr *nlh)
{
	size_t hdr = NLMSG_HDRLEN;
	const struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nlh);

		hdr += sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			hdr += e->msg.nlmsg_len - NLMSG_HDRLEN;
		hdr = NLMSG_ALIGN(hdr);
	} else {
		hdr += sizeof(int);
	}
	if (hdr >= nlh->nlmsg_len)
		return NULL;
	a = pft_raw_attr((const uint8_t *)nlh + hdr, nlh->nlmsg_len - hdr,
			 NLMSGERR_ATTR_MSG);
	if (!a || a->nla_len <= NLA_HDRLEN ||
	    ((const char *)a)[a->nla_len - 1] != '\0')
		return NULL;
	return (const char *)a + NLA_HDRLEN;
}

/* The error of an error or done message: 0 or a negative errno. */
static inline int pft_raw_error(const struct nlmsghdr *nlh)
{
	int err;

	if (nlh->nlmsg_type == NLMSG_ERROR)
		return ((const struct nlmsgerr *)NLMSG_DATA(nlh))->error;
	memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
	return err;
}

/* The attributes of a genetlink message, and their length. */
static inline const uint8_t *pft_raw_gattrs(const struct nlmsghdr *nlh,
					    size_t *len)
{
	*len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	return (const uint8_t *)nlh + NLMSG_HDRLEN + GENL_HDRLEN;
}

#endif /* PFT_RAW_H */
