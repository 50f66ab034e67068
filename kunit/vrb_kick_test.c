// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vringblk_kick: notification suppression
 * in both directions (virtio 1.2 §2.7.7 used buffer notifications,
 * §2.7.10 available buffer notifications, both with and without
 * VIRTIO_F_EVENT_IDX) and the re-check that keeps a completion from being
 * lost when interrupts are re-enabled (§2.7.14).
 *
 * "Interrupt" below is the fake device's decision after publishing used
 * elements (fake_dev_publish()); "kick" is vrb_vq_kick_prepare()'s.
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <uapi/linux/virtio_ring.h>

#include "vrb_test_env.h"

/* Event idx membership, counted the slow way: is @event in [@old, @new)? */
static bool event_in_batch(u16 event, u16 new_idx, u16 old)
{
	u16 i;

	for (i = old; i != new_idx; i++)
		if (i == event)
			return true;
	return false;
}

static void vrb_vq_need_event_truth_table(struct kunit *test)
{
	static const u16 olds[] = { 0, 1, 0x7fff, 0x8000, 0xfff0, 0xfffe,
				    0xffff };
	unsigned int o, b, e, hits = 0, want_hits = 0;
	u16 old, new_idx, event;
	bool want;

	/*
	 * Expected: for batches of 0..40 starting at indices around 0,
	 * 2^15 and the 2^16 wrap, and events from 20 before to 60 after
	 * the start, need_event is true exactly when the event index is
	 * one of the indices the batch moved over, and agrees with uapi
	 * vring_need_event().  Each batch of b covers exactly b events.
	 */
	for (o = 0; o < ARRAY_SIZE(olds); o++) {
		for (b = 0; b <= 40; b++) {
			old = olds[o];
			new_idx = old + b;
			want_hits += b;
			for (e = 0; e < 80; e++) {
				event = old - 20 + e;
				want = event_in_batch(event, new_idx, old);
				KUNIT_EXPECT_EQ_MSG(test,
						    vrb_vq_need_event(event, new_idx, old),
						    want, "event %u new %u old %u",
						    event, new_idx, old);
				KUNIT_EXPECT_EQ_MSG(test,
						    vrb_vq_need_event(event, new_idx, old),
						    !!vring_need_event(event, new_idx, old),
						    "event %u new %u old %u",
						    event, new_idx, old);
				hits += want;
			}
		}
	}
	KUNIT_EXPECT_EQ(test, hits, want_hits);
}

/* Add one request of 1 readable + 1 writable buffer. */
static void add_one(struct kunit *test, struct vrb_env *env,
		    struct vrb_req *req)
{
	vrb_req_shape(req, 1, 1, 8, false, (uintptr_t)req);
	KUNIT_ASSERT_EQ(test, vrb_req_add(env, req), 0);
}

/* kick_prepare for the batch since @old, cross-checked with the device. */
static bool kick(struct kunit *test, struct vrb_env *env, u16 old)
{
	u16 new_idx = fake_dev_avail_idx(&env->dev);
	bool wanted = fake_dev_kick_wanted(&env->dev, old, new_idx);
	bool k = vrb_vq_kick_prepare(&env->vq);

	KUNIT_EXPECT_EQ_MSG(test, k, wanted,
			    "driver and device disagree on the batch %u..%u",
			    old, new_idx);
	return k;
}

