// SPDX-License-Identifier: GPL-2.0
/*
 * VRB_HAVE_BLK_MQ_ALLOC_DISK_LIMITS: blk_mq_alloc_disk() takes the
 * queue limits, blk_mq_alloc_disk(set, lim, queuedata).  Upstream 6.9.
 * Before: blk_mq_alloc_disk(set, queuedata), limits set one by one.
 */
#include <linux/blk-mq.h>

struct gendisk *vrb_probe(struct blk_mq_tag_set *set);

#ifdef VRB_PROBE_HAVE
struct gendisk *vrb_probe(struct blk_mq_tag_set *set)
{
	struct queue_limits lim = { .logical_block_size = 512 };

	return blk_mq_alloc_disk(set, &lim, NULL);
}
#else
struct gendisk *vrb_probe(struct blk_mq_tag_set *set)
{
	return blk_mq_alloc_disk(set, NULL);
}
#endif
