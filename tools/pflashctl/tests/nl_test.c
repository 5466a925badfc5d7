// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the pflash netlink library (tools/lib/pfnl.c).
 *
 * The host has no pflash family, so the request machinery is tested on the
 * kernel's own "nlctrl" family, and the extended-ack parsers on messages
 * built here as the kernel builds them.  It links the library, and reaches
 * its internals through pfnl_internal.h.  Prints TAP.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/pflash.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include "pflash_tools.h"
#include "pfnl.h"
#include "pfnl_internal.h"
#include "tap.h"

static struct pfnl *open_nlctrl(void)
{
	struct pfnl *h = NULL;

	EXPECT(pfnl_open_family(&h, "nlctrl") == 0);
	return h;
}

/* Count the replies. */
static int count(struct nl_msg *msg, void *arg)
{
	(void)msg;
	++*(int *)arg;
	return 0;
}

/* A CTRL_CMD_GETFAMILY request for family @name, or a dump if NULL. */
static int getfamily(struct pfnl *h, const char *name, int *replies)
{
	struct nl_msg *msg;
	int ret;

	msg = pfnl_msg_new(h, CTRL_CMD_GETFAMILY, name ? 0 : NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	if (name && nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, name) < 0)
		ret = -EMSGSIZE;
	else
		ret = pfnl_exec(h, msg, count, replies);
	nlmsg_free(msg);
	return ret;
}

static void open_without_family(void)
{
	struct pfnl *h = NULL;
	int ret;

	ret = pfnl_open(&h);
	if (!ret) {
		skip = "the pflash module is loaded";
		pfnl_close(h);
		return;
	}
	EXPECT(ret == -ENOENT);
}

static void do_gets_reply_and_ack(void)
{
	struct pfnl *h = open_nlctrl();
	int n = 0;

	EXPECT(getfamily(h, "nlctrl", &n) == 0);
	EXPECT(n == 1);
	EXPECT(pfnl_last_ack(h)->error == 0);
	EXPECT(pfnl_last_ack(h)->msg[0] == '\0');
	pfnl_close(h);
}

static void dump_gets_every_reply(void)
{
	struct pfnl *h = open_nlctrl();
	int n = 0;

	EXPECT(getfamily(h, NULL, &n) == 0);
	/* nlctrl itself, and surely another family. */
	EXPECT(n >= 2);
	pfnl_close(h);
}

static void kernel_error_is_returned(void)
{
	struct pfnl *h = open_nlctrl();
	int n = 0;

	EXPECT(getfamily(h, "no-such-family", &n) == -ENOENT);
	EXPECT(n == 0);
	EXPECT(pfnl_last_ack(h)->error == ENOENT);
	pfnl_close(h);
}

static void extack_names_attribute(void)
{
	struct pfnl *h = open_nlctrl();
	const struct pfnl_ack *ack = pfnl_last_ack(h);
	struct nl_msg *msg;
	int ret;

	/* CTRL_ATTR_FAMILY_ID is a u16: one byte fails the policy. */
	msg = pfnl_msg_new(h, CTRL_CMD_GETFAMILY, 0);
	EXPECT(msg && nla_put_u8(msg, CTRL_ATTR_FAMILY_ID, 1) == 0);
	ret = pfnl_exec(h, msg, NULL, NULL);
	EXPECT(ret < 0 && ret == -ack->error);
	EXPECT(ack->msg[0] != '\0');
	EXPECT(ack->offset == NLMSG_HDRLEN + GENL_HDRLEN);
	EXPECT(ack->attr == CTRL_ATTR_FAMILY_ID);
	nlmsg_free(msg);
	pfnl_close(h);
}

static int cancel(struct nl_msg *msg, void *arg)
{
	(void)msg;
	++*(int *)arg;
	return -ECANCELED;
}

