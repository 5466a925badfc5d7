// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: the "pflash" generic netlink family.
 *
 * The family's policies, op table and uapi enums are generated from its
 * spec, Documentation/netlink/specs/pflash.yaml, by the kernel's
 * ynl-gen-c.py (netlink-gen.c, netlink-gen.h, uapi/linux/pflash.h): this
 * file holds the handlers the op table names.  Every command needs
 * CAP_NET_ADMIN (GENL_ADMIN_PERM) and is validated strictly against its
 * own policy, a do and a dump each against theirs, so an attribute a
 * command does not take is rejected.  Handlers run in parallel
 * (parallel_ops): long operations must not hold the global genl_mutex, and
 * each device serializes its own control operations with its ctl_lock.
 *
 * Every change is announced on the "events" group, from the handler that
 * made it, with genl_notify() so that NLM_F_ECHO is honoured.  Devices
 * created at module load and destroyed at unload are not announced: the
 * family does not exist then.
 */
#include <linux/module.h>
#include <linux/pflash.h>
#include <net/genetlink.h>

#include "pflash.h"
#include "netlink-gen.h"

/*
 * Say @msg in the extended ack, blaming @attr if it is not NULL: what
 * NL_SET_ERR_MSG_ATTR() does, for a message that is not a literal where it
 * is set (the tables' below), as that macro takes only a literal.
 */
static void pflash_nl_say(struct netlink_ext_ack *extack,
			  const struct nlattr *attr, const char *msg)
{
	do_trace_netlink_extack(msg);
	if (!extack)
		return;
	extack->_msg = msg;
	if (attr)
		extack->bad_attr = attr;
}

/*
 * Whether required attribute @type is missing from @attrs, a request's
 * attributes; if so, the extended ack names it and says @msg.
 */
static bool pflash_nl_missing(struct netlink_ext_ack *extack,
			      struct nlattr **attrs, int type, const char *msg)
{
	if (!NL_REQ_ATTR_CHECK(extack, NULL, attrs, type))
		return false;
	pflash_nl_say(extack, NULL, msg);
	return true;
}

/**
 * struct pflash_nl_mode - one of the ways a command can be asked for
 * @key: the attribute that asks for this way; 0 for the way asked for
 *	without the key of another, which ends a list of ways
 * @key_set: @key asks for it only when it is 1 (a flag)
 * @need: the attributes this way requires, and what the extended ack
 *	says when one is missing
 * @refuse: the attributes of another way, which this one refuses
 * @refused: what the extended ack says of one of @refuse
 *
 * EXPORT and IMPORT each carry two ways, a transfer through a file
 * descriptor or not; which one a request asks for, and whether it has
 * what that way needs and nothing of the other, is what no policy can
 * check: pflash_nl_mode() does, from their tables.
 */
struct pflash_nl_mode {
	u16 key;
	bool key_set;
	struct {
		u16 attr;
		const char *missing;
	} need[2];
	u16 refuse[4];
	const char *refused;
};

#define PFLASH_NL_NO_STREAM_FD \
	"no file descriptor to write the stream to (or ask for a dump)"

/* EXPORT as a do request: a pass of a live export, or the whole stream. */
enum { PFLASH_NL_EXPORT_LIVE, PFLASH_NL_EXPORT_FILE };

static const struct pflash_nl_mode pflash_nl_export_modes[] = {
	[PFLASH_NL_EXPORT_LIVE] = {
		.key = PFLASH_A_DEV_LIVE,
		.key_set = true,
		.need = {
			{ PFLASH_A_DEV_STREAM_FD, PFLASH_NL_NO_STREAM_FD },
			{ PFLASH_A_DEV_LIVE_PASS,
			  "the number of the pass to write is missing" },
		},
	},
	[PFLASH_NL_EXPORT_FILE] = {
		.need = { { PFLASH_A_DEV_STREAM_FD, PFLASH_NL_NO_STREAM_FD } },
		.refuse = { PFLASH_A_DEV_LIVE_FINAL, PFLASH_A_DEV_LIVE_PASS },
		.refused = "a pass, final or not, is for a live export",
	},
};

/*
 * EXPORT as a dump.  Its policy refuses what only a do request takes, but
 * on kernels before 6.2 a command's do and dump share one policy, the
 * do's (compat.h): there this refuses it.
 */
static const struct pflash_nl_mode pflash_nl_export_dump_modes[] = {
	{
		.refuse = { PFLASH_A_DEV_STREAM_FD, PFLASH_A_DEV_LIVE,
			    PFLASH_A_DEV_LIVE_FINAL, PFLASH_A_DEV_LIVE_PASS },
		.refused =
		"a file descriptor, and a live export, are for an export as a do request, not a dump",
	},
};

/* IMPORT: the whole stream from a file descriptor, or a piece of it. */
enum { PFLASH_NL_IMPORT_FILE, PFLASH_NL_IMPORT_PIECE };

