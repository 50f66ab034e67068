/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vrb_compat.h - the one place where kernel API differences live.
 *
 * vringblk is written against Linux 6.1 (Debian bookworm) and builds on
 * every kernel up to the newest Debian ships.  Block layer APIs it uses
 * changed on the way; each difference gets one wrapper here so the rest
 * of the driver reads as plain kernel code.
 *
 * Which side of a difference a kernel is on is never read from its
 * version number: distribution kernels backport changes (Debian's 6.12
 * has 6.13's struct rq_list and 6.14's blk_mq_map_hw_queues()).  Kbuild
 * compiles one small probe per difference against the target kernel's
 * headers (mod/probes/<name>.c) and writes the answers as VRB_HAVE_<NAME>
 * into the generated vrb_probes.h.  The upstream version named next to
 * each wrapper is where the change first appeared, for the reader only.
 */
#ifndef VRB_COMPAT_H
#define VRB_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>

#include "vrb_probes.h"

#ifndef VRB_HAVE_BLK_MQ_MAP_HW_QUEUES
#include <linux/blk-mq-pci.h>
#endif

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

#ifdef VRB_HAVE_BLK_FEAT_WRITE_CACHE
/*
 * 6.11 ("block: move the write cache flags to queue_limits"): every limit
 * and the write cache flag are given when the disk is allocated.
 */
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
/* Before 6.11: limits are set one by one after the queue exists. */
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

#ifdef VRB_HAVE_BLK_MQ_ALLOC_DISK_LIMITS
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

#ifdef VRB_HAVE_RQ_LIST
/*
 * 6.13: queue_rqs() takes a struct rq_list (head and tail); before, a
 * pointer to the first request.  rq_list_peek() and rq_list_pop() are
 * spelled the same on both sides; rq_list_next() is gone, the next
 * request is rq->rq_next on both.
 */
#define vrb_compat_rq_list struct rq_list
#else
#define vrb_compat_rq_list struct request *
#endif

#ifdef VRB_HAVE_BLK_RQ_MAP_SG_NOQ
/* 6.15: blk_rq_map_sg() lost its queue argument. */
#define vrb_compat_map_sg(q, rq, sg)	blk_rq_map_sg(rq, sg)
#else
#define vrb_compat_map_sg(q, rq, sg)	blk_rq_map_sg(q, rq, sg)
#endif

#ifdef VRB_HAVE_BLK_RQ_MAP_KERN_NOQ
/* 6.16: blk_rq_map_kern() lost its queue argument. */
#define vrb_compat_map_kern(q, rq, buf, len, gfp) \
	blk_rq_map_kern(rq, buf, len, gfp)
#else
#define vrb_compat_map_kern(q, rq, buf, len, gfp) \
	blk_rq_map_kern(q, rq, buf, len, gfp)
#endif

#ifdef VRB_HAVE_BLK_MQ_MAP_HW_QUEUES
/* 6.14: blk_mq_pci_map_queues() became blk_mq_map_hw_queues(). */
#define vrb_compat_pci_map_queues(map, pdev, off) \
	blk_mq_map_hw_queues(map, &(pdev)->dev, off)
#else
#define vrb_compat_pci_map_queues(map, pdev, off) \
	blk_mq_pci_map_queues(map, pdev, off)
#endif

#ifndef VRB_HAVE_BLK_MQ_F_SHOULD_MERGE
/* 6.14: blk-mq always tries to merge bios; the flag that asked is gone. */
#define BLK_MQ_F_SHOULD_MERGE	0
#endif

#ifdef VRB_HAVE_INIT_REQUEST_INT_NODE
/* 6.18: .init_request's NUMA node is an int, like NUMA_NO_NODE. */
#define vrb_compat_numa_node_t	int
#else
#define vrb_compat_numa_node_t	unsigned int
#endif

#ifdef VRB_HAVE_GETGEO_GENDISK
/* 6.19: .getgeo is given the disk; before, its block device. */
#define vrb_compat_getgeo_arg		struct gendisk
#define vrb_compat_getgeo_disk(arg)	(arg)
#else
#define vrb_compat_getgeo_arg		struct block_device
#define vrb_compat_getgeo_disk(arg)	((arg)->bd_disk)
#endif

/*
 * Polled I/O needs no wrapper: .poll (struct io_comp_batch, since 5.16)
 * and .map_queues (void since 6.1) have the same types on every kernel
 * vringblk supports, and blk_mq_add_to_batch()'s error argument, an int
 * that became a bool in 6.14, is always false in vringblk (it keeps
 * failed requests out of the batch itself: vrb_blk_complete_polled()).
 */

#endif /* VRB_COMPAT_H */