static void callback_error_ends_request(void)
{
	struct pfnl *h = open_nlctrl();
	struct nl_msg *msg;
	int n = 0;

	msg = pfnl_msg_new(h, CTRL_CMD_GETFAMILY, NLM_F_DUMP);
	EXPECT(msg && pfnl_exec(h, msg, cancel, &n) == -ECANCELED);
	EXPECT(n == 1);
	nlmsg_free(msg);
	/* The rest of the dump was read: the next request works. */
	n = 0;
	EXPECT(getfamily(h, "nlctrl", &n) == 0);
	EXPECT(n == 1);
	pfnl_close(h);
}

/* A request with two u32 attributes, types 1 and 7. */
static struct nl_msg *request(void)
{
	struct nl_msg *msg = nlmsg_alloc();

	EXPECT(msg);
	EXPECT(genlmsg_put(msg, 1, 1, 42, 0, 0, 1, 1));
	EXPECT(nla_put_u32(msg, 1, 0) == 0);
	EXPECT(nla_put_u32(msg, 7, 0) == 0);
	return msg;
}

/* The offset of the second attribute of request(). */
#define SECOND_ATTR	(NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + 4)

/* An NLMSG_ERROR answering @req as the kernel builds it. */
static struct nl_msg *error_msg(struct nl_msg *req, int error, bool capped)
{
	struct nlmsghdr *nlh = nlmsg_hdr(req);
	struct nlmsgerr e = { .error = -error, .msg = *nlh };
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(NLMSG_ERROR, NLM_F_ACK_TLVS |
				 (capped ? NLM_F_CAPPED : 0));
	EXPECT(msg);
	EXPECT(nlmsg_append(msg, &e, sizeof(e), NLMSG_ALIGNTO) == 0);
	if (!capped)
		EXPECT(nlmsg_append(msg, nlmsg_data(nlh), nlmsg_datalen(nlh),
				    NLMSG_ALIGNTO) == 0);
	EXPECT(nla_put_string(msg, NLMSGERR_ATTR_MSG, "bad value") == 0);
	return msg;
}

static void error_tlvs_after_echoed_request(bool capped)
{
	struct pfnl h = { .req = request() };
	struct nl_msg *msg = error_msg(h.req, EINVAL, capped);

	EXPECT(nla_put_u32(msg, NLMSGERR_ATTR_OFFS, SECOND_ATTR) == 0);
	EXPECT(nla_put_u32(msg, NLMSGERR_ATTR_MISS_TYPE, 5) == 0);
	EXPECT(pfnl_errmsg_parse(&h, nlmsg_hdr(msg)) == NL_STOP);
	EXPECT(h.done);
	EXPECT(h.ack.error == EINVAL);
	EXPECT(!strcmp(h.ack.msg, "bad value"));
	EXPECT(h.ack.offset == SECOND_ATTR);
	EXPECT(h.ack.attr == 7);
	EXPECT(h.ack.miss_type == 5);
	nlmsg_free(msg);
	nlmsg_free(h.req);
}

static void error_tlvs_uncapped(void)
{
	error_tlvs_after_echoed_request(false);
}

static void error_tlvs_capped(void)
{
	error_tlvs_after_echoed_request(true);
}

static void error_without_tlvs(void)
{
	struct pfnl h = { .req = request() };
	struct nl_msg *msg = error_msg(h.req, EBUSY, true);

	nlmsg_hdr(msg)->nlmsg_flags &= ~NLM_F_ACK_TLVS;
	pfnl_errmsg_parse(&h, nlmsg_hdr(msg));
	EXPECT(h.ack.error == EBUSY);
	EXPECT(h.ack.msg[0] == '\0');
	nlmsg_free(msg);
	nlmsg_free(h.req);
}

static void ack_with_warning(void)
{
	struct pfnl h = { .req = request() };
	struct nl_msg *msg = error_msg(h.req, 0, true);

	EXPECT(pfnl_ack_cb(msg, &h) == NL_STOP);
	EXPECT(h.done);
	EXPECT(h.ack.error == 0);
	EXPECT(!strcmp(h.ack.msg, "bad value"));
	nlmsg_free(msg);
	nlmsg_free(h.req);
}

