// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vringblk_ring: adding chains and taking
 * them back (virtio 1.2 §2.7.13 "Supplying Buffers to The Device",
 * §2.7.8 "The Virtqueue Used Ring"), with the fake device on the other
 * side of the ring.
 *
 * Covered: direct and indirect chains (§2.7.5.3), the 16-bit index wrap
 * (§2.7.6), out-of-order completion, a full queue, the contract of
 * vrb_vq_add() (no empty chain, none longer than the queue, no NULL
 * token: each refused without writing a byte), and taking tokens back
 * after a device reset.
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "vrb_test_env.h"

/* Take every available chain into the device. */
static unsigned int take_all(struct vrb_env *env)
{
	return fake_dev_take(&env->dev, UINT_MAX);
}

/* Complete @req on the device side and publish it. */
static void complete_req(struct kunit *test, struct vrb_env *env,
			 struct vrb_req *req)
{
	int pos = vrb_env_pending_pos(env, req);

	KUNIT_ASSERT_GE(test, pos, 0);
	KUNIT_ASSERT_EQ(test, fake_dev_complete_one(&env->dev, pos), 0);
	fake_dev_publish(&env->dev);
}

/* vrb_vq_get_used() must return @want, with a correctly filled request. */
static void expect_used(struct kunit *test, struct vrb_env *env,
			struct vrb_req *want)
{
	const char *why;
	void *token = NULL;
	u32 len = 0;

	KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&env->vq, &token, &len), 0);
	KUNIT_ASSERT_PTR_EQ(test, token, (void *)want);
	why = vrb_req_verify(want, len);
	KUNIT_EXPECT_NULL_MSG(test, why, "%s", why);
	want->inflight = false;
}

static void expect_no_violation(struct kunit *test, struct vrb_env *env)
{
	KUNIT_EXPECT_EQ_MSG(test, env->dev.violations, 0,
			    "device saw: %s", env->dev.reason);
}

static void vrb_vq_init_starts_empty(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, false, false);
	void *token = NULL;
	u32 len;

	/*
	 * Expected: all 16 descriptors free, nothing published, nothing to
	 * take back, invariants hold.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
	KUNIT_EXPECT_EQ(test, fake_dev_avail_idx(&env->dev), 0);
	KUNIT_EXPECT_EQ(test, take_all(env), 0);
	KUNIT_EXPECT_FALSE(test, vrb_vq_more_used(&env->vq));
	KUNIT_EXPECT_EQ(test, vrb_vq_get_used(&env->vq, &token, &len), -EAGAIN);
	KUNIT_EXPECT_NULL(test, token);
	KUNIT_EXPECT_FALSE(test, vrb_vq_is_broken(&env->vq));
}

static void vrb_vq_add_publishes_direct_chain(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, false, false);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);
	struct fake_dev_chain *c;
	const char *why;

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 2, 3, 8, false, 1);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, req), 0);

	/*
	 * Expected: 5 ring descriptors taken, avail->idx 1, the device sees
	 * one direct chain of the 5 buffers in order, readable first.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16 - 5);
	KUNIT_EXPECT_EQ(test, env->vq.stats.added, 1);
	KUNIT_EXPECT_EQ(test, env->vq.stats.descs, 5);
	KUNIT_EXPECT_EQ(test, fake_dev_avail_idx(&env->dev), 1);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	expect_no_violation(test, env);
	c = fake_dev_pending_chain(&env->dev, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_FALSE(test, c->indirect);
	KUNIT_EXPECT_EQ(test, c->ndescs, 5);
	why = vrb_req_match_chain(req, c);
	KUNIT_EXPECT_NULL_MSG(test, why, "%s", why);

	/*
	 * Expected after completion: the token comes back with len = 24
	 * writable bytes, the data is the device's, all descriptors free.
	 */
	complete_req(test, env, req);
	expect_used(test, env, req);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16);
	KUNIT_EXPECT_EQ(test, env->vq.stats.used, 1);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
}

