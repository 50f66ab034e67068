// SPDX-License-Identifier: GPL-2.0
/*
 * VRB_HAVE_BLK_RQ_MAP_KERN_NOQ: blk_rq_map_kern(rq, buf, len, gfp),
 * without the request queue.  Upstream 6.16.  Before:
 * blk_rq_map_kern(q, rq, buf, len, gfp).
 */
#include <linux/blk-mq.h>

int vrb_probe(struct request *rq, void *buf);

#ifdef VRB_PROBE_HAVE
int vrb_probe(struct request *rq, void *buf)
{
	return blk_rq_map_kern(rq, buf, 512, GFP_KERNEL);
}
#else
int vrb_probe(struct request *rq, void *buf)
{
	return blk_rq_map_kern(rq->q, rq, buf, 512, GFP_KERNEL);
}
#endif
