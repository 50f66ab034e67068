/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vrb_vq.h - the vringblk split virtqueue core (virtio 1.2 §2.7, legacy
 * layout §2.7.2).
 *
 * The ring core knows nothing of PCI or blk-mq.  Its caller hands it ring
 * memory and that memory's bus address (dma_alloc_coherent() memory in the
 * module, kunit_kzalloc() memory in the KUnit tests, where a simulated
 * device plays the other side) and gets back a struct vrb_vq.  Everything
 * the driver needs to manage descriptors lives in driver-private shadow
 * state: nothing the device can write is ever read back to decide which
 * descriptor is free.
 *
 * Life of a request, as the block layer uses it:
 *
 *	vrb_vq_add()			write the chain (device-readable
 *					buffers first, then device-writable
 *					ones; into an indirect table if one
 *					is offered) and publish its head
 *					in the avail ring
 *	  or vrb_vq_add_indirect()	the same for a chain the caller
 *					already wrote as an indirect table
 *	vrb_vq_kick_prepare()		does the device want a notification?
 *	... transport writes QUEUE_NOTIFY if it does ...
 *	vrb_vq_get_used()		in the interrupt: token and length back
 *
 * A polled queue (vrb_vq_set_polled()) lives the same life without the
 * interrupt: it asks the device never to notify it, and its caller calls
 * vrb_vq_get_used() when it wants to, from blk-mq's poll hook.
 */
#ifndef VRB_VQ_H
#define VRB_VQ_H

#include <linux/compiler.h>
#include <linux/types.h>
#include "vrb_wire.h"

/**
 * struct vrb_vq_layout - where the three parts of a legacy ring live
 * @num: queue size (number of descriptors).
 * @desc_off: offset of the descriptor table (always 0).
 * @avail_off: offset of the available ring.
 * @used_off: offset of the used ring (4096-aligned, §2.7.2).
 * @desc_bytes: bytes of the descriptor table.
 * @avail_bytes: bytes of the available ring including used_event.
 * @used_bytes: bytes of the used ring including avail_event.
 * @size: total bytes the caller must provide, a multiple of 4096.
 */
struct vrb_vq_layout {
	u32 num;
	size_t desc_off;
	size_t avail_off;
	size_t used_off;
	size_t desc_bytes;
	size_t avail_bytes;
	size_t used_bytes;
	size_t size;
};

/**
 * struct vrb_vq_buf - one buffer of a chain, as the device will see it
 * @addr: bus address of the buffer.
 * @len: length in bytes.
 */
struct vrb_vq_buf {
	u64 addr;
	u32 len;
};

/**
 * struct vrb_vq_indir - an indirect descriptor table offered for one add
 * @table: table memory, at least @max entries, owned by the caller.
 * @addr: bus address of @table as the device must see it.
 * @max: number of entries @table can hold.
 *
 * The caller owns the table: it must stay untouched until the chain that
 * used it comes back from vrb_vq_get_used() or vrb_vq_detach_unused().
 * The module preallocates one per request tag in coherent memory; the
 * KUnit tests pass plain memory.
 */
struct vrb_vq_indir {
	struct vrb_desc *table;
	dma_addr_t addr;
	u16 max;
};

/**
 * struct vrb_vq_stats - counters kept by the ring core
 * @added: chains published to the avail ring.
 * @descs: descriptors written (ring and indirect tables).
 * @indirect: chains published as one INDIRECT descriptor.
 * @full: adds refused with -ENOSPC.
 * @kicks: vrb_vq_kick_prepare() calls that said "notify".
 * @kicks_suppressed: vrb_vq_kick_prepare() calls that said "don't".
 * @used: used elements consumed.
 * @len_clamped: used lengths larger than the chain could receive.
 * @broken: times the queue was marked broken (0 or 1 until reset).
 * @max_inflight: highest number of chains in flight seen.
 */
