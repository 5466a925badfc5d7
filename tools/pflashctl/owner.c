// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl flush, inactivate and activate: the backing file, and who owns
 * it.
 */
#include <errno.h>

#include "pflashctl.h"

static int flush_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	return ctl_run_flag(cmd, argc, argv, "full", PFLASH_A_DEV_FLUSH_FULL,
			    PFLASH_CMD_FLUSH);
}

const struct ctl_cmd ctl_flush = {
	.name		= "flush",
	.args		= "[--full] <device>...",
	.summary	= "write dirty blocks to the backing file",
	.options	= (const struct ctl_opt_help[]) {
		{ "-f, --full", "write the whole device, not only dirty blocks" },
		{ NULL }
	},
	.help_extra	= ctl_dev_help,
	.run		= flush_run,
};

/*
 * Inactivate each device named, but one that a process has open for
 * writing, unless forced: a virtual machine still running on it, whose
 * writes would fail from then on (the kernel refuses, itself, a device
 * held exclusively or mapped for writing).  Once its migration completes,
 * QEMU holds its drive read-only, and the device inactivates.
 */
static int inactivate_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force",	no_argument, NULL, 'f' },
		CTL_OPT_HELP,
		{ NULL }
	};
	struct pfnl_dev req = { 0 };
	int i, ret, status = CTL_EXIT_OK;
	bool force = false;
	struct pfnl *h;

	while (ctl_getopt(cmd, argc, argv, "fh", longopts) != -1)
		force = true;
	argc -= optind;
	argv += optind;
	if (!argc)
		ctl_usage_error(cmd, "no device given");
	ctl_dev_args(cmd, argc, argv);
	if (force)
		pfnl_dev_set(&req, PFLASH_A_DEV_FORCE, true);

	ret = ctl_open(cmd, &h);
	if (ret)
		return ret;
	for (i = 0; i < argc; i++) {
		if (!force &&
		    ctl_refuse_writer(cmd, ctl_dev_arg(cmd, argv[i]),
				      "stop it (or migrate it), or inactivate --force")) {
			status = CTL_EXIT_FAILED;
			continue;
		}
		ret = ctl_each_dev(cmd, h, 1, argv + i, PFLASH_CMD_INACTIVATE,
				   &req, NULL, NULL);
		if (ret)
			status = ret;
	}
	pfnl_close(h);
	return status;
}

const struct ctl_cmd ctl_inactivate = {
	.name		= "inactivate",
	.args		= "[--force] <device>...",
	.summary	= "write back, then give up the backing file",
	.options	= (const struct ctl_opt_help[]) {
		{ "-f, --force",
		  "even if the device is open or mapped for writing, or mounted: its writes will fail" },
		{ NULL }
	},
	.help_extra	= ctl_dev_help,
	.hints		= (const struct ctl_hint[]) {
		/* Held exclusively, or mapped shared and writable. */
		{ EBUSY, 0,
		  "unmount or unmap it, or stop what holds it; or inactivate --force, and its writes fail" },
		{ 0 }
	},
	.run		= inactivate_run,
};

static int activate_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "epoch",	required_argument, NULL, 'e' },
		CTL_OPT_HELP,
		{ NULL }
	};
	struct pfnl_dev req = { 0 };

	/* --epoch is the only option. */
	while (ctl_getopt(cmd, argc, argv, "e:h", longopts) != -1)
		pfnl_dev_set(&req, PFLASH_A_DEV_EPOCH,
			     ctl_u64_arg(cmd, "--epoch", optarg));
	if (argc - optind > 1)
		ctl_usage_error(cmd, "unexpected argument '%s'",
				argv[optind + 1]);
	return ctl_run_each_dev(cmd, argc, argv, PFLASH_CMD_ACTIVATE, &req);
}

const struct ctl_cmd ctl_activate = {
	.name		= "activate",
	.args		= "[--epoch <N>] <device>",
	.summary	= "take the backing file, and write it if owed",
	.options	= (const struct ctl_opt_help[]) {
		{ "-e, --epoch <N>",
		  "the ownership epoch to take: greater than the device's (default: one more)" },
		{ NULL }
	},
	.help_extra	= ctl_dev_help,
	.hints		= (const struct ctl_hint[]) {
		/* Another device owns the backing file. */
		{ EBUSY, 0,
		  "inactivate the device that owns the backing file first ('pflashctl list -o NAME,STATE,BACKING' shows them)" },
		{ EBUSY, PFLASH_A_DEV_EPOCH,
		  "the device is active at another epoch: inactivate it first to take a new one" },
		{ ESTALE, PFLASH_A_DEV_EPOCH, CTL_EPOCH_HINT },
		{ 0 }
	},
	.run		= activate_run,
};