static const struct pflash_nl_mode pflash_nl_import_modes[] = {
	[PFLASH_NL_IMPORT_FILE] = {
		.key = PFLASH_A_DEV_STREAM_FD,
		.refuse = { PFLASH_A_DEV_STREAM_OFFSET, PFLASH_A_DEV_STREAM_DATA },
		.refused =
		"an import reads its stream either from a file descriptor or from pieces, not both",
	},
	[PFLASH_NL_IMPORT_PIECE] = {
		.need = {
			{ PFLASH_A_DEV_STREAM_OFFSET, "the stream offset is missing" },
			{ PFLASH_A_DEV_STREAM_DATA, "the stream data is missing" },
		},
	},
};

/*
 * The highest attribute the policy of @info's do request takes: a
 * request's attributes, @info->attrs, end there, the op's @maxattr.
 */
static unsigned int pflash_nl_do_maxattr(const struct genl_info *info)
{
	const struct genl_split_ops *op;
	unsigned int i;

	for (i = 0; i < pflash_nl_family.n_split_ops; i++) {
		op = &pflash_nl_family.split_ops[i];
		if (op->cmd == info->genlhdr->cmd && op->doit)
			return op->maxattr;
	}
	return 0;
}

/* Attribute @type of @attrs, which end at @maxattr; NULL if absent. */
static struct nlattr *pflash_nl_get(struct nlattr **attrs,
				    unsigned int maxattr, unsigned int type)
{
	return type <= maxattr ? attrs[type] : NULL;
}

/*
 * Which of @modes the request of @attrs, which end at @maxattr, asks for:
 * the first whose key it carries, else the last.  Return: its index, once
 * its required attributes are there and another way's are not; else
 * -EINVAL, and the extended ack says why, blaming the attribute.
 */
static int pflash_nl_mode(const struct pflash_nl_mode *modes,
			  struct nlattr **attrs, unsigned int maxattr,
			  struct netlink_ext_ack *extack)
{
	const struct pflash_nl_mode *m;
	struct nlattr *attr;
	unsigned int i;

	for (m = modes; m->key; m++) {
		attr = pflash_nl_get(attrs, maxattr, m->key);
		if (attr && (!m->key_set || nla_get_u8(attr)))
			break;
	}
	for (i = 0; i < ARRAY_SIZE(m->refuse) && m->refuse[i]; i++) {
		attr = pflash_nl_get(attrs, maxattr, m->refuse[i]);
		if (attr) {
			pflash_nl_say(extack, attr, m->refused);
			return -EINVAL;
		}
	}
	for (i = 0; i < ARRAY_SIZE(m->need) && m->need[i].attr; i++)
		if (WARN_ON_ONCE(m->need[i].attr > maxattr) ||
		    pflash_nl_missing(extack, attrs, m->need[i].attr,
				      m->need[i].missing))
			return -EINVAL;
	return m - modes;
}

/*
 * The backing file's path now, as pflash_backing_path_now() gives it, and
 * its identity.  The path is made in the message itself, in room for the
 * longest, which is then cut to the path's length: nothing is allocated.
 */
static int pflash_nl_put_backing(struct sk_buff *skb, struct pflash_dev *dev)
{
	struct nlattr *attr;
	char *path;
	int len;

	attr = nla_reserve(skb, PFLASH_A_DEV_BACKING_PATH,
			   PFLASH_BACKING_PATH_MAX);
	if (!attr)
		return -EMSGSIZE;
	path = pflash_backing_path_now(dev, nla_data(attr));
	len = strlen(path) + 1;
	memmove(nla_data(attr), path, len);
	attr->nla_len = nla_attr_size(len);
	memset((u8 *)nla_data(attr) + len, 0, nla_padlen(len));
	nlmsg_trim(skb, (u8 *)attr + nla_total_size(len));
	if (nla_put_u64_64bit(skb, PFLASH_A_DEV_BACKING_DEV,
			      dev->backing_id.dev, PFLASH_A_DEV_PAD) ||
	    nla_put_u64_64bit(skb, PFLASH_A_DEV_BACKING_INO,
			      dev->backing_id.ino, PFLASH_A_DEV_PAD))
		return -EMSGSIZE;
	return 0;
}

/*
 * The attributes that describe @dev.  Called with dev->ctl_lock held, or
 * on a dead device, which changes no more.
 */