struct vrb_vq_stats {
	u64 added;
	u64 descs;
	u64 indirect;
	u64 full;
	u64 kicks;
	u64 kicks_suppressed;
	u64 used;
	u64 len_clamped;
	u64 broken;
	u32 max_inflight;
};

/**
 * struct vrb_vq_desc_state - driver-private shadow of one descriptor
 * @token: caller's token if this descriptor heads an in-flight chain,
 *	   NULL otherwise.
 * @indir: indirect table of the chain (heads only), NULL if direct.
 * @next: next descriptor in the chain or in the free list.  This is the
 *	  driver's copy; the device-visible desc[].next is never read back.
 * @ndescs: ring descriptors the chain holds (heads only; 1 if indirect).
 * @nbufs: buffers in the chain (heads only).
 * @in_bytes: device-writable bytes of the chain (heads only): the most
 *	      a used len may honestly report.
 */
struct vrb_vq_desc_state {
	void *token;
	struct vrb_desc *indir;
	u16 next;
	u16 ndescs;
	u16 nbufs;
	u32 in_bytes;
};

/**
 * struct vrb_vq - one split virtqueue, driver side
 * @name: name used in messages, e.g. "0000:00:04.0/vq0".
 * @layout: where desc, avail and used live in the ring memory.
 * @desc: descriptor table (driver writes, device reads).
 * @avail: available ring (driver writes, device reads).
 * @used: used ring (device writes, driver reads, never trusted).
 * @used_event: &avail->ring[num]: driver asks for an interrupt (EVENT_IDX).
 * @avail_event: &used->ring[num]: device asks for a kick (EVENT_IDX).
 * @ring_addr: bus address of the ring memory.
 * @num: queue size.
 * @event_idx: VIRTIO_F_EVENT_IDX was negotiated.
 * @indirect: VIRTIO_F_INDIRECT_DESC was negotiated.
 * @polled: the driver never wants a used-buffer notification on this
 *	    queue: it polls the used ring instead (vrb_vq_set_polled()).
 * @broken: the device misbehaved; no ring memory is touched any more.
 * @free_head: first free descriptor (driver-private free list).
 * @num_free: descriptors on the free list.
 * @num_inflight: chains published and not yet returned.
 * @avail_idx_shadow: mirrors avail->idx, which only the driver writes.
 * @avail_flags_shadow: mirrors avail->flags, which only the driver writes.
 * @last_used_idx: next used->idx slot the driver will consume.
 * @num_added: chains added since the last vrb_vq_kick_prepare(),
 *	       saturating at U16_MAX (the next decision then always kicks).
 * @last_id: head id of the last used element consumed (for tracing).
 * @last_ndescs: ring descriptors that chain gave back (for tracing).
 * @kick_old: avail->idx at the previous kick decision (for tracing).
 * @kick_event: avail_event or used->flags read at the last decision.
 * @state: one shadow entry per descriptor.
 * @check_map: scratch bitmap for vrb_vq_check().
 * @stats: counters, see struct vrb_vq_stats.
 *
 * Serialization: all functions that take a struct vrb_vq must be
 * serialized by the caller (the module holds the queue's spinlock),
 * except vrb_vq_is_broken(), which may be called at any time.
 */
struct vrb_vq {
	char name[32];
	struct vrb_vq_layout layout;
	struct vrb_desc *desc;
	struct vrb_avail *avail;
	struct vrb_used *used;
	u16 *used_event;
	u16 *avail_event;
	dma_addr_t ring_addr;
	u16 num;
	bool event_idx;
	bool indirect;
	bool polled;
	bool broken;
	u16 free_head;
	u16 num_free;
	u16 num_inflight;
	u16 avail_idx_shadow;
	u16 avail_flags_shadow;
	u16 last_used_idx;
	u16 num_added;
	u16 last_id;
	u16 last_ndescs;
	u16 kick_old;
	u16 kick_event;
	struct vrb_vq_desc_state *state;
	unsigned long *check_map;
	struct vrb_vq_stats stats;
};

