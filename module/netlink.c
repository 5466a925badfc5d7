// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: the "pflash" generic netlink family.
 *
 * Every command needs CAP_NET_ADMIN (GENL_ADMIN_PERM) and is validated
 * strictly against its own policy, so an attribute a command does not take
 * is rejected.  Handlers run in parallel (parallel_ops): long operations
 * must not hold the global genl_mutex, and each device serializes its own
 * control operations with its ctl_lock.
 */
#include <linux/pflash.h>
#include <net/genetlink.h>

#include "compat.h"
#include "pflash.h"

/* Not const: 6.1's NLA_POLICY_FULL_RANGE() takes a non-const pointer. */
static struct netlink_range_validation pflash_size_range = {
	.min = 1,
	.max = PFLASH_SIZE_MAX,
};

static struct netlink_range_validation pflash_erase_size_range = {
	.min = 512,
	.max = PFLASH_ERASE_SIZE_MAX,
};

static struct netlink_range_validation pflash_wb_interval_range = {
	.max = PFLASH_WRITEBACK_INTERVAL_MAX,
};

static const struct nla_policy pflash_dev_new_policy[PFLASH_A_DEV_MAX + 1] = {
	[PFLASH_A_DEV_INDEX]	  = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
	[PFLASH_A_DEV_SIZE]	  = NLA_POLICY_FULL_RANGE(NLA_U64,
							  &pflash_size_range),
	[PFLASH_A_DEV_BLOCK_SIZE] = NLA_POLICY_RANGE(NLA_U32, 512, 4096),
	[PFLASH_A_DEV_ERASE_SIZE] = NLA_POLICY_FULL_RANGE(NLA_U32,
						&pflash_erase_size_range),
	[PFLASH_A_DEV_READ_ONLY]  = NLA_POLICY_MAX(NLA_U8, 1),
	[PFLASH_A_DEV_BACKING_FD] = { .type = NLA_U32 },
	[PFLASH_A_DEV_CACHE_MODE] = NLA_POLICY_MAX(NLA_U32,
						   PFLASH_CACHE_MODE_WRITEBACK),
	[PFLASH_A_DEV_WRITEBACK_INTERVAL] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &pflash_wb_interval_range),
};

static const struct nla_policy pflash_dev_index_policy[PFLASH_A_DEV_MAX + 1] = {
	[PFLASH_A_DEV_INDEX]	= NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
};

static const struct nla_policy pflash_dev_del_policy[PFLASH_A_DEV_MAX + 1] = {
	[PFLASH_A_DEV_INDEX]	= NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
	[PFLASH_A_DEV_FORCE]	= NLA_POLICY_MAX(NLA_U8, 1),
};

static const struct nla_policy pflash_flush_policy[PFLASH_A_DEV_MAX + 1] = {
	[PFLASH_A_DEV_INDEX]	  = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
	[PFLASH_A_DEV_FLUSH_FULL] = NLA_POLICY_MAX(NLA_U8, 1),
};

static struct genl_family pflash_nl_family;

/*
 * Whether required attribute @attr is missing from @info's request; if so,
 * the extended ack names it and says @msg.
 */
#define pflash_nl_missing(info, attr, msg) ({				\
	bool __missing = GENL_REQ_ATTR_CHECK(info, attr);		\
									\
	if (__missing)							\
		NL_SET_ERR_MSG((info)->extack, msg);			\
	__missing;							\
})

/* Describe @dev in a message of type @cmd.  Called with dev->ctl_lock. */
static int pflash_nl_fill_dev(struct sk_buff *skb, struct pflash_dev *dev,
			      u32 portid, u32 seq, int flags, u8 cmd)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &pflash_nl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, PFLASH_A_DEV_INDEX, dev->index) ||
	    nla_put_u64_64bit(skb, PFLASH_A_DEV_SIZE, dev->size,
			      PFLASH_A_DEV_PAD) ||
	    nla_put_u32(skb, PFLASH_A_DEV_BLOCK_SIZE, dev->block_size) ||
	    nla_put_u32(skb, PFLASH_A_DEV_ERASE_SIZE, dev->erase_size) ||
	    nla_put_u8(skb, PFLASH_A_DEV_READ_ONLY, dev->read_only))
		goto out_cancel;
	if (dev->backing &&
	    (nla_put_string(skb, PFLASH_A_DEV_BACKING_PATH, dev->backing_path) ||
	     nla_put_u64_64bit(skb, PFLASH_A_DEV_DIRTY_BYTES,
			       pflash_wb_dirty_bytes(dev), PFLASH_A_DEV_PAD) ||
	     nla_put_u32(skb, PFLASH_A_DEV_WRITEBACK_ERROR,
			 READ_ONCE(dev->wb_err))))
		goto out_cancel;
	if (pflash_writes_back(dev) &&
	    nla_put_u32(skb, PFLASH_A_DEV_CACHE_MODE, dev->cache_mode))
		goto out_cancel;
	if (pflash_writes_back(dev) &&
	    dev->cache_mode == PFLASH_CACHE_MODE_WRITEBACK &&
	    nla_put_u32(skb, PFLASH_A_DEV_WRITEBACK_INTERVAL,
			dev->wb_interval_ms))
		goto out_cancel;
	genlmsg_end(skb, hdr);
	return 0;

