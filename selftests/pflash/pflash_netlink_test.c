// SPDX-License-Identifier: GPL-2.0
/*
 * The pflash generic netlink family: what it replies, and every kind of bad
 * request it must refuse, each with an errno and an extended-ack message
 * that names the attribute at fault; that nothing is done without
 * CAP_NET_ADMIN; and that replies carry no stray bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "pft_raw.h"
#include "pft_stream.h"

FIXTURE(nl) {
	struct pfnl *h;
	uint32_t made[8];
	int nr_made;
};

/* The fixture's types, for the helpers that take them. */
#define NL_SELF	FIXTURE_DATA(nl)

FIXTURE_SETUP(nl)
{
	ASSERT_EQ(0, pfnl_open(&self->h));
}

FIXTURE_TEARDOWN(nl)
{
	int i;

	for (i = 0; i < self->nr_made; i++)
		EXPECT_EQ(0, pft_destroy(self->h, self->made[i]));
	pfnl_close(self->h);
}

/* Create a device and remember to destroy it. */
static int make(NL_SELF *self, const struct pfnl_dev *req,
		struct pfnl_dev *out)
{
	struct pfnl_dev dev = {};
	int ret = pft_create(self->h, req, &dev);

	if (!ret && self->nr_made < (int)ARRAY_SIZE(self->made))
		self->made[self->nr_made++] = dev.index;
	if (out)
		*out = dev;
	return ret;
}

static const struct pfnl_ack *ack(NL_SELF *self)
{
	return pfnl_last_ack(self->h);
}

/*
 * The last request failed with @err, with a message, blaming attribute
 * @attr (0: none in particular).
 */
#define EXPECT_REFUSED(_ret, _err, _attr) do {				\
	__typeof__(_err) _refused_err = (_err);				\
	__typeof__(_attr) _refused_attr = (_attr);			\
									\
	EXPECT_EQ(-_refused_err, (_ret));				\
	EXPECT_EQ(_refused_err, ack(self)->error);			\
	EXPECT_NE(0, ack(self)->msg[0]);				\
	if (_refused_attr)						\
		EXPECT_EQ(_refused_attr,				\
			  ack(self)->attr ?: ack(self)->miss_type);	\
} while (0)

/* Send DEV_NEW with one u64 size attribute and an optional extra u32. */
static int dev_new_raw(NL_SELF *self, uint64_t size, int extra,
		       uint32_t extra_val)
{
	struct nl_msg *msg = pfnl_msg_new(self->h, PFLASH_CMD_DEV_NEW, 0);
	int ret;

	if (!msg)
		return -ENOMEM;
	nla_put_u64(msg, PFLASH_A_DEV_SIZE, size);
	if (extra)
		nla_put_u32(msg, extra, extra_val);
	ret = pfnl_exec(self->h, msg, NULL, NULL);
	nlmsg_free(msg);
	return ret;
}

TEST_F(nl, create_replies_with_the_new_device)
{
	struct pfnl_dev req = {}, dev, got = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 128 * 1024);
	ASSERT_EQ(0, make(self, &req, &dev));
	EXPECT_TRUE(pfnl_dev_has(&dev, PFLASH_A_DEV_INDEX));
	EXPECT_EQ(128 * 1024ULL, dev.size);
	EXPECT_EQ(PFLASH_BLOCK_SIZE_DEFAULT, (int)dev.block_size);
	EXPECT_EQ(PFLASH_ERASE_SIZE_DEFAULT, (int)dev.erase_size);
	EXPECT_FALSE(dev.read_only);

	ASSERT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_DEV_GET, dev.index,
				   &got));
	EXPECT_EQ(dev.index, got.index);
	EXPECT_EQ(dev.size, got.size);
	EXPECT_EQ(dev.block_size, got.block_size);
	EXPECT_EQ(dev.erase_size, got.erase_size);
}

TEST_F(nl, create_makes_the_device_node)
{
	struct pfnl_dev req = {}, dev;
	int fd;

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
	ASSERT_EQ(0, make(self, &req, &dev));
	fd = pft_open(dev.index, O_RDONLY);
	ASSERT_LE(0, fd);
	close(fd);
}

TEST_F(nl, create_with_index_and_duplicate_index)
{
	struct pfnl_dev req = {}, dev;

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, 700);
	ASSERT_EQ(0, make(self, &req, &dev));
	EXPECT_EQ(700U, dev.index);
	EXPECT_REFUSED(make(self, &req, NULL), EEXIST, 0);
}