static void offset_outside_request(void)
{
	struct nl_msg *req = request();
	uint32_t len = nlmsg_hdr(req)->nlmsg_len;

	EXPECT(pfnl_attr_at(req, 0) == 0);
	EXPECT(pfnl_attr_at(req, NLMSG_HDRLEN) == 0);
	EXPECT(pfnl_attr_at(req, len) == 0);
	EXPECT(pfnl_attr_at(req, len - NLA_HDRLEN) == 0);
	EXPECT(pfnl_attr_at(req, SECOND_ATTR) == 7);
	nlmsg_free(req);
}

/* NLMSG_DONE as netlink_dump_done() builds it. */
static struct nl_msg *done_msg(int status, const char *text)
{
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(NLMSG_DONE, NLM_F_MULTI |
				 (text ? NLM_F_ACK_TLVS : 0));
	EXPECT(msg);
	EXPECT(nlmsg_append(msg, &status, sizeof(status), NLMSG_ALIGNTO) == 0);
	if (text)
		EXPECT(nla_put_string(msg, NLMSGERR_ATTR_MSG, text) == 0);
	return msg;
}

static void dump_ends_in_error(void)
{
	struct pfnl h = { 0 };
	struct nl_msg *msg = done_msg(-EIO, "backing file failed");

	EXPECT(pfnl_finish_cb(msg, &h) == NL_STOP);
	EXPECT(h.done);
	EXPECT(h.ack.error == EIO);
	EXPECT(!strcmp(h.ack.msg, "backing file failed"));
	nlmsg_free(msg);
}

static void dump_ends_well(void)
{
	struct pfnl h = { 0 };
	struct nl_msg *msg = done_msg(0, NULL);

	EXPECT(pfnl_finish_cb(msg, &h) == NL_STOP);
	EXPECT(h.done);
	EXPECT(h.ack.error == 0);
	EXPECT(h.ack.msg[0] == '\0');
	nlmsg_free(msg);
}

/* A device reply, as the kernel sends it. */
static struct nl_msg *dev_reply(void)
{
	struct nl_msg *msg = nlmsg_alloc();

	EXPECT(msg);
	EXPECT(genlmsg_put(msg, 0, 1, 42, 0, 0, PFLASH_CMD_DEV_GET,
			   PFLASH_FAMILY_VERSION));
	EXPECT(nla_put_u32(msg, PFLASH_A_DEV_INDEX, 3) == 0);
	EXPECT(nla_put_u64(msg, PFLASH_A_DEV_SIZE, 540672) == 0);
	EXPECT(nla_put_u32(msg, PFLASH_A_DEV_BLOCK_SIZE, 4096) == 0);
	EXPECT(nla_put_u32(msg, PFLASH_A_DEV_ERASE_SIZE, 65536) == 0);
	EXPECT(nla_put_u8(msg, PFLASH_A_DEV_READ_ONLY, 1) == 0);
	return msg;
}

static void dev_parse_reads_every_attribute(void)
{
	struct nl_msg *msg = dev_reply();
	struct pfnl_dev dev;

	EXPECT(pfnl_dev_parse(msg, &dev) == 0);
	EXPECT(dev.attrs == (PFNL_DEV_ATTR(PFLASH_A_DEV_INDEX) |
			     PFNL_DEV_ATTR(PFLASH_A_DEV_SIZE) |
			     PFNL_DEV_ATTR(PFLASH_A_DEV_BLOCK_SIZE) |
			     PFNL_DEV_ATTR(PFLASH_A_DEV_ERASE_SIZE) |
			     PFNL_DEV_ATTR(PFLASH_A_DEV_READ_ONLY)));
	EXPECT(dev.index == 3);
	EXPECT(dev.size == 540672);
	EXPECT(dev.block_size == 4096);
	EXPECT(dev.erase_size == 65536);
	EXPECT(dev.read_only);
	nlmsg_free(msg);
}