/**
 * vrb_vq_need_event - the EVENT_IDX notification rule (§2.7.7, §2.7.10)
 * @event: index the other side asked to be told about.
 * @new_idx: index after the batch.
 * @old: index before the batch.
 *
 * True iff @event lies in [@old, @new_idx): i.e. the batch just moved the
 * index past the point the other side is waiting for.  All arithmetic is
 * modulo 2^16, so the rule holds across the wrap.  Same truth table as
 * Linux's vring_need_event().
 *
 * Context: Any context.
 * Return: true if the other side must be notified.
 */
static inline bool vrb_vq_need_event(u16 event, u16 new_idx, u16 old)
{
	return (u16)(new_idx - event - 1) < (u16)(new_idx - old);
}

int vrb_vq_layout_compute(unsigned int num, struct vrb_vq_layout *layout);
int vrb_vq_init(struct vrb_vq *vq, const char *name, unsigned int num,
		void *ring, dma_addr_t ring_addr, bool event_idx,
		bool indirect);
void vrb_vq_cleanup(struct vrb_vq *vq);
void vrb_vq_reset(struct vrb_vq *vq);

int vrb_vq_add(struct vrb_vq *vq, const struct vrb_vq_buf *bufs,
	       unsigned int out, unsigned int in, void *token,
	       const struct vrb_vq_indir *indir);
int vrb_vq_add_indirect(struct vrb_vq *vq, const struct vrb_vq_indir *indir,
			unsigned int n, u32 in_bytes, void *token);
bool vrb_vq_kick_prepare(struct vrb_vq *vq);

int vrb_vq_get_used(struct vrb_vq *vq, void **token, u32 *len);
bool vrb_vq_more_used(struct vrb_vq *vq);
void vrb_vq_disable_cb(struct vrb_vq *vq);
void vrb_vq_set_polled(struct vrb_vq *vq);
bool vrb_vq_enable_cb(struct vrb_vq *vq);
bool vrb_vq_enable_cb_delayed(struct vrb_vq *vq);
void *vrb_vq_detach_unused(struct vrb_vq *vq);

void vrb_vq_set_broken(struct vrb_vq *vq, const char *why);
int vrb_vq_check(struct vrb_vq *vq);

/**
 * vrb_vq_is_broken - has the device misbehaved on this queue?
 * @vq: the queue.
 *
 * Context: Any context; a racy read is fine (broken only ever goes from
 * false to true until vrb_vq_reset()).
 * Return: true once the queue is broken.
 */
static inline bool vrb_vq_is_broken(const struct vrb_vq *vq)
{
	return READ_ONCE(vq->broken);
}

/**
 * vrb_vq_used_hint - might the device have used buffers? (no lock needed)
 * @vq: the queue.
 *
 * The first look vrb_vq_get_used() takes, inline: for a drain loop,
 * where a call that finds nothing would cost more than this look, and for
 * a caller that wants to know whether taking its lock is worth it, a
 * poller spinning on an empty ring.  Without the lock the answer is only
 * a hint, stale either way: "no" when the device has just written costs
 * one more poll, "yes" when someone else has just taken the element costs
 * one locked look that finds nothing.  The hint orders nothing, so it
 * needs no barrier: what the element says is read afterwards, under the
 * lock, by vrb_vq_get_used(), behind Barrier C.
 *
 * Context: Any; does not serialize with other vrb_vq calls.
 * Return: true if the used index differs from the last one taken.
 */
static inline bool vrb_vq_used_hint(const struct vrb_vq *vq)
{
	return READ_ONCE(vq->used->idx) != READ_ONCE(vq->last_used_idx);
}

/**
 * vrb_vq_num_free - descriptors on the free list
 * @vq: the queue.
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 * Return: number of free ring descriptors.
 */
static inline unsigned int vrb_vq_num_free(const struct vrb_vq *vq)
{
	return vq->num_free;
}

#endif /* VRB_VQ_H */