static void vrb_vq_kick_prepare_event_idx_kicks_at_avail_event(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 2, sizeof(*reqs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	/* The device wants to hear when the chain at avail index 1 comes. */
	fake_dev_set_avail_event(&env->dev, 1);

	/*
	 * Expected: adding entry 0 does not kick (batch [0, 1) misses 1),
	 * adding entry 1 does (batch [1, 2)); one of each is counted.
	 */
	add_one(test, env, &reqs[0]);
	KUNIT_EXPECT_FALSE(test, kick(test, env, 0));
	add_one(test, env, &reqs[1]);
	KUNIT_EXPECT_TRUE(test, kick(test, env, 1));
	KUNIT_EXPECT_EQ(test, env->vq.stats.kicks, 1);
	KUNIT_EXPECT_EQ(test, env->vq.stats.kicks_suppressed, 1);
}

static void vrb_vq_kick_prepare_event_idx_batch(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 6, sizeof(*reqs), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	/*
	 * Expected: with avail_event 2, a batch of 3 (entries 0, 1, 2)
	 * kicks once for all three; with avail_event 6, the next batch of
	 * 3 (entries 3, 4, 5) stops just short and does not kick.
	 */
	fake_dev_set_avail_event(&env->dev, 2);
	for (i = 0; i < 3; i++)
		add_one(test, env, &reqs[i]);
	KUNIT_EXPECT_TRUE(test, kick(test, env, 0));

	fake_dev_set_avail_event(&env->dev, 6);
	for (i = 3; i < 6; i++)
		add_one(test, env, &reqs[i]);
	KUNIT_EXPECT_FALSE(test, kick(test, env, 3));
}

static void vrb_vq_kick_prepare_event_idx_across_wrap(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 16, sizeof(*reqs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	vrb_env_advance(env, reqs, 16, 0xfffe);

	/*
	 * Expected around the wrap: with avail_event 0, a batch 0xfffe ->
	 * 0x0000 (entries 0xfffe, 0xffff) does not kick, the next entry
	 * (0x0000 -> 0x0001) does; with avail_event 0xffff, the batch
	 * 0x0001 -> 0x0003 does not (0xffff lies behind it).
	 */
	fake_dev_set_avail_event(&env->dev, 0);
	add_one(test, env, &reqs[0]);
	add_one(test, env, &reqs[1]);
	KUNIT_EXPECT_EQ(test, fake_dev_avail_idx(&env->dev), 0);
	KUNIT_EXPECT_FALSE(test, kick(test, env, 0xfffe));
	add_one(test, env, &reqs[2]);
	KUNIT_EXPECT_TRUE(test, kick(test, env, 0));

	fake_dev_set_avail_event(&env->dev, 0xffff);
	add_one(test, env, &reqs[3]);
	add_one(test, env, &reqs[4]);
	KUNIT_EXPECT_FALSE(test, kick(test, env, 1));
}

static void vrb_vq_kick_prepare_event_idx_wrap_batch_covers_event(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 16, sizeof(*reqs), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	vrb_env_advance(env, reqs, 16, 0xfffe);

	/*
	 * Expected: with avail_event 0xffff, a batch 0xfffe -> 0x0001
	 * moves over 0xffff and kicks, although new < event < old in plain
	 * (non-modular) arithmetic.
	 */
	fake_dev_set_avail_event(&env->dev, 0xffff);
	for (i = 0; i < 3; i++)
		add_one(test, env, &reqs[i]);
	KUNIT_EXPECT_EQ(test, fake_dev_avail_idx(&env->dev), 1);
	KUNIT_EXPECT_TRUE(test, kick(test, env, 0xfffe));
}

static void vrb_vq_kick_prepare_counts_from_last_call(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 2, sizeof(*reqs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	/*
	 * Expected: avail_event stays 0.  The first batch [0, 1) kicks; the
	 * second is [1, 2), counted from the previous kick_prepare, and
	 * does not kick again for the same event.
	 */
	fake_dev_set_avail_event(&env->dev, 0);
	add_one(test, env, &reqs[0]);
	KUNIT_EXPECT_TRUE(test, kick(test, env, 0));
	add_one(test, env, &reqs[1]);
	KUNIT_EXPECT_FALSE(test, kick(test, env, 1));
}

static void vrb_vq_kick_prepare_kicks_when_num_added_saturated(struct kunit *test)
{
	/* One full turn of the 16-bit avail index, 4 requests at a time. */
	const unsigned int total = 0x10000, batch = 4;
	struct vrb_env *env = vrb_env_create(test, 8, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, batch, sizeof(*reqs),
					     GFP_KERNEL);
	unsigned int done, i;
	void *token;
	u32 len;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	for (i = 0; i < batch; i++)
		vrb_req_shape(&reqs[i], 1, 1, 4, false, i);
	/* The device wants a kick for entry 0, then polls on its own. */
	fake_dev_set_avail_event(&env->dev, 0);
	for (done = 0; done < total; done += batch) {
		for (i = 0; i < batch; i++)
			KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[i]), 0);
		KUNIT_ASSERT_EQ(test, fake_dev_take(&env->dev, UINT_MAX), batch);
		fake_dev_complete_all(&env->dev, NULL);
		for (i = 0; i < batch; i++) {
			KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&env->vq, &token,
							      &len), 0);
			KUNIT_ASSERT_PTR_EQ(test, token, (void *)&reqs[i]);
		}
	}

	/*
	 * Expected: 65536 adds and no kick decision bring avail->idx back
	 * to 0.  Counted modulo 2^16 the batch would be empty; counted up
	 * to U16_MAX it is [1, 0): both miss avail_event 0, which the
	 * batch went past.  The count stopped at U16_MAX, and
	 * kick_prepare kicks because it did, then counts from 0 again.
	 */
	KUNIT_EXPECT_EQ(test, fake_dev_avail_idx(&env->dev), 0);
	KUNIT_EXPECT_EQ(test, env->vq.num_added, U16_MAX);
	KUNIT_EXPECT_TRUE(test, vrb_vq_kick_prepare(&env->vq));
	KUNIT_EXPECT_EQ(test, env->vq.stats.kicks, 1);
	KUNIT_EXPECT_EQ(test, env->vq.stats.kicks_suppressed, 0);
	KUNIT_EXPECT_EQ(test, env->vq.num_added, 0);
}