static void vrb_vq_add_publishes_indirect_chain(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, false, true);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);
	struct fake_dev_chain *c;
	const char *why;
	unsigned int i;
	u16 flags;

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 2, 3, 8, true, 2);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, req), 0);

	/*
	 * Expected: one ring descriptor (INDIRECT, addr = the table, len =
	 * 5 * 16), the table holds the 5 buffers chained 0 -> 1 -> ... -> 4
	 * with NEXT on all but the last and WRITE on the last three.  Every
	 * entry's next is i + 1 (on the last one, without NEXT, the device
	 * ignores it), and entries 5..15 are not written.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16 - 1);
	KUNIT_EXPECT_EQ(test, env->vq.stats.indirect, 1);
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	expect_no_violation(test, env);
	c = fake_dev_pending_chain(&env->dev, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_TRUE(test, c->indirect);
	KUNIT_EXPECT_EQ(test, c->ndescs, 1);
	KUNIT_EXPECT_EQ(test, c->table.addr, (u64)(uintptr_t)req->table);
	KUNIT_EXPECT_EQ(test, c->table.len, 5 * sizeof(struct vrb_desc));
	KUNIT_EXPECT_EQ(test, c->table.flags, VRB_DESC_F_INDIRECT);
	why = vrb_req_match_chain(req, c);
	KUNIT_EXPECT_NULL_MSG(test, why, "%s", why);
	for (i = 0; i < 5; i++) {
		flags = (i < 4 ? VRB_DESC_F_NEXT : 0) |
			(i >= 2 ? VRB_DESC_F_WRITE : 0);
		KUNIT_EXPECT_EQ_MSG(test, req->table[i].addr,
				    vrb_req_addr(req, i), "entry %u", i);
		KUNIT_EXPECT_EQ_MSG(test, req->table[i].len, 8, "entry %u", i);
		KUNIT_EXPECT_EQ_MSG(test, req->table[i].flags, flags,
				    "entry %u", i);
		KUNIT_EXPECT_EQ_MSG(test, req->table[i].next, i + 1,
				    "entry %u", i);
	}
	KUNIT_EXPECT_NULL(test, memchr_inv(&req->table[5], 0,
					   sizeof(req->table) -
					   5 * sizeof(req->table[0])));

	/* Expected: completes like a direct chain, all 16 free again. */
	complete_req(test, env, req);
	expect_used(test, env, req);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
}

static void vrb_vq_add_ignores_table_without_feature(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, false, false);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);
	struct fake_dev_chain *c;

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 1, 3, 8, true, 3);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, req), 0);

	/*
	 * Expected: INDIRECT_DESC not negotiated, so the offered table is
	 * not used: 4 ring descriptors, a direct chain, the table untouched
	 * (still zero), and the device sees no INDIRECT flag.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16 - 4);
	KUNIT_EXPECT_EQ(test, env->vq.stats.indirect, 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(req->table, 0, sizeof(req->table)));
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	expect_no_violation(test, env);
	c = fake_dev_pending_chain(&env->dev, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_FALSE(test, c->indirect);
	KUNIT_EXPECT_EQ(test, c->ndescs, 4);
	complete_req(test, env, req);
	expect_used(test, env, req);
}

static void vrb_vq_add_small_table_goes_direct(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, false, true);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);
	struct vrb_vq_buf bufs[4];
	struct vrb_vq_indir indir;
	struct fake_dev_chain *c;

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 2, 2, 8, false, 4);
	vrb_req_bufs(req, bufs);
	vrb_req_indir(req, &indir, 3);
	KUNIT_ASSERT_EQ(test, vrb_vq_add(&env->vq, bufs, 2, 2, req, &indir), 0);

	/*
	 * Expected: a table of 3 cannot hold 4 buffers, so the chain is
	 * direct (4 ring descriptors) and the table is not written.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16 - 4);
	KUNIT_EXPECT_EQ(test, env->vq.stats.indirect, 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(req->table, 0, sizeof(req->table)));
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	expect_no_violation(test, env);
	c = fake_dev_pending_chain(&env->dev, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_FALSE(test, c->indirect);
	KUNIT_EXPECT_EQ(test, c->ndescs, 4);
	complete_req(test, env, req);
	expect_used(test, env, req);
}

static void vrb_vq_add_single_buffer_stays_direct(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, false, true);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);
	struct fake_dev_chain *c;
	const char *why;

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 0, 1, 8, true, 8);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, req), 0);

	/*
	 * Expected: a table is offered and INDIRECT_DESC negotiated, but a
	 * chain of one buffer takes one ring descriptor either way, so it
	 * is written directly: no INDIRECT flag, the table not written,
	 * nothing counted as indirect.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16 - 1);
	KUNIT_EXPECT_EQ(test, env->vq.stats.indirect, 0);
	KUNIT_EXPECT_EQ(test, env->vq.stats.descs, 1);
	KUNIT_EXPECT_NULL(test, memchr_inv(req->table, 0, sizeof(req->table)));
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	expect_no_violation(test, env);
	c = fake_dev_pending_chain(&env->dev, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_FALSE(test, c->indirect);
	KUNIT_EXPECT_EQ(test, c->ndescs, 1);
	why = vrb_req_match_chain(req, c);
	KUNIT_EXPECT_NULL_MSG(test, why, "%s", why);
	complete_req(test, env, req);
	expect_used(test, env, req);
}

static void vrb_vq_add_accepts_chain_of_queue_size(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 8, false, false);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 4, 4, 16, false, 5);

	/*
	 * Expected: a chain as long as the queue (§2.7.5: "no longer than
	 * the Queue Size") is accepted and takes every descriptor.
	 */
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, req), 0);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 0);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	expect_no_violation(test, env);
	complete_req(test, env, req);
	expect_used(test, env, req);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 8);
}

