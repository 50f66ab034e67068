// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vringblk_hostile: a device that writes
 * garbage into the used ring (virtio 1.2 §2.7.8).
 *
 * The driver must bound every id, index and length the device writes.  A
 * bad id or index marks the queue broken: reported once, and from then on
 * adds and gets fail with -EIO without touching ring memory, so no
 * descriptor is freed twice and no token is returned that is not in
 * flight.  A length larger than the chain could receive is clamped and
 * counted, not fatal (§2.7.8.2 lets the driver not rely on it).
 *
 * Every case starts from the same state: request A (2 readable + 2
 * writable buffers, through an indirect table: 1 ring descriptor) and
 * request B (1 + 3 buffers, direct: 4 ring descriptors), both taken by
 * the device, so 11 of 16 descriptors are free.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "vrb_test_env.h"

#define HOSTILE_N	16
#define HOSTILE_FREE	(HOSTILE_N - 1 - 4)

/**
 * struct hostile - the starting state of every case
 * @env: queue and device.
 * @a: request A (indirect).
 * @b: request B (direct).
 */
struct hostile {
	struct vrb_env *env;
	struct vrb_req *a;
	struct vrb_req *b;
};

static void hostile_setup_with(struct kunit *test, struct hostile *h,
			       bool event_idx)
{
	h->env = vrb_env_create(test, HOSTILE_N, event_idx, true);
	h->a = kunit_kzalloc(test, sizeof(*h->a), GFP_KERNEL);
	h->b = kunit_kzalloc(test, sizeof(*h->b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, h->a);
	KUNIT_ASSERT_NOT_NULL(test, h->b);
	vrb_req_shape(h->a, 2, 2, 8, true, 1);
	vrb_req_shape(h->b, 1, 3, 8, false, 2);
	KUNIT_ASSERT_EQ(test, vrb_req_add(h->env, h->a), 0);
	KUNIT_ASSERT_EQ(test, vrb_req_add(h->env, h->b), 0);
	KUNIT_ASSERT_EQ(test, fake_dev_take(&h->env->dev, 2), 2);
	KUNIT_ASSERT_EQ(test, vrb_vq_num_free(&h->env->vq), HOSTILE_FREE);
}

static void hostile_setup(struct kunit *test, struct hostile *h)
{
	hostile_setup_with(test, h, false);
}

/* Break the queue: used->idx runs 3 ahead with 2 chains in flight. */
static void hostile_break(struct kunit *test, struct hostile *h)
{
	void *token = NULL;
	u32 len;

	fake_dev_jump_used_idx(&h->env->dev, 3);
	fake_dev_publish(&h->env->dev);
	KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&h->env->vq, &token, &len),
			-EIO);
	KUNIT_ASSERT_TRUE(test, vrb_vq_is_broken(&h->env->vq));
}

/* Complete request @req normally and publish it. */
static void hostile_complete(struct kunit *test, struct hostile *h,
			     struct vrb_req *req)
{
	int pos = vrb_env_pending_pos(h->env, req);

	KUNIT_ASSERT_GE(test, pos, 0);
	KUNIT_ASSERT_EQ(test, fake_dev_complete_one(&h->env->dev, pos), 0);
	fake_dev_publish(&h->env->dev);
}

/*
 * What a broken queue looks like: -EIO from get, the token left alone,
 * broken counted once, nothing freed, the shadow state consistent.
 */
static void expect_broken(struct kunit *test, struct hostile *h,
			  unsigned int num_free)
{
	void *token = ERR_PTR(-EBADF);
	u32 len = 12345;

	KUNIT_EXPECT_EQ(test, vrb_vq_get_used(&h->env->vq, &token, &len), -EIO);
	KUNIT_EXPECT_PTR_EQ(test, token, ERR_PTR(-EBADF));
	KUNIT_EXPECT_EQ(test, len, 12345);
	KUNIT_EXPECT_TRUE(test, vrb_vq_is_broken(&h->env->vq));
	KUNIT_EXPECT_EQ(test, h->env->vq.stats.broken, 1);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&h->env->vq), num_free);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&h->env->vq), 0);
}

