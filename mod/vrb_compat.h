/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vrb_compat.h - the one place where kernel API differences live.
 *
 * vringblk is written against Linux 6.1 (Debian bookworm).  Block layer
 * APIs it uses changed later; each difference gets one wrapper here so
 * the rest of the driver reads as plain 6.1 code.  Only the 6.1 branches
 * are built and tested by `make check`; the others follow the upstream
 * commits named next to them.
 */
#ifndef VRB_COMPAT_H
#define VRB_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blk-mq-pci.h>
#include <linux/blkdev.h>
#include <linux/version.h>

/**
 * struct vrb_limits - queue limits vringblk derives from the device config
 * @logical_block_size: bytes per logical block (BLK_SIZE).
 * @physical_block_size: bytes per physical block (TOPOLOGY).
 * @alignment_offset: bytes, first aligned logical block (TOPOLOGY).
 * @io_min: preferred minimum I/O size in bytes (TOPOLOGY).
 * @io_opt: optimal I/O size in bytes (TOPOLOGY).
 * @max_segments: data segments per request (SEG_MAX, ring size).
 * @max_segment_size: bytes per segment (SIZE_MAX).
 * @max_discard_sectors: 0 = no discard (DISCARD).
 * @max_discard_segments: ranges per discard request.
 * @discard_granularity: bytes.
 * @max_write_zeroes_sectors: 0 = no write zeroes (WRITE_ZEROES).
 * @write_cache: the device has a volatile write cache (FLUSH, WCE).
 */
struct vrb_limits {
	unsigned int logical_block_size;
	unsigned int physical_block_size;
	unsigned int alignment_offset;
	unsigned int io_min;
	unsigned int io_opt;
	unsigned int max_segments;
	unsigned int max_segment_size;
	unsigned int max_discard_sectors;
	unsigned int max_discard_segments;
	unsigned int discard_granularity;
	unsigned int max_write_zeroes_sectors;
	bool write_cache;
};

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
/* 6.11 (commit "block: move the write cache flags to queue_limits"). */
static inline struct gendisk *
vrb_compat_alloc_disk(struct blk_mq_tag_set *set, const struct vrb_limits *l,
		      void *data)
{
	struct queue_limits lim = {
		.logical_block_size = l->logical_block_size,
		.physical_block_size = l->physical_block_size,
		.alignment_offset = l->alignment_offset,
		.io_min = l->io_min,
		.io_opt = l->io_opt,
		.max_hw_sectors = UINT_MAX,
		.max_segments = l->max_segments,
		.max_segment_size = l->max_segment_size,
		.max_hw_discard_sectors = l->max_discard_sectors,
		.max_discard_segments = l->max_discard_segments,
		.discard_granularity = l->discard_granularity,
		.max_write_zeroes_sectors = l->max_write_zeroes_sectors,
		.features = l->write_cache ? BLK_FEAT_WRITE_CACHE : 0,
	};

	return blk_mq_alloc_disk(set, &lim, data);
}

static inline void vrb_compat_set_write_cache(struct request_queue *q,
					      bool on)
{
	struct queue_limits lim = queue_limits_start_update(q);

	if (on)
		lim.features |= BLK_FEAT_WRITE_CACHE;
	else
		lim.features &= ~BLK_FEAT_WRITE_CACHE;
	queue_limits_commit_update(q, &lim);
}
#else
/* 6.1 .. 6.10: limits are set one by one after the queue exists. */
static inline void vrb_compat_set_write_cache(struct request_queue *q,
					      bool on)
{
	blk_queue_write_cache(q, on, false);
}

static inline struct gendisk *
vrb_compat_alloc_disk(struct blk_mq_tag_set *set, const struct vrb_limits *l,
		      void *data)
{
	struct request_queue *q;
	struct gendisk *disk;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	disk = blk_mq_alloc_disk(set, NULL, data);	/* 6.9: limits arg */
#else
	disk = blk_mq_alloc_disk(set, data);
#endif
	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, l->logical_block_size);
	blk_queue_physical_block_size(q, l->physical_block_size);
	blk_queue_alignment_offset(q, l->alignment_offset);
	blk_queue_io_min(q, l->io_min);
	blk_queue_io_opt(q, l->io_opt);
	blk_queue_max_hw_sectors(q, UINT_MAX);
	blk_queue_max_segments(q, l->max_segments);
	blk_queue_max_segment_size(q, l->max_segment_size);
	if (l->max_discard_sectors) {
		blk_queue_max_discard_sectors(q, l->max_discard_sectors);
		blk_queue_max_discard_segments(q, l->max_discard_segments);
		q->limits.discard_granularity = l->discard_granularity;
	}
	if (l->max_write_zeroes_sectors)
		blk_queue_max_write_zeroes_sectors(q,
						   l->max_write_zeroes_sectors);
	vrb_compat_set_write_cache(q, l->write_cache);
	return disk;
}
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
/*
 * 6.13: queue_rqs() takes a struct rq_list (head and tail); before, a
 * pointer to the first request.  rq_list_peek(), rq_list_pop() and
 * rq_list_next() are spelled the same on both sides.
 */
#define vrb_compat_rq_list struct rq_list
#else
#define vrb_compat_rq_list struct request *
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
/* 6.15: blk_rq_map_sg() lost its queue argument. */
#define vrb_compat_map_sg(q, rq, sg)	blk_rq_map_sg(rq, sg)
#else
#define vrb_compat_map_sg(q, rq, sg)	blk_rq_map_sg(q, rq, sg)
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
/* 6.16: blk_rq_map_kern() lost its queue argument. */
#define vrb_compat_map_kern(q, rq, buf, len, gfp) \
	blk_rq_map_kern(rq, buf, len, gfp)
#else
#define vrb_compat_map_kern(q, rq, buf, len, gfp) \
	blk_rq_map_kern(q, rq, buf, len, gfp)
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
/* 6.14: blk_mq_pci_map_queues() became blk_mq_map_hw_queues(). */
#define vrb_compat_pci_map_queues(map, pdev, off) \
	blk_mq_map_hw_queues(map, &(pdev)->dev, off)
#else
#define vrb_compat_pci_map_queues(map, pdev, off) \
	blk_mq_pci_map_queues(map, pdev, off)
#endif

#endif /* VRB_COMPAT_H */