TEST_F(nl, create_without_size_is_refused)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_BLOCK_SIZE, 512);
	EXPECT_REFUSED(make(self, &req, NULL), EINVAL, PFLASH_A_DEV_SIZE);
	EXPECT_EQ(PFLASH_A_DEV_SIZE, ack(self)->miss_type);
}

TEST_F(nl, create_with_zero_size_is_refused)
{
	EXPECT_REFUSED(dev_new_raw(self, 0, 0, 0), ERANGE, PFLASH_A_DEV_SIZE);
}

TEST_F(nl, create_too_large_is_refused)
{
	EXPECT_REFUSED(dev_new_raw(self, PFLASH_SIZE_MAX + 4096, 0, 0),
		       ERANGE, PFLASH_A_DEV_SIZE);
}

TEST_F(nl, create_with_misaligned_size_is_refused)
{
	/* Not a whole number of (default, 4 KiB) erase blocks. */
	EXPECT_REFUSED(dev_new_raw(self, 4 * 4096 + 512, 0, 0), EINVAL,
		       PFLASH_A_DEV_SIZE);
	/* A whole number of 4 KiB blocks, but not of 64 KiB ones. */
	EXPECT_REFUSED(dev_new_raw(self, 3 * 4096, PFLASH_A_DEV_ERASE_SIZE,
				   65536), EINVAL, PFLASH_A_DEV_SIZE);
}

TEST_F(nl, create_with_bad_block_size_is_refused)
{
	EXPECT_REFUSED(dev_new_raw(self, 65536, PFLASH_A_DEV_BLOCK_SIZE, 1024),
		       EINVAL, PFLASH_A_DEV_BLOCK_SIZE);
	EXPECT_REFUSED(dev_new_raw(self, 65536, PFLASH_A_DEV_BLOCK_SIZE, 8192),
		       ERANGE, PFLASH_A_DEV_BLOCK_SIZE);
	EXPECT_REFUSED(dev_new_raw(self, 65536, PFLASH_A_DEV_BLOCK_SIZE, 0),
		       ERANGE, PFLASH_A_DEV_BLOCK_SIZE);
}

TEST_F(nl, create_with_bad_erase_size_is_refused)
{
	struct nl_msg *msg;

	/* Not a power of two. */
	EXPECT_REFUSED(dev_new_raw(self, 6144 * 4, PFLASH_A_DEV_ERASE_SIZE,
				   6144), EINVAL, PFLASH_A_DEV_ERASE_SIZE);
	/* Too big. */
	EXPECT_REFUSED(dev_new_raw(self, 1 << 25, PFLASH_A_DEV_ERASE_SIZE,
				   1 << 25), ERANGE, PFLASH_A_DEV_ERASE_SIZE);
	/* Smaller than the logical block size. */
	msg = pfnl_msg_new(self->h, PFLASH_CMD_DEV_NEW, 0);
	ASSERT_NE(NULL, msg);
	nla_put_u64(msg, PFLASH_A_DEV_SIZE, 65536);
	nla_put_u32(msg, PFLASH_A_DEV_BLOCK_SIZE, 4096);
	nla_put_u32(msg, PFLASH_A_DEV_ERASE_SIZE, 512);
	EXPECT_REFUSED(pfnl_exec(self->h, msg, NULL, NULL), EINVAL,
		       PFLASH_A_DEV_ERASE_SIZE);
	nlmsg_free(msg);
}

TEST_F(nl, create_with_bad_flag_value_is_refused)
{
	struct nl_msg *msg = pfnl_msg_new(self->h, PFLASH_CMD_DEV_NEW, 0);

	ASSERT_NE(NULL, msg);
	nla_put_u64(msg, PFLASH_A_DEV_SIZE, 65536);
	nla_put_u8(msg, PFLASH_A_DEV_READ_ONLY, 2);
	EXPECT_REFUSED(pfnl_exec(self->h, msg, NULL, NULL), ERANGE,
		       PFLASH_A_DEV_READ_ONLY);
	nlmsg_free(msg);
}

/*
 * Two maxima that the handlers check, as no policy can hold them (see the
 * spec): the writeback interval's, and a piece of a stream's length.
 */