static int pflash_nl_put_dev(struct sk_buff *skb, struct pflash_dev *dev)
{
	if (nla_put_u32(skb, PFLASH_A_DEV_INDEX, dev->index) ||
	    nla_put_u64_64bit(skb, PFLASH_A_DEV_SIZE, dev->cfg.size,
			      PFLASH_A_DEV_PAD) ||
	    nla_put_u32(skb, PFLASH_A_DEV_BLOCK_SIZE, dev->cfg.block_size) ||
	    nla_put_u32(skb, PFLASH_A_DEV_ERASE_SIZE, dev->cfg.erase_size) ||
	    nla_put_u8(skb, PFLASH_A_DEV_READ_ONLY, dev->cfg.read_only) ||
	    nla_put_u32(skb, PFLASH_A_DEV_STATE, dev->state) ||
	    nla_put_u64_64bit(skb, PFLASH_A_DEV_EPOCH, dev->epoch,
			      PFLASH_A_DEV_PAD) ||
	    nla_put(skb, PFLASH_A_DEV_UUID, sizeof(dev->uuid), dev->uuid) ||
	    nla_put_u8(skb, PFLASH_A_DEV_FLUSH_PENDING, dev->flush_pending))
		return -EMSGSIZE;
	if (dev->backing &&
	    (pflash_nl_put_backing(skb, dev) ||
	     nla_put_u64_64bit(skb, PFLASH_A_DEV_DIRTY_BYTES,
			       pflash_wb_dirty_bytes(dev), PFLASH_A_DEV_PAD) ||
	     nla_put_u32(skb, PFLASH_A_DEV_WRITEBACK_ERROR,
			 READ_ONCE(dev->wb_err))))
		return -EMSGSIZE;
	if (pflash_writes_back(dev) &&
	    nla_put_u32(skb, PFLASH_A_DEV_CACHE_MODE, dev->cfg.cache_mode))
		return -EMSGSIZE;
	if (pflash_writes_back(dev) &&
	    dev->cfg.cache_mode == PFLASH_CACHE_MODE_WRITEBACK &&
	    nla_put_u32(skb, PFLASH_A_DEV_WRITEBACK_INTERVAL,
			dev->cfg.wb_interval_ms))
		return -EMSGSIZE;
	return 0;
}

/* A whole message of type @cmd describing @dev. */
static int pflash_nl_fill_dev(struct sk_buff *skb, struct pflash_dev *dev,
			      u32 portid, u32 seq, int flags, u8 cmd)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &pflash_nl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (pflash_nl_put_dev(skb, dev)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/**
 * struct pflash_nl_flush_result - what a flush event reports
 * @full: the whole device was written
 * @err: 0, or the negative errno the flush failed with
 */
struct pflash_nl_flush_result {
	bool full;
	int err;
};

/*
 * Announce @dev on the events group; @info is the request that caused it,
 * or NULL if none did (the event then comes from port 0, sequence 0).  An
 * event that cannot be allocated is lost, as netlink events may be.
 */
static void pflash_nl_notify(struct pflash_dev *dev, u8 cmd,
			     struct genl_info *info,
			     const struct pflash_nl_flush_result *flush)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, info ? info->snd_portid : 0,
			  info ? info->snd_seq : 0, &pflash_nl_family, 0, cmd);
	if (!hdr || pflash_nl_put_dev(skb, dev))
		goto out_free;
	if (flush &&
	    (nla_put_u8(skb, PFLASH_A_DEV_FLUSH_FULL, flush->full) ||
	     nla_put_u32(skb, PFLASH_A_DEV_FLUSH_ERROR, -flush->err)))
		goto out_free;
	genlmsg_end(skb, hdr);
	if (info)
		genl_notify(&pflash_nl_family, skb, info, PFLASH_NLGRP_EVENTS,
			    GFP_KERNEL);
	else
		genlmsg_multicast(&pflash_nl_family, skb, 0,
				  PFLASH_NLGRP_EVENTS, GFP_KERNEL);
	return;

out_free:
	nlmsg_free(skb);
}

/*
 * A change that no request made (enum pflash_dev_event), told by the core
 * with the device's ctl_lock held: announced as pflash_nl_notify() does,
 * from port 0, sequence 0.
 */
static int pflash_nl_dev_event(struct notifier_block *nb,
			       unsigned long event, void *data)
{
	struct pflash_dev *dev = data;

	lockdep_assert_held(&dev->ctl_lock);
	if (event == PFLASH_DEV_EVENT_LOST)
		pflash_nl_notify(dev, PFLASH_CMD_LOST_NTF, NULL, NULL);
	return NOTIFY_OK;
}

static struct notifier_block pflash_nl_dev_events = {
	.notifier_call = pflash_nl_dev_event,
};

/* Reply to @info with @dev, in @msg.  Called with dev->ctl_lock. */
static int pflash_nl_reply(struct sk_buff *msg, struct pflash_dev *dev,
			   struct genl_info *info)
{
	int err;

	err = pflash_nl_fill_dev(msg, dev, info->snd_portid, info->snd_seq, 0,
				 info->genlhdr->cmd);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/*
 * The device named by PFLASH_A_DEV_INDEX in @attrs, a request's
 * attributes, with a reference.
 */
static struct pflash_dev *pflash_nl_get_dev(struct nlattr **attrs,
					    struct netlink_ext_ack *extack)
{
	struct nlattr *attr = attrs[PFLASH_A_DEV_INDEX];
	struct pflash_dev *dev;

	if (pflash_nl_missing(extack, attrs, PFLASH_A_DEV_INDEX,
			      "the device index is missing"))
		return ERR_PTR(-EINVAL);
	dev = pflash_dev_get(nla_get_u32(attr));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "no such device");
		return ERR_PTR(-ENODEV);
	}
	return dev;
}

/* The value of a flag, a u8 of 0 or 1, of a do request; false if absent. */
static bool pflash_nl_flag(struct genl_info *info, unsigned int type)
{
	struct nlattr *attr;

	attr = pflash_nl_get(info->attrs, pflash_nl_do_maxattr(info), type);
	return attr && nla_get_u8(attr);
}

