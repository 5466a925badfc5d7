/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pfnl's internals: the handle, and the parsers its host tests
 * (tools/pflashctl/tests/nl_test.c) reach.  Not for the library's users,
 * whose interface is pfnl.h.
 */
#ifndef PFNL_INTERNAL_H
#define PFNL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/handlers.h>
#include <netlink/msg.h>

#include "pfnl.h"

struct pfnl {
	struct nl_sock *sk;
	struct nl_cb *cb;
	int family;
	struct pfnl_ack ack;

	/* The request in progress, for the callbacks. */
	struct nl_msg *req;
	pfnl_msg_fn fn;
	void *arg;
	int fn_err;
	bool done;
};

/*
 * The receive buffer of an events handle, which holds the events that
 * arrive faster than they are read; the kernel caps it at
 * net.core.rmem_max, and drops events beyond it.
 */
enum { EVENTS_RCVBUF = 1 << 20 };

/* Open a handle on generic netlink family @name. */
int pfnl_open_family(struct pfnl **hp, const char *name);

/* libnl reports its own error codes: turn one back into a negative errno. */
int pfnl_nlerr(int nle);

/* The type of the attribute @offset bytes into request @msg, or 0. */
uint16_t pfnl_attr_at(struct nl_msg *msg, uint32_t offset);

/*
 * Record the kernel's answer in an NLMSG_ERROR @nlh (an error or an ack)
 * in @h: what libnl's callbacks for acks and errors call.
 */
int pfnl_errmsg_parse(struct pfnl *h, struct nlmsghdr *nlh);

/* libnl's callbacks for an ack, and for the NLMSG_DONE that ends a dump. */
int pfnl_ack_cb(struct nl_msg *msg, void *arg);
int pfnl_finish_cb(struct nl_msg *msg, void *arg);

/* What pfnl_event_one() hands each event to. */
struct pfnl_events {
	pfnl_event_fn fn;
	void *arg;
};

/* An event's callback: parse the device, pass it and the command on. */
int pfnl_event_one(struct nl_msg *msg, void *arg);

/*
 * An events handle takes every message: events carry the sequence number
 * of the request that caused them.
 */
int pfnl_seq_any(struct nl_msg *msg, void *arg);

#endif /* PFNL_INTERNAL_H */