TEST_F(nl, writeback_interval_over_its_maximum_is_refused)
{
	struct nl_msg *msg = pfnl_msg_new(self->h, PFLASH_CMD_DEV_NEW, 0);

	ASSERT_NE(NULL, msg);
	nla_put_u64(msg, PFLASH_A_DEV_SIZE, 65536);
	nla_put_u32(msg, PFLASH_A_DEV_WRITEBACK_INTERVAL,
		    PFLASH_WRITEBACK_INTERVAL_MAX + 1);
	EXPECT_REFUSED(pfnl_exec(self->h, msg, NULL, NULL), ERANGE,
		       PFLASH_A_DEV_WRITEBACK_INTERVAL);
	nlmsg_free(msg);
}

TEST_F(nl, stream_piece_over_its_maximum_is_refused)
{
	static uint8_t piece[PFLASH_STREAM_CHUNK_MAX + 1];
	struct pfnl_dev req = {}, dev, after;
	struct nl_msg *msg;

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 65536);
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
	ASSERT_EQ(0, make(self, &req, &dev));
	/* libnl's messages are a page unless told otherwise. */
	nlmsg_set_default_size(sizeof(piece) + 4096);
	msg = pfnl_msg_new(self->h, PFLASH_CMD_IMPORT, 0);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, PFLASH_A_DEV_INDEX, dev.index);
	nla_put_u64(msg, PFLASH_A_DEV_STREAM_OFFSET, 0);
	ASSERT_EQ(0, nla_put(msg, PFLASH_A_DEV_STREAM_DATA, sizeof(piece),
			     piece));
	EXPECT_REFUSED(pfnl_exec(self->h, msg, NULL, NULL), ERANGE,
		       PFLASH_A_DEV_STREAM_DATA);
	nlmsg_free(msg);
	/* No import began. */
	ASSERT_EQ(0, pft_get(self->h, dev.index, &after));
	EXPECT_EQ(dev.epoch, after.epoch);
	EXPECT_FALSE(after.flush_pending);
}

TEST_F(nl, index_out_of_range_is_refused)
{
	EXPECT_REFUSED(dev_new_raw(self, 65536, PFLASH_A_DEV_INDEX,
				   PFLASH_INDEX_MAX + 1), ERANGE,
		       PFLASH_A_DEV_INDEX);
	EXPECT_REFUSED(pft_index_cmd(self->h, PFLASH_CMD_DEV_GET,
				     PFLASH_INDEX_MAX + 1, NULL), ERANGE,
		       PFLASH_A_DEV_INDEX);
}

TEST_F(nl, unknown_index_is_refused)
{
	/* An index that is free: create there, destroy, then ask. */
	struct pfnl_dev req = {}, dev;

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, 901);
	ASSERT_EQ(0, pft_create(self->h, &req, &dev));
	ASSERT_EQ(0, pft_destroy(self->h, 901));
	EXPECT_REFUSED(pft_index_cmd(self->h, PFLASH_CMD_DEV_GET, 901, NULL),
		       ENODEV, PFLASH_A_DEV_INDEX);
	EXPECT_REFUSED(pft_destroy(self->h, 901), ENODEV, PFLASH_A_DEV_INDEX);
}

TEST_F(nl, missing_index_is_refused)
{
	EXPECT_REFUSED(pfnl_dev_do(self->h, PFLASH_CMD_DEV_DEL, NULL,
				   NULL), EINVAL, PFLASH_A_DEV_INDEX);
	EXPECT_EQ(PFLASH_A_DEV_INDEX, ack(self)->miss_type);
	EXPECT_REFUSED(pfnl_dev_do(self->h, PFLASH_CMD_DEV_GET, NULL,
				   NULL), EINVAL, PFLASH_A_DEV_INDEX);
}

TEST_F(nl, wrong_attribute_type_is_refused)
{
	struct nl_msg *msg = pfnl_msg_new(self->h, PFLASH_CMD_DEV_NEW, 0);

	/* The size as a u32, not a u64. */
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, PFLASH_A_DEV_SIZE, 65536);
	EXPECT_REFUSED(pfnl_exec(self->h, msg, NULL, NULL), EINVAL,
		       PFLASH_A_DEV_SIZE);
	nlmsg_free(msg);
}

TEST_F(nl, unknown_attribute_is_refused)
{
	EXPECT_REFUSED(dev_new_raw(self, 65536, PFLASH_A_DEV_MAX + 1, 0),
		       EINVAL, PFLASH_A_DEV_MAX + 1);
}