static void vrb_vq_get_used_readable_only_chain(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 8, false, false);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 3, 0, 16, false, 6);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, req), 0);

	/* Expected: a chain with nothing to write comes back with len 0. */
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	complete_req(test, env, req);
	expect_used(test, env, req);
	expect_no_violation(test, env);
}

/*
 * The poller's lockless look, vrb_vq_used_hint(), says "maybe" exactly
 * while the device has published an element the driver has not taken:
 * not for a chain the device holds but has not returned, yes once it is
 * published, no again once vrb_vq_get_used() took it; also where
 * used->idx wraps from 65535 to 0.
 */
static void vrb_vq_used_hint_follows_used_idx(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 8, true, true);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 1, 2, 4, true, 1);
	KUNIT_EXPECT_FALSE(test, vrb_vq_used_hint(&env->vq));
	/* 65,537 round trips: the last ones cross the wrap of used->idx. */
	for (i = 0; i < 65537; i++) {
		KUNIT_ASSERT_EQ(test, vrb_req_add(env, req), 0);
		KUNIT_ASSERT_EQ(test, take_all(env), 1);
		KUNIT_ASSERT_FALSE_MSG(test, vrb_vq_used_hint(&env->vq),
				       "taken, not returned: %u", i);
		complete_req(test, env, req);
		KUNIT_ASSERT_TRUE_MSG(test, vrb_vq_used_hint(&env->vq),
				      "returned: %u", i);
		expect_used(test, env, req);
		KUNIT_ASSERT_FALSE_MSG(test, vrb_vq_used_hint(&env->vq),
				       "taken by the driver: %u", i);
	}
	KUNIT_EXPECT_EQ(test, READ_ONCE(env->dev.used->idx), (u16)65537);
	expect_no_violation(test, env);
}

static const struct vrb_env_cfg wrap_cfgs[] = {
	{ "N=8 direct", 8, false, false },
	{ "N=8 indirect event_idx", 8, true, true },
};

KUNIT_ARRAY_PARAM(wrap, wrap_cfgs, vrb_env_cfg_desc);

