// SPDX-License-Identifier: GPL-2.0
/*
 * The pflash generic netlink family: what it replies, and every kind of bad
 * request it must refuse, each with an errno and an extended-ack message
 * that names the attribute at fault.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "pflash_test.h"

FIXTURE(nl) {
	struct pflash_nl *h;
	uint32_t made[8];
	int nr_made;
};

FIXTURE_SETUP(nl)
{
	ASSERT_EQ(0, pflash_nl_open(&self->h));
}

FIXTURE_TEARDOWN(nl)
{
	int i;

	for (i = 0; i < self->nr_made; i++)
		EXPECT_EQ(0, pft_destroy(self->h, self->made[i]));
	pflash_nl_close(self->h);
}

/* Create a device and remember to destroy it. */
static int make(FIXTURE_DATA(nl) *self, const struct pflash_dev *req,
		struct pflash_dev *out)
{
	struct pflash_dev dev = {};
	int ret = pft_create(self->h, req, &dev);

	if (!ret && self->nr_made < (int)ARRAY_SIZE(self->made))
		self->made[self->nr_made++] = dev.index;
	if (out)
		*out = dev;
	return ret;
}

static const struct pflash_nl_ack *ack(FIXTURE_DATA(nl) *self)
{
	return pflash_nl_last_ack(self->h);
}

/*
 * The last request failed with @err, with a message, blaming attribute
 * @attr (0: none in particular).
 */
#define EXPECT_REFUSED(_ret, _err, _attr) do {				\
	EXPECT_EQ(-(_err), (_ret));					\
	EXPECT_EQ((_err), ack(self)->error);				\
	EXPECT_NE(0, ack(self)->msg[0]);				\
	if (_attr)							\
		EXPECT_EQ((_attr),					\
			  ack(self)->attr ?: ack(self)->miss_type);	\
} while (0)

/* Send DEV_NEW with one u64 size attribute and an optional extra u32. */
static int dev_new_raw(FIXTURE_DATA(nl) *self, uint64_t size, int extra,
		       uint32_t extra_val)
{
	struct nl_msg *msg = pflash_nl_msg_new(self->h, PFLASH_CMD_DEV_NEW, 0);
	int ret;

	if (!msg)
		return -ENOMEM;
	nla_put_u64(msg, PFLASH_A_DEV_SIZE, size);
	if (extra)
		nla_put_u32(msg, extra, extra_val);
	ret = pflash_nl_exec(self->h, msg, NULL, NULL);
	nlmsg_free(msg);
	return ret;
}

TEST_F(nl, create_replies_with_the_new_device)
{
	struct pflash_dev req = {}, dev, got = {};

	pflash_dev_set(&req, PFLASH_A_DEV_SIZE, 128 * 1024);
	ASSERT_EQ(0, make(self, &req, &dev));
	EXPECT_TRUE(pflash_dev_has(&dev, PFLASH_A_DEV_INDEX));
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
	struct pflash_dev req = {}, dev;
	int fd;

	pflash_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
	ASSERT_EQ(0, make(self, &req, &dev));
	fd = pft_open(dev.index, O_RDONLY);
	ASSERT_LE(0, fd);
	close(fd);
}

TEST_F(nl, create_with_index_and_duplicate_index)
{
	struct pflash_dev req = {}, dev;

	pflash_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
	pflash_dev_set(&req, PFLASH_A_DEV_INDEX, 700);
	ASSERT_EQ(0, make(self, &req, &dev));
	EXPECT_EQ(700U, dev.index);
	EXPECT_REFUSED(make(self, &req, NULL), EEXIST, 0);
}

TEST_F(nl, create_without_size_is_refused)
{
	struct pflash_dev req = {};

	pflash_dev_set(&req, PFLASH_A_DEV_BLOCK_SIZE, 512);
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
	msg = pflash_nl_msg_new(self->h, PFLASH_CMD_DEV_NEW, 0);
	ASSERT_NE(NULL, msg);
	nla_put_u64(msg, PFLASH_A_DEV_SIZE, 65536);
	nla_put_u32(msg, PFLASH_A_DEV_BLOCK_SIZE, 4096);
	nla_put_u32(msg, PFLASH_A_DEV_ERASE_SIZE, 512);
	EXPECT_REFUSED(pflash_nl_exec(self->h, msg, NULL, NULL), EINVAL,
		       PFLASH_A_DEV_ERASE_SIZE);
	nlmsg_free(msg);
}