/*
 * Check the geometry of DEV_NEW against the rules no policy can check
 * (the policies checked each attribute's range), blaming the attribute at
 * fault.  Without PFLASH_A_DEV_SIZE, the size is the backing file's, which
 * no policy has seen.
 */
static int pflash_nl_check_geometry(const struct pflash_config *cfg,
				    struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct nlattr *size = attrs[PFLASH_A_DEV_SIZE];

	if (!pflash_block_size_valid(cfg->block_size)) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    attrs[PFLASH_A_DEV_BLOCK_SIZE],
				    "logical block size must be 512 or 4096");
		return -EINVAL;
	}
	if (!pflash_erase_size_valid(cfg->erase_size, cfg->block_size)) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    attrs[PFLASH_A_DEV_ERASE_SIZE],
				    "erase-block size must be a power of two from the logical block size to 16 MiB");
		return -EINVAL;
	}
	if (size && !pflash_size_valid(cfg->size, cfg->erase_size)) {
		NL_SET_ERR_MSG_ATTR(info->extack, size,
				    "size must be a whole number of erase blocks, from one erase block to 1 GiB");
		return -EINVAL;
	}
	if (!size && (!cfg->size || cfg->size > PFLASH_SIZE_MAX ||
		      !pflash_size_valid(cfg->size, cfg->erase_size))) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    attrs[PFLASH_A_DEV_BACKING_FD],
				    "the backing file's size is not a whole number of erase blocks up to 1 GiB; give a size");
		return -EINVAL;
	}
	return 0;
}

/*
 * The request of DEV_NEW, into @args.  @args->backing, once set, is the
 * caller's to put, whatever this returns.
 */
static int pflash_nl_parse_dev_new(struct genl_info *info,
				   struct pflash_create *args)
{
	struct pflash_config *cfg = &args->cfg;
	struct nlattr **attrs = info->attrs;
	struct nlattr *fd = attrs[PFLASH_A_DEV_BACKING_FD];
	struct nlattr *mode = attrs[PFLASH_A_DEV_CACHE_MODE];
	struct nlattr *interval = attrs[PFLASH_A_DEV_WRITEBACK_INTERVAL];
	struct file *backing;

	if (!fd && pflash_nl_missing(info->extack, attrs, PFLASH_A_DEV_SIZE,
				     "a device without a backing file needs a size"))
		return -EINVAL;
	if (attrs[PFLASH_A_DEV_INDEX])
		args->index = nla_get_u32(attrs[PFLASH_A_DEV_INDEX]);
	if (attrs[PFLASH_A_DEV_BLOCK_SIZE])
		cfg->block_size = nla_get_u32(attrs[PFLASH_A_DEV_BLOCK_SIZE]);
	if (attrs[PFLASH_A_DEV_ERASE_SIZE])
		cfg->erase_size = nla_get_u32(attrs[PFLASH_A_DEV_ERASE_SIZE]);
	if (attrs[PFLASH_A_DEV_STATE])
		args->state = nla_get_u32(attrs[PFLASH_A_DEV_STATE]);
	if (attrs[PFLASH_A_DEV_UUID])
		nla_memcpy(args->uuid, attrs[PFLASH_A_DEV_UUID],
			   sizeof(args->uuid));
	cfg->read_only = pflash_nl_flag(info, PFLASH_A_DEV_READ_ONLY);

	if (mode && (!fd || cfg->read_only)) {
		NL_SET_ERR_MSG_ATTR(info->extack, mode,
				    "a cache mode needs a writable device with a backing file");
		return -EINVAL;
	}
	if (mode)
		cfg->cache_mode = nla_get_u32(mode);
	/* The spec's maximum, which its policy leaves out (see the spec). */
	if (interval &&
	    nla_get_u32(interval) > PFLASH_WRITEBACK_INTERVAL_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, interval,
				    "the writeback interval is at most an hour (writeback-interval-max ms)");
		return -ERANGE;
	}
	if (interval && cfg->cache_mode != PFLASH_CACHE_MODE_WRITEBACK) {
		NL_SET_ERR_MSG_ATTR(info->extack, interval,
				    "a writeback interval needs writeback cache mode");
		return -EINVAL;
	}
	cfg->wb_interval_ms = interval ? nla_get_u32(interval) :
				       PFLASH_WRITEBACK_INTERVAL_DEFAULT;

	if (fd) {
		/* Whatever is wrong with the backing file is the fd's fault. */
		backing = pflash_backing_open(nla_get_u32(fd), cfg->read_only,
					      info->extack);
		if (IS_ERR(backing)) {
			NL_SET_BAD_ATTR(info->extack, fd);
			return PTR_ERR(backing);
		}
		args->backing = backing;
	}
	if (attrs[PFLASH_A_DEV_SIZE])
		cfg->size = nla_get_u64(attrs[PFLASH_A_DEV_SIZE]);
	else
		cfg->size = pflash_backing_size(args->backing);
	return pflash_nl_check_geometry(cfg, info);
}

