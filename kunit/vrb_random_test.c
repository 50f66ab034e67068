// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vringblk_random: a seeded random run of
 * driver and device operations against each other (virtio 1.2 §2.7).
 *
 * Each step is one of: add a request of random shape (1..8 readable and
 * 1..8 writable buffers, indirect table offered or not), prepare a kick,
 * let the device take chains, complete some in random order, run the
 * interrupt handler (disable, drain, enable or enable_delayed), poll,
 * turn interrupts off, put the device to sleep or wake it, or have the
 * device interrupt regardless of suppression.  The run starts just before
 * the 16-bit index wrap so it crosses it.
 *
 * After every step: vrb_vq_check() == 0 and the device saw no violation.
 * Every request the driver returns was completed by the device, comes
 * back once, with the length and data the device wrote.  Two liveness
 * rules are checked as they arise:
 *  - no lost kick: a sleeping device with chains waiting is kicked;
 *  - no lost completion (§2.7.14): once enable_cb() returned true, the
 *    next completion interrupts; once all work is done, unconsumed
 *    completions never wait without an interrupt.
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/prandom.h>

#include "vrb_test_env.h"

/* Steps per configuration. */
#define RND_STEPS	100000
/* Fixed seed: every run makes the same choices. */
#define RND_SEED	0x76726230626c6bULL

/**
 * struct rnd_run - state of one random run
 * @test: the test case.
 * @env: queue and device.
 * @rnd: the random state.
 * @reqs: one request slot per possible chain in flight.
 * @nreqs: number of @reqs (the queue size).
 * @free: indices of free slots (a stack).
 * @nfree: entries on @free.
 * @kicked_idx: avail->idx at the last vrb_vq_kick_prepare().
 * @dev_sleeping: the device waits for a kick and takes nothing.
 * @cb_armed: enable_cb() or enable_cb_delayed() returned true and no
 *	      disable_cb() since.
 * @cb_delayed: the arming was enable_cb_delayed().
 * @cb_off: disable_cb() was called and no enable_cb*() since.
 * @irq_pending: the device interrupted; the handler has not run yet.
 * @added: requests added.
 * @returned: requests returned by vrb_vq_get_used().
 * @full: adds refused with -ENOSPC.
 * @kick_calls: vrb_vq_kick_prepare() calls.
 * @handler_runs: interrupt handler runs.
 */
struct rnd_run {
	struct kunit *test;
	struct vrb_env *env;
	struct rnd_state rnd;
	struct vrb_req *reqs;
	unsigned int nreqs;
	unsigned int *free;
	unsigned int nfree;
	u16 kicked_idx;
	bool dev_sleeping;
	bool cb_armed;
	bool cb_delayed;
	bool cb_off;
	bool irq_pending;
	u64 added;
	u64 returned;
	u64 full;
	u64 kick_calls;
	u64 handler_runs;
};

static u32 rnd_below(struct rnd_run *r, u32 n)
{
	return prandom_u32_state(&r->rnd) % n;
}

/* The request whose first buffer is at @addr, or NULL. */
static struct vrb_req *rnd_req_at(struct rnd_run *r, u64 addr)
{
	uintptr_t a = addr, base = (uintptr_t)r->reqs;
	unsigned int i;

	if (a < base)
		return NULL;
	i = (a - base) / sizeof(*r->reqs);
	if (i >= r->nreqs || vrb_req_addr(&r->reqs[i], 0) != addr)
		return NULL;
	return &r->reqs[i];
}

static void rnd_add(struct rnd_run *r)
{
	struct kunit *test = r->test;
	struct vrb_req *req;
	unsigned int slot, need, num_free;
	int err;

	if (!r->nfree)
		return;
	slot = r->free[r->nfree - 1];
	req = &r->reqs[slot];
	vrb_req_shape_random(req, &r->rnd, rnd_below(r, 2));
	/* Half the indirect chains are built in place, as the module does. */
	req->prebuilt = r->env->indirect && req->offer_indirect &&
			rnd_below(r, 2);
	need = r->env->indirect && req->offer_indirect ? 1 :
	       req->nout + req->nin;
	num_free = vrb_vq_num_free(&r->env->vq);

	err = vrb_req_add(r->env, req);
	if (err == -ENOSPC) {
		/* Refused only when it truly does not fit; nothing taken. */
		KUNIT_ASSERT_LT(test, num_free, need);
		KUNIT_ASSERT_EQ(test, vrb_vq_num_free(&r->env->vq), num_free);
		r->full++;
		return;
	}
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_EQ(test, vrb_vq_num_free(&r->env->vq), num_free - need);
	r->nfree--;
	r->added++;
}