static void vrb_vq_get_used_id_out_of_range(struct kunit *test)
{
	static const u32 ids[] = { HOSTILE_N, HOSTILE_N + 1, 0xffff,
				   0xffffffff };
	struct hostile h;
	unsigned int i;

	/*
	 * Expected, for each id >= N (one fresh queue each): -EIO, queue
	 * broken, A and B still in flight (11 free).
	 */
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		hostile_setup(test, &h);
		fake_dev_push_used_raw(&h.env->dev, ids[i], 0);
		fake_dev_publish(&h.env->dev);
		expect_broken(test, &h, HOSTILE_FREE);
	}
}

static void vrb_vq_get_used_id_not_a_head(struct kunit *test)
{
	struct fake_dev_chain *c;
	struct hostile h;
	int pos;

	hostile_setup(test, &h);
	pos = vrb_env_pending_pos(h.env, h.b);
	KUNIT_ASSERT_GE(test, pos, 0);
	c = fake_dev_pending_chain(&h.env->dev, pos);
	KUNIT_ASSERT_NOT_NULL(test, c);

	/*
	 * Expected: the id of B's second descriptor is in range and in
	 * flight, but not a chain head: -EIO, broken, nothing freed.
	 */
	fake_dev_push_used_raw(&h.env->dev, c->bufs[1].desc, 8);
	fake_dev_publish(&h.env->dev);
	expect_broken(test, &h, HOSTILE_FREE);
}

static void vrb_vq_get_used_id_of_free_descriptor(struct kunit *test)
{
	struct hostile h;
	unsigned long id;

	hostile_setup(test, &h);
	/* A descriptor the device does not hold: one of the free ones. */
	id = find_first_zero_bit(h.env->dev.owned, HOSTILE_N);
	KUNIT_ASSERT_LT(test, id, HOSTILE_N);

	/* Expected: -EIO, broken, the free list untouched. */
	fake_dev_push_used_raw(&h.env->dev, id, 0);
	fake_dev_publish(&h.env->dev);
	expect_broken(test, &h, HOSTILE_FREE);
}

static void vrb_vq_get_used_chain_completed_twice(struct kunit *test)
{
	struct hostile h;
	void *token;
	u32 len;

	hostile_setup(test, &h);
	hostile_complete(test, &h, h.a);
	KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&h.env->vq, &token, &len), 0);
	KUNIT_ASSERT_PTR_EQ(test, token, (void *)h.a);

	/*
	 * Expected: A's used element again (B keeps used->idx within what
	 * is in flight): A is not in flight any more: -EIO, broken, and
	 * A's descriptor is not freed a second time (12 free: B's 4 held).
	 */
	fake_dev_repeat_last(&h.env->dev);
	fake_dev_publish(&h.env->dev);
	expect_broken(test, &h, HOSTILE_N - 4);
}

static void vrb_vq_get_used_idx_runs_ahead(struct kunit *test)
{
	struct hostile h;

	hostile_setup(test, &h);
	/*
	 * Expected: used->idx moved by 3 with 2 chains in flight: -EIO,
	 * broken, nothing freed.
	 */
	fake_dev_jump_used_idx(&h.env->dev, 3);
	fake_dev_publish(&h.env->dev);
	expect_broken(test, &h, HOSTILE_FREE);
}

static void vrb_vq_get_used_idx_moves_backwards(struct kunit *test)
{
	struct hostile h;
	void *token;
	u32 len;

	hostile_setup(test, &h);
	hostile_complete(test, &h, h.a);
	KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&h.env->vq, &token, &len), 0);

	/*
	 * Expected: used->idx going from 1 back to 0 reads as 65535 new
	 * elements with 1 chain in flight: -EIO, broken, B kept.
	 */
	fake_dev_jump_used_idx(&h.env->dev, 0xffff);
	fake_dev_publish(&h.env->dev);
	expect_broken(test, &h, HOSTILE_N - 4);
}

static void vrb_vq_get_used_broken_is_sticky(struct kunit *test)
{
	struct hostile h;
	unsigned int i;

	hostile_setup(test, &h);
	fake_dev_jump_used_idx(&h.env->dev, 3);
	fake_dev_publish(&h.env->dev);

	/*
	 * Expected: every later call reports -EIO again, more_used says
	 * nothing is there, and the break is counted once.
	 */
	for (i = 0; i < 4; i++)
		expect_broken(test, &h, HOSTILE_FREE);
	KUNIT_EXPECT_FALSE(test, vrb_vq_more_used(&h.env->vq));
	KUNIT_EXPECT_EQ(test, h.env->vq.stats.broken, 1);
}

