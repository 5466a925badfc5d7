// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: the block device and its data path.
 *
 * Requests are served straight from the device's flat buffer: a read or a
 * write is one copy per segment.  Discard erases the whole erase blocks
 * inside its range to 0xff and leaves the bytes of partially covered erase
 * blocks as they were, as flash can only erase whole blocks.
 *
 * A request that changes a device with a backing file marks what it changed
 * dirty.  If it may only complete once that is durable (see
 * pflash_must_wait()), it is handed to the device's writeback worker, which
 * completes it after the next pass; the data path itself never sleeps and
 * never does file I/O.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/bvec.h>
#include <linux/module.h>

#include "compat.h"
#include "pflash.h"

static int pflash_major;

int pflash_open(struct gendisk *disk, bool for_write)
{
	struct pflash_dev *dev = disk->private_data;

	/* Called with disk->open_mutex held, which orders us with claim. */
	if (dev->claimed)
		return -ENXIO;
	if (for_write && !pflash_writable(dev))
		return -EROFS;
	return 0;
}

static const struct block_device_operations pflash_fops = {
	.owner		= THIS_MODULE,
	.open		= pflash_fops_open,
};

static void pflash_copy_from_dev(struct pflash_dev *dev, struct request *rq,
				 u64 pos)
{
	const u8 *src = dev->data + pos;
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter) {
		memcpy_to_bvec(&bv, src);
		src += bv.bv_len;
	}
}

static void pflash_copy_to_dev(struct pflash_dev *dev, struct request *rq,
			       u64 pos)
{
	u8 *dst = dev->data + pos;
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter) {
		memcpy_from_bvec(dst, &bv);
		dst += bv.bv_len;
	}
}

/* Erase the whole erase blocks inside [pos, pos + len). */
static void pflash_erase(struct pflash_dev *dev, u64 pos, u64 len)
{
	u64 start = round_up(pos, (u64)dev->erase_size);
	u64 end = round_down(pos + len, (u64)dev->erase_size);

	if (start < end)
		memset(dev->data + start, PFLASH_ERASED_BYTE, end - start);
}

static blk_status_t pflash_do_request(struct pflash_dev *dev,
				      struct request *rq)
{
	u64 pos = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	u32 len = blk_rq_bytes(rq);
	enum req_op op = req_op(rq);

	if (op == REQ_OP_FLUSH)
		return BLK_STS_OK;
	if (pos > dev->size || len > dev->size - pos)
		return BLK_STS_IOERR;
	if (op == REQ_OP_READ) {
		pflash_copy_from_dev(dev, rq, pos);
		return BLK_STS_OK;
	}
	if (!pflash_writable(dev))
		return BLK_STS_IOERR;