static void vrb_vq_get_used_across_index_wrap(struct kunit *test)
{
	const struct vrb_env_cfg *cfg = test->param_value;
	/* Requests of 3 buffers: 2 chains fit directly in 8 descriptors. */
	unsigned int batch_max = cfg->indirect ? cfg->num : cfg->num / 3;
	const unsigned int total = 70000;
	struct vrb_env *env;
	struct vrb_req *reqs;
	unsigned int done = 0, b, i;

	env = vrb_env_create(test, cfg->num, cfg->event_idx, cfg->indirect);
	reqs = kunit_kcalloc(test, batch_max, sizeof(*reqs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, reqs);
	for (i = 0; i < batch_max; i++)
		vrb_req_shape(&reqs[i], 1, 2, 4, true, i);

	/*
	 * Expected: 70,000 requests (more than 65,536, so avail->idx and
	 * used->idx both wrap) in batches of 1..batch_max each come back in
	 * order with correct data; the invariants hold after every batch.
	 */
	while (done < total) {
		b = 1 + done % batch_max;
		for (i = 0; i < b; i++)
			KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[i]), 0);
		KUNIT_ASSERT_EQ(test, take_all(env), b);
		fake_dev_complete_all(&env->dev, NULL);
		for (i = 0; i < b; i++)
			expect_used(test, env, &reqs[i]);
		KUNIT_ASSERT_EQ(test, vrb_vq_check(&env->vq), 0);
		KUNIT_ASSERT_EQ(test, env->dev.violations, 0);
		done += b;
	}

	KUNIT_EXPECT_GT(test, done, 65536);
	KUNIT_EXPECT_EQ(test, fake_dev_avail_idx(&env->dev), (u16)done);
	KUNIT_EXPECT_EQ(test, READ_ONCE(env->dev.used->idx), (u16)done);
	KUNIT_EXPECT_EQ(test, env->vq.stats.used, done);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), cfg->num);
}

static void vrb_vq_get_used_out_of_order(struct kunit *test)
{
	static const unsigned int order[] = { 3, 0, 5, 1, 4, 2 };
	struct vrb_env *env = vrb_env_create(test, 16, false, true);
	struct vrb_req *reqs;
	unsigned int i;

	reqs = kunit_kcalloc(test, ARRAY_SIZE(order), sizeof(*reqs),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, reqs);
	/* Mixed shapes: indirect for the odd ones, direct for the even. */
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		vrb_req_shape(&reqs[i], 1 + i % 2, 1 + i % 3, 4 + i, i % 2, i);
		KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[i]), 0);
	}
	KUNIT_ASSERT_EQ(test, take_all(env), ARRAY_SIZE(order));

	/*
	 * Expected: the device completes 3, 0, 5, 1, 4, 2; each
	 * vrb_vq_get_used() returns exactly the one just completed, with
	 * its own data, and frees exactly its descriptors.
	 */
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		complete_req(test, env, &reqs[order[i]]);
		expect_used(test, env, &reqs[order[i]]);
		KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
	}
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16);
	expect_no_violation(test, env);
}

static void vrb_vq_add_full_returns_enospc(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 8, false, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 3, sizeof(*reqs), GFP_KERNEL);
	void *before;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	vrb_req_shape(&reqs[0], 1, 2, 8, false, 0);
	vrb_req_shape(&reqs[1], 1, 2, 8, false, 1);
	vrb_req_shape(&reqs[2], 1, 2, 8, false, 2);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[0]), 0);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[1]), 0);
	KUNIT_ASSERT_EQ(test, vrb_vq_num_free(&env->vq), 2);
	before = vrb_env_snapshot(env);

	/*
	 * Expected: a third 3-buffer chain does not fit in 2 descriptors:
	 * -ENOSPC, no byte of ring memory changed, num_free still 2, one
	 * "full" counted, nothing added.
	 */
	KUNIT_EXPECT_EQ(test, vrb_req_add(env, &reqs[2]), -ENOSPC);
	KUNIT_EXPECT_EQ(test, memcmp(before, env->ring, env->ring_size), 0);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 2);
	KUNIT_EXPECT_EQ(test, env->vq.stats.full, 1);
	KUNIT_EXPECT_EQ(test, env->vq.stats.added, 2);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
}