static void vrb_vq_more_used_idx_runs_ahead(struct kunit *test)
{
	struct hostile h;

	hostile_setup(test, &h);
	fake_dev_jump_used_idx(&h.env->dev, 3);
	fake_dev_publish(&h.env->dev);

	/* Expected: more_used notices too: false, and the queue broken. */
	KUNIT_EXPECT_FALSE(test, vrb_vq_more_used(&h.env->vq));
	expect_broken(test, &h, HOSTILE_FREE);
}

static void vrb_vq_enable_cb_idx_runs_ahead(struct kunit *test)
{
	struct hostile h;

	hostile_setup(test, &h);
	vrb_vq_disable_cb(&h.env->vq);
	fake_dev_jump_used_idx(&h.env->dev, 3);
	fake_dev_publish(&h.env->dev);

	/*
	 * Expected: the re-check in enable_cb notices too: it returns true,
	 * so the interrupt handler's drain loop stops, and the queue is
	 * broken (a drain would get -EIO).
	 */
	KUNIT_EXPECT_TRUE(test, vrb_vq_enable_cb(&h.env->vq));
	expect_broken(test, &h, HOSTILE_FREE);
}

static void vrb_vq_add_broken_touches_no_ring_memory(struct kunit *test)
{
	struct vrb_req *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct hostile h;
	void *before;

	KUNIT_ASSERT_NOT_NULL(test, c);
	hostile_setup(test, &h);
	hostile_break(test, &h);
	before = vrb_env_snapshot(h.env);

	/*
	 * Expected: adding to a broken queue is -EIO, direct and with a
	 * table offered, without writing a byte of ring memory or of the
	 * table; nothing added, no descriptor taken (A and B hold 5).
	 */
	vrb_req_shape(c, 1, 2, 8, false, 3);
	KUNIT_EXPECT_EQ(test, vrb_req_add(h.env, c), -EIO);
	c->offer_indirect = true;
	KUNIT_EXPECT_EQ(test, vrb_req_add(h.env, c), -EIO);
	KUNIT_EXPECT_EQ(test, memcmp(before, h.env->ring, h.env->ring_size), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(c->table, 0, sizeof(c->table)));
	KUNIT_EXPECT_EQ(test, h.env->vq.stats.added, 2);
	KUNIT_EXPECT_EQ(test, h.env->vq.stats.full, 0);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&h.env->vq), HOSTILE_FREE);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&h.env->vq), 0);
}

static void vrb_vq_get_used_broken_ignores_repaired_ring(struct kunit *test)
{
	struct hostile h;
	void *before, *token = NULL;
	u32 len = 12345;

	hostile_setup(test, &h);
	hostile_break(test, &h);
	/*
	 * The device now "repairs" used->idx and completes B properly: a
	 * driver that still read the used ring would return B.
	 */
	fake_dev_jump_used_idx(&h.env->dev, (u16)-3);
	hostile_complete(test, &h, h.b);
	before = vrb_env_snapshot(h.env);

	/*
	 * Expected: get is -EIO with token and len left alone, more_used
	 * says nothing is there, nothing is used or freed, and no byte of
	 * ring memory is written (no used_event moved).
	 */
	KUNIT_EXPECT_EQ(test, vrb_vq_get_used(&h.env->vq, &token, &len), -EIO);
	KUNIT_EXPECT_NULL(test, token);
	KUNIT_EXPECT_EQ(test, len, 12345);
	KUNIT_EXPECT_FALSE(test, vrb_vq_more_used(&h.env->vq));
	KUNIT_EXPECT_EQ(test, memcmp(before, h.env->ring, h.env->ring_size), 0);
	KUNIT_EXPECT_EQ(test, h.env->vq.stats.used, 0);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&h.env->vq), HOSTILE_FREE);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&h.env->vq), 0);
}

