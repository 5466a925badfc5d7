// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: the module: its parameters, the devices it creates at load,
 * and its init and exit.  The registry of devices and their lives are in
 * dev.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pflash.h>

#include "pflash.h"

static unsigned int nr_devices = 1;
module_param(nr_devices, uint, 0444);
MODULE_PARM_DESC(nr_devices, "Number of devices created at load (default: 1)");

static unsigned long long dev_size = 540672;
module_param(dev_size, ullong, 0444);
MODULE_PARM_DESC(dev_size,
		 "Size in bytes of the devices created at load (default: 540672, the size of OVMF_VARS_4M.fd)");

static unsigned int param_block_size = PFLASH_BLOCK_SIZE_DEFAULT;
module_param_named(block_size, param_block_size, uint, 0444);
MODULE_PARM_DESC(block_size,
		 "Logical block size of the devices created at load: 512 or 4096 (default: 512)");

static unsigned int param_erase_size = PFLASH_ERASE_SIZE_DEFAULT;
module_param_named(erase_size, param_erase_size, uint, 0444);
MODULE_PARM_DESC(erase_size,
		 "Erase-block size of the devices created at load (default: 4096)");

/*
 * The module parameters' own checks: the ranges, which DEV_NEW's policies
 * check for its attributes, then the rules no policy can.
 */
static int __init pflash_params_check(void)
{
	if (nr_devices > PFLASH_INDEX_MAX + 1) {
		pr_err("nr_devices must be at most %u\n", PFLASH_INDEX_MAX + 1);
		return -EINVAL;
	}
	if (!pflash_block_size_valid(param_block_size)) {
		pr_err("block_size must be 512 or 4096\n");
		return -EINVAL;
	}
	if (param_erase_size > PFLASH_ERASE_SIZE_MAX ||
	    !pflash_erase_size_valid(param_erase_size, param_block_size)) {
		pr_err("erase_size must be a power of two from block_size to 16 MiB\n");
		return -EINVAL;
	}
	if (!dev_size || dev_size > PFLASH_SIZE_MAX ||
	    !pflash_size_valid(dev_size, param_erase_size)) {
		pr_err("dev_size must be a whole number of erase blocks, from one erase block to 1 GiB\n");
		return -EINVAL;
	}
	return 0;
}

static int __init pflash_create_at_load(void)
{
	struct pflash_create args = {
		.cfg = {
			.size = dev_size,
			.block_size = param_block_size,
			.erase_size = param_erase_size,
		},
		.index = -1,
	};
	struct netlink_ext_ack extack = {};
	struct pflash_dev *dev;
	unsigned int i;
	int err;

	if (!nr_devices)
		return 0;
	err = pflash_params_check();
	if (err)
		return err;
	for (i = 0; i < nr_devices; i++) {
		dev = pflash_dev_create(&args, &extack);
		if (IS_ERR(dev)) {
			pr_err("creating device %u: %s\n", i,
			       extack._msg ?: "failed");
			return PTR_ERR(dev);
		}
		pflash_dev_put(dev);
	}
	return 0;
}

static int __init pflash_init(void)
{
	int err;

	err = pflash_blk_init();
	if (err)
		return err;
	pflash_backing_fault_init();
	err = pflash_create_at_load();
	if (err)
		goto out_destroy;
	err = pflash_nl_register();
	if (err)
		goto out_destroy;
	return 0;

out_destroy:
	pflash_dev_destroy_all();
	pflash_backing_fault_exit();
	pflash_blk_exit();
	return err;
}

static void __exit pflash_exit(void)
{
	/* No netlink command runs once the family is gone. */
	pflash_nl_unregister();
	pflash_dev_destroy_all();
	pflash_backing_fault_exit();
	pflash_blk_exit();
	pflash_backing_exit();
}

module_init(pflash_init);
module_exit(pflash_exit);

MODULE_AUTHOR("The pflash developers");
MODULE_DESCRIPTION("RAM-backed parallel-flash block devices");
MODULE_LICENSE("GPL");
