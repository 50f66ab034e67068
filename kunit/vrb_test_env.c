// SPDX-License-Identifier: GPL-2.0
/*
 * Shared fixtures of the vringblk KUnit suites.
 *
 * vrb_env_create() gives a test a ring core queue (mod/vrb_vq.c) and a
 * fake device (fake_dev.c) on the same zeroed ring memory, with the same
 * features negotiated on both sides.  Everything is test-managed: the
 * memory comes from kunit_kzalloc(), and a KUnit resource calls
 * vrb_vq_cleanup() and fake_dev_destroy() when the case ends, even when
 * an assertion aborted it.
 *
 * A struct vrb_req is one request as a test builds it: a few readable and
 * writable buffers cut from one array with a guard byte after each, and
 * an indirect table.  vrb_req_verify() checks that the device filled its
 * writable buffers with the pattern derived from its readable bytes.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/string.h>

#include "vrb_test_env.h"

static void vrb_env_free(struct kunit_resource *res)
{
	struct vrb_env *env = res->data;

	vrb_vq_cleanup(&env->vq);
	fake_dev_destroy(&env->dev);
}

/**
 * vrb_env_create - a queue and a fake device on one piece of ring memory
 * @test: the test case; it owns everything allocated here.
 * @num: queue size.
 * @event_idx: negotiate VRB_F_RING_EVENT_IDX.
 * @indirect: negotiate VRB_F_RING_INDIRECT_DESC.
 *
 * Aborts the test case if anything fails.
 *
 * Context: Process context; may sleep.
 * Return: the environment, freed when the test case ends.
 */
struct vrb_env *vrb_env_create(struct kunit *test, unsigned int num,
			       bool event_idx, bool indirect)
{
	struct vrb_vq_layout layout;
	struct vrb_env *env;

	KUNIT_ASSERT_EQ(test, vrb_vq_layout_compute(num, &layout), 0);

	env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, env);
	env->test = test;
	env->num = num;
	env->event_idx = event_idx;
	env->indirect = indirect;
	env->ring_size = layout.size;
	env->ring = kunit_kzalloc(test, layout.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, env->ring);
	/* §4.1.4.10: the device is told the ring's 4096-byte page number. */
	KUNIT_ASSERT_TRUE(test, IS_ALIGNED((uintptr_t)env->ring, 4096));

	/* From here on, the case's end frees the queue and the device. */
	KUNIT_ASSERT_PTR_EQ(test, kunit_alloc_resource(test, NULL, vrb_env_free,
						       GFP_KERNEL, env),
			    (void *)env);

	KUNIT_ASSERT_EQ(test, vrb_vq_init(&env->vq, "kunit/vq0", num, env->ring,
					  (dma_addr_t)(uintptr_t)env->ring,
					  event_idx, indirect), 0);
	KUNIT_ASSERT_EQ(test, fake_dev_init(&env->dev, env->ring, num,
					    event_idx, indirect), 0);
	return env;
}

/**
 * vrb_env_cfg_desc - name a parameterised case after its configuration
 * @cfg: the configuration.
 * @desc: KUnit's description buffer (KUNIT_PARAM_DESC_SIZE bytes).
 *
 * Context: Any context.
 */
void vrb_env_cfg_desc(const struct vrb_env_cfg *cfg, char *desc)
{
	strscpy(desc, cfg->name, KUNIT_PARAM_DESC_SIZE);
}

/**
 * vrb_env_snapshot - copy the ring memory
 * @env: the environment.
 *
 * Context: Process context; may sleep.
 * Return: a test-managed copy of @env->ring (the test aborts on failure).
 */