static void vrb_vq_kick_prepare_broken_returns_false(struct kunit *test)
{
	struct hostile h;
	void *before;

	hostile_setup(test, &h);
	hostile_break(test, &h);
	before = vrb_env_snapshot(h.env);

	/*
	 * Expected: no notification for a broken queue (the device is
	 * about to be reset), no decision counted either way, and no byte
	 * of ring memory written.
	 */
	KUNIT_EXPECT_FALSE(test, vrb_vq_kick_prepare(&h.env->vq));
	KUNIT_EXPECT_EQ(test, h.env->vq.stats.kicks, 0);
	KUNIT_EXPECT_EQ(test, h.env->vq.stats.kicks_suppressed, 0);
	KUNIT_EXPECT_EQ(test, memcmp(before, h.env->ring, h.env->ring_size), 0);
}

static const struct vrb_env_cfg broken_cb_cfgs[] = {
	{ "no event_idx", HOSTILE_N, false, true },
	{ "event_idx", HOSTILE_N, true, true },
};

KUNIT_ARRAY_PARAM(broken_cb, broken_cb_cfgs, vrb_env_cfg_desc);

static void vrb_vq_enable_cb_broken_returns_true(struct kunit *test)
{
	const struct vrb_env_cfg *cfg = test->param_value;
	struct hostile h;
	void *before;

	hostile_setup_with(test, &h, cfg->event_idx);
	hostile_break(test, &h);
	before = vrb_env_snapshot(h.env);

	/*
	 * Expected: on a broken queue enable_cb and enable_cb_delayed
	 * return true, so the interrupt handler's "drain until enable
	 * says nothing is pending" loop stops instead of spinning on
	 * -EIO; and disable_cb and both enables leave avail->flags and
	 * used_event, indeed all ring memory, alone.
	 */
	vrb_vq_disable_cb(&h.env->vq);
	KUNIT_EXPECT_TRUE(test, vrb_vq_enable_cb(&h.env->vq));
	KUNIT_EXPECT_TRUE(test, vrb_vq_enable_cb_delayed(&h.env->vq));
	KUNIT_EXPECT_EQ(test, memcmp(before, h.env->ring, h.env->ring_size), 0);
}

static void vrb_vq_detach_unused_after_broken_frees_each_once(struct kunit *test)
{
	struct vrb_req *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct hostile h;
	void *token;
	u32 len;

	KUNIT_ASSERT_NOT_NULL(test, c);
	hostile_setup(test, &h);
	hostile_complete(test, &h, h.a);
	KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&h.env->vq, &token, &len), 0);
	fake_dev_repeat_last(&h.env->dev);
	fake_dev_publish(&h.env->dev);
	KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&h.env->vq, &token, &len), -EIO);

	/*
	 * Expected recovery: after the device reset, detach_unused returns
	 * B once (A came back already), then NULL; all 16 free; after
	 * vrb_vq_reset the queue works again and the break stays counted.
	 */
	fake_dev_reset(&h.env->dev);
	KUNIT_EXPECT_PTR_EQ(test, vrb_vq_detach_unused(&h.env->vq), (void *)h.b);
	KUNIT_EXPECT_NULL(test, vrb_vq_detach_unused(&h.env->vq));
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&h.env->vq), HOSTILE_N);
	KUNIT_EXPECT_EQ(test, vrb_vq_check(&h.env->vq), 0);

	vrb_vq_reset(&h.env->vq);
	KUNIT_EXPECT_FALSE(test, vrb_vq_is_broken(&h.env->vq));
	KUNIT_EXPECT_EQ(test, h.env->vq.stats.broken, 1);
	vrb_req_shape(c, 1, 2, 8, true, 4);
	KUNIT_ASSERT_EQ(test, vrb_req_add(h.env, c), 0);
	KUNIT_ASSERT_EQ(test, fake_dev_take(&h.env->dev, 1), 1);
	hostile_complete(test, &h, c);
	KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&h.env->vq, &token, &len), 0);
	KUNIT_EXPECT_PTR_EQ(test, token, (void *)c);
	KUNIT_EXPECT_EQ(test, len, c->in_bytes);
	KUNIT_EXPECT_EQ_MSG(test, h.env->dev.violations, 0, "device saw: %s",
			    h.env->dev.reason);
}