	switch (op) {
	case REQ_OP_WRITE:
		pflash_copy_to_dev(dev, rq, pos);
		break;
	case REQ_OP_DISCARD:
		pflash_erase(dev, pos, len);
		break;
	case REQ_OP_WRITE_ZEROES:
		memset(dev->data + pos, 0, len);
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	if (pflash_writes_back(dev))
		pflash_wb_mark_dirty(dev, pos, len);
	return BLK_STS_OK;
}

/*
 * Whether @rq, served, may complete only after a writeback pass: in
 * writethrough mode every change, in writeback mode a flush or FUA write.
 */
static bool pflash_must_wait(struct pflash_dev *dev, struct request *rq)
{
	if (!pflash_writes_back(dev) || req_op(rq) == REQ_OP_READ)
		return false;
	return dev->cache_mode == PFLASH_CACHE_MODE_WRITETHROUGH ||
	       req_op(rq) == REQ_OP_FLUSH || (rq->cmd_flags & REQ_FUA);
}

static blk_status_t pflash_queue_rq(struct blk_mq_hw_ctx *hctx,
				    const struct blk_mq_queue_data *bd)
{
	struct pflash_dev *dev = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	blk_status_t status;

	blk_mq_start_request(rq);
	status = pflash_do_request(dev, rq);
	if (status == BLK_STS_OK && pflash_must_wait(dev, rq))
		pflash_wb_defer(dev, rq);
	else
		blk_mq_end_request(rq, status);
	return BLK_STS_OK;
}

static const struct blk_mq_ops pflash_mq_ops = {
	.queue_rq	= pflash_queue_rq,
};

int pflash_blk_add(struct pflash_dev *dev)
{
	struct pflash_queue_limits lim = {
		.block_size	= dev->block_size,
		.erase_size	= dev->erase_size,
		.write_cache	= pflash_writes_back(dev) &&
				  dev->cache_mode == PFLASH_CACHE_MODE_WRITEBACK,
	};
	struct blk_mq_tag_set *set = &dev->tag_set;
	struct gendisk *disk;
	int err;

	/*
	 * A queue per CPU, and no I/O scheduler: requests are served in
	 * queue_rq(), at memory speed, with nothing to reorder.
	 */
	set->ops = &pflash_mq_ops;
	set->nr_hw_queues = num_possible_cpus();
	set->queue_depth = 128;
	set->numa_node = NUMA_NO_NODE;
	set->flags = BLK_MQ_F_SHOULD_MERGE | BLK_MQ_F_NO_SCHED_BY_DEFAULT;
	err = blk_mq_alloc_tag_set(set);
	if (err)
		return err;

	disk = pflash_alloc_disk(set, &lim, dev);
	if (IS_ERR(disk)) {
		err = PTR_ERR(disk);
		goto out_free_tag_set;
	}
	disk->major = pflash_major;
	disk->first_minor = dev->index;
	disk->minors = 1;
	disk->flags |= GENHD_FL_NO_PART;
	disk->fops = &pflash_fops;
	disk->private_data = dev;
	snprintf(disk->disk_name, DISK_NAME_LEN, "pflash%d", dev->index);
	set_capacity(disk, dev->size >> SECTOR_SHIFT);
	set_disk_ro(disk, dev->read_only);

	err = add_disk(disk);
	if (err)
		goto out_put_disk;
	dev->disk = disk;
	return 0;

out_put_disk:
	put_disk(disk);
out_free_tag_set:
	blk_mq_free_tag_set(set);
	return err;
}

/*
 * Claim the device for destruction: refused while anyone has it open, and
 * once claimed, pflash_open() turns newcomers away.  Both run under
 * disk->open_mutex, so an open either finished before (and we see its
 * opener) or fails.
 */
int pflash_blk_claim(struct pflash_dev *dev)
{
	struct gendisk *disk = dev->disk;
	int err = 0;

	mutex_lock(&disk->open_mutex);
	if (disk_openers(disk))
		err = -EBUSY;
	else
		dev->claimed = true;
	mutex_unlock(&disk->open_mutex);
	return err;
}

void pflash_blk_unclaim(struct pflash_dev *dev)
{
	mutex_lock(&dev->disk->open_mutex);
	dev->claimed = false;
	mutex_unlock(&dev->disk->open_mutex);
}

/* Whether the device is mounted, or claimed by another driver. */
bool pflash_blk_held_exclusively(struct pflash_dev *dev)
{
	struct gendisk *disk = dev->disk;
	bool held;

	mutex_lock(&disk->open_mutex);
	held = disk->part0->bd_holder;
	mutex_unlock(&disk->open_mutex);
	return held;
}

/* Whether @bdev is a pflash device, and if so, which. */
bool pflash_blk_is_pflash(struct block_device *bdev, struct pflash_dev **devp)
{
	if (bdev->bd_disk->fops != &pflash_fops)
		return false;
	*devp = bdev->bd_disk->private_data;
	return true;
}

/* Undo pflash_blk_add(); the device must have been claimed. */
void pflash_blk_del(struct pflash_dev *dev)
{
	del_gendisk(dev->disk);
	put_disk(dev->disk);
	dev->disk = NULL;
	blk_mq_free_tag_set(&dev->tag_set);
}

int pflash_blk_init(void)
{
	pflash_major = register_blkdev(0, "pflash");
	return pflash_major < 0 ? pflash_major : 0;
}

void pflash_blk_exit(void)
{
	unregister_blkdev(pflash_major, "pflash");
}
