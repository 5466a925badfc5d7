// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/pflash.yaml */
/* YNL-GEN kernel source */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "netlink-gen.h"

#include <uapi/linux/pflash.h>

/* Integer value ranges */
static const struct netlink_range_validation pflash_a_dev_size_range = {
	.min	= 1ULL,
	.max	= PFLASH_SIZE_MAX,
};

static const struct netlink_range_validation pflash_a_dev_erase_size_range = {
	.min	= 512ULL,
	.max	= PFLASH_ERASE_SIZE_MAX,
};

/* PFLASH_CMD_DEV_NEW - do */
static const struct nla_policy pflash_dev_new_nl_policy[PFLASH_A_DEV_UUID + 1] = {
	[PFLASH_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
	[PFLASH_A_DEV_SIZE] = NLA_POLICY_FULL_RANGE(NLA_U64, &pflash_a_dev_size_range),
	[PFLASH_A_DEV_BLOCK_SIZE] = NLA_POLICY_RANGE(NLA_U32, 512, 4096),
	[PFLASH_A_DEV_ERASE_SIZE] = NLA_POLICY_FULL_RANGE(NLA_U32, &pflash_a_dev_erase_size_range),
	[PFLASH_A_DEV_READ_ONLY] = NLA_POLICY_MAX(NLA_U8, 1),
	[PFLASH_A_DEV_BACKING_FD] = { .type = NLA_U32, },
	[PFLASH_A_DEV_CACHE_MODE] = NLA_POLICY_MAX(NLA_U32, 1),
	[PFLASH_A_DEV_WRITEBACK_INTERVAL] = { .type = NLA_U32, },
	[PFLASH_A_DEV_STATE] = NLA_POLICY_MAX(NLA_U32, 1),
	[PFLASH_A_DEV_UUID] = NLA_POLICY_EXACT_LEN(PFLASH_UUID_LEN),
};

/* PFLASH_CMD_DEV_DEL - do */
static const struct nla_policy pflash_dev_del_nl_policy[PFLASH_A_DEV_FORCE + 1] = {
	[PFLASH_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
	[PFLASH_A_DEV_FORCE] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* PFLASH_CMD_DEV_GET - do */
static const struct nla_policy pflash_dev_get_do_nl_policy[PFLASH_A_DEV_INDEX + 1] = {
	[PFLASH_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
};

/* PFLASH_CMD_DEV_GET - dump */
static const struct nla_policy pflash_dev_get_dump_nl_policy[PFLASH_A_DEV_INDEX + 1] = {
	[PFLASH_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
};

/* PFLASH_CMD_FLUSH - do */
static const struct nla_policy pflash_flush_nl_policy[PFLASH_A_DEV_FLUSH_FULL + 1] = {
	[PFLASH_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
	[PFLASH_A_DEV_FLUSH_FULL] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* PFLASH_CMD_INACTIVATE - do */
static const struct nla_policy pflash_inactivate_nl_policy[PFLASH_A_DEV_FORCE + 1] = {
	[PFLASH_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
	[PFLASH_A_DEV_FORCE] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* PFLASH_CMD_ACTIVATE - do */
static const struct nla_policy pflash_activate_nl_policy[PFLASH_A_DEV_EPOCH + 1] = {
	[PFLASH_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
	[PFLASH_A_DEV_EPOCH] = { .type = NLA_U64, },
};

/* PFLASH_CMD_EXPORT - do */
static const struct nla_policy pflash_export_do_nl_policy[PFLASH_A_DEV_LIVE_PASS + 1] = {
	[PFLASH_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
	[PFLASH_A_DEV_STREAM_FD] = { .type = NLA_U32, },
	[PFLASH_A_DEV_LIVE] = NLA_POLICY_MAX(NLA_U8, 1),
	[PFLASH_A_DEV_LIVE_FINAL] = NLA_POLICY_MAX(NLA_U8, 1),
	[PFLASH_A_DEV_LIVE_PASS] = { .type = NLA_U32, },
};

/* PFLASH_CMD_EXPORT - dump */
static const struct nla_policy pflash_export_dump_nl_policy[PFLASH_A_DEV_INDEX + 1] = {
	[PFLASH_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
};

/* PFLASH_CMD_IMPORT - do */
static const struct nla_policy pflash_import_nl_policy[PFLASH_A_DEV_STREAM_FD + 1] = {
	[PFLASH_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, PFLASH_INDEX_MAX),
	[PFLASH_A_DEV_STREAM_OFFSET] = { .type = NLA_U64, },
	[PFLASH_A_DEV_STREAM_DATA] = { .type = NLA_BINARY, },
	[PFLASH_A_DEV_STREAM_FD] = { .type = NLA_U32, },
};

/* Ops table for pflash */
static const struct genl_split_ops pflash_nl_ops[] = {
	{
		.cmd		= PFLASH_CMD_DEV_NEW,
		.doit		= pflash_nl_dev_new_doit,
		.policy		= pflash_dev_new_nl_policy,
		.maxattr	= PFLASH_A_DEV_UUID,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= PFLASH_CMD_DEV_DEL,
		.doit		= pflash_nl_dev_del_doit,
		.policy		= pflash_dev_del_nl_policy,
		.maxattr	= PFLASH_A_DEV_FORCE,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= PFLASH_CMD_DEV_GET,
		.doit		= pflash_nl_dev_get_doit,
		.policy		= pflash_dev_get_do_nl_policy,
		.maxattr	= PFLASH_A_DEV_INDEX,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= PFLASH_CMD_DEV_GET,
		.dumpit		= pflash_nl_dev_get_dumpit,
		.policy		= pflash_dev_get_dump_nl_policy,
		.maxattr	= PFLASH_A_DEV_INDEX,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= PFLASH_CMD_FLUSH,
		.doit		= pflash_nl_flush_doit,
		.policy		= pflash_flush_nl_policy,
		.maxattr	= PFLASH_A_DEV_FLUSH_FULL,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= PFLASH_CMD_INACTIVATE,
		.doit		= pflash_nl_inactivate_doit,
		.policy		= pflash_inactivate_nl_policy,
		.maxattr	= PFLASH_A_DEV_FORCE,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= PFLASH_CMD_ACTIVATE,
		.doit		= pflash_nl_activate_doit,
		.policy		= pflash_activate_nl_policy,
		.maxattr	= PFLASH_A_DEV_EPOCH,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= PFLASH_CMD_EXPORT,
		.doit		= pflash_nl_export_doit,
		.policy		= pflash_export_do_nl_policy,
		.maxattr	= PFLASH_A_DEV_LIVE_PASS,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= PFLASH_CMD_EXPORT,
		.dumpit		= pflash_nl_export_dumpit,
		.done		= pflash_nl_export_done,
		.policy		= pflash_export_dump_nl_policy,
		.maxattr	= PFLASH_A_DEV_INDEX,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= PFLASH_CMD_IMPORT,
		.doit		= pflash_nl_import_doit,
		.policy		= pflash_import_nl_policy,
		.maxattr	= PFLASH_A_DEV_STREAM_FD,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
};

static const struct genl_multicast_group pflash_nl_mcgrps[] = {
	[PFLASH_NLGRP_EVENTS] = { "events", },
};

struct genl_family pflash_nl_family __ro_after_init = {
	.name		= PFLASH_FAMILY_NAME,
	.version	= PFLASH_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= pflash_nl_ops,
	.n_split_ops	= ARRAY_SIZE(pflash_nl_ops),
	.mcgrps		= pflash_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(pflash_nl_mcgrps),
};