static void vrb_vq_add_recovers_after_full(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 8, false, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 3, sizeof(*reqs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	vrb_req_shape(&reqs[0], 1, 2, 8, false, 0);
	vrb_req_shape(&reqs[1], 1, 2, 8, false, 1);
	vrb_req_shape(&reqs[2], 1, 2, 8, false, 2);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[0]), 0);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[1]), 0);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[2]), -ENOSPC);

	/*
	 * Expected: once one chain comes back (5 free), the refused request
	 * fits, and it and the other one complete correctly.
	 */
	KUNIT_ASSERT_EQ(test, take_all(env), 2);
	complete_req(test, env, &reqs[0]);
	expect_used(test, env, &reqs[0]);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 5);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[2]), 0);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 2);
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	complete_req(test, env, &reqs[2]);
	complete_req(test, env, &reqs[1]);
	expect_used(test, env, &reqs[2]);
	expect_used(test, env, &reqs[1]);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 8);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
	expect_no_violation(test, env);
}

static void vrb_vq_add_full_with_indirect(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 4, false, true);
	struct vrb_req *reqs = kunit_kcalloc(test, 5, sizeof(*reqs), GFP_KERNEL);
	unsigned int i;
	void *before;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	for (i = 0; i < 5; i++)
		vrb_req_shape(&reqs[i], 2, 2, 8, true, i);
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[i]), 0);
	before = vrb_env_snapshot(env);

	/*
	 * Expected: 4 indirect chains of 4 buffers fill a queue of 4; a
	 * fifth is refused with -ENOSPC though its table has room, and
	 * neither the ring nor its table is written.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 0);
	KUNIT_EXPECT_EQ(test, vrb_req_add(env, &reqs[4]), -ENOSPC);
	KUNIT_EXPECT_EQ(test, memcmp(before, env->ring, env->ring_size), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(reqs[4].table, 0,
					   sizeof(reqs[4].table)));
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
}

static void vrb_vq_add_indirect_publishes_prebuilt_table(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, false, true);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);
	struct fake_dev_chain *c;
	const char *why;

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 2, 3, 8, true, 4);
	req->prebuilt = true;
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, req), 0);

	/*
	 * Expected: exactly what vrb_vq_add() makes of the same buffers
	 * (vrb_vq_add_publishes_indirect_chain): one ring descriptor,
	 * INDIRECT, pointing at the 5-entry table the caller wrote, which
	 * the device walks as the request's chain; the used length comes
	 * back as the caller's in_bytes; all 16 free afterwards.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16 - 1);
	KUNIT_EXPECT_EQ(test, env->vq.stats.indirect, 1);
	KUNIT_EXPECT_EQ(test, env->vq.stats.descs, 5 + 1);
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	expect_no_violation(test, env);
	c = fake_dev_pending_chain(&env->dev, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_TRUE(test, c->indirect);
	KUNIT_EXPECT_EQ(test, c->table.addr, (u64)(uintptr_t)req->table);
	KUNIT_EXPECT_EQ(test, c->table.len, 5 * sizeof(struct vrb_desc));
	KUNIT_EXPECT_EQ(test, c->table.flags, VRB_DESC_F_INDIRECT);
	why = vrb_req_match_chain(req, c);
	KUNIT_EXPECT_NULL_MSG(test, why, "%s", why);
	complete_req(test, env, req);
	expect_used(test, env, req);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
}

/*
 * vrb_vq_add_indirect()'s contract: each refused call leaves the ring
 * memory, the free count and the counters of adds as they were.
 */
