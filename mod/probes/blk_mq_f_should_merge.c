// SPDX-License-Identifier: GPL-2.0
/*
 * VRB_HAVE_BLK_MQ_F_SHOULD_MERGE: a tag set asks for bio merging with
 * BLK_MQ_F_SHOULD_MERGE.  Upstream 6.14 made merging the default and
 * removed the flag.
 */
#include <linux/blk-mq.h>

unsigned int vrb_probe(void);

#ifdef VRB_PROBE_HAVE
unsigned int vrb_probe(void)
{
	return BLK_MQ_F_SHOULD_MERGE;
}
#else
/* Fails to compile if the enumerator (or a macro) exists. */
static unsigned int BLK_MQ_F_SHOULD_MERGE;

unsigned int vrb_probe(void)
{
	return BLK_MQ_F_SHOULD_MERGE;
}
#endif