out_cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* Reply to @info with a description of @dev. */
static int pflash_nl_reply_dev(struct pflash_dev *dev, struct genl_info *info)
{
	struct sk_buff *msg;
	int err;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&dev->ctl_lock);
	if (dev->dead) {
		NL_SET_ERR_MSG(info->extack, "the device is being destroyed");
		err = -ENODEV;
	} else {
		err = pflash_nl_fill_dev(msg, dev, info->snd_portid,
					 info->snd_seq, 0, info->genlhdr->cmd);
	}
	mutex_unlock(&dev->ctl_lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* The device named by PFLASH_A_DEV_INDEX, with a reference. */
static struct pflash_dev *pflash_nl_get_dev(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[PFLASH_A_DEV_INDEX];
	struct pflash_dev *dev;

	if (pflash_nl_missing(info, PFLASH_A_DEV_INDEX,
			      "the device index is missing"))
		return ERR_PTR(-EINVAL);
	dev = pflash_dev_get(nla_get_u32(attr));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no such device");
		return ERR_PTR(-ENODEV);
	}
	return dev;
}

/* The backing file and cache settings of DEV_NEW; @cfg->read_only is set. */
static int pflash_nl_parse_backing(struct pflash_config *cfg,
				   struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct nlattr *fd = attrs[PFLASH_A_DEV_BACKING_FD];
	struct nlattr *mode = attrs[PFLASH_A_DEV_CACHE_MODE];
	struct nlattr *interval = attrs[PFLASH_A_DEV_WRITEBACK_INTERVAL];

	if (mode && (!fd || cfg->read_only)) {
		NL_SET_ERR_MSG_ATTR(info->extack, mode,
				    "a cache mode needs a writable device with a backing file");
		return -EINVAL;
	}
	if (mode)
		cfg->cache_mode = nla_get_u32(mode);
	if (interval && cfg->cache_mode != PFLASH_CACHE_MODE_WRITEBACK) {
		NL_SET_ERR_MSG_ATTR(info->extack, interval,
				    "a writeback interval needs writeback cache mode");
		return -EINVAL;
	}
	cfg->wb_interval_ms = interval ? nla_get_u32(interval) :
				       PFLASH_WRITEBACK_INTERVAL_DEFAULT;
	if (!fd)
		return 0;

	cfg->backing = pflash_backing_open(nla_get_u32(fd), cfg->read_only, fd,
					   info->extack);
	if (IS_ERR(cfg->backing)) {
		int err = PTR_ERR(cfg->backing);

		cfg->backing = NULL;
		return err;
	}
	return 0;
}

static int pflash_nl_dev_new(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct pflash_config cfg = {
		.index = -1,
		.block_size = PFLASH_BLOCK_SIZE_DEFAULT,
		.erase_size = PFLASH_ERASE_SIZE_DEFAULT,
	};
	struct pflash_dev *dev;
	int err;

	if (!attrs[PFLASH_A_DEV_BACKING_FD] &&
	    pflash_nl_missing(info, PFLASH_A_DEV_SIZE,
			      "a device without a backing file needs a size"))
		return -EINVAL;
	if (attrs[PFLASH_A_DEV_INDEX])
		cfg.index = nla_get_u32(attrs[PFLASH_A_DEV_INDEX]);
	if (attrs[PFLASH_A_DEV_BLOCK_SIZE])
		cfg.block_size = nla_get_u32(attrs[PFLASH_A_DEV_BLOCK_SIZE]);
	if (attrs[PFLASH_A_DEV_ERASE_SIZE])
		cfg.erase_size = nla_get_u32(attrs[PFLASH_A_DEV_ERASE_SIZE]);
	if (attrs[PFLASH_A_DEV_READ_ONLY])
		cfg.read_only = nla_get_u8(attrs[PFLASH_A_DEV_READ_ONLY]);
	err = pflash_nl_parse_backing(&cfg, info);
	if (err)
		return err;
	if (attrs[PFLASH_A_DEV_SIZE])
		cfg.size = nla_get_u64(attrs[PFLASH_A_DEV_SIZE]);
	else
		cfg.size = pflash_backing_size(cfg.backing);

	err = pflash_config_check(&cfg, attrs, info->extack);
	if (err)
		goto out_put_backing;
	dev = pflash_dev_create(&cfg, info->extack);
	if (IS_ERR(dev)) {
		err = PTR_ERR(dev);
		goto out_put_backing;
	}
	err = pflash_nl_reply_dev(dev, info);
	pflash_dev_put(dev);

out_put_backing:
	if (cfg.backing)
		fput(cfg.backing);
	return err;
}