static void vrb_vq_add_indirect_refuses(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 4, false, true);
	struct vrb_env *plain = vrb_env_create(test, 4, false, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 5, sizeof(*reqs), GFP_KERNEL);
	struct vrb_vq_indir indir;
	unsigned int i;
	void *before;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	for (i = 0; i < 5; i++)
		vrb_req_shape(&reqs[i], 1, 2, 8, true, i);
	vrb_req_indir(&reqs[0], &indir, 3);
	before = vrb_env_snapshot(env);

	/*
	 * Expected: -EINVAL for an empty chain, one longer than the table,
	 * a NULL token.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_add_indirect(&env->vq, &indir, 0, 0,
						  &reqs[0]), -EINVAL);
	KUNIT_EXPECT_EQ(test, vrb_vq_add_indirect(&env->vq, &indir, 4, 0,
						  &reqs[0]), -EINVAL);
	KUNIT_EXPECT_EQ(test, vrb_vq_add_indirect(&env->vq, &indir, 3, 0,
						  NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, memcmp(before, env->ring, env->ring_size), 0);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 4);
	KUNIT_EXPECT_EQ(test, env->vq.stats.added, 0);

	/* Expected: -EINVAL without INDIRECT_DESC negotiated. */
	before = vrb_env_snapshot(plain);
	KUNIT_EXPECT_EQ(test, vrb_vq_add_indirect(&plain->vq, &indir, 3, 0,
						  &reqs[0]), -EINVAL);
	KUNIT_EXPECT_EQ(test, memcmp(before, plain->ring, plain->ring_size), 0);

	/* Expected: -ENOSPC once the 4 descriptors hold 4 chains. */
	for (i = 0; i < 4; i++) {
		reqs[i].prebuilt = true;
		KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[i]), 0);
	}
	reqs[4].prebuilt = true;
	before = vrb_env_snapshot(env);
	KUNIT_EXPECT_EQ(test, vrb_req_add(env, &reqs[4]), -ENOSPC);
	KUNIT_EXPECT_EQ(test, memcmp(before, env->ring, env->ring_size), 0);
	KUNIT_EXPECT_EQ(test, env->vq.stats.full, 1);
	KUNIT_EXPECT_EQ(test, env->vq.stats.added, 4);

	/* Expected: -EIO on a broken queue, the ring untouched. */
	vrb_vq_set_broken(&env->vq, "test");
	KUNIT_EXPECT_EQ(test, vrb_req_add(env, &reqs[4]), -EIO);
	KUNIT_EXPECT_EQ(test, memcmp(before, env->ring, env->ring_size), 0);
}

/*
 * The contract of vrb_vq_add(): each case makes one call that breaks it
 * and expects -EINVAL without a trace (no byte of ring memory or of the
 * offered table written, nothing taken off the free list), then shows
 * the queue still works.  Queue size 8; the offered table has room for
 * VRB_REQ_MAX_BUFS (16) buffers, so with INDIRECT_DESC only the contract
 * keeps a chain of 9 out.
 */
static const struct vrb_env_cfg contract_cfgs[] = {
	{ "direct", 8, false, false },
	{ "indirect", 8, false, true },
};

KUNIT_ARRAY_PARAM(contract, contract_cfgs, vrb_env_cfg_desc);

/* What a refused call must leave: nothing written, nothing taken. */
static void expect_add_refused(struct kunit *test, struct vrb_env *env,
			       const void *before, const struct vrb_req *req)
{
	struct vrb_req *good = kunit_kzalloc(test, sizeof(*good), GFP_KERNEL);
	struct fake_dev_chain *c;
	const char *why;

	KUNIT_EXPECT_EQ(test, memcmp(before, env->ring, env->ring_size), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(req->table, 0, sizeof(req->table)));
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), env->num);
	KUNIT_EXPECT_EQ(test, env->vq.stats.added, 0);
	KUNIT_EXPECT_EQ(test, env->vq.stats.full, 0);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
	KUNIT_EXPECT_EQ(test, take_all(env), 0);

	/* A correct chain afterwards carries no leftover of the bad call. */
	KUNIT_ASSERT_NOT_NULL(test, good);
	vrb_req_shape(good, 1, 2, 8, env->indirect, 9);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, good), 0);
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	c = fake_dev_pending_chain(&env->dev, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	why = vrb_req_match_chain(good, c);
	KUNIT_EXPECT_NULL_MSG(test, why, "%s", why);
	complete_req(test, env, good);
	expect_used(test, env, good);
	expect_no_violation(test, env);
}