int pflash_nl_dev_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct pflash_create args = {
		.cfg = {
			.block_size = PFLASH_BLOCK_SIZE_DEFAULT,
			.erase_size = PFLASH_ERASE_SIZE_DEFAULT,
		},
		.index = -1,
	};
	struct sk_buff *reply;
	struct pflash_dev *dev;
	int err;

	err = pflash_nl_parse_dev_new(info, &args);
	if (err)
		goto out_put_backing;
	/* Allocated before the change it reports: see pflash_nl_lock_dev(). */
	err = -ENOMEM;
	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply)
		goto out_put_backing;
	dev = pflash_dev_create(&args, info->extack);
	if (IS_ERR(dev)) {
		nlmsg_free(reply);
		err = PTR_ERR(dev);
		goto out_put_backing;
	}
	/* Another command may have destroyed it already. */
	err = pflash_dev_lock_live(dev, info->extack);
	if (err) {
		nlmsg_free(reply);
		goto out_put_dev;
	}
	pflash_nl_notify(dev, PFLASH_CMD_DEV_NEW_NTF, info, NULL);
	err = pflash_nl_reply(reply, dev, info);
	mutex_unlock(&dev->ctl_lock);
out_put_dev:
	pflash_dev_put(dev);

out_put_backing:
	if (args.backing)
		fput(args.backing);
	return err;
}

int pflash_nl_dev_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct pflash_dev *dev;
	int err;

	dev = pflash_nl_get_dev(info->attrs, info->extack);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	err = pflash_dev_retire(dev, pflash_nl_flag(info, PFLASH_A_DEV_FORCE),
				info->extack);
	if (!err) {
		/* Dead: nothing changes it any more, so no lock. */
		pflash_nl_notify(dev, PFLASH_CMD_DEV_DEL_NTF, info, NULL);
		pflash_dev_teardown(dev);
	}
	pflash_dev_put(dev);
	return err;
}

/*
 * The device named by the request, live, with its ctl_lock held; or an
 * ERR_PTR.  If @reply is not NULL, a reply is allocated there first: before
 * the change it reports, so that a change that was made is never answered
 * with an allocation failure.  A lock function, as pflash_dev_lock_live():
 * pflash_nl_unlock_dev() undoes it.
 */
static struct pflash_dev *pflash_nl_lock_dev(struct genl_info *info,
					     struct sk_buff **reply)
{
	struct pflash_dev *dev;
	int err = -ENOMEM;

	dev = pflash_nl_get_dev(info->attrs, info->extack);
	if (IS_ERR(dev))
		return dev;
	if (reply)
		*reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply || *reply)
		err = pflash_dev_lock_live(dev, info->extack);
	if (err) {
		if (reply)
			nlmsg_free(*reply);
		pflash_dev_put(dev);
		return ERR_PTR(err);
	}
	return dev;
}

/* Undo pflash_nl_lock_dev(); @reply is freed unless it was sent. */
static void pflash_nl_unlock_dev(struct pflash_dev *dev, struct sk_buff *reply)
{
	mutex_unlock(&dev->ctl_lock);
	nlmsg_free(reply);
	pflash_dev_put(dev);
}

int pflash_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *reply;
	struct pflash_dev *dev;
	int err;

	dev = pflash_nl_lock_dev(info, &reply);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	err = pflash_nl_reply(reply, dev, info);
	pflash_nl_unlock_dev(dev, NULL);
	return err;
}

/* @dev in a DEV_GET dump; a device that is being destroyed is left out. */
static int pflash_nl_dump_dev(struct sk_buff *skb, struct netlink_callback *cb,
			      struct pflash_dev *dev)
{
	int err;

	if (pflash_dev_lock_live(dev, NULL))
		return 0;
	err = pflash_nl_fill_dev(skb, dev, NETLINK_CB(cb->skb).portid,
				 cb->nlh->nlmsg_seq, NLM_F_MULTI,
				 PFLASH_CMD_DEV_GET);
	mutex_unlock(&dev->ctl_lock);
	return err;
}

/* cb->args[0]: the index to resume the dump at. */
int pflash_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pflash_dev *dev;
	u32 index = cb->args[0];
	int err = 0;

	while (!err && (dev = pflash_dev_get_next(&index))) {
		err = pflash_nl_dump_dev(skb, cb, dev);
		pflash_dev_put(dev);
		if (!err)
			index++;
	}
	/* A full message ends this round; the next resumes at @index. */
	cb->args[0] = index;
	return skb->len;
}

int pflash_nl_flush_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct pflash_nl_flush_result res = {
		.full = pflash_nl_flag(info, PFLASH_A_DEV_FLUSH_FULL),
	};
	struct pflash_dev *dev;
	int err;

	dev = pflash_nl_lock_dev(info, NULL);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	if (res.full && dev->state == PFLASH_STATE_INACTIVE) {
		NL_SET_ERR_MSG(info->extack,
			       "the device is inactive and does not own its backing file; activate it first");
		err = -EROFS;
		goto out_end;
	}
	res.err = pflash_backing_refuse_lost(dev, info->extack) ?:
		  pflash_backing_check(dev, true, info->extack);
	if (!res.err) {
		res.err = pflash_wb_flush(dev, res.full ? PFLASH_WB_ALL :
							  PFLASH_WB_DIRTY);
		if (res.err) {
			NL_SET_ERR_MSG(info->extack,
				       "writing to the backing file failed; the data stays dirty");
			/* The pass may have found the lock lost. */
			res.err = pflash_backing_refuse_lost(dev, info->extack) ?:
				  res.err;
		}
	}
	pflash_nl_notify(dev, PFLASH_CMD_FLUSH_NTF, info, &res);
	err = res.err;