TEST_F(nl, attribute_of_another_command_is_refused)
{
	struct nl_msg *msg = pfnl_msg_new(self->h, PFLASH_CMD_DEV_GET, 0);

	/* DEV_GET takes an index, not a size. */
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, PFLASH_A_DEV_INDEX, 0);
	nla_put_u64(msg, PFLASH_A_DEV_SIZE, 65536);
	EXPECT_REFUSED(pfnl_exec(self->h, msg, NULL, NULL), EINVAL,
		       PFLASH_A_DEV_SIZE);
	nlmsg_free(msg);
}

TEST_F(nl, reply_only_attribute_is_refused)
{
	/* The padding attribute is never sent by user space. */
	EXPECT_REFUSED(dev_new_raw(self, 65536, PFLASH_A_DEV_PAD, 0), EINVAL,
		       PFLASH_A_DEV_PAD);
}

TEST_F(nl, unknown_command_is_refused)
{
	struct nl_msg *msg = pfnl_msg_new(self->h, 200, 0);

	ASSERT_NE(NULL, msg);
	EXPECT_EQ(-EOPNOTSUPP, pfnl_exec(self->h, msg, NULL, NULL));
	nlmsg_free(msg);
}

struct collect {
	uint32_t index[PFLASH_INDEX_MAX + 1];
	int n;
};

static int ignore_dev(const struct pfnl_dev *dev, void *arg)
{
	return 0;
}

static int collect_dev(const struct pfnl_dev *dev, void *arg)
{
	struct collect *c = arg;

	if (c->n <= PFLASH_INDEX_MAX)
		c->index[c->n++] = dev->index;
	return 0;
}

TEST_F(nl, dump_lists_every_device_in_index_order)
{
	static const uint32_t want[] = { 812, 805, 809 };
	struct collect c = {};
	int i, seen = 0;

	for (i = 0; i < (int)ARRAY_SIZE(want); i++) {
		struct pfnl_dev req = {};

		pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
		pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, want[i]);
		ASSERT_EQ(0, make(self, &req, NULL));
	}
	ASSERT_EQ(0, pfnl_dev_dump(self->h, collect_dev, &c));
	for (i = 0; i < c.n; i++) {
		if (i)
			EXPECT_LT(c.index[i - 1], c.index[i]);
		if (c.index[i] == 805 || c.index[i] == 809 ||
		    c.index[i] == 812)
			seen++;
	}
	EXPECT_EQ(3, seen);
}

/*
 * A dump longer than one message: it goes on where the last message was
 * full, listing each device once, in order.
 */
TEST_F(nl, dump_of_many_devices_spans_messages)
{
	enum { MANY = 200, FIRST = 600 };
	struct collect c = {};
	double start = pft_now();
	int i, seen = 0;

	for (i = 0; i < MANY; i++) {
		struct pfnl_dev req = {};

		pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
		pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, FIRST + i);
		ASSERT_EQ(0, pft_create(self->h, &req, NULL));
	}
	EXPECT_EQ(0, pfnl_dev_dump(self->h, collect_dev, &c));
	for (i = 0; i < c.n; i++) {
		if (i)
			EXPECT_LT(c.index[i - 1], c.index[i]);
		seen += c.index[i] >= FIRST && c.index[i] < FIRST + MANY;
	}
	EXPECT_EQ(MANY, seen);
	for (i = 0; i < MANY; i++)
		EXPECT_EQ(0, pft_destroy(self->h, FIRST + i));
	TH_LOG("%d devices made, dumped and destroyed in %.1f s", MANY,
	       pft_now() - start);
}

TEST_F(nl, destroy_of_an_open_device_is_refused)
{
	struct pfnl_dev req = {}, dev;
	int fd;

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
	ASSERT_EQ(0, pft_create(self->h, &req, &dev));
	fd = pft_open(dev.index, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_REFUSED(pft_destroy(self->h, dev.index), EBUSY, 0);
	/* Still there, and usable. */
	EXPECT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_DEV_GET, dev.index,
				   NULL));
	close(fd);
	EXPECT_EQ(0, pft_destroy(self->h, dev.index));
	EXPECT_EQ(-1, pft_open(dev.index, O_RDONLY));
	EXPECT_REFUSED(pft_index_cmd(self->h, PFLASH_CMD_DEV_GET, dev.index,
				     NULL), ENODEV, PFLASH_A_DEV_INDEX);
}