static void dev_parse_skips_unknown_attributes(void)
{
	struct nl_msg *msg = dev_reply();
	struct pfnl_dev dev;

	/* Padding, and attributes of a later version of the family. */
	EXPECT(nla_put(msg, PFLASH_A_DEV_PAD, 0, NULL) == 0);
	EXPECT(nla_put_u64(msg, PFLASH_A_DEV_STREAM_DATA, 7) == 0);
	EXPECT(nla_put_u64(msg, PFLASH_A_DEV_MAX + 1, 7) == 0);
	EXPECT(nla_put_string(msg, PFLASH_A_DEV_MAX + 9, "x") == 0);
	EXPECT(pfnl_dev_parse(msg, &dev) == 0);
	EXPECT(!pfnl_dev_has(&dev, PFLASH_A_DEV_PAD));
	EXPECT(dev.size == 540672);
	nlmsg_free(msg);
}

static void dev_parse_refuses_short_attribute(void)
{
	struct nl_msg *msg = dev_reply();
	struct pfnl_dev dev;

	EXPECT(nla_put_u32(msg, PFLASH_A_DEV_SIZE, 1) == 0);
	EXPECT(pfnl_dev_parse(msg, &dev) == -EPROTO);
	nlmsg_free(msg);
}

static void dev_put_then_parse(void)
{
	struct pfnl_dev dev = { 0 }, back;
	struct nl_msg *msg;

	pfnl_dev_set(&dev, PFLASH_A_DEV_SIZE, 1ULL << 30);
	pfnl_dev_set(&dev, PFLASH_A_DEV_ERASE_SIZE, 262144);
	pfnl_dev_set(&dev, PFLASH_A_DEV_READ_ONLY, 2);
	msg = nlmsg_alloc();
	EXPECT(msg && genlmsg_put(msg, 0, 0, 42, 0, 0, 1, 1));
	EXPECT(pfnl_dev_put(msg, &dev) == 0);
	EXPECT(pfnl_dev_parse(msg, &back) == 0);
	EXPECT(back.attrs == dev.attrs);
	EXPECT(back.size == 1ULL << 30);
	EXPECT(back.erase_size == 262144);
	EXPECT(back.read_only);
	EXPECT(pfnl_dev_get(&back, PFLASH_A_DEV_READ_ONLY) == 1);
	EXPECT(pfnl_dev_get(&back, PFLASH_A_DEV_SIZE) == 1ULL << 30);

	dev.attrs |= PFNL_DEV_ATTR(PFLASH_A_DEV_PAD);
	EXPECT(pfnl_dev_put(msg, &dev) == -EINVAL);
	nlmsg_free(msg);
}

static void dev_string_and_binary(void)
{
	static const uint8_t uuid[PFLASH_UUID_LEN] = { 1, 2, 3, [15] = 16 };
	struct pfnl_dev dev = { 0 }, back;
	struct nl_msg *msg;

	strcpy(dev.backing_path, "/var/lib/vm/vars.fd");
	memcpy(dev.uuid, uuid, sizeof(uuid));
	dev.attrs = PFNL_DEV_ATTR(PFLASH_A_DEV_BACKING_PATH) |
		    PFNL_DEV_ATTR(PFLASH_A_DEV_UUID);
	pfnl_dev_set(&dev, PFLASH_A_DEV_UUID, 1);
	EXPECT(pfnl_dev_get(&dev, PFLASH_A_DEV_UUID) == 0);
	msg = nlmsg_alloc();
	EXPECT(msg && genlmsg_put(msg, 0, 0, 42, 0, 0, 1, 1));
	EXPECT(pfnl_dev_put(msg, &dev) == 0);
	EXPECT(pfnl_dev_parse(msg, &back) == 0);
	EXPECT(back.attrs == dev.attrs);
	EXPECT(!strcmp(back.backing_path, "/var/lib/vm/vars.fd"));
	EXPECT(!memcmp(back.uuid, uuid, sizeof(uuid)));
	nlmsg_free(msg);
}