out_end:
	pflash_nl_unlock_dev(dev, NULL);
	return err;
}

/*
 * ACTIVATE, with its optional epoch, which the extended ack blames when it
 * is refused.  Called with dev->ctl_lock held.
 */
static int pflash_nl_activate(struct pflash_dev *dev, struct genl_info *info)
{
	struct nlattr *attr = info->attrs[PFLASH_A_DEV_EPOCH];
	u64 want, epoch;
	int err;

	if (attr)
		want = nla_get_u64(attr);
	err = pflash_activate_epoch(dev, attr ? &want : NULL, &epoch,
				    info->extack);
	if (err) {
		NL_SET_BAD_ATTR(info->extack, attr);
		return err;
	}
	return pflash_activate(dev, epoch, info->extack);
}

/*
 * INACTIVATE and ACTIVATE: the change, announced if the device's state
 * changed, and a reply with the device.
 */
static int pflash_nl_set_state(struct genl_info *info, bool activate)
{
	bool force = pflash_nl_flag(info, PFLASH_A_DEV_FORCE);
	enum pflash_state before;
	struct sk_buff *reply;
	struct pflash_dev *dev;
	int err;

	dev = pflash_nl_lock_dev(info, &reply);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	before = dev->state;
	if (activate)
		err = pflash_nl_activate(dev, info);
	else
		err = pflash_inactivate(dev, force, info->extack);
	if (!err) {
		if (dev->state != before)
			pflash_nl_notify(dev, activate ?
					 PFLASH_CMD_ACTIVATE_NTF :
					 PFLASH_CMD_INACTIVATE_NTF, info, NULL);
		err = pflash_nl_reply(reply, dev, info);
		reply = NULL;
	}
	pflash_nl_unlock_dev(dev, reply);
	return err;
}

int pflash_nl_inactivate_doit(struct sk_buff *skb, struct genl_info *info)
{
	return pflash_nl_set_state(info, false);
}

int pflash_nl_activate_doit(struct sk_buff *skb, struct genl_info *info)
{
	return pflash_nl_set_state(info, true);
}

/*
 * Find the device an export dump names and start its export: cb->args[0]
 * is then the device, cb->args[1] its export.  This runs in the dump's
 * first round, not as its .start callback, because 6.1's generic netlink
 * gives .start no extended ack, and a refusal must say why.
 */
static int pflash_nl_export_begin(struct netlink_callback *cb)
{
	struct nlattr **attrs = genl_info_dump(cb)->attrs;
	struct pflash_export *ex;
	struct pflash_dev *dev;
	int err;

	err = pflash_nl_mode(pflash_nl_export_dump_modes, attrs,
			     genl_dumpit_info(cb)->op.maxattr, cb->extack);
	if (err < 0)
		return err;
	dev = pflash_nl_get_dev(attrs, cb->extack);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	err = pflash_dev_lock_live(dev, cb->extack);
	if (err)
		goto out_put;
	ex = pflash_export_start(dev);
	mutex_unlock(&dev->ctl_lock);
	if (!ex) {
		NL_SET_ERR_MSG(cb->extack, "not enough memory to start the export");
		err = -ENOMEM;
		goto out_put;
	}
	cb->args[0] = (unsigned long)dev;
	cb->args[1] = (unsigned long)ex;
	return 0;

out_put:
	pflash_dev_put(dev);
	return err;
}

/* One message per round, with as much of the stream as fits in it. */
int pflash_nl_export_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pflash_dev *dev;
	struct pflash_export *ex;
	struct nlattr *data;
	u64 offset;
	int room;
	void *hdr;
	u32 n;

	if (!cb->args[0]) {
		int err = pflash_nl_export_begin(cb);

		if (err)
			return err;
	}
	dev = (struct pflash_dev *)cb->args[0];
	ex = (struct pflash_export *)cb->args[1];
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &pflash_nl_family, NLM_F_MULTI, PFLASH_CMD_EXPORT);
	if (!hdr)
		return -EMSGSIZE;
	if (pflash_dev_lock_live(dev, NULL)) {
		genlmsg_cancel(skb, hdr);
		NL_SET_ERR_MSG(cb->extack,
			       "the device was destroyed during the export");
		return -ENODEV;
	}
	offset = pflash_export_offset(ex);
	room = skb_tailroom(skb) - nla_total_size(sizeof(u32)) -
	       nla_total_size_64bit(sizeof(u64)) - nla_total_size(0);
	/*
	 * Whole words, so that the data's alignment fits too: the reader's
	 * receive size, which sizes the message, may be any number.
	 */
	room = round_down(min(room, PFLASH_STREAM_CHUNK_MAX), NLA_ALIGNTO);
	data = NULL;
	if (room > 0 && !nla_put_u32(skb, PFLASH_A_DEV_INDEX, dev->index) &&
	    !nla_put_u64_64bit(skb, PFLASH_A_DEV_STREAM_OFFSET, offset,
			       PFLASH_A_DEV_PAD))
		data = nla_reserve(skb, PFLASH_A_DEV_STREAM_DATA, room);
	if (!data) {
		mutex_unlock(&dev->ctl_lock);
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	n = pflash_export_read(ex, nla_data(data), room);
	mutex_unlock(&dev->ctl_lock);
	if (!n) {
		/* The stream is complete: end the dump. */
		genlmsg_cancel(skb, hdr);
		return 0;
	}
	if (n < room) {
		data->nla_len = nla_attr_size(n);
		/* What aligns the shorter data goes out too: zero it. */
		memset((u8 *)nla_data(data) + n, 0, nla_padlen(n));
		nlmsg_trim(skb, (u8 *)data + nla_total_size(n));
	}
	genlmsg_end(skb, hdr);
	return skb->len;
}

