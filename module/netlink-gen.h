/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/pflash.yaml */
/* YNL-GEN kernel header */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#ifndef _LINUX_PFLASH_GEN_H
#define _LINUX_PFLASH_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/pflash.h>

int pflash_nl_export_done(struct netlink_callback *cb);

int pflash_nl_dev_new_doit(struct sk_buff *skb, struct genl_info *info);
int pflash_nl_dev_del_doit(struct sk_buff *skb, struct genl_info *info);
int pflash_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info);
int pflash_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int pflash_nl_flush_doit(struct sk_buff *skb, struct genl_info *info);
int pflash_nl_inactivate_doit(struct sk_buff *skb, struct genl_info *info);
int pflash_nl_activate_doit(struct sk_buff *skb, struct genl_info *info);
int pflash_nl_export_doit(struct sk_buff *skb, struct genl_info *info);
int pflash_nl_export_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int pflash_nl_import_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	PFLASH_NLGRP_EVENTS,
};

extern struct genl_family pflash_nl_family;

#endif /* _LINUX_PFLASH_GEN_H */