TEST_F(nl, create_with_bad_flag_value_is_refused)
{
	struct nl_msg *msg = pflash_nl_msg_new(self->h, PFLASH_CMD_DEV_NEW, 0);

	ASSERT_NE(NULL, msg);
	nla_put_u64(msg, PFLASH_A_DEV_SIZE, 65536);
	nla_put_u8(msg, PFLASH_A_DEV_READ_ONLY, 2);
	EXPECT_REFUSED(pflash_nl_exec(self->h, msg, NULL, NULL), ERANGE,
		       PFLASH_A_DEV_READ_ONLY);
	nlmsg_free(msg);
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
	struct pflash_dev req = {}, dev;

	pflash_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
	pflash_dev_set(&req, PFLASH_A_DEV_INDEX, 901);
	ASSERT_EQ(0, pft_create(self->h, &req, &dev));
	ASSERT_EQ(0, pft_destroy(self->h, 901));
	EXPECT_REFUSED(pft_index_cmd(self->h, PFLASH_CMD_DEV_GET, 901, NULL),
		       ENODEV, PFLASH_A_DEV_INDEX);
	EXPECT_REFUSED(pft_destroy(self->h, 901), ENODEV, PFLASH_A_DEV_INDEX);
}

TEST_F(nl, missing_index_is_refused)
{
	EXPECT_REFUSED(pflash_nl_dev_do(self->h, PFLASH_CMD_DEV_DEL, NULL,
					NULL), EINVAL, PFLASH_A_DEV_INDEX);
	EXPECT_EQ(PFLASH_A_DEV_INDEX, ack(self)->miss_type);
	EXPECT_REFUSED(pflash_nl_dev_do(self->h, PFLASH_CMD_DEV_GET, NULL,
					NULL), EINVAL, PFLASH_A_DEV_INDEX);
}

TEST_F(nl, wrong_attribute_type_is_refused)
{
	struct nl_msg *msg = pflash_nl_msg_new(self->h, PFLASH_CMD_DEV_NEW, 0);

	/* The size as a u32, not a u64. */
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, PFLASH_A_DEV_SIZE, 65536);
	EXPECT_REFUSED(pflash_nl_exec(self->h, msg, NULL, NULL), EINVAL,
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
	struct nl_msg *msg = pflash_nl_msg_new(self->h, PFLASH_CMD_DEV_GET, 0);

	/* DEV_GET takes an index, not a size. */
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, PFLASH_A_DEV_INDEX, 0);
	nla_put_u64(msg, PFLASH_A_DEV_SIZE, 65536);
	EXPECT_REFUSED(pflash_nl_exec(self->h, msg, NULL, NULL), EINVAL,
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
	struct nl_msg *msg = pflash_nl_msg_new(self->h, 200, 0);

	ASSERT_NE(NULL, msg);
	EXPECT_EQ(-EOPNOTSUPP, pflash_nl_exec(self->h, msg, NULL, NULL));
	nlmsg_free(msg);
}

struct collect {
	uint32_t index[PFLASH_INDEX_MAX + 1];
	int n;
};

static int ignore_dev(const struct pflash_dev *dev, void *arg)
{
	return 0;
}

static int collect_dev(const struct pflash_dev *dev, void *arg)
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
		struct pflash_dev req = {};

		pflash_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
		pflash_dev_set(&req, PFLASH_A_DEV_INDEX, want[i]);
		ASSERT_EQ(0, make(self, &req, NULL));
	}
	ASSERT_EQ(0, pflash_nl_dev_dump(self->h, collect_dev, &c));
	for (i = 0; i < c.n; i++) {
		if (i)
			EXPECT_LT(c.index[i - 1], c.index[i]);
		if (c.index[i] == 805 || c.index[i] == 809 ||
		    c.index[i] == 812)
			seen++;
	}
	EXPECT_EQ(3, seen);
}

TEST_F(nl, destroy_of_an_open_device_is_refused)
{
	struct pflash_dev req = {}, dev;
	int fd;

	pflash_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
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

/* Run every command in a child without CAP_NET_ADMIN; all get EPERM. */
TEST_F(nl, commands_need_cap_net_admin)
{
	static const uint8_t cmds[] = {
		PFLASH_CMD_DEV_NEW, PFLASH_CMD_DEV_DEL, PFLASH_CMD_DEV_GET,
		PFLASH_CMD_FLUSH,
	};
	struct pflash_dev req = {}, dev;
	int status;
	pid_t pid;

	pflash_dev_set(&req, PFLASH_A_DEV_SIZE, 4096);
	ASSERT_EQ(0, make(self, &req, &dev));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct pflash_nl *h;
		unsigned int i, bad = 0;

		if (pft_drop_net_admin() || pflash_nl_open(&h))
			_exit(100);
		for (i = 0; i < ARRAY_SIZE(cmds); i++) {
			struct pflash_dev r = {};

			pflash_dev_set(&r, PFLASH_A_DEV_INDEX, dev.index);
			if (cmds[i] == PFLASH_CMD_DEV_NEW) {
				r.attrs = 0;
				pflash_dev_set(&r, PFLASH_A_DEV_SIZE, 4096);
			}
			if (pflash_nl_dev_do(h, cmds[i], &r, NULL) != -EPERM)
				bad |= 1u << i;
		}
		if (pflash_nl_dev_dump(h, ignore_dev, NULL) != -EPERM)
			bad |= 1u << 7;
		pflash_nl_close(h);
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The device is untouched. */
	EXPECT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_DEV_GET, dev.index,
				   NULL));
}

TEST_HARNESS_MAIN
