// SPDX-License-Identifier: GPL-2.0
/*
 * VRB_HAVE_INIT_REQUEST_INT_NODE: blk_mq_ops.init_request's last
 * argument, the NUMA node, is an int (NUMA_NO_NODE is -1).  Before:
 * unsigned int.
 */
#include <linux/blk-mq.h>

#ifdef VRB_PROBE_HAVE
static int vrb_probe_init_request(struct blk_mq_tag_set *set,
				  struct request *rq, unsigned int hctx_idx,
				  int numa_node)
{
	return 0;
}
#else
static int vrb_probe_init_request(struct blk_mq_tag_set *set,
				  struct request *rq, unsigned int hctx_idx,
				  unsigned int numa_node)
{
	return 0;
}
#endif

const struct blk_mq_ops vrb_probe_ops;
const struct blk_mq_ops vrb_probe_ops = {
	.init_request = vrb_probe_init_request,
};