int pflash_nl_export_done(struct netlink_callback *cb)
{
	struct pflash_dev *dev = (struct pflash_dev *)cb->args[0];

	if (dev) {
		pflash_export_free((struct pflash_export *)cb->args[1]);
		pflash_dev_put(dev);
	}
	return 0;
}

/*
 * Reply to a transfer through a file: @dev, which is live, with its
 * ctl_lock held, and what the transfer moved.  Consumes @reply.
 */
static int pflash_nl_transfer_reply(struct sk_buff *reply,
				    struct pflash_dev *dev,
				    const struct pflash_transfer_result *res,
				    struct genl_info *info)
{
	void *hdr;

	hdr = genlmsg_put_reply(reply, info, &pflash_nl_family, 0,
				info->genlhdr->cmd);
	if (!hdr || pflash_nl_put_dev(reply, dev) ||
	    nla_put_u64_64bit(reply, PFLASH_A_DEV_STREAM_BYTES,
			      res->stream_bytes, PFLASH_A_DEV_PAD) ||
	    nla_put_u8(reply, PFLASH_A_DEV_STREAM_FINAL, res->final) ||
	    (res->live &&
	     (nla_put_u32(reply, PFLASH_A_DEV_LIVE_PASS, res->pass) ||
	      nla_put_u64_64bit(reply, PFLASH_A_DEV_LIVE_PENDING,
				res->pending, PFLASH_A_DEV_PAD)))) {
		nlmsg_free(reply);
		return -EMSGSIZE;
	}
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);
}

/*
 * The file of a transfer, named by PFLASH_A_DEV_STREAM_FD, and the reply to
 * it, allocated before the transfer changes anything; or an ERR_PTR.
 */
static struct file *pflash_nl_transfer_open(struct genl_info *info,
					    bool write, struct sk_buff **reply)
{
	struct nlattr *fd = info->attrs[PFLASH_A_DEV_STREAM_FD];
	struct file *file;

	/* Whatever is wrong with the file is the fd's fault. */
	file = pflash_transfer_open(nla_get_u32(fd), write, info->extack);
	if (IS_ERR(file)) {
		NL_SET_BAD_ATTR(info->extack, fd);
		return file;
	}
	*reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!*reply) {
		fput(file);
		return ERR_PTR(-ENOMEM);
	}
	return file;
}

/*
 * EXPORT as a do request: the whole stream into a file.  No lock is held
 * while it is written (see export.c), so the device is looked up with a
 * reference only.
 */
int pflash_nl_export_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct pflash_live_req live = {
		.portid = info->snd_portid,
		.final = pflash_nl_flag(info, PFLASH_A_DEV_LIVE_FINAL),
	};
	struct pflash_transfer_result res = {};
	struct sk_buff *reply;
	struct pflash_dev *dev;
	struct file *file;
	bool is_live;
	int err;

	err = pflash_nl_mode(pflash_nl_export_modes, info->attrs,
			     pflash_nl_do_maxattr(info), info->extack);
	if (err < 0)
		return err;
	is_live = err == PFLASH_NL_EXPORT_LIVE;
	if (is_live)
		live.pass = nla_get_u32(info->attrs[PFLASH_A_DEV_LIVE_PASS]);
	dev = pflash_nl_get_dev(info->attrs, info->extack);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	file = pflash_nl_transfer_open(info, true, &reply);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto out_put;
	}
	if (is_live)
		err = pflash_live_pass(dev, file, &live, &res, info->extack);
	else
		err = pflash_export_file(dev, file, &res, info->extack);
	fput(file);
	if (err)
		goto out_free_reply;
	err = pflash_dev_lock_live(dev, info->extack);
	if (err)
		goto out_free_reply;
	err = pflash_nl_transfer_reply(reply, dev, &res, info);
	reply = NULL;
	mutex_unlock(&dev->ctl_lock);
out_free_reply:
	nlmsg_free(reply);
out_put:
	pflash_dev_put(dev);
	return err;
}