/* How a child gives up CAP_NET_ADMIN over the initial namespaces. */
enum unprivileged {
	DROP_CAPABILITY,	/* capset(): it no longer has it */
	NEW_USER_NAMESPACE,	/* unshare(): it has it, but in a namespace of its own */
};

static int unprivilege(enum unprivileged how)
{
	if (how == DROP_CAPABILITY)
		return pft_drop_net_admin();
	return unshare(CLONE_NEWUSER) ? -errno : 0;
}

/*
 * In a child without CAP_NET_ADMIN, every request and dump of the family,
 * named as a dump or not, gets EPERM; so does joining the events group,
 * whose events carry backing-file paths.  The child exits with a bit set
 * for each that did not.
 */
static int unprivileged_child(uint32_t index, enum unprivileged how)
{
	static const uint8_t cmds[] = {
		PFLASH_CMD_DEV_NEW, PFLASH_CMD_DEV_DEL, PFLASH_CMD_DEV_GET,
		PFLASH_CMD_FLUSH, PFLASH_CMD_INACTIVATE, PFLASH_CMD_ACTIVATE,
		PFLASH_CMD_IMPORT,
	};
	struct pfnl *h, *ev = NULL;
	unsigned int i, bad = 0;
	struct pft_stream s;
	uint8_t piece[64] = {};

	if (unprivilege(how) || pfnl_open(&h))
		return 0xff;
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		struct pfnl_dev r = {};

		if (cmds[i] == PFLASH_CMD_DEV_NEW)
			pfnl_dev_set(&r, PFLASH_A_DEV_SIZE, 4096);
		else
			pfnl_dev_set(&r, PFLASH_A_DEV_INDEX, index);
		if (cmds[i] == PFLASH_CMD_IMPORT) {
			if (pfnl_import(h, index, 0, piece, sizeof(piece),
					&r) != -EPERM)
				bad |= 1u << i;
		} else if (pfnl_dev_do(h, cmds[i], &r, NULL) != -EPERM) {
			bad |= 1u << i;
		}
	}
	if (pfnl_dev_dump(h, ignore_dev, NULL) != -EPERM)
		bad |= 1u << 8;
	if (pft_export(h, index, &s) != -EPERM)
		bad |= 1u << 9;
	pft_stream_free(&s);
	if (pfnl_events_open(&ev) != -EPERM)
		bad |= 1u << 10;
	pfnl_close(ev);
	pfnl_close(h);
	return bad;
}

static void unprivileged(NL_SELF *self,
			 struct __test_metadata *_metadata,
			 enum unprivileged how)
{
	struct pfnl_dev req = {}, dev, after;
	int status;
	pid_t pid;

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
	ASSERT_EQ(0, make(self, &req, &dev));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(unprivileged_child(dev.index, how));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The device is untouched. */
	ASSERT_EQ(0, pft_get(self->h, dev.index, &after));
	EXPECT_EQ(PFLASH_STATE_INACTIVE, after.state);
	EXPECT_EQ(dev.epoch, after.epoch);
}

/* Without CAP_NET_ADMIN, every command and the events group: EPERM. */
TEST_F(nl, commands_and_events_need_cap_net_admin)
{
	unprivileged(self, _metadata, DROP_CAPABILITY);
}

/* CAP_NET_ADMIN in a user namespace of one's own is not enough. */
TEST_F(nl, commands_and_events_need_cap_net_admin_in_the_initial_namespace)
{
	/* The debug kernel is built without user namespaces. */
	if (access("/proc/self/ns/user", F_OK))
		SKIP(return, "the kernel has no user namespaces");
	unprivileged(self, _metadata, NEW_USER_NAMESPACE);
}

/*
 * Receive on @r, in pieces of an odd size, until @ends requests have ended
 * (an ACK, an error or a dump's end), counting the messages in @msgs.  The
 * number of messages that were ill formed, padded with other than zeros,
 * or errors; -1 if nothing came.
 */
static int raw_drain(struct pft_raw *r, uint8_t *buf, size_t size, int ends,
		     unsigned int *msgs)
{
	int n, bad = 0;

	while (ends > 0) {
		n = pft_raw_recv(r->fd, buf, size, 16385, 60000);
		if (n <= 0)
			return -1;
		for (struct nlmsghdr *nlh = (void *)buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			bool end = nlh->nlmsg_type == NLMSG_ERROR ||
				   nlh->nlmsg_type == NLMSG_DONE;

			(*msgs)++;
			bad += pft_raw_check_msg(nlh, n) ||
			       (end && pft_raw_error(nlh));
			ends -= end;
		}
	}
	return bad;
}