static int pflash_nl_dev_del(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *force = info->attrs[PFLASH_A_DEV_FORCE];
	struct pflash_dev *dev;
	int err;

	dev = pflash_nl_get_dev(info);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	err = pflash_dev_destroy(dev, force && nla_get_u8(force), info->extack);
	pflash_dev_put(dev);
	return err;
}

static int pflash_nl_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *full = info->attrs[PFLASH_A_DEV_FLUSH_FULL];
	struct pflash_dev *dev;
	int err;

	dev = pflash_nl_get_dev(info);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	mutex_lock(&dev->ctl_lock);
	if (dev->dead) {
		NL_SET_ERR_MSG(info->extack, "the device is being destroyed");
		err = -ENODEV;
	} else {
		err = pflash_wb_flush(dev, full && nla_get_u8(full));
		if (err)
			NL_SET_ERR_MSG(info->extack,
				       "writing to the backing file failed; the data stays dirty");
	}
	mutex_unlock(&dev->ctl_lock);
	pflash_dev_put(dev);
	return err;
}

static int pflash_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct pflash_dev *dev;
	int err;

	dev = pflash_nl_get_dev(info);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	err = pflash_nl_reply_dev(dev, info);
	pflash_dev_put(dev);
	return err;
}

/* cb->args[0]: the index to resume the dump at. */
static int pflash_nl_dev_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	struct pflash_dev *dev;
	u32 index = cb->args[0];
	int err = 0;

	while (!err && (dev = pflash_dev_get_next(&index))) {
		mutex_lock(&dev->ctl_lock);
		if (!dev->dead)
			err = pflash_nl_fill_dev(skb, dev,
						 NETLINK_CB(cb->skb).portid,
						 cb->nlh->nlmsg_seq,
						 NLM_F_MULTI, PFLASH_CMD_DEV_GET);
		mutex_unlock(&dev->ctl_lock);
		pflash_dev_put(dev);
		if (!err)
			index++;
	}
	/* A full message ends this round; the next resumes at @index. */
	cb->args[0] = index;
	return skb->len;
}

static const struct genl_ops pflash_nl_ops[] = {
	{
		.cmd		= PFLASH_CMD_DEV_NEW,
		.doit		= pflash_nl_dev_new,
		.policy		= pflash_dev_new_policy,
		.maxattr	= PFLASH_A_DEV_MAX,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= PFLASH_CMD_DEV_DEL,
		.doit		= pflash_nl_dev_del,
		.policy		= pflash_dev_del_policy,
		.maxattr	= PFLASH_A_DEV_MAX,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= PFLASH_CMD_DEV_GET,
		.doit		= pflash_nl_dev_get_doit,
		.dumpit		= pflash_nl_dev_get_dumpit,
		.policy		= pflash_dev_index_policy,
		.maxattr	= PFLASH_A_DEV_MAX,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= PFLASH_CMD_FLUSH,
		.doit		= pflash_nl_flush,
		.policy		= pflash_flush_policy,
		.maxattr	= PFLASH_A_DEV_MAX,
		.flags		= GENL_ADMIN_PERM,
	},
};

static struct genl_family pflash_nl_family __ro_after_init = {
	.name		= PFLASH_FAMILY_NAME,
	.version	= PFLASH_FAMILY_VERSION,
	.module		= THIS_MODULE,
	.parallel_ops	= true,
	.ops		= pflash_nl_ops,
	.n_ops		= ARRAY_SIZE(pflash_nl_ops),
};

int __init pflash_nl_register(void)
{
	return genl_register_family(&pflash_nl_family);
}

void pflash_nl_unregister(void)
{
	genl_unregister_family(&pflash_nl_family);
}