static void vrb_vq_add_rejects_zero_buffers(struct kunit *test)
{
	const struct vrb_env_cfg *cfg = test->param_value;
	struct vrb_env *env = vrb_env_create(test, cfg->num, cfg->event_idx,
					     cfg->indirect);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);
	struct vrb_vq_buf bufs[VRB_REQ_MAX_BUFS];
	struct vrb_vq_indir indir;
	void *before;

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 1, 2, 8, true, 1);
	vrb_req_bufs(req, bufs);
	vrb_req_indir(req, &indir, VRB_REQ_MAX_BUFS);
	before = vrb_env_snapshot(env);

	/*
	 * Expected: 0 readable + 0 writable buffers is no chain at all:
	 * -EINVAL, not -ENOSPC, and no trace.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_add(&env->vq, bufs, 0, 0, req, &indir),
			-EINVAL);
	expect_add_refused(test, env, before, req);
}

static void vrb_vq_add_rejects_chain_longer_than_queue(struct kunit *test)
{
	const struct vrb_env_cfg *cfg = test->param_value;
	struct vrb_env *env = vrb_env_create(test, cfg->num, cfg->event_idx,
					     cfg->indirect);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);
	struct vrb_vq_buf bufs[VRB_REQ_MAX_BUFS];
	struct vrb_vq_indir indir;
	void *before;

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 1, 8, 8, true, 2);
	vrb_req_bufs(req, bufs);
	vrb_req_indir(req, &indir, VRB_REQ_MAX_BUFS);
	before = vrb_env_snapshot(env);

	/*
	 * Expected: 9 buffers on a queue of 8 break §2.7.5 ("no longer than
	 * the Queue Size"), even through an indirect table that would hold
	 * them in one ring descriptor: -EINVAL, not -ENOSPC, and no trace.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_add(&env->vq, bufs, 1, 8, req, &indir),
			-EINVAL);
	expect_add_refused(test, env, before, req);
}

static void vrb_vq_add_rejects_null_token(struct kunit *test)
{
	const struct vrb_env_cfg *cfg = test->param_value;
	struct vrb_env *env = vrb_env_create(test, cfg->num, cfg->event_idx,
					     cfg->indirect);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);
	struct vrb_vq_buf bufs[VRB_REQ_MAX_BUFS];
	struct vrb_vq_indir indir;
	void *before;

	KUNIT_ASSERT_NOT_NULL(test, req);
	vrb_req_shape(req, 1, 2, 8, true, 3);
	vrb_req_bufs(req, bufs);
	vrb_req_indir(req, &indir, VRB_REQ_MAX_BUFS);
	before = vrb_env_snapshot(env);

	/*
	 * Expected: NULL is what vrb_vq_detach_unused() returns for "no
	 * more", so it cannot be a token: -EINVAL, and no trace.
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_add(&env->vq, bufs, 1, 2, NULL, &indir),
			-EINVAL);
	expect_add_refused(test, env, before, req);
}

static void vrb_vq_detach_unused_returns_each_token_once(struct kunit *test)
{
	const unsigned int nreq = 8;
	struct vrb_env *env = vrb_env_create(test, 16, true, true);
	struct vrb_req *reqs, *extra, *r;
	unsigned int i, seen_total = 0;
	unsigned int *seen;

	reqs = kunit_kcalloc(test, nreq, sizeof(*reqs), GFP_KERNEL);
	seen = kunit_kcalloc(test, nreq, sizeof(*seen), GFP_KERNEL);
	extra = kunit_kzalloc(test, sizeof(*extra), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, reqs);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	KUNIT_ASSERT_NOT_NULL(test, extra);

	/*
	 * 8 requests, half indirect: the device takes 6 and completes 3,
	 * the driver takes back 1; then the device is reset.  In flight
	 * from the driver's view: 2 never taken, 3 taken, 2 completed but
	 * not taken back.
	 */
	for (i = 0; i < nreq; i++) {
		vrb_req_shape(&reqs[i], 1, 1 + i % 3, 8, i % 2, i);
		KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[i]), 0);
	}
	KUNIT_ASSERT_EQ(test, fake_dev_take(&env->dev, 6), 6);
	complete_req(test, env, &reqs[4]);
	complete_req(test, env, &reqs[1]);
	complete_req(test, env, &reqs[2]);
	expect_used(test, env, &reqs[4]);
	fake_dev_reset(&env->dev);

	/*
	 * Expected: vrb_vq_detach_unused() returns each of the 7 others
	 * exactly once, never the one taken back, then NULL; then every
	 * descriptor is free.
	 */
	while ((r = vrb_vq_detach_unused(&env->vq))) {
		KUNIT_ASSERT_TRUE(test, r >= reqs && r < reqs + nreq);
		seen[r - reqs]++;
		seen_total++;
		KUNIT_ASSERT_LE(test, seen_total, nreq);
	}
	for (i = 0; i < nreq; i++)
		KUNIT_EXPECT_EQ_MSG(test, seen[i], i == 4 ? 0 : 1, "request %u",
				    i);
	KUNIT_EXPECT_NULL(test, vrb_vq_detach_unused(&env->vq));
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 16);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);

	/*
	 * Expected after vrb_vq_reset(): zeroed ring memory, and the queue
	 * works with the reset device from index 0 again.
	 */
	vrb_vq_reset(&env->vq);
	KUNIT_EXPECT_NULL(test, memchr_inv(env->ring, 0, env->ring_size));
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
	vrb_req_shape(extra, 2, 2, 8, true, 99);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, extra), 0);
	KUNIT_EXPECT_EQ(test, fake_dev_avail_idx(&env->dev), 1);
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	complete_req(test, env, extra);
	expect_used(test, env, extra);
	expect_no_violation(test, env);
}

