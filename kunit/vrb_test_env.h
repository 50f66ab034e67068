/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared fixtures of the vringblk KUnit suites: a ring
 * core queue and a fake device on one piece of ring memory, and test
 * requests whose buffers the fake device reads and fills.
 */
#ifndef VRB_TEST_ENV_H
#define VRB_TEST_ENV_H

#include <kunit/test.h>
#include <linux/types.h>

#include "../mod/vrb_vq.h"
#include "fake_dev.h"

struct rnd_state;

/* Most buffers in one test request (readable + writable). */
#define VRB_REQ_MAX_BUFS	16
/* Bytes of buffer space in one test request, guard bytes included. */
#define VRB_REQ_DATA_BYTES	1024
/* Value of the guard byte after every buffer; nobody may write it. */
#define VRB_REQ_GUARD		0x5a
/* Value writable bytes hold before the device fills them. */
#define VRB_REQ_UNWRITTEN	0xee

/**
 * struct vrb_env - one queue under test and the device on its other side
 * @test: the test case, which owns all memory below.
 * @vq: the driver side (ring core).
 * @dev: the device side (fake device).
 * @ring: the ring memory both work on.
 * @ring_size: bytes of @ring.
 * @num: queue size.
 * @event_idx: VRB_F_RING_EVENT_IDX negotiated on both sides.
 * @indirect: VRB_F_RING_INDIRECT_DESC negotiated on both sides.
 */
struct vrb_env {
	struct kunit *test;
	struct vrb_vq vq;
	struct fake_dev dev;
	void *ring;
	size_t ring_size;
	unsigned int num;
	bool event_idx;
	bool indirect;
};

/**
 * struct vrb_req - a test request: buffers, their shape, an indirect table
 * @nout: device-readable buffers (they come first).
 * @nin: device-writable buffers.
 * @off: offset of each buffer in @data.
 * @len: length of each buffer.
 * @in_bytes: sum of the writable lengths: the used len to expect.
 * @offer_indirect: offer @table to vrb_vq_add().
 * @prebuilt: write the chain into @table here and publish it with
 *	      vrb_vq_add_indirect(), as the module does.
 * @inflight: added and not yet returned by vrb_vq_get_used() (test
 *	      bookkeeping).
 * @done: the device completed it (test bookkeeping).
 * @table: indirect table offered for this request.
 * @data: the buffers, each followed by a guard byte.
 */
struct vrb_req {
	unsigned int nout;
	unsigned int nin;
	u32 off[VRB_REQ_MAX_BUFS];
	u32 len[VRB_REQ_MAX_BUFS];
	u32 in_bytes;
	bool offer_indirect;
	bool prebuilt;
	bool inflight;
	bool done;
	struct vrb_desc table[VRB_REQ_MAX_BUFS];
	u8 data[VRB_REQ_DATA_BYTES];
};

/**
 * struct vrb_env_cfg - one configuration for a parameterised case
 * @name: shown in the case's result line.
 * @num: queue size.
 * @event_idx: negotiate VRB_F_RING_EVENT_IDX.
 * @indirect: negotiate VRB_F_RING_INDIRECT_DESC.
 */
struct vrb_env_cfg {
	const char *name;
	unsigned int num;
	bool event_idx;
	bool indirect;
};

void vrb_env_cfg_desc(const struct vrb_env_cfg *cfg, char *desc);
struct vrb_env *vrb_env_create(struct kunit *test, unsigned int num,
			       bool event_idx, bool indirect);
void *vrb_env_snapshot(struct vrb_env *env);

void vrb_req_shape(struct vrb_req *req, unsigned int nout, unsigned int nin,
		   u32 len, bool offer_indirect, u32 fill);
void vrb_req_shape_random(struct vrb_req *req, struct rnd_state *rnd,
			  bool offer_indirect);
void vrb_req_bufs(const struct vrb_req *req, struct vrb_vq_buf *bufs);
void vrb_req_indir(struct vrb_req *req, struct vrb_vq_indir *indir, u16 max);
int vrb_req_add(struct vrb_env *env, struct vrb_req *req);
u32 vrb_req_seed(const struct vrb_req *req);
const char *vrb_req_verify(const struct vrb_req *req, u32 len);
const char *vrb_req_match_chain(const struct vrb_req *req,
				const struct fake_dev_chain *c);
int vrb_env_pending_pos(struct vrb_env *env, const struct vrb_req *req);
void vrb_env_advance(struct vrb_env *env, struct vrb_req *reqs,
		     unsigned int nreqs, u16 target);

/**
 * vrb_req_addr - bus address of buffer @i of a request
 * @req: the request.
 * @i: buffer index, readable buffers first.
 *
 * Return: the address the driver puts in the descriptor.
 */
static inline u64 vrb_req_addr(const struct vrb_req *req, unsigned int i)
{
	return (u64)(uintptr_t)&req->data[req->off[i]];
}

#endif /* VRB_TEST_ENV_H */