/* Send a request of @cmd, naming device @index if not NULL, on @r. */
static int raw_request(struct pft_raw *r, uint8_t *buf, uint16_t flags,
		       uint8_t cmd, const uint32_t *index)
{
	size_t len = pft_raw_start(buf, r->family, NLM_F_REQUEST | flags,
				   ++r->seq, cmd);

	if (index)
		pft_raw_put(buf, &len, PFLASH_A_DEV_INDEX, index, 4);
	((struct nlmsghdr *)buf)->nlmsg_len = len;
	return pft_raw_send(r->fd, buf, len);
}

/*
 * Replies carry nothing but what they say: every byte that pads an
 * attribute or a message is zero, in a reply, a dump and an export, read
 * with a receive size that is not a multiple of four (which sizes the
 * kernel's dump messages).  The backing file's path is of every length
 * modulo four, so that its string is padded every way.
 */
TEST_F(nl, replies_and_exports_pad_with_zeros)
{
	static uint8_t buf[1 << 16];
	static const char * const names[] = { "a", "ab", "abc", "abcd" };
	char dir[64], path[128];
	struct pft_raw r;
	unsigned int i, msgs = 0;

	ASSERT_EQ(0, pft_tmpfs(dir, sizeof(dir), "1m"));
	ASSERT_EQ(0, pft_raw_open(&r));
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		struct pfnl_dev req = {}, dev;
		uint32_t index;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ASSERT_EQ(0, pft_mkfile(path, 8192, 1 + i));
		pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE,
			     PFLASH_CACHE_MODE_WRITEBACK);
		fd = open(path, O_RDWR);
		ASSERT_LE(0, fd);
		pfnl_dev_set(&req, PFLASH_A_DEV_BACKING_FD, fd);
		ASSERT_EQ(0, make(self, &req, &dev));
		close(fd);
		index = dev.index;

		/* A reply, a dump, an export: each to its end. */
		ASSERT_EQ(0, raw_request(&r, buf, NLM_F_ACK, PFLASH_CMD_DEV_GET,
					 &index));
		ASSERT_EQ(0, raw_request(&r, buf, NLM_F_DUMP, PFLASH_CMD_DEV_GET,
					 NULL));
		/* The reply and its ACK, then the dump to its end. */
		EXPECT_EQ(0, raw_drain(&r, buf, sizeof(buf), 2, &msgs));
		ASSERT_EQ(0, raw_request(&r, buf, NLM_F_DUMP, PFLASH_CMD_EXPORT,
					 &index));
		EXPECT_EQ(0, raw_drain(&r, buf, sizeof(buf), 1, &msgs));
	}
	TH_LOG("%u messages checked", msgs);
	close(r.fd);
	for (i = 0; i < (unsigned int)self->nr_made; i++)
		EXPECT_EQ(0, pft_destroy(self->h, self->made[i]));
	self->nr_made = 0;
	pft_tmpfs_remove(dir);
}

/*
 * The tests' own walk through attributes stops at the end of a message
 * whose last attribute is not padded (its alignment would step past the
 * end): the next attribute would start on a page that cannot be read.
 */
TEST(attribute_walk_stops_at_an_unpadded_end)
{
	long page = sysconf(_SC_PAGESIZE);
	const size_t len = NLA_HDRLEN + 4 + NLA_HDRLEN + 1;
	struct nlattr *a, *b;
	const struct nlattr *nla;
	uint8_t *map, *p;
	int n = 0;

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + page, page, PROT_NONE));
	/* 4-aligned, as a message is: its unpadded end 3 bytes short. */
	p = map + page - NLA_ALIGN(len);
	a = PFT_NLA(p, 0);
	a->nla_len = NLA_HDRLEN + 4;
	a->nla_type = 1;
	b = PFT_NLA(p, NLA_HDRLEN + 4);
	b->nla_len = NLA_HDRLEN + 1;
	b->nla_type = 2;
	pft_for_each_nla(nla, p, len)
		n++;
	EXPECT_EQ(2, n);
	EXPECT_EQ(b, pft_raw_attr(p, len, 2));
	EXPECT_EQ(NULL, pft_raw_attr(p, len, 3));
	munmap(map, 2 * page);
}

TEST_HARNESS_MAIN
