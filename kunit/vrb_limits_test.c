// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vringblk_limits: the bounds the driver puts on numbers the
 * device reports (mod/vrb_limits.h) before they cost memory or reach the
 * block layer.  QEMU cannot offer the values that matter here (a capacity
 * of 2^54 sectors, a ring of 32768 entries), so they are checked on the
 * functions the driver calls.
 */
#include <kunit/test.h>
#include <linux/blk-mq.h>
#include <linux/kernel.h>

#include "../mod/vrb_limits.h"

/* The size in bytes a capacity gives, as the loff_t everyone above uses. */
static loff_t bytes_of(u64 sectors)
{
	return (loff_t)(sectors << VRB_SECTOR_SHIFT);
}

static void vrb_capacity_valid_accepts_largest_loff_t(struct kunit *test)
{
	u64 largest = (1ULL << 54) - 1;

	/* Expected: 2^54 - 1 sectors is 2^63 - 512 bytes: positive. */
	KUNIT_EXPECT_TRUE(test, vrb_capacity_valid(largest));
	KUNIT_EXPECT_GT(test, bytes_of(largest), 0);
	KUNIT_EXPECT_EQ(test, VRB_MAX_CAPACITY, largest);
	KUNIT_EXPECT_TRUE(test, vrb_capacity_valid(0));
	KUNIT_EXPECT_TRUE(test, vrb_capacity_valid(131072));
}

static void vrb_capacity_valid_rejects_negative_size(struct kunit *test)
{
	/*
	 * Expected: from 2^54 sectors on, the size in bytes is 2^63 or more,
	 * negative as an loff_t, though it still fits a u64 of bytes (the
	 * old bound, U64_MAX >> 9, let these through).
	 */
	static const u64 bad[] = {
		1ULL << 54, (1ULL << 54) + 1, 3ULL << 53, (1ULL << 55) - 1,
		1ULL << 55, U64_MAX >> 1, U64_MAX,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_FALSE_MSG(test, vrb_capacity_valid(bad[i]),
				       "capacity %llu", bad[i]);
		if (bad[i] <= (U64_MAX >> VRB_SECTOR_SHIFT))
			KUNIT_EXPECT_LT_MSG(test, bytes_of(bad[i]), 0,
					    "capacity %llu", bad[i]);
	}
}

static void vrb_queue_depth_indirect_is_ring_size(struct kunit *test)
{
	/* Expected: one ring descriptor per request. */
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(256, true, 0), 256);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(1024, true, 0), 1024);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(1, true, 0), 1);
}

static void vrb_queue_depth_direct_is_a_third(struct kunit *test)
{
	/* Expected: three descriptors at least per request, never 0. */
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(256, false, 0), 85);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(64, false, 0), 21);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(4, false, 0), 1);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(2, false, 0), 1);
}

static void vrb_queue_depth_param_only_lowers(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(256, true, 64), 64);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(256, true, 1), 1);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(256, true, 1000), 256);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(256, false, 1000), 85);
}

static void vrb_queue_depth_never_beyond_blk_mq(struct kunit *test)
{
	/*
	 * Expected: a device offering the largest ring (32768, §2.7) gets
	 * the depth blk-mq grants, BLK_MQ_MAX_DEPTH, not 32768: each tag
	 * costs ~4.4 KiB of coherent memory, 144 MiB per queue otherwise.
	 */
	KUNIT_EXPECT_EQ(test, VRB_MAX_DEPTH, BLK_MQ_MAX_DEPTH);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(32768, true, 0),
			BLK_MQ_MAX_DEPTH);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(16384, true, 0),
			BLK_MQ_MAX_DEPTH);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(32768, false, 0),
			BLK_MQ_MAX_DEPTH);
	KUNIT_EXPECT_EQ(test, vrb_queue_depth(32768, true, 32768),
			BLK_MQ_MAX_DEPTH);
}

static struct kunit_case vrb_limits_cases[] = {
	KUNIT_CASE(vrb_capacity_valid_accepts_largest_loff_t),
	KUNIT_CASE(vrb_capacity_valid_rejects_negative_size),
	KUNIT_CASE(vrb_queue_depth_indirect_is_ring_size),
	KUNIT_CASE(vrb_queue_depth_direct_is_a_third),
	KUNIT_CASE(vrb_queue_depth_param_only_lowers),
	KUNIT_CASE(vrb_queue_depth_never_beyond_blk_mq),
	{}
};

static struct kunit_suite vrb_limits_suite = {
	.name = "vringblk_limits",
	.test_cases = vrb_limits_cases,
};

kunit_test_suite(vrb_limits_suite);