static void vrb_vq_init_accepts_max_queue_size(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 32768, true, true);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, req);
	/* Expected: a queue of 32768 (§2.7 maximum) works end to end. */
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 32768);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&env->vq), 0);
	vrb_req_shape(req, 2, 2, 8, false, 7);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, req), 0);
	KUNIT_ASSERT_EQ(test, take_all(env), 1);
	complete_req(test, env, req);
	expect_used(test, env, req);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&env->vq), 32768);
	expect_no_violation(test, env);
}

static struct kunit_case vrb_ring_cases[] = {
	KUNIT_CASE(vrb_vq_init_starts_empty),
	KUNIT_CASE(vrb_vq_add_publishes_direct_chain),
	KUNIT_CASE(vrb_vq_add_publishes_indirect_chain),
	KUNIT_CASE(vrb_vq_add_ignores_table_without_feature),
	KUNIT_CASE(vrb_vq_add_small_table_goes_direct),
	KUNIT_CASE(vrb_vq_add_single_buffer_stays_direct),
	KUNIT_CASE(vrb_vq_add_accepts_chain_of_queue_size),
	KUNIT_CASE(vrb_vq_get_used_readable_only_chain),
	KUNIT_CASE_PARAM(vrb_vq_get_used_across_index_wrap, wrap_gen_params),
	KUNIT_CASE(vrb_vq_get_used_out_of_order),
	KUNIT_CASE(vrb_vq_used_hint_follows_used_idx),
	KUNIT_CASE(vrb_vq_add_full_returns_enospc),
	KUNIT_CASE(vrb_vq_add_recovers_after_full),
	KUNIT_CASE(vrb_vq_add_full_with_indirect),
	KUNIT_CASE(vrb_vq_add_indirect_publishes_prebuilt_table),
	KUNIT_CASE(vrb_vq_add_indirect_refuses),
	KUNIT_CASE_PARAM(vrb_vq_add_rejects_zero_buffers, contract_gen_params),
	KUNIT_CASE_PARAM(vrb_vq_add_rejects_chain_longer_than_queue,
			 contract_gen_params),
	KUNIT_CASE_PARAM(vrb_vq_add_rejects_null_token, contract_gen_params),
	KUNIT_CASE(vrb_vq_detach_unused_returns_each_token_once),
	KUNIT_CASE(vrb_vq_init_accepts_max_queue_size),
	{}
};

static struct kunit_suite vrb_ring_suite = {
	.name = "vringblk_ring",
	.test_cases = vrb_ring_cases,
};

kunit_test_suite(vrb_ring_suite);