static void dev_parse_checks_binary_length(void)
{
	uint8_t uuid[PFLASH_UUID_LEN + 1] = { 0 };
	struct pfnl_dev dev;
	struct nl_msg *msg;
	int len;

	for (len = PFLASH_UUID_LEN - 1; len <= PFLASH_UUID_LEN + 1; len++) {
		msg = dev_reply();
		EXPECT(nla_put(msg, PFLASH_A_DEV_UUID, len, uuid) == 0);
		EXPECT(pfnl_dev_parse(msg, &dev) ==
		       (len == PFLASH_UUID_LEN ? 0 : -EPROTO));
		nlmsg_free(msg);
	}
}

static void dev_parse_cuts_long_string(void)
{
	char path[PFLASH_BACKING_PATH_MAX + 10];
	struct pfnl_dev dev;
	struct nl_msg *msg = dev_reply();

	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	EXPECT(nla_put_string(msg, PFLASH_A_DEV_BACKING_PATH, path) == 0);
	EXPECT(pfnl_dev_parse(msg, &dev) == 0);
	EXPECT(strlen(dev.backing_path) == PFLASH_BACKING_PATH_MAX - 1);
	nlmsg_free(msg);
}

static void dev_attribute_names(void)
{
	EXPECT(!strcmp(pfnl_dev_attr_name(PFLASH_A_DEV_BLOCK_SIZE),
		       "block_size"));
	EXPECT(!pfnl_dev_attr_name(0));
	EXPECT(!strcmp(pfnl_dev_attr_name(PFLASH_A_DEV_FLUSH_PENDING),
		       "flush_pending"));
	EXPECT(!pfnl_dev_attr_name(PFLASH_A_DEV_PAD));
	EXPECT(!pfnl_dev_attr_name(PFLASH_A_DEV_MAX + 1));
	EXPECT(pfnl_dev_get(&(struct pfnl_dev){ 0 }, 99) == 0);
}

static void libnl_errors_become_errnos(void)
{
	EXPECT(pfnl_nlerr(-NLE_NOMEM) == -ENOMEM);
	EXPECT(pfnl_nlerr(-NLE_OBJ_NOTFOUND) == -ENOENT);
	EXPECT(pfnl_nlerr(-NLE_DUMP_INTR) == -EINTR);
	EXPECT(pfnl_nlerr(-NLE_SEQ_MISMATCH) == -EPROTO);
	EXPECT(pfnl_nlerr(-1000) == -EPROTO);
}

static void import_piece_too_large(void)
{
	struct pfnl *h = open_nlctrl();
	struct pfnl_dev reply;

	EXPECT(pfnl_import(h, 0, 0, NULL, PFLASH_STREAM_CHUNK_MAX + 1,
			   &reply) == -EINVAL);
	pfnl_close(h);
}

/*
 * The largest import message gets through the send buffer: nlctrl, which
 * has no command 13, refuses it for that, not for its size.
 */
static void import_largest_piece_is_sent(void)
{
	static char piece[PFLASH_STREAM_CHUNK_MAX];
	struct pfnl *h = open_nlctrl();
	struct pfnl_dev reply;

	EXPECT(PFLASH_CMD_IMPORT == 13);
	EXPECT(pfnl_import(h, 0, 0, piece, sizeof(piece), &reply) ==
	       -EOPNOTSUPP);
	EXPECT(!reply.attrs);
	pfnl_close(h);
}

static void events_open_without_family(void)
{
	struct pfnl *h = NULL;
	int ret;

	ret = pfnl_events_open(&h);
	if (!ret) {
		skip = "the pflash module is loaded";
		pfnl_close(h);
		return;
	}
	EXPECT(ret == -ENOENT);
}

struct event_seen {
	uint8_t cmd;
	struct pfnl_dev dev;
};

static int see_event(uint8_t cmd, const struct pfnl_dev *dev, void *arg)
{
	struct event_seen *seen = arg;

	seen->cmd = cmd;
	seen->dev = *dev;
	return 0;
}

