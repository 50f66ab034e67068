// SPDX-License-Identifier: GPL-2.0
/*
 * VRB_HAVE_BLK_FEAT_WRITE_CACHE: a volatile write cache is a feature
 * flag in struct queue_limits, BLK_FEAT_WRITE_CACHE, changed with
 * queue_limits_start_update()/queue_limits_commit_update().  Upstream
 * 6.11 ("block: move the write cache flags to queue_limits").  Before:
 * blk_queue_write_cache().
 */
#include <linux/blkdev.h>

int vrb_probe(struct request_queue *q);

#ifdef VRB_PROBE_HAVE
int vrb_probe(struct request_queue *q)
{
	struct queue_limits lim = queue_limits_start_update(q);

	lim.features |= BLK_FEAT_WRITE_CACHE;
	return queue_limits_commit_update(q, &lim);
}
#else
/* Fails to compile if the flag exists. */
static int BLK_FEAT_WRITE_CACHE;

int vrb_probe(struct request_queue *q)
{
	blk_queue_write_cache(q, true, false);
	return BLK_FEAT_WRITE_CACHE;
}
#endif