void *vrb_env_snapshot(struct vrb_env *env)
{
	void *copy = kunit_kmalloc(env->test, env->ring_size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(env->test, copy);
	memcpy(copy, env->ring, env->ring_size);
	return copy;
}

/* Lay out the buffers of @req one after the other, a guard byte apart. */
static void vrb_req_layout(struct vrb_req *req)
{
	unsigned int i, n = req->nout + req->nin;
	u32 off = 0;

	memset(req->data, VRB_REQ_GUARD, sizeof(req->data));
	req->in_bytes = 0;
	for (i = 0; i < n; i++) {
		req->off[i] = off;
		off += req->len[i] + 1;
		if (i >= req->nout)
			req->in_bytes += req->len[i];
	}
}

/**
 * vrb_req_shape - give a request a fixed shape and readable content
 * @req: the request.
 * @nout: device-readable buffers.
 * @nin: device-writable buffers.
 * @len: length of every buffer.
 * @offer_indirect: offer the request's indirect table when adding it.
 * @fill: varies the readable content (and so the device's pattern).
 *
 * @nout + @nin must not exceed VRB_REQ_MAX_BUFS and the buffers must fit
 * in VRB_REQ_DATA_BYTES; otherwise the request gets no buffer at all,
 * which vrb_vq_add() refuses.
 *
 * Context: Any context.
 */
void vrb_req_shape(struct vrb_req *req, unsigned int nout, unsigned int nin,
		   u32 len, bool offer_indirect, u32 fill)
{
	unsigned int i, n = nout + nin;
	u32 j;
	u8 *p;

	memset(req, 0, sizeof(*req));
	if (WARN_ON(n > VRB_REQ_MAX_BUFS ||
		    (u64)n * (len + 1) > VRB_REQ_DATA_BYTES))
		return;
	req->nout = nout;
	req->nin = nin;
	req->offer_indirect = offer_indirect;
	for (i = 0; i < n; i++)
		req->len[i] = len;
	vrb_req_layout(req);
	for (i = 0; i < nout; i++) {
		p = &req->data[req->off[i]];
		for (j = 0; j < len; j++)
			p[j] = fill * 131 + i * 17 + j;
	}
}

/**
 * vrb_req_shape_random - give a request a random shape and content
 * @req: the request.
 * @rnd: random state.
 * @offer_indirect: offer the request's indirect table when adding it.
 *
 * 1..8 readable and 1..8 writable buffers of 1..48 bytes each.
 *
 * Context: Any context.
 */
void vrb_req_shape_random(struct vrb_req *req, struct rnd_state *rnd,
			  bool offer_indirect)
{
	unsigned int i;

	memset(req, 0, sizeof(*req));
	req->nout = 1 + prandom_u32_state(rnd) % 8;
	req->nin = 1 + prandom_u32_state(rnd) % 8;
	req->offer_indirect = offer_indirect;
	for (i = 0; i < req->nout + req->nin; i++)
		req->len[i] = 1 + prandom_u32_state(rnd) % 48;
	vrb_req_layout(req);
	for (i = 0; i < req->nout; i++)
		prandom_bytes_state(rnd, &req->data[req->off[i]], req->len[i]);
}

/**
 * vrb_req_bufs - the buffers of a request, as vrb_vq_add() takes them
 * @req: the request.
 * @bufs: filled with @req->nout + @req->nin entries, readable first.
 *
 * Context: Any context.
 */
void vrb_req_bufs(const struct vrb_req *req, struct vrb_vq_buf *bufs)
{
	unsigned int i;

	for (i = 0; i < req->nout + req->nin; i++) {
		bufs[i].addr = vrb_req_addr(req, i);
		bufs[i].len = req->len[i];
	}
}

/**
 * vrb_req_indir - offer the indirect table of a request
 * @req: the request.
 * @indir: filled in to describe @req->table.
 * @max: entries of the table to offer (at most VRB_REQ_MAX_BUFS).
 *
 * Context: Any context.
 */
void vrb_req_indir(struct vrb_req *req, struct vrb_vq_indir *indir, u16 max)
{
	indir->table = req->table;
	indir->addr = (dma_addr_t)(uintptr_t)req->table;
	indir->max = min_t(u16, max, ARRAY_SIZE(req->table));
}

/**
 * vrb_req_add - add a request to the queue as one chain
 * @env: the environment.
 * @req: the request; it is the chain's token.
 *
 * Marks the writable bytes as not written yet, then calls vrb_vq_add()
 * with the request's buffers and, if @req->offer_indirect, its whole
 * indirect table; or, if @req->prebuilt, writes the chain into the table
 * itself (§2.7.5.3.1) and calls vrb_vq_add_indirect().  Does not kick.
 *
 * Context: Process context.
 * Return: what vrb_vq_add() returned.
 */
int vrb_req_add(struct vrb_env *env, struct vrb_req *req)
{
	struct vrb_vq_buf bufs[VRB_REQ_MAX_BUFS];
	unsigned int i, n = req->nout + req->nin;
	struct vrb_vq_indir indir;
	int err;

	for (i = req->nout; i < n; i++)
		memset(&req->data[req->off[i]], VRB_REQ_UNWRITTEN, req->len[i]);

	vrb_req_bufs(req, bufs);
	vrb_req_indir(req, &indir, VRB_REQ_MAX_BUFS);
	if (req->prebuilt) {
		for (i = 0; i < n; i++)
			req->table[i] = (struct vrb_desc){
				.addr = bufs[i].addr,
				.len = bufs[i].len,
				.flags = (i + 1 < n ? VRB_DESC_F_NEXT : 0) |
					 (i >= req->nout ? VRB_DESC_F_WRITE : 0),
				.next = i + 1,
			};
		err = vrb_vq_add_indirect(&env->vq, &indir, n, req->in_bytes,
					  req);
	} else {
		err = vrb_vq_add(&env->vq, bufs, req->nout, req->nin, req,
				 req->offer_indirect ? &indir : NULL);
	}
	if (!err) {
		req->inflight = true;
		req->done = false;
	}
	return err;
}

/**
 * vrb_req_seed - the seed the device derives from a request
 * @req: the request.
 *
 * Context: Any context.
 * Return: fake_dev_hash() of the readable buffers, in order.
 */
u32 vrb_req_seed(const struct vrb_req *req)
{
	u32 seed = FAKE_DEV_HASH_INIT;
	unsigned int i;

	for (i = 0; i < req->nout; i++)
		seed = fake_dev_hash(seed, &req->data[req->off[i]], req->len[i]);
	return seed;
}

/**
 * vrb_req_verify - check a completed request
 * @req: the request, as returned by vrb_vq_get_used().
 * @len: the length vrb_vq_get_used() returned with it.
 *
 * The device read exactly the readable bytes (the pattern depends on
 * them), wrote every writable byte with the pattern and the last one with
 * the status, and nothing touched a guard byte.
 *
 * Context: Any context.
 * Return: NULL if all is well, else what is wrong.
 */
const char *vrb_req_verify(const struct vrb_req *req, u32 len)
{
	u32 seed = vrb_req_seed(req), off = 0, j;
	unsigned int i, n = req->nout + req->nin;
	const u8 *p;
	u8 want;

	if (len != req->in_bytes)
		return "used len differs from the writable bytes";
	for (i = 0; i < n; i++)
		if (req->data[req->off[i] + req->len[i]] != VRB_REQ_GUARD)
			return "guard byte after a buffer was overwritten";
	for (i = req->nout; i < n; i++) {
		p = &req->data[req->off[i]];
		for (j = 0; j < req->len[i]; j++, off++) {
			want = off + 1 == req->in_bytes ?
			       fake_dev_status_byte(seed) :
			       fake_dev_data_byte(seed, off);
			if (p[j] != want)
				return off + 1 == req->in_bytes ?
				       "status byte is not the device's" :
				       "data byte is not the device's pattern";
		}
	}
	return NULL;
}

/**
 * vrb_req_match_chain - does the device's view of a chain match a request?
 * @req: the request as the test built it.
 * @c: the chain as the fake device took it.
 *
 * Context: Any context.
 * Return: NULL if the buffers (address, length, direction, order) match,
 * else what differs.
 */
const char *vrb_req_match_chain(const struct vrb_req *req,
				const struct fake_dev_chain *c)
{
	bool want_write;
	unsigned int i;

	if (c->nbufs != req->nout + req->nin)
		return "device sees a different number of buffers";
	for (i = 0; i < c->nbufs; i++) {
		want_write = i >= req->nout;
		if (c->bufs[i].addr != vrb_req_addr(req, i))
			return "device sees a different buffer address";
		if (c->bufs[i].len != req->len[i])
			return "device sees a different buffer length";
		if (c->bufs[i].write != want_write)
			return "device sees a different buffer direction";
	}
	return NULL;
}

/**
 * vrb_env_pending_pos - where the device holds a request's chain
 * @env: the environment.
 * @req: the request.
 *
 * Context: Any context.
 * Return: the chain's position on the device's pending list (0 = oldest),
 * or -ENOENT if the device does not hold it.
 */
int vrb_env_pending_pos(struct vrb_env *env, const struct vrb_req *req)
{
	struct fake_dev_chain *c;
	int pos = 0;

	list_for_each_entry(c, &env->dev.pending, node) {
		if (c->nbufs && c->bufs[0].addr == vrb_req_addr(req, 0))
			return pos;
		pos++;
	}
	return -ENOENT;
}

/**
 * vrb_env_advance - move the ring indices forward by round trips
 * @env: the environment, with nothing in flight.
 * @reqs: scratch requests (their content is overwritten).
 * @nreqs: number of @reqs.
 * @target: the avail->idx (and used->idx) to reach.
 *
 * Adds batches of one-readable, one-writable requests (up to half the
 * queue size at a time, to fit without indirect), lets the device
 * take and complete them in order and takes them back, until both
 * indices are @target: a quick way to reach the 16-bit wrap.  Kicks are
 * prepared but not checked.  Aborts the test case on any failure.
 *
 * Context: Process context.
 */
void vrb_env_advance(struct vrb_env *env, struct vrb_req *reqs,
		     unsigned int nreqs, u16 target)
{
	struct kunit *test = env->test;
	unsigned int i, b;
	void *token;
	u32 len;

	while (fake_dev_avail_idx(&env->dev) != target) {
		/* Each request takes 2 descriptors. */
		b = min3(nreqs, env->num / 2,
			 (unsigned int)(u16)(target -
					     fake_dev_avail_idx(&env->dev)));
		for (i = 0; i < b; i++) {
			vrb_req_shape(&reqs[i], 1, 1, 4, false, i);
			KUNIT_ASSERT_EQ(test, vrb_req_add(env, &reqs[i]), 0);
		}
		vrb_vq_kick_prepare(&env->vq);
		KUNIT_ASSERT_EQ(test, fake_dev_take(&env->dev, b), b);
		fake_dev_complete_all(&env->dev, NULL);
		for (i = 0; i < b; i++) {
			KUNIT_ASSERT_EQ(test, vrb_vq_get_used(&env->vq, &token,
							      &len), 0);
			KUNIT_ASSERT_PTR_EQ(test, token, (void *)&reqs[i]);
			reqs[i].inflight = false;
		}
	}
}

MODULE_DESCRIPTION("KUnit tests for the vringblk split virtqueue core");
MODULE_LICENSE("GPL");