static void rnd_kick(struct rnd_run *r)
{
	struct kunit *test = r->test;
	struct fake_dev *dev = &r->env->dev;
	u16 new_idx = fake_dev_avail_idx(dev);
	bool wanted = fake_dev_kick_wanted(dev, r->kicked_idx, new_idx);
	bool kick = vrb_vq_kick_prepare(&r->env->vq);

	r->kick_calls++;
	KUNIT_ASSERT_EQ_MSG(test, kick, wanted, "batch %u..%u",
			    r->kicked_idx, new_idx);
	r->kicked_idx = new_idx;
	if (kick) {
		fake_dev_kick(dev);
		r->dev_sleeping = false;
	} else {
		KUNIT_ASSERT_FALSE_MSG(test, r->dev_sleeping &&
				       new_idx != dev->last_avail_idx,
				       "lost kick: device asleep, chains waiting");
	}
}

/* The device takes up to @max chains; each must be exactly as built. */
static void rnd_take(struct rnd_run *r, unsigned int max)
{
	struct kunit *test = r->test;
	struct fake_dev *dev = &r->env->dev;
	struct fake_dev_chain *c;
	struct vrb_req *req;
	unsigned int before = dev->npending, n, k;
	const char *why;

	n = fake_dev_take(dev, max);
	for (k = before; k < before + n; k++) {
		c = fake_dev_pending_chain(dev, k);
		KUNIT_ASSERT_NOT_NULL(test, c);
		req = rnd_req_at(r, c->bufs[0].addr);
		KUNIT_ASSERT_NOT_NULL(test, req);
		KUNIT_ASSERT_TRUE(test, req->inflight);
		why = vrb_req_match_chain(req, c);
		KUNIT_ASSERT_NULL_MSG(test, why, "%s", why);
		KUNIT_ASSERT_EQ(test, c->indirect,
				r->env->indirect && req->offer_indirect);
	}
}

static void rnd_dev_take(struct rnd_run *r)
{
	if (!r->dev_sleeping)
		rnd_take(r, 1 + rnd_below(r, 8));
}

/* The device stops asking for kicks (it polls), or asks for one and sleeps. */
static void rnd_dev_sleep_or_wake(struct rnd_run *r)
{
	struct fake_dev *dev = &r->env->dev;
	bool more;

	if (r->dev_sleeping) {
		r->dev_sleeping = false;
		if (dev->event_idx)
			fake_dev_set_avail_event(dev, prandom_u32_state(&r->rnd));
		else
			fake_dev_set_no_notify(dev, true);
		return;
	}

	/* Sleep only with nothing left to take; then ask, and re-check. */
	rnd_take(r, UINT_MAX);
	if (dev->event_idx)
		more = fake_dev_set_avail_event(dev, dev->last_avail_idx);
	else
		more = fake_dev_set_no_notify(dev, false);
	r->dev_sleeping = !more;
}

static void rnd_dev_complete(struct rnd_run *r)
{
	struct kunit *test = r->test;
	struct fake_dev *dev = &r->env->dev;
	struct fake_dev_chain *c;
	unsigned int n, pos;
	struct vrb_req *req;
	bool irq;

	if (!dev->npending)
		return;
	for (n = 1 + rnd_below(r, min(dev->npending, 8U)); n; n--) {
		pos = rnd_below(r, dev->npending);
		c = fake_dev_pending_chain(dev, pos);
		req = rnd_req_at(r, c->bufs[0].addr);
		KUNIT_ASSERT_NOT_NULL(test, req);
		req->done = true;
		KUNIT_ASSERT_EQ(test, fake_dev_complete_one(dev, pos), 0);
	}
	irq = fake_dev_publish(dev);

	/*
	 * Armed by enable_cb() (or by enable_cb_delayed() without
	 * EVENT_IDX, which is the same), the first completion interrupts.
	 */
	if (r->cb_armed && !r->irq_pending &&
	    (!r->cb_delayed || !r->env->event_idx))
		KUNIT_ASSERT_TRUE_MSG(test, irq, "lost completion: armed, no interrupt");
	/* Without EVENT_IDX, NO_INTERRUPT must be set while disabled. */
	if (r->cb_off && !r->env->event_idx && !dev->ignore_suppression)
		KUNIT_ASSERT_FALSE_MSG(test, irq, "interrupt while disabled");
	if (irq)
		r->irq_pending = true;
}