static void vrb_vq_kick_prepare_event_idx_once_per_device_pass(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 4, sizeof(*reqs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	/* Like vhost: after each pass the device asks for the next chain. */
	env->dev.auto_avail_event = true;

	/*
	 * Expected: the first chain kicks (avail_event 0); the device takes
	 * it and asks for entry 1, so the next chain kicks; a third added
	 * before the device looks again does not; once the device has
	 * taken both, the fourth kicks.
	 */
	add_one(test, env, &reqs[0]);
	KUNIT_EXPECT_TRUE(test, kick(test, env, 0));
	KUNIT_ASSERT_EQ(test, fake_dev_take(&env->dev, UINT_MAX), 1);
	add_one(test, env, &reqs[1]);
	KUNIT_EXPECT_TRUE(test, kick(test, env, 1));
	add_one(test, env, &reqs[2]);
	KUNIT_EXPECT_FALSE(test, kick(test, env, 2));
	KUNIT_ASSERT_EQ(test, fake_dev_take(&env->dev, UINT_MAX), 2);
	add_one(test, env, &reqs[3]);
	KUNIT_EXPECT_TRUE(test, kick(test, env, 3));
}

static void vrb_vq_kick_prepare_honours_no_notify(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, false, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 2, sizeof(*reqs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	/*
	 * Expected without EVENT_IDX: while the device sets NO_NOTIFY no
	 * kick; once it clears it, the next batch kicks.
	 */
	KUNIT_EXPECT_FALSE(test, fake_dev_set_no_notify(&env->dev, true));
	add_one(test, env, &reqs[0]);
	KUNIT_EXPECT_FALSE(test, kick(test, env, 0));
	/* The device re-checks after clearing the flag, and finds work. */
	KUNIT_EXPECT_TRUE(test, fake_dev_set_no_notify(&env->dev, false));
	add_one(test, env, &reqs[1]);
	KUNIT_EXPECT_TRUE(test, kick(test, env, 1));
}

static void vrb_vq_kick_prepare_event_idx_ignores_no_notify(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 2, sizeof(*reqs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	/*
	 * Expected (§2.7.10: with EVENT_IDX the driver ignores used->flags):
	 * NO_NOTIFY set but avail_event 0 in the batch: kick; NO_NOTIFY
	 * clear but avail_event 5 out of the batch: no kick.
	 */
	fake_dev_set_no_notify(&env->dev, true);
	fake_dev_set_avail_event(&env->dev, 0);
	add_one(test, env, &reqs[0]);
	KUNIT_EXPECT_TRUE(test, kick(test, env, 0));

	fake_dev_set_no_notify(&env->dev, false);
	fake_dev_set_avail_event(&env->dev, 5);
	add_one(test, env, &reqs[1]);
	KUNIT_EXPECT_FALSE(test, kick(test, env, 1));
}

static void vrb_vq_kick_prepare_ignores_avail_event_without_feature(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, false, false);
	struct vrb_req *req = kunit_kzalloc(test, sizeof(*req), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, req);
	/*
	 * Expected: without EVENT_IDX the avail_event field means nothing
	 * (a value that would suppress the kick is ignored); flags are 0,
	 * so the batch kicks.
	 */
	fake_dev_set_avail_event(&env->dev, 100);
	add_one(test, env, req);
	KUNIT_EXPECT_TRUE(test, vrb_vq_kick_prepare(&env->vq));
}

static const struct vrb_env_cfg cb_cfgs[] = {
	{ "flags", 16, false, false },
	{ "event_idx", 16, true, false },
};

KUNIT_ARRAY_PARAM(cb, cb_cfgs, vrb_env_cfg_desc);

/* Add @n requests and let the device take them. */
static void add_and_take(struct kunit *test, struct vrb_env *env,
			 struct vrb_req *reqs, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		add_one(test, env, &reqs[i]);
	KUNIT_ASSERT_EQ(test, fake_dev_take(&env->dev, n), n);
}

static void vrb_vq_disable_cb_sets_no_interrupt(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, false, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 2, sizeof(*reqs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	add_and_take(test, env, reqs, 2);

	/*
	 * Expected without EVENT_IDX: avail->flags gets NO_INTERRUPT and
	 * the device does not interrupt for either completion.
	 */
	vrb_vq_disable_cb(&env->vq);
	KUNIT_EXPECT_EQ(test, READ_ONCE(env->dev.avail->flags),
			VRB_AVAIL_F_NO_INTERRUPT);
	KUNIT_EXPECT_FALSE(test, fake_dev_complete(&env->dev, 0));
	KUNIT_EXPECT_FALSE(test, fake_dev_complete(&env->dev, 0));
}

static void vrb_vq_disable_cb_event_idx_suppresses_interrupts(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 8, sizeof(*reqs), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	/* 8 requests of 2 descriptors: the queue of 16 is full. */
	add_and_take(test, env, reqs, 8);
	KUNIT_ASSERT_EQ(test, vrb_vq_num_free(&env->vq), 0);

	/*
	 * Expected with EVENT_IDX: used_event is moved out of reach, so
	 * none of a full queue of completions, published one by one,
	 * interrupts.
	 */
	vrb_vq_disable_cb(&env->vq);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_FALSE_MSG(test, fake_dev_complete(&env->dev, 0),
				       "completion %u", i);
}

static void vrb_vq_set_polled_never_interrupts(struct kunit *test)
{
	const struct vrb_env_cfg *cfg = test->param_value;
	struct vrb_env *env = vrb_env_create(test, cfg->num, cfg->event_idx,
					     cfg->indirect);
	struct vrb_req *reqs = kunit_kcalloc(test, 4, sizeof(*reqs), GFP_KERNEL);
	unsigned int round, i, irqs = 0;
	void *token;
	u32 len;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	vrb_vq_set_polled(&env->vq);

	/*
	 * Expected: 4 requests at a time, completed one by one and taken
	 * back by polling, 2 x 65536 times over (both indices wrap twice;
	 * with EVENT_IDX used_event must follow the driver), with a reset
	 * of both sides half way: the device never finds a reason to
	 * interrupt, and the driver gets every completion.
	 */
	for (round = 0; round < 2 * 0x10000 / 4; round++) {
		if (round == 0x10000 / 4) {
			fake_dev_reset(&env->dev);
			vrb_vq_reset(&env->vq);
		}
		add_and_take(test, env, reqs, 4);
		for (i = 0; i < 4; i++)
			irqs += fake_dev_complete(&env->dev, 0);
		for (i = 0; i < 4; i++)
			KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&env->vq, &token,
							      &len), 0);
	}
	KUNIT_EXPECT_EQ(test, irqs, 0);
	KUNIT_EXPECT_EQ(test, env->vq.stats.used, 2 * 0x10000);
}

static void vrb_vq_enable_cb_requests_next_interrupt(struct kunit *test)
{
	const struct vrb_env_cfg *cfg = test->param_value;
	struct vrb_env *env = vrb_env_create(test, cfg->num, cfg->event_idx,
					     cfg->indirect);
	struct vrb_req *reqs = kunit_kcalloc(test, 2, sizeof(*reqs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	add_and_take(test, env, reqs, 2);
	vrb_vq_disable_cb(&env->vq);

	/*
	 * Expected: nothing pending, so enable_cb returns true, avail->flags
	 * has no NO_INTERRUPT (and with EVENT_IDX used_event is the next
	 * used index, 0), and the next completion interrupts.
	 */
	KUNIT_EXPECT_TRUE(test, vrb_vq_enable_cb(&env->vq));
	if (cfg->event_idx)
		KUNIT_EXPECT_EQ(test, READ_ONCE(*env->dev.used_event), 0);
	else
		KUNIT_EXPECT_EQ(test, READ_ONCE(env->dev.avail->flags), 0);
	KUNIT_EXPECT_TRUE(test, fake_dev_complete(&env->dev, 0));
}

static void vrb_vq_enable_cb_returns_false_when_completion_raced(struct kunit *test)
{
	const struct vrb_env_cfg *cfg = test->param_value;
	struct vrb_env *env = vrb_env_create(test, cfg->num, cfg->event_idx,
					     cfg->indirect);
	struct vrb_req *reqs = kunit_kcalloc(test, 2, sizeof(*reqs), GFP_KERNEL);
	void *token;
	u32 len;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	add_and_take(test, env, reqs, 2);

	/*
	 * The interrupt handler's loop (§2.7.14): interrupts off, drain
	 * (nothing yet), and a completion slips in before they are back on:
	 * the device sees them off and does not interrupt.
	 */
	vrb_vq_disable_cb(&env->vq);
	KUNIT_EXPECT_EQ(test, vrb_vq_get_used(&env->vq, &token, &len), -EAGAIN);
	KUNIT_EXPECT_FALSE(test, fake_dev_complete(&env->dev, 0));

	/*
	 * Expected: enable_cb sees it and returns false, so the handler
	 * drains again instead of waiting for an interrupt that will not
	 * come; after that drain enable_cb returns true and the next
	 * completion interrupts.
	 */
	KUNIT_EXPECT_FALSE(test, vrb_vq_enable_cb(&env->vq));
	KUNIT_EXPECT_EQ(test, vrb_vq_get_used(&env->vq, &token, &len), 0);
	KUNIT_EXPECT_PTR_EQ(test, token, (void *)&reqs[0]);
	KUNIT_EXPECT_TRUE(test, vrb_vq_enable_cb(&env->vq));
	KUNIT_EXPECT_TRUE(test, fake_dev_complete(&env->dev, 0));
}

static void vrb_vq_get_used_event_idx_requests_next_interrupt(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 4, sizeof(*reqs), GFP_KERNEL);
	unsigned int i;
	void *token;
	u32 len;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	add_and_take(test, env, reqs, 4);

	/*
	 * Expected: interrupts stay enabled; 3 completions in one publish
	 * interrupt once (used_event 0); draining them without disable_cb
	 * moves used_event to 3, so the 4th completion interrupts too.
	 */
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, fake_dev_complete_one(&env->dev, 0), 0);
	KUNIT_EXPECT_TRUE(test, fake_dev_publish(&env->dev));
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&env->vq, &token, &len),
				0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*env->dev.used_event), 3);
	KUNIT_EXPECT_TRUE(test, fake_dev_complete(&env->dev, 0));
}