static void vrb_vq_get_used_oversized_len_clamped(struct kunit *test)
{
	struct hostile h;
	void *token;
	u32 len;
	int pos;

	hostile_setup(test, &h);

	/*
	 * Expected: A reports 1000 bytes more than its 16 writable, B
	 * reports 0xffffffff for its 24: each comes back with its own
	 * writable size, two clamps counted, the queue not broken.
	 */
	pos = vrb_env_pending_pos(h.env, h.a);
	KUNIT_ASSERT_GE(test, pos, 0);
	fake_dev_complete_one_len(&h.env->dev, pos, h.a->in_bytes + 1000);
	pos = vrb_env_pending_pos(h.env, h.b);
	KUNIT_ASSERT_GE(test, pos, 0);
	fake_dev_complete_one_len(&h.env->dev, pos, 0xffffffff);
	fake_dev_publish(&h.env->dev);

	KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&h.env->vq, &token, &len), 0);
	KUNIT_EXPECT_PTR_EQ(test, token, (void *)h.a);
	KUNIT_EXPECT_EQ(test, len, 16);
	KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&h.env->vq, &token, &len), 0);
	KUNIT_EXPECT_PTR_EQ(test, token, (void *)h.b);
	KUNIT_EXPECT_EQ(test, len, 24);
	KUNIT_EXPECT_EQ(test, h.env->vq.stats.len_clamped, 2);
	KUNIT_EXPECT_FALSE(test, vrb_vq_is_broken(&h.env->vq));
	KUNIT_EXPECT_EQ(test, h.env->vq.stats.broken, 0);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&h.env->vq), HOSTILE_N);
}

static void vrb_vq_get_used_short_len_not_clamped(struct kunit *test)
{
	struct hostile h;
	void *token;
	u32 len;
	int pos;

	hostile_setup(test, &h);

	/*
	 * Expected: a device may write less than the chain can hold; B
	 * reporting 5 of 24 bytes comes back with 5, no clamp counted.
	 */
	pos = vrb_env_pending_pos(h.env, h.b);
	KUNIT_ASSERT_GE(test, pos, 0);
	fake_dev_complete_one_len(&h.env->dev, pos, 5);
	fake_dev_publish(&h.env->dev);
	KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&h.env->vq, &token, &len), 0);
	KUNIT_EXPECT_PTR_EQ(test, token, (void *)h.b);
	KUNIT_EXPECT_EQ(test, len, 5);
	KUNIT_EXPECT_EQ(test, h.env->vq.stats.len_clamped, 0);
}

static struct kunit_case vrb_hostile_cases[] = {
	KUNIT_CASE(vrb_vq_get_used_id_out_of_range),
	KUNIT_CASE(vrb_vq_get_used_id_not_a_head),
	KUNIT_CASE(vrb_vq_get_used_id_of_free_descriptor),
	KUNIT_CASE(vrb_vq_get_used_chain_completed_twice),
	KUNIT_CASE(vrb_vq_get_used_idx_runs_ahead),
	KUNIT_CASE(vrb_vq_get_used_idx_moves_backwards),
	KUNIT_CASE(vrb_vq_get_used_broken_is_sticky),
	KUNIT_CASE(vrb_vq_more_used_idx_runs_ahead),
	KUNIT_CASE(vrb_vq_enable_cb_idx_runs_ahead),
	KUNIT_CASE(vrb_vq_add_broken_touches_no_ring_memory),
	KUNIT_CASE(vrb_vq_get_used_broken_ignores_repaired_ring),
	KUNIT_CASE(vrb_vq_kick_prepare_broken_returns_false),
	KUNIT_CASE_PARAM(vrb_vq_enable_cb_broken_returns_true,
			 broken_cb_gen_params),
	KUNIT_CASE(vrb_vq_detach_unused_after_broken_frees_each_once),
	KUNIT_CASE(vrb_vq_get_used_oversized_len_clamped),
	KUNIT_CASE(vrb_vq_get_used_short_len_not_clamped),
	{}
};

static struct kunit_suite vrb_hostile_suite = {
	.name = "vringblk_hostile",
	.test_cases = vrb_hostile_cases,
};

kunit_test_suite(vrb_hostile_suite);