/* Take back one completion, if any, and check it. */
static bool rnd_get_one(struct rnd_run *r)
{
	struct kunit *test = r->test;
	struct vrb_req *req;
	const char *why;
	void *token;
	u32 len;
	int err;

	err = vrb_vq_get_used(&r->env->vq, &token, &len);
	if (err == -EAGAIN)
		return false;
	KUNIT_ASSERT_EQ(test, err, 0);
	req = token;
	KUNIT_ASSERT_TRUE(test, req >= r->reqs && req < r->reqs + r->nreqs);
	KUNIT_ASSERT_TRUE_MSG(test, req->inflight, "token returned twice");
	KUNIT_ASSERT_TRUE_MSG(test, req->done, "token the device never completed");
	why = vrb_req_verify(req, len);
	KUNIT_ASSERT_NULL_MSG(test, why, "%s", why);
	req->inflight = false;
	r->free[r->nfree++] = req - r->reqs;
	r->returned++;
	return true;
}

/* The interrupt handler: disable, drain, enable (or delayed); repeat. */
static void rnd_handler(struct rnd_run *r)
{
	struct kunit *test = r->test;
	unsigned int loops = 0;
	bool delayed, ok;

	r->handler_runs++;
	r->irq_pending = false;
	r->cb_armed = false;
	r->cb_off = true;
	vrb_vq_disable_cb(&r->env->vq);
	for (;;) {
		while (rnd_get_one(r))
			;
		/* The race of §2.7.14: completions between drain and enable. */
		if (!rnd_below(r, 4))
			rnd_dev_complete(r);
		delayed = rnd_below(r, 2);
		ok = delayed ? vrb_vq_enable_cb_delayed(&r->env->vq) :
		     vrb_vq_enable_cb(&r->env->vq);
		/* Even when it says "drain again", interrupts are back on. */
		r->cb_off = false;
		/* Nothing happens between enable_cb and this look. */
		if (ok && (!delayed || !r->env->event_idx))
			KUNIT_ASSERT_FALSE_MSG(test, vrb_vq_more_used(&r->env->vq),
					       "enable_cb true with completions pending");
		if (ok)
			break;
		/* "Drain again" must find something, or we loop forever. */
		KUNIT_ASSERT_TRUE(test, vrb_vq_more_used(&r->env->vq));
		KUNIT_ASSERT_LT(test, ++loops, r->nreqs + 2);
	}
	r->cb_armed = true;
	r->cb_delayed = delayed;
}

/* Poll without interrupts (only while they are off: see the banner). */
static void rnd_poll(struct rnd_run *r)
{
	unsigned int n = 1 + rnd_below(r, 8);

	if (r->cb_armed)
		return;
	while (n-- && rnd_get_one(r))
		;
}

static void rnd_disable(struct rnd_run *r)
{
	vrb_vq_disable_cb(&r->env->vq);
	r->cb_armed = false;
	r->cb_off = true;
}

/*
 * Let the device finish everything (waking it), then check that no
 * completion waits unseen: armed with no interrupt raised, nothing may be
 * left in the used ring.
 */
static void rnd_quiesce(struct rnd_run *r)
{
	struct kunit *test = r->test;
	struct fake_dev *dev = &r->env->dev;
	struct fake_dev_chain *c;
	struct vrb_req *req;

	r->dev_sleeping = false;
	rnd_take(r, UINT_MAX);
	list_for_each_entry(c, &dev->pending, node) {
		req = rnd_req_at(r, c->bufs[0].addr);
		KUNIT_ASSERT_NOT_NULL(test, req);
		req->done = true;
	}
	if (fake_dev_complete_all(dev, &r->rnd))
		r->irq_pending = true;
	if (r->cb_armed && !r->irq_pending)
		KUNIT_ASSERT_FALSE_MSG(test, vrb_vq_more_used(&r->env->vq),
				       "lost completion: all done, no interrupt");
}

static void rnd_step(struct rnd_run *r)
{
	u32 op = rnd_below(r, 100);

	if (op < 35)
		rnd_add(r);
	else if (op < 45)
		rnd_kick(r);
	else if (op < 60)
		rnd_dev_take(r);
	else if (op < 75)
		rnd_dev_complete(r);
	else if (op < 85)
		rnd_handler(r);
	else if (op < 90)
		rnd_poll(r);
	else if (op < 93)
		rnd_disable(r);
	else if (op < 97)
		rnd_dev_sleep_or_wake(r);
	else if (op < 98)
		r->env->dev.ignore_suppression = !r->env->dev.ignore_suppression;
	else
		rnd_quiesce(r);
}