static void vrb_vq_enable_cb_delayed_interrupts_after_three_quarters(struct kunit *test)
{
	const unsigned int inflight = 8, quiet = inflight * 3 / 4;
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, inflight, sizeof(*reqs),
					     GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	add_and_take(test, env, reqs, inflight);
	vrb_vq_disable_cb(&env->vq);

	/*
	 * Expected: with 8 in flight the interrupt is asked for after 3/4
	 * of them: used_event = 6, so completions 1..6 are quiet and the
	 * 7th (moving used->idx past 6) interrupts.
	 */
	KUNIT_EXPECT_TRUE(test, vrb_vq_enable_cb_delayed(&env->vq));
	KUNIT_EXPECT_EQ(test, READ_ONCE(*env->dev.used_event), quiet);
	for (i = 0; i < quiet; i++)
		KUNIT_EXPECT_FALSE_MSG(test, fake_dev_complete(&env->dev, 0),
				       "completion %u", i + 1);
	KUNIT_EXPECT_TRUE(test, fake_dev_complete(&env->dev, 0));
}

static void vrb_vq_enable_cb_delayed_returns_false_past_threshold(struct kunit *test)
{
	const unsigned int inflight = 8, quiet = inflight * 3 / 4;
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, inflight, sizeof(*reqs),
					     GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	add_and_take(test, env, reqs, inflight);
	vrb_vq_disable_cb(&env->vq);
	for (i = 0; i < quiet + 1; i++)
		KUNIT_ASSERT_EQ(test, fake_dev_complete_one(&env->dev, 0), 0);
	KUNIT_EXPECT_FALSE(test, fake_dev_publish(&env->dev));

	/*
	 * Expected: 7 completions already pending, more than the 6 the
	 * delayed interrupt would wait for: the device will not interrupt
	 * for them, so enable_cb_delayed returns false (drain now).
	 */
	KUNIT_EXPECT_FALSE(test, vrb_vq_enable_cb_delayed(&env->vq));
}