/* IMPORT with PFLASH_A_DEV_STREAM_FD: the whole stream from a file. */
static int pflash_nl_import_file(struct genl_info *info)
{
	struct pflash_transfer_result res = {};
	struct pflash_import *imp;
	struct sk_buff *reply;
	struct pflash_dev *dev;
	struct file *file;
	int err;

	dev = pflash_nl_get_dev(info->attrs, info->extack);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	file = pflash_nl_transfer_open(info, false, &reply);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto out_put;
	}
	imp = pflash_import_file_read(dev, file, info->extack);
	fput(file);
	if (IS_ERR(imp)) {
		err = PTR_ERR(imp);
		goto out_free_reply;
	}
	/*
	 * Committed, announced and answered under one hold of ctl_lock, so
	 * that no other change comes between.  A device that died meanwhile
	 * let go of the import.
	 */
	if (pflash_dev_lock_live(dev, info->extack)) {
		NL_SET_ERR_MSG(info->extack,
			       "the device was destroyed during the import");
		err = -ENODEV;
		goto out_free_imp;
	}
	err = pflash_import_file_commit(dev, imp, &res, info->extack);
	if (!err) {
		pflash_nl_notify(dev, PFLASH_CMD_IMPORT_NTF, info, NULL);
		err = pflash_nl_transfer_reply(reply, dev, &res, info);
		reply = NULL;
	}
	mutex_unlock(&dev->ctl_lock);
out_free_imp:
	pflash_import_file_free(imp);
out_free_reply:
	nlmsg_free(reply);
out_put:
	pflash_dev_put(dev);
	return err;
}

int pflash_nl_import_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *data = info->attrs[PFLASH_A_DEV_STREAM_DATA];
	struct sk_buff *reply;
	struct pflash_dev *dev;
	bool committed;
	int err;

	err = pflash_nl_mode(pflash_nl_import_modes, info->attrs,
			     pflash_nl_do_maxattr(info), info->extack);
	if (err < 0)
		return err;
	if (err == PFLASH_NL_IMPORT_FILE)
		return pflash_nl_import_file(info);
	/* The spec's maximum, which no policy can hold (see the spec). */
	if (nla_len(data) > PFLASH_STREAM_CHUNK_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, data,
				    "a piece of a stream is at most stream-chunk-max bytes");
		return -ERANGE;
	}
	dev = pflash_nl_lock_dev(info, &reply);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	err = pflash_import(dev, info->snd_portid,
			    nla_get_u64(info->attrs[PFLASH_A_DEV_STREAM_OFFSET]),
			    nla_data(data), nla_len(data), &committed,
			    info->extack);
	if (!err && committed) {
		pflash_nl_notify(dev, PFLASH_CMD_IMPORT_NTF, info, NULL);
		err = pflash_nl_reply(reply, dev, info);
		reply = NULL;
	}
	pflash_nl_unlock_dev(dev, reply);
	return err;
}

/*
 * A generic netlink socket closed: end the imports it was sending, and the
 * live exports it drove.
 */
static int pflash_nl_sock_release(struct notifier_block *nb,
				  unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC)
		pflash_dev_release_socket(n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block pflash_nl_notifier = {
	.notifier_call = pflash_nl_sock_release,
};

/*
 * The events carry backing-file paths: joining their group needs
 * CAP_NET_ADMIN, as the spec's flags for it say.  ynl-gen-c.py renders no
 * flags of a multicast group, so the family is given this group instead
 * of the one it generates (the same, but for the flags).
 */
static const struct genl_multicast_group pflash_nl_mcgrps[] = {
	[PFLASH_NLGRP_EVENTS] = {
		.name	= PFLASH_MCGRP_EVENTS,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
};

int __init pflash_nl_register(void)
{
	int err;

	/*
	 * What the generated family cannot say, set before it is registered
	 * (it is writable until then): the events group's flags, above; and
	 * that it lives in the initial network namespace alone, as the block
	 * devices it manages are the host's.  ynl-gen-c.py makes every
	 * family it generates netnsok.
	 */
	if (WARN_ON(pflash_nl_family.n_mcgrps != ARRAY_SIZE(pflash_nl_mcgrps)))
		return -EINVAL;
	pflash_nl_family.mcgrps = pflash_nl_mcgrps;
	pflash_nl_family.netnsok = false;

	err = netlink_register_notifier(&pflash_nl_notifier);
	if (err)
		return err;
	err = genl_register_family(&pflash_nl_family);
	if (err) {
		netlink_unregister_notifier(&pflash_nl_notifier);
		return err;
	}
	/* Registering on a blocking notifier chain cannot fail. */
	blocking_notifier_chain_register(&pflash_dev_events,
					 &pflash_nl_dev_events);
	return 0;
}

void pflash_nl_unregister(void)
{
	blocking_notifier_chain_unregister(&pflash_dev_events,
					   &pflash_nl_dev_events);
	genl_unregister_family(&pflash_nl_family);
	netlink_unregister_notifier(&pflash_nl_notifier);
}

/* The kernel loads pflash when a request first names the family. */
MODULE_ALIAS_GENL_FAMILY(PFLASH_FAMILY_NAME);