static const struct vrb_env_cfg rnd_cfgs[] = {
	{ "N=64 event_idx indirect", 64, true, true },
	{ "N=64 flags direct", 64, false, false },
	{ "N=16 event_idx direct", 16, true, false },
	{ "N=128 flags indirect", 128, false, true },
};

KUNIT_ARRAY_PARAM(rnd, rnd_cfgs, vrb_env_cfg_desc);

static void vrb_vq_random_ops_keep_invariants(struct kunit *test)
{
	const struct vrb_env_cfg *cfg = test->param_value;
	struct rnd_run *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	u64 kicks_before;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->test = test;
	r->env = vrb_env_create(test, cfg->num, cfg->event_idx, cfg->indirect);
	r->nreqs = cfg->num;
	r->reqs = kunit_kcalloc(test, r->nreqs, sizeof(*r->reqs), GFP_KERNEL);
	r->free = kunit_kcalloc(test, r->nreqs, sizeof(*r->free), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r->reqs);
	KUNIT_ASSERT_NOT_NULL(test, r->free);
	prandom_seed_state(&r->rnd, RND_SEED);

	/* Start 1000 chains before the wrap, so the run crosses it. */
	vrb_env_advance(r->env, r->reqs, r->nreqs, (u16)-1000);
	kicks_before = r->env->vq.stats.kicks +
		       r->env->vq.stats.kicks_suppressed;
	r->kicked_idx = fake_dev_avail_idx(&r->env->dev);
	for (i = 0; i < r->nreqs; i++)
		r->free[r->nfree++] = i;
	/* Start in the interrupt handler's steady state: armed. */
	rnd_handler(r);

	/*
	 * Expected after every step: the driver's invariants hold and the
	 * device saw nothing against the spec (the steps assert the rest).
	 */
	for (i = 0; i < RND_STEPS; i++) {
		rnd_step(r);
		KUNIT_ASSERT_EQ_MSG(test, vrb_vq_check(&r->env->vq), 0,
				    "step %u", i);
		KUNIT_ASSERT_EQ_MSG(test, r->env->dev.violations, 0,
				    "step %u: device saw: %s", i,
				    r->env->dev.reason);
	}

	/*
	 * Expected at the end, once the device finished everything and
	 * the handler drained it: every request came back exactly once,
	 * all descriptors are free, the counters agree, and the run went
	 * through the index wrap, full queues, kicks both ways and
	 * interrupts both ways.
	 */
	rnd_quiesce(r);
	rnd_handler(r);
	kunit_info(test, "%llu added, %llu full, %llu kicks / %llu suppressed, %llu interrupts / %llu suppressed, %llu handler runs\n",
		   r->added, r->full, r->env->vq.stats.kicks,
		   r->env->vq.stats.kicks_suppressed, r->env->dev.interrupts,
		   r->env->dev.suppressed, r->handler_runs);
	KUNIT_EXPECT_EQ(test, r->returned, r->added);
	KUNIT_EXPECT_EQ(test, r->nfree, r->nreqs);
	KUNIT_EXPECT_EQ(test, vrb_vq_num_free(&r->env->vq), cfg->num);
	KUNIT_EXPECT_EQ(test, r->env->vq.stats.kicks +
			r->env->vq.stats.kicks_suppressed,
			kicks_before + r->kick_calls);
	/* Starting 1000 before the wrap, more than 1000 adds cross it. */
	KUNIT_EXPECT_GT(test, r->added, 1000);
	KUNIT_EXPECT_GT(test, r->full, 0);
	KUNIT_EXPECT_GT(test, r->env->vq.stats.kicks, 0);
	KUNIT_EXPECT_GT(test, r->env->vq.stats.kicks_suppressed, 0);
	KUNIT_EXPECT_GT(test, r->env->dev.interrupts, 0);
	KUNIT_EXPECT_GT(test, r->env->dev.suppressed, 0);
}

static struct kunit_case vrb_random_cases[] = {
	KUNIT_CASE_PARAM(vrb_vq_random_ops_keep_invariants, rnd_gen_params),
	{}
};

static struct kunit_suite vrb_random_suite = {
	.name = "vringblk_random",
	.test_cases = vrb_random_cases,
};

kunit_test_suite(vrb_random_suite);