static void vrb_vq_enable_cb_delayed_at_threshold_still_interrupts(struct kunit *test)
{
	const unsigned int inflight = 8, quiet = inflight * 3 / 4;
	struct vrb_env *env = vrb_env_create(test, 16, true, false);
	struct vrb_req *reqs = kunit_kcalloc(test, inflight, sizeof(*reqs),
					     GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	add_and_take(test, env, reqs, inflight);
	vrb_vq_disable_cb(&env->vq);
	for (i = 0; i < quiet; i++)
		KUNIT_ASSERT_EQ(test, fake_dev_complete_one(&env->dev, 0), 0);
	fake_dev_publish(&env->dev);

	/*
	 * Expected: exactly 6 pending is not past the threshold, so
	 * enable_cb_delayed returns true, and then the 7th completion
	 * interrupts: nothing is lost.
	 */
	KUNIT_EXPECT_TRUE(test, vrb_vq_enable_cb_delayed(&env->vq));
	KUNIT_EXPECT_TRUE(test, fake_dev_complete(&env->dev, 0));
}

static void vrb_vq_enable_cb_delayed_without_event_idx_is_immediate(struct kunit *test)
{
	struct vrb_env *env = vrb_env_create(test, 16, false, false);
	struct vrb_req *reqs = kunit_kcalloc(test, 8, sizeof(*reqs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, reqs);
	add_and_take(test, env, reqs, 8);
	vrb_vq_disable_cb(&env->vq);

	/*
	 * Expected: without EVENT_IDX "later" cannot be expressed: the flag
	 * is cleared and the first completion interrupts.
	 */
	KUNIT_EXPECT_TRUE(test, vrb_vq_enable_cb_delayed(&env->vq));
	KUNIT_EXPECT_EQ(test, READ_ONCE(env->dev.avail->flags), 0);
	KUNIT_EXPECT_TRUE(test, fake_dev_complete(&env->dev, 0));
}

static struct kunit_case vrb_kick_cases[] = {
	KUNIT_CASE(vrb_vq_need_event_truth_table),
	KUNIT_CASE(vrb_vq_kick_prepare_event_idx_kicks_at_avail_event),
	KUNIT_CASE(vrb_vq_kick_prepare_event_idx_batch),
	KUNIT_CASE(vrb_vq_kick_prepare_event_idx_across_wrap),
	KUNIT_CASE(vrb_vq_kick_prepare_event_idx_wrap_batch_covers_event),
	KUNIT_CASE(vrb_vq_kick_prepare_counts_from_last_call),
	KUNIT_CASE(vrb_vq_kick_prepare_kicks_when_num_added_saturated),
	KUNIT_CASE(vrb_vq_kick_prepare_event_idx_once_per_device_pass),
	KUNIT_CASE(vrb_vq_kick_prepare_honours_no_notify),
	KUNIT_CASE(vrb_vq_kick_prepare_event_idx_ignores_no_notify),
	KUNIT_CASE(vrb_vq_kick_prepare_ignores_avail_event_without_feature),
	KUNIT_CASE(vrb_vq_disable_cb_sets_no_interrupt),
	KUNIT_CASE(vrb_vq_disable_cb_event_idx_suppresses_interrupts),
	KUNIT_CASE_PARAM(vrb_vq_set_polled_never_interrupts, cb_gen_params),
	KUNIT_CASE_PARAM(vrb_vq_enable_cb_requests_next_interrupt,
			 cb_gen_params),
	KUNIT_CASE_PARAM(vrb_vq_enable_cb_returns_false_when_completion_raced,
			 cb_gen_params),
	KUNIT_CASE(vrb_vq_get_used_event_idx_requests_next_interrupt),
	KUNIT_CASE(vrb_vq_enable_cb_delayed_interrupts_after_three_quarters),
	KUNIT_CASE(vrb_vq_enable_cb_delayed_returns_false_past_threshold),
	KUNIT_CASE(vrb_vq_enable_cb_delayed_at_threshold_still_interrupts),
	KUNIT_CASE(vrb_vq_enable_cb_delayed_without_event_idx_is_immediate),
	{}
};

static struct kunit_suite vrb_kick_suite = {
	.name = "vringblk_kick",
	.test_cases = vrb_kick_cases,
};

kunit_test_suite(vrb_kick_suite);
