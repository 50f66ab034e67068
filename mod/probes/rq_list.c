// SPDX-License-Identifier: GPL-2.0
/*
 * VRB_HAVE_RQ_LIST: .queue_rqs takes a struct rq_list (head and tail).
 * Upstream 6.13 ("block: add a rq_list type"); Debian 6.12.25+ too.
 * Before: a pointer to the first request, struct request **.
 */
#include <linux/blk-mq.h>

#ifdef VRB_PROBE_HAVE
static void vrb_probe_queue_rqs(struct rq_list *rqlist)
{
	struct request *rq = rq_list_peek(rqlist);

	if (rq)
		rq_list_pop(rqlist);
}
#else
static void vrb_probe_queue_rqs(struct request **rqlist)
{
	struct request *rq = rq_list_peek(rqlist);

	if (rq)
		rq_list_pop(rqlist);
}
#endif

const struct blk_mq_ops vrb_probe_ops;
const struct blk_mq_ops vrb_probe_ops = {
	.queue_rqs = vrb_probe_queue_rqs,
};
