/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vrb_limits.h - bounds on numbers the device reports, applied before
 * any of them costs memory or reaches the block layer.
 *
 * The device is not trusted (§2.7 says what it may write, not that it
 * will behave): a queue size, a capacity or a segment count is a number
 * it chose.  These helpers are pure, so the module and the KUnit suite
 * kunit/vrb_limits_test.c run the same code.
 */
#ifndef VRB_LIMITS_H
#define VRB_LIMITS_H

#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/types.h>

/* Capacity is counted in 512-byte sectors, always (§5.2.4). */
#define VRB_SECTOR_SHIFT	9
/*
 * The largest capacity whose size in bytes still fits loff_t, the signed
 * 64-bit file offset every layer above uses: 2^54 - 1 sectors.  Twice as
 * many would still fit a u64 of bytes but read as a negative size.
 */
#define VRB_MAX_CAPACITY	((u64)LLONG_MAX >> VRB_SECTOR_SHIFT)
/* The deepest tag set blk-mq gives (BLK_MQ_MAX_DEPTH). */
#define VRB_MAX_DEPTH		10240U

/**
 * vrb_capacity_valid - can the block layer address this capacity?
 * @sectors: capacity the device reports, in 512-byte sectors.
 *
 * Context: Any context.
 * Return: true if @sectors << 9 is a valid (positive) loff_t.
 */
static inline bool vrb_capacity_valid(u64 sectors)
{
	return sectors <= VRB_MAX_CAPACITY;
}

/**
 * vrb_queue_depth - requests in flight per queue
 * @ring: size of the smallest ring (descriptors).
 * @indirect: INDIRECT_DESC was negotiated.
 * @param: the queue_depth= module parameter, 0 for "derive it".
 *
 * With indirect descriptors each request takes one ring descriptor, so
 * the ring size; without, a request takes at least three (header, data,
 * status), so a third of it.  The parameter may only lower it.  Never
 * more than blk-mq gives: the per-tag memory is sized from this number.
 *
 * Context: Any context.
 * Return: the depth, at least 1.
 */
static inline unsigned int vrb_queue_depth(unsigned int ring, bool indirect,
					   unsigned int param)
{
	unsigned int depth = indirect ? ring : ring / 3;

	if (param)
		depth = min(depth, param);
	return clamp(depth, 1U, VRB_MAX_DEPTH);
}

#endif /* VRB_LIMITS_H */
