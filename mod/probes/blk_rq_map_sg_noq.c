// SPDX-License-Identifier: GPL-2.0
/*
 * VRB_HAVE_BLK_RQ_MAP_SG_NOQ: blk_rq_map_sg(rq, sglist), without the
 * request queue.  Upstream 6.15.  Before: blk_rq_map_sg(q, rq, sglist).
 */
#include <linux/blk-mq.h>
#include <linux/scatterlist.h>

int vrb_probe(struct request *rq, struct scatterlist *sg);

#ifdef VRB_PROBE_HAVE
int vrb_probe(struct request *rq, struct scatterlist *sg)
{
	return blk_rq_map_sg(rq, sg);
}
#else
int vrb_probe(struct request *rq, struct scatterlist *sg)
{
	return blk_rq_map_sg(rq->q, rq, sg);
}
#endif