static void event_passes_command_and_device(void)
{
	struct event_seen seen = { 0 };
	struct pfnl_events ev = { .fn = see_event, .arg = &seen };
	struct nl_msg *msg = nlmsg_alloc();

	EXPECT(msg);
	EXPECT(genlmsg_put(msg, 0, 77, 42, 0, 0, PFLASH_CMD_FLUSH_NTF,
			   PFLASH_FAMILY_VERSION));
	EXPECT(nla_put_u32(msg, PFLASH_A_DEV_INDEX, 5) == 0);
	EXPECT(nla_put_u8(msg, PFLASH_A_DEV_FLUSH_FULL, 1) == 0);
	EXPECT(nla_put_u32(msg, PFLASH_A_DEV_FLUSH_ERROR, EIO) == 0);
	EXPECT(pfnl_event_one(msg, &ev) == 0);
	EXPECT(seen.cmd == PFLASH_CMD_FLUSH_NTF);
	EXPECT(seen.dev.index == 5);
	EXPECT(seen.dev.flush_full);
	EXPECT(seen.dev.flush_error == EIO);
	EXPECT(pfnl_seq_any(msg, NULL) == NL_OK);
	nlmsg_free(msg);
}

static void events_receive_buffer_holds_events(void)
{
	struct pfnl *h = open_nlctrl();
	socklen_t len = sizeof(int);
	int size = 0;

	/* What pfnl_events_open() does, on nlctrl. */
	EXPECT(nl_socket_set_buffer_size(h->sk, EVENTS_RCVBUF, 0) == 0);
	EXPECT(!getsockopt(nl_socket_get_fd(h->sk), SOL_SOCKET, SO_RCVBUF,
			   &size, &len));
	/* At least the default, 32K; rmem_max caps the rest. */
	EXPECT(size > 65536);
	pfnl_close(h);
}

#define THREADS		4
#define ROUNDS		50

static void *dump_rounds(void *arg)
{
	struct pfnl *h = NULL;
	int i, n, *ok = arg;

	if (pfnl_open_family(&h, "nlctrl"))
		return NULL;
	for (i = 0; i < ROUNDS; i++) {
		n = 0;
		if (getfamily(h, NULL, &n) || n < 2)
			break;
	}
	*ok = i == ROUNDS;
	pfnl_close(h);
	return NULL;
}

static void one_handle_per_thread(void)
{
	pthread_t threads[THREADS];
	int ok[THREADS] = { 0 };
	int i;

	for (i = 0; i < THREADS; i++)
		EXPECT(!pthread_create(&threads[i], NULL, dump_rounds, &ok[i]));
	for (i = 0; i < THREADS; i++) {
		EXPECT(!pthread_join(threads[i], NULL));
		EXPECT(ok[i]);
	}
}

static const struct tap_test tests[] = {
	T(open_without_family),
	T(do_gets_reply_and_ack),
	T(dump_gets_every_reply),
	T(kernel_error_is_returned),
	T(extack_names_attribute),
	T(callback_error_ends_request),
	T(error_tlvs_uncapped),
	T(error_tlvs_capped),
	T(error_without_tlvs),
	T(ack_with_warning),
	T(offset_outside_request),
	T(dump_ends_in_error),
	T(dump_ends_well),
	T(dev_parse_reads_every_attribute),
	T(dev_parse_skips_unknown_attributes),
	T(dev_parse_refuses_short_attribute),
	T(dev_put_then_parse),
	T(dev_string_and_binary),
	T(dev_parse_checks_binary_length),
	T(dev_parse_cuts_long_string),
	T(dev_attribute_names),
	T(libnl_errors_become_errnos),
	T(import_piece_too_large),
	T(import_largest_piece_is_sent),
	T(events_open_without_family),
	T(event_passes_command_and_device),
	T(events_receive_buffer_holds_events),
	T(one_handle_per_thread),
};

int main(void)
{
	return run_tests(tests, ARRAY_SIZE(tests));
}
