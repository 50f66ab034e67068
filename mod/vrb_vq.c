// SPDX-License-Identifier: GPL-2.0
/*
 * vrb_vq.c - the vringblk split virtqueue core, driver side.
 *
 * Implements virtio 1.2 §2.7 "Split Virtqueues" with the legacy layout of
 * §2.7.2, on memory the caller provides.  Read vrb_wire.h first for the
 * picture of the ring, then this file top to bottom: layout, setup, adding
 * a chain, publishing it, deciding whether to kick, taking completions
 * back, interrupt suppression, and finally the checks that keep a buggy or
 * hostile device from corrupting the driver.
 *
 * Barriers are virt_wmb()/virt_rmb()/virt_mb(): the device is another CPU
 * (QEMU's I/O thread) looking at normal cacheable memory, so SMP barriers
 * are what is needed even on a uniprocessor guest.  Each barrier carries a
 * label ("Barrier A" ... "Barrier D"); the simulated device in kunit/
 * carries the same label on the barrier it pairs with, and each pair is
 * proved by a litmus test in kunit/litmus/ that herd7 checks against the
 * Linux-kernel memory model (`make litmus`, docs/barriers.md).
 *
 * Nothing in here sleeps and nothing takes a lock: the caller serializes
 * every call on one queue (the module holds the queue's spinlock).
 */
#include <linux/bitmap.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/log2.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/barrier.h>

#include "vrb_vq.h"

/* A descriptor index that points nowhere (end of the free list). */
#define VRB_VQ_NO_DESC	0xffffU

/*
 * With EVENT_IDX, a used_event this far ahead of the driver's last used
 * index asks for no interrupt (§2.7.7): half the 16-bit index space,
 * which the device, never more than a queue size (at most 32768, §2.7)
 * ahead of the driver, cannot reach.
 */
#define VRB_VQ_EVENT_FAR	0x8000U

#define vrb_vq_err(vq, fmt, ...) \
	pr_err("vringblk %s: " fmt, (vq)->name, ##__VA_ARGS__)

/* ---- Layout (§2.7.2) ------------------------------------------------ */

/**
 * vrb_vq_layout_compute - compute the legacy layout of a ring of @num
 * @num: queue size the device reported.
 * @layout: filled in on success.
 *
 * §2.7: the size is a power of 2 no larger than 32768; 0 means "no such
 * queue" and is not a size.  §2.7.2: descriptors, then the available
 * ring, then padding to 4096, then the used ring, padded to 4096.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL if @num is not a valid queue size.
 */
int vrb_vq_layout_compute(unsigned int num, struct vrb_vq_layout *layout)
{
	if (num == 0 || num > VRB_VQ_MAX_SIZE || !is_power_of_2(num))
		return -EINVAL;

	layout->num = num;
	layout->desc_off = 0;
	layout->desc_bytes = sizeof(struct vrb_desc) * num;
	/* flags, idx, ring[num], used_event */
	layout->avail_off = layout->desc_off + layout->desc_bytes;
	layout->avail_bytes = sizeof(u16) * (3 + num);
	layout->used_off = ALIGN(layout->avail_off + layout->avail_bytes,
				 VRB_VQ_LEGACY_ALIGN);
	/* flags, idx, ring[num], avail_event */
	layout->used_bytes = sizeof(u16) * 3 +
			     sizeof(struct vrb_used_elem) * num;
	layout->size = layout->used_off + ALIGN(layout->used_bytes,
						VRB_VQ_LEGACY_ALIGN);
	return 0;
}

/* ---- Setup ---------------------------------------------------------- */

/* Put every descriptor on the free list, in order 0 -> 1 -> ... */
static void vrb_vq_init_free_list(struct vrb_vq *vq)
{
	unsigned int i;

	for (i = 0; i < vq->num; i++) {
		vq->state[i] = (struct vrb_vq_desc_state){ };
		vq->state[i].next = i + 1 < vq->num ? i + 1 : VRB_VQ_NO_DESC;
	}
	vq->free_head = 0;
	vq->num_free = vq->num;
	vq->num_inflight = 0;
}

/**
 * vrb_vq_init - set up the driver side of a split virtqueue
 * @vq: the queue to initialise (caller-owned storage).
 * @name: name for messages, e.g. "0000:00:04.0/vq0".
 * @num: queue size reported by the device.
 * @ring: zeroed ring memory of at least vrb_vq_layout_compute()'s size.
 * @ring_addr: bus address of @ring as the device sees it.
 * @event_idx: VIRTIO_F_EVENT_IDX (bit 29) was negotiated.
 * @indirect: VIRTIO_F_INDIRECT_DESC (bit 28) was negotiated.
 *
 * The ring memory must stay valid until vrb_vq_cleanup().  Only the
 * driver-private shadow state is allocated here.
 *
 * Context: Process context; may sleep (GFP_KERNEL allocation).
 * Return: 0, -EINVAL for a bad size, -ENOMEM if the shadow state cannot
 * be allocated.
 */
int vrb_vq_init(struct vrb_vq *vq, const char *name, unsigned int num,
		void *ring, dma_addr_t ring_addr, bool event_idx,
		bool indirect)
{
	int err;

	memset(vq, 0, sizeof(*vq));
	strscpy(vq->name, name, sizeof(vq->name));
	err = vrb_vq_layout_compute(num, &vq->layout);
	if (err) {
		vrb_vq_err(vq, "invalid queue size %u\n", num);
		return err;
	}

	vq->state = kcalloc(num, sizeof(*vq->state), GFP_KERNEL);
	if (!vq->state)
		return -ENOMEM;
	vq->check_map = bitmap_zalloc(num, GFP_KERNEL);
	if (!vq->check_map) {
		kfree(vq->state);
		vq->state = NULL;
		return -ENOMEM;
	}

	vq->num = num;
	vq->desc = ring + vq->layout.desc_off;
	vq->avail = ring + vq->layout.avail_off;
	vq->used = ring + vq->layout.used_off;
	vq->used_event = &vq->avail->ring[num];
	vq->avail_event = (u16 *)&vq->used->ring[num];
	vq->ring_addr = ring_addr;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vrb_vq_reset(vq);
	return 0;
}

/**
 * vrb_vq_reset - forget everything in flight after a device reset
 * @vq: the queue.
 *
 * For use after the device was reset (status 0): clears the ring memory
 * and the shadow state, clears the broken flag, and starts the indices at
 * 0 again, as a freshly reset device expects (§2.7.6).  Tokens still in
 * flight are forgotten: the caller ends their requests itself (the module
 * by blk-mq tag), or takes them back first with vrb_vq_detach_unused().
 * Counters in @vq->stats are kept.
 *
 * Context: Caller serializes with other vrb_vq calls on @vq; the device
 * must not be using the ring.
 */
void vrb_vq_reset(struct vrb_vq *vq)
{
	memset(vq->desc, 0, vq->layout.desc_bytes);
	memset(vq->avail, 0, vq->layout.avail_bytes);
	memset(vq->used, 0, vq->layout.used_bytes);
	vrb_vq_init_free_list(vq);
	vq->avail_idx_shadow = 0;
	vq->avail_flags_shadow = 0;
	WRITE_ONCE(vq->last_used_idx, 0);
	vq->num_added = 0;
	WRITE_ONCE(vq->broken, false);
	/* A polled queue stays quiet across a reset: ask again. */
	if (vq->polled)
		vrb_vq_disable_cb(vq);
}

/**
 * vrb_vq_cleanup - free the driver-private state of a queue
 * @vq: the queue.
 *
 * Does not touch the ring memory, which belongs to the caller.
 *
 * Context: Process context.
 */
void vrb_vq_cleanup(struct vrb_vq *vq)
{
	bitmap_free(vq->check_map);
	vq->check_map = NULL;
	kfree(vq->state);
	vq->state = NULL;
}

/* ---- Breaking the queue -------------------------------------------- */

/**
 * vrb_vq_set_broken - stop using a queue whose device misbehaved
 * @vq: the queue.
 * @why: what went wrong, for the log.
 *
 * Reported once.  From now on every add and every get fails with -EIO
 * without reading or writing ring memory, so a device that scribbles on
 * the ring cannot make the driver free a descriptor twice or return a
 * token that is not in flight.  The transport recovers by resetting the
 * device, ending the requests still in flight and calling vrb_vq_reset().
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 */
void vrb_vq_set_broken(struct vrb_vq *vq, const char *why)
{
	if (vq->broken)
		return;
	vrb_vq_err(vq, "queue broken: %s\n", why);
	vq->stats.broken++;
	WRITE_ONCE(vq->broken, true);
}

/* ---- Adding a chain (§2.7.13.1, §2.7.13.2) -------------------------- */

/* Flags of buffer @i of @n, the first @out of them device-readable. */
static inline u16 vrb_vq_desc_flags(unsigned int i, unsigned int out,
				    unsigned int n)
{
	return (i < out ? 0 : VRB_DESC_F_WRITE) |
	       (i + 1 < n ? VRB_DESC_F_NEXT : 0);
}

/*
 * Fill in one descriptor (§2.7.5), all four fields at once: the device
 * only reads it.  Writing the whole struct lets the compiler use two
 * 8-byte stores instead of four.
 */
static inline void vrb_vq_write_desc(struct vrb_desc *d,
				     const struct vrb_vq_buf *b, u16 flags,
				     u16 next)
{
	*d = (struct vrb_desc){
		.addr = b->addr,
		.len = b->len,
		.flags = flags,
		.next = next,
	};
}

/*
 * The second half of every add: the chain is written (in the ring or in
 * an indirect table) starting at ring descriptor @head, and @next_free
 * is where the free list continues.  Take the chain off the free list,
 * remember it, and make it available (§2.7.13.2, §2.7.13.3).
 */
static __always_inline void vrb_vq_publish(struct vrb_vq *vq, u16 head,
					   u16 next_free, u16 ndescs,
					   unsigned int nbufs, u32 in_bytes,
					   void *token, struct vrb_desc *indir)
{
	struct vrb_vq_desc_state *st = &vq->state[head];

	vq->free_head = next_free;
	vq->num_free -= ndescs;

	st->token = token;
	st->indir = indir;
	st->ndescs = ndescs;
	st->nbufs = nbufs;
	st->in_bytes = in_bytes;

	/* §2.7.13.2: the head goes into the next free slot of avail->ring. */
	vq->avail->ring[vq->avail_idx_shadow & (vq->num - 1)] = head;

	/*
	 * Barrier A (for pairing): the descriptors and the ring entry must be
	 * visible before the index that tells the device they exist
	 * (§2.7.13.3.1).  Pairs with the device's read barrier between
	 * reading avail->idx and reading the entries it covers.  Proved by
	 * kunit/litmus/barrier-A-publish.litmus.
	 */
	virt_wmb();
	vq->avail_idx_shadow++;
	WRITE_ONCE(vq->avail->idx, vq->avail_idx_shadow);

	/*
	 * Saturate rather than wrap: 65536 adds without a kick decision
	 * would read as none at all.  vrb_vq_kick_prepare() kicks when it
	 * finds the count saturated.
	 */
	if (vq->num_added < U16_MAX)
		vq->num_added++;
	vq->num_inflight++;
	vq->stats.added++;
	vq->stats.descs += nbufs + (indir ? 1 : 0);
	if (vq->num_inflight > vq->stats.max_inflight)
		vq->stats.max_inflight = vq->num_inflight;
}

/* One ring descriptor pointing at an @n-entry indirect table (§2.7.5.3). */
static __always_inline void vrb_vq_write_indirect(struct vrb_vq *vq, u16 head,
						  dma_addr_t table,
						  unsigned int n)
{
	/* Never with NEXT: an indirect descriptor ends the ring chain. */
	vq->desc[head] = (struct vrb_desc){
		.addr = table,
		.len = n * sizeof(struct vrb_desc),
		.flags = VRB_DESC_F_INDIRECT,
	};
	vq->stats.indirect++;
}

/**
 * vrb_vq_add - publish one request as a chain of buffers (§2.7.13)
 * @vq: the queue.
 * @bufs: @out device-readable buffers followed by @in device-writable ones
 *	  (§2.7.4.2: readable before writable, so the counts say it all).
 * @out: number of device-readable buffers.
 * @in: number of device-writable buffers.
 * @token: non-NULL cookie vrb_vq_get_used() will return for this chain.
 * @indir: an indirect table this chain may use, or NULL.
 *
 * With INDIRECT_DESC negotiated and a table of at least @out + @in
 * entries offered, the buffers go into the table and the chain takes a
 * single ring descriptor (§2.7.5.3); otherwise each buffer takes one ring
 * descriptor, linked with NEXT in the order of the driver's free list.
 * The head goes into the next available ring slot, and avail->idx moves
 * only after the write barrier of §2.7.13.3.1.  Either the whole chain is
 * published or nothing is written at all.
 *
 * Call vrb_vq_kick_prepare() after a batch to learn whether the device
 * needs a notification.
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 * Return: 0; -EINVAL for no buffers, more than the queue size (no chain
 * may be longer, §2.7.5) or a NULL token; -ENOSPC if the free descriptors
 * do not suffice; -EIO if the queue is broken.
 */
int vrb_vq_add(struct vrb_vq *vq, const struct vrb_vq_buf *bufs,
	       unsigned int out, unsigned int in, void *token,
	       const struct vrb_vq_indir *indir)
{
	unsigned int i, n = out + in;
	bool use_indirect;
	u16 head, idx, ndescs;
	u32 in_bytes = 0;

	if (unlikely(vq->broken))
		return -EIO;
	if (unlikely(n == 0 || n > vq->num || !token))
		return -EINVAL;

	use_indirect = vq->indirect && indir && n > 1 && n <= indir->max;
	ndescs = use_indirect ? 1 : n;
	if (unlikely(vq->num_free < ndescs)) {
		vq->stats.full++;
		return -ENOSPC;
	}

	for (i = out; i < n; i++)
		in_bytes += bufs[i].len;

	head = vq->free_head;
	if (use_indirect) {
		struct vrb_desc *t = indir->table;

		/* §2.7.5.3.1: the table holds the chain, 0 -> 1 -> 2 ... */
		for (i = 0; i < n; i++)
			vrb_vq_write_desc(&t[i], &bufs[i],
					  vrb_vq_desc_flags(i, out, n), i + 1);
		/* ... and one ring descriptor points at it. */
		vrb_vq_write_indirect(vq, head, indir->addr, n);
		vrb_vq_publish(vq, head, vq->state[head].next, 1, n, in_bytes,
			       token, t);
		return 0;
	}

	/*
	 * A direct chain simply follows the free list: each descriptor's
	 * next is the free list's next, read from the driver's shadow, never
	 * from the table the device can see.
	 */
	for (i = 0, idx = head; i < n; i++) {
		u16 next = vq->state[idx].next;

		vrb_vq_write_desc(&vq->desc[idx], &bufs[i],
				  vrb_vq_desc_flags(i, out, n), next);
		idx = next;
	}
	vrb_vq_publish(vq, head, idx, n, n, in_bytes, token, NULL);
	return 0;
}

/**
 * vrb_vq_add_indirect - publish a chain the caller wrote as a table
 * @vq: the queue, with INDIRECT_DESC negotiated.
 * @indir: the table, its first @n entries filled in as §2.7.5.3.1 wants
 *	   them: the chain 0 -> 1 -> ... -> @n - 1, NEXT on all but the
 *	   last, device-readable entries before device-writable ones.
 * @n: entries of the chain.
 * @in_bytes: total length of its device-writable entries (a used length
 *	      above it is clamped, see vrb_vq_get_used()).
 * @token: non-NULL cookie vrb_vq_get_used() will return for this chain.
 *
 * The fast path of a driver that always uses indirect descriptors: it
 * builds the table in one pass, in place, instead of a list of buffers
 * that vrb_vq_add() would copy into it.  The ring takes one descriptor.
 * The table is the caller's own memory, not yet visible to the device,
 * so it is not checked here; the device checks it (§2.7.5.3.2).
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 * Return: 0; -EINVAL without INDIRECT_DESC, for an empty chain, one
 * longer than the table or the queue size, or a NULL token; -ENOSPC if
 * no descriptor is free; -EIO if the queue is broken.
 */
int vrb_vq_add_indirect(struct vrb_vq *vq, const struct vrb_vq_indir *indir,
			unsigned int n, u32 in_bytes, void *token)
{
	u16 head;

	if (unlikely(vq->broken))
		return -EIO;
	if (unlikely(!vq->indirect || n == 0 || n > indir->max ||
		     n > vq->num || !token))
		return -EINVAL;
	if (unlikely(!vq->num_free)) {
		vq->stats.full++;
		return -ENOSPC;
	}
	head = vq->free_head;
	vrb_vq_write_indirect(vq, head, indir->addr, n);
	vrb_vq_publish(vq, head, vq->state[head].next, 1, n, in_bytes, token,
		       indir->table);
	return 0;
}

/* ---- Kicking (§2.7.13.4) ------------------------------------------- */

/**
 * vrb_vq_kick_prepare - does the device need a notification?
 * @vq: the queue.
 *
 * Call after publishing a batch of chains.  With EVENT_IDX the device
 * said in avail_event which avail->idx it wants to hear about
 * (§2.7.10); without it, used->flags NO_NOTIFY is a hint that it is
 * already polling (§2.7.10).  The caller writes the notify register when
 * this returns true, preferably after dropping its lock.
 *
 * After U16_MAX or more adds since the previous call the batch can no
 * longer be measured, and this always says "notify".
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 * Return: true if the caller must notify the device.
 */
bool vrb_vq_kick_prepare(struct vrb_vq *vq)
{
	bool kick, saturated;
	u16 new_idx, old;

	if (unlikely(vq->broken))
		return false;

	/*
	 * Barrier B (for pairing): avail->idx must be visible to the device
	 * before we read what it last said about notifications, or we could
	 * read a stale "don't kick" while it goes to sleep not having seen
	 * our new index (§2.7.13.4.1).  Pairs with the device's full barrier
	 * between publishing avail_event / used->flags and re-reading
	 * avail->idx.  Proved by kunit/litmus/barrier-B-kick.litmus.
	 */
	virt_mb();

	new_idx = vq->avail_idx_shadow;
	old = new_idx - vq->num_added;
	saturated = vq->num_added == U16_MAX;
	vq->num_added = 0;

	if (vq->event_idx) {
		vq->kick_event = READ_ONCE(*vq->avail_event);
		kick = vrb_vq_need_event(vq->kick_event, new_idx, old);
	} else {
		vq->kick_event = READ_ONCE(vq->used->flags);
		kick = !(vq->kick_event & VRB_USED_F_NO_NOTIFY);
	}
	/*
	 * vrb_vq_add() stopped counting at U16_MAX: the true batch may be
	 * 65536 or more long, so [old, new_idx) may miss the avail_event
	 * the device is waiting for although the batch went past it.  A
	 * needless notification costs one register write; a missed one
	 * leaves the device asleep with work waiting.  So notify.
	 */
	if (unlikely(saturated))
		kick = true;
	vq->kick_old = old;

	if (kick)
		vq->stats.kicks++;
	else
		vq->stats.kicks_suppressed++;
	return kick;
}

/* ---- Completions (§2.7.13 "used buffers", §2.7.8) ------------------ */

/* Give @n ring descriptors starting at @head back to the free list. */
static void vrb_vq_free_descs(struct vrb_vq *vq, u16 head, u16 n)
{
	u16 tail = head;
	u16 i;

	for (i = 1; i < n; i++)
		tail = vq->state[tail].next;
	vq->state[tail].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += n;
}

/*
 * Read used->idx and check it.  The device may only move it forward by
 * at most the number of chains we have in flight; anything else means
 * it is broken or hostile.
 */
static bool vrb_vq_used_pending(struct vrb_vq *vq, u16 *used_idx)
{
	u16 idx = READ_ONCE(vq->used->idx);
	u16 pending = idx - vq->last_used_idx;

	if (unlikely(pending > vq->num_inflight)) {
		vrb_vq_err(vq, "used idx %u is %u ahead of last seen %u, but only %u chains are in flight\n",
			   idx, pending, vq->last_used_idx, vq->num_inflight);
		vrb_vq_set_broken(vq, "used idx ran ahead");
		return false;
	}
	*used_idx = idx;
	return pending != 0;
}

/**
 * vrb_vq_more_used - are there used elements the driver has not taken?
 * @vq: the queue.
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 * Return: true if vrb_vq_get_used() would return a token; false if not,
 * or if the queue is (or has just been found) broken.
 */
bool vrb_vq_more_used(struct vrb_vq *vq)
{
	u16 idx;

	if (unlikely(vq->broken))
		return false;
	return vrb_vq_used_pending(vq, &idx);
}

/**
 * vrb_vq_get_used - take back one completed chain
 * @vq: the queue.
 * @token: set to the token given to vrb_vq_add().
 * @len: set to the bytes the device says it wrote, never more than the
 *	 chain's device-writable bytes.
 *
 * Every field the device wrote is checked before it is used: used->idx
 * may not run ahead of what is in flight, the id must be the head of a
 * chain in flight.  A violation marks the queue broken.  A length larger
 * than the chain could receive is clamped and counted, not fatal: real
 * devices misreport it (§2.7.8.2 lets a driver not rely on it), and
 * virtio-blk relies on its status byte instead.
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 * Return: 0 with @token and @len set; -EAGAIN if nothing is used; -EIO if
 * the queue is broken (nothing is read from the ring then).
 */
int vrb_vq_get_used(struct vrb_vq *vq, void **token, u32 *len)
{
	struct vrb_vq_desc_state *st;
	u16 used_idx, slot;
	u32 id, used_len;

	if (unlikely(vq->broken))
		return -EIO;
	if (!vrb_vq_used_pending(vq, &used_idx))
		return vq->broken ? -EIO : -EAGAIN;

	/*
	 * Barrier C (for pairing): read used->idx before the elements it
	 * covers.  Pairs with the device's write barrier between writing a
	 * used element and incrementing used->idx.  Proved by
	 * kunit/litmus/barrier-C-complete.litmus; the status byte, written
	 * before the element and read after it, perhaps on another CPU, by
	 * kunit/litmus/barrier-C-status.litmus.
	 */
	virt_rmb();

	slot = vq->last_used_idx & (vq->num - 1);
	id = READ_ONCE(vq->used->ring[slot].id);	/* device wrote */
	used_len = READ_ONCE(vq->used->ring[slot].len);	/* device wrote */

	if (unlikely(id >= vq->num)) {
		vrb_vq_err(vq, "used id %u out of range (queue size %u)\n",
			   id, vq->num);
		vrb_vq_set_broken(vq, "used id out of range");
		return -EIO;
	}
	st = &vq->state[id];
	if (unlikely(!st->token)) {
		vrb_vq_err(vq, "used id %u is not the head of a chain in flight (completed twice?)\n",
			   id);
		vrb_vq_set_broken(vq, "used id not in flight");
		return -EIO;
	}
	if (unlikely(used_len > st->in_bytes)) {
		vq->stats.len_clamped++;
		used_len = st->in_bytes;
	}

	*token = st->token;
	*len = used_len;
	vq->last_id = id;
	vq->last_ndescs = st->ndescs;
	st->token = NULL;
	st->indir = NULL;
	vrb_vq_free_descs(vq, id, st->ndescs);
	vq->num_inflight--;
	/* Read without the lock by vrb_vq_used_hint(). */
	WRITE_ONCE(vq->last_used_idx, vq->last_used_idx + 1);
	vq->stats.used++;

	/*
	 * With EVENT_IDX and interrupts enabled (a caller draining without
	 * vrb_vq_disable_cb()), move used_event along so the device
	 * interrupts for the next completion.
	 */
	if (vq->event_idx &&
	    !(vq->avail_flags_shadow & VRB_AVAIL_F_NO_INTERRUPT)) {
		WRITE_ONCE(*vq->used_event, vq->last_used_idx);
		/*
		 * Barrier D (for pairing): publish used_event before the next
		 * read of used->idx.  Pairs with the device's full barrier
		 * between incrementing used->idx and reading used_event.
		 * Proved by kunit/litmus/barrier-D-reenable.litmus.
		 */
		virt_mb();
	} else if (vq->polled && vq->event_idx) {
		/*
		 * A polled queue: used_event follows the driver, always
		 * VRB_VQ_EVENT_FAR ahead, where the device cannot reach it.
		 * No barrier: a late store costs at most one needless
		 * notification, which nobody waits for on a polled queue.
		 */
		WRITE_ONCE(*vq->used_event,
			   vq->last_used_idx + VRB_VQ_EVENT_FAR);
	}
	return 0;
}

/* ---- Interrupt suppression (§2.7.7, §2.7.10, §2.7.14) -------------- */

/**
 * vrb_vq_disable_cb - ask the device not to interrupt for completions
 * @vq: the queue.
 *
 * Only a hint: the device may interrupt anyway (§2.7.7), so the caller
 * still handles interrupts that find nothing to do.  Without EVENT_IDX
 * this sets avail->flags NO_INTERRUPT (§2.7.7); with it, used_event is
 * pushed to half the index space away (§2.7.7), a point the device
 * cannot reach while at most 32768 chains are in flight.
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 */
void vrb_vq_disable_cb(struct vrb_vq *vq)
{
	if (unlikely(vq->broken))
		return;
	if (vq->avail_flags_shadow & VRB_AVAIL_F_NO_INTERRUPT)
		return;
	vq->avail_flags_shadow |= VRB_AVAIL_F_NO_INTERRUPT;
	if (vq->event_idx)
		WRITE_ONCE(*vq->used_event,
			   vq->last_used_idx + VRB_VQ_EVENT_FAR);
	else
		WRITE_ONCE(vq->avail->flags, vq->avail_flags_shadow);
}

/**
 * vrb_vq_set_polled - never ask the device for used-buffer notifications
 * @vq: the queue, just initialised.
 *
 * For a queue whose completions the driver finds by polling the used
 * ring (blk-mq's poll hook, io_uring's IOPOLL) rather than by taking an
 * interrupt.  The request not to interrupt is made once and kept for
 * good: without EVENT_IDX avail->flags keeps NO_INTERRUPT (§2.7.7);
 * with it, used_event is moved along by every vrb_vq_get_used() so that
 * it stays VRB_VQ_EVENT_FAR ahead of the device (§2.7.7); and
 * vrb_vq_reset() asks again.  Both are only hints to the device (a
 * legacy device may still notify): the transport gives the queue no
 * interrupt vector besides.  Do not call vrb_vq_enable_cb() or
 * vrb_vq_enable_cb_delayed() on a polled queue.
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 */
void vrb_vq_set_polled(struct vrb_vq *vq)
{
	vq->polled = true;
	vrb_vq_disable_cb(vq);
}

/* Publish "interrupt me after used_event", then re-check (§2.7.14). */
static bool vrb_vq_arm(struct vrb_vq *vq, u16 used_event)
{
	u16 idx;

	vq->avail_flags_shadow &= ~VRB_AVAIL_F_NO_INTERRUPT;
	if (vq->event_idx)
		WRITE_ONCE(*vq->used_event, used_event);
	else
		WRITE_ONCE(vq->avail->flags, vq->avail_flags_shadow);

	/*
	 * Barrier D (for pairing): our request for an interrupt must be
	 * visible before we look at used->idx again, or a completion that
	 * the device made just before seeing the request would be neither
	 * interrupted for nor seen here: a lost completion (§2.7.14).
	 * Pairs with the device's full barrier between incrementing
	 * used->idx and reading avail->flags / used_event.  Proved by
	 * kunit/litmus/barrier-D-reenable.litmus.
	 */
	virt_mb();

	if (!vrb_vq_used_pending(vq, &idx))
		return true;
	return (u16)(idx - vq->last_used_idx) <= (u16)(used_event -
						     vq->last_used_idx);
}

/**
 * vrb_vq_enable_cb - ask for interrupts again, and check for a race
 * @vq: the queue.
 *
 * The end of the "disable, drain, enable" loop of the interrupt handler.
 * Asks for an interrupt at the next completion, then re-reads used->idx
 * after a full barrier: a completion that slipped in while interrupts
 * were off would otherwise wait for an interrupt that never comes.
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 * Return: true if nothing is pending, or if the queue is broken (already,
 * or found so by the re-check): draining would only return -EIO, so
 * the caller's drain loop stops; false if the caller must drain again.
 */
bool vrb_vq_enable_cb(struct vrb_vq *vq)
{
	if (unlikely(vq->broken))
		return true;
	return vrb_vq_arm(vq, vq->last_used_idx);
}

/**
 * vrb_vq_enable_cb_delayed - ask for an interrupt after most work is done
 * @vq: the queue.
 *
 * Like vrb_vq_enable_cb(), but with EVENT_IDX the interrupt is asked for
 * only after three quarters of the chains now in flight complete, so a
 * busy queue takes one interrupt per batch, not one per request.  Without
 * EVENT_IDX it is the same as vrb_vq_enable_cb().
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 * Return: true if fewer completions than that are pending, or if the
 * queue is broken (already, or found so by the re-check), so that the
 * caller's drain loop stops; false if the caller should drain again now.
 */
bool vrb_vq_enable_cb_delayed(struct vrb_vq *vq)
{
	u16 bufs;

	if (unlikely(vq->broken))
		return true;
	/*
	 * Without EVENT_IDX the device interrupts on its next completion
	 * or not at all, so "later" cannot be expressed: ask for "next".
	 */
	if (!vq->event_idx)
		return vrb_vq_arm(vq, vq->last_used_idx);
	bufs = (u16)(vq->avail_idx_shadow - vq->last_used_idx) * 3 / 4;
	return vrb_vq_arm(vq, vq->last_used_idx + bufs);
}

/* ---- Teardown and recovery ------------------------------------------ */

/**
 * vrb_vq_detach_unused - take back a token the device never completed
 * @vq: the queue.
 *
 * Only after the device was reset (or the queue is broken and the device
 * will be): returns the tokens of chains still in flight one at a time,
 * freeing their descriptors.  Reads only driver-private state.
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 * Return: a token, or NULL when nothing is in flight any more.
 */
void *vrb_vq_detach_unused(struct vrb_vq *vq)
{
	struct vrb_vq_desc_state *st;
	void *token;
	unsigned int i;

	for (i = 0; i < vq->num; i++) {
		st = &vq->state[i];
		if (!st->token)
			continue;
		token = st->token;
		st->token = NULL;
		st->indir = NULL;
		vrb_vq_free_descs(vq, i, st->ndescs);
		vq->num_inflight--;
		return token;
	}
	return NULL;
}

/* ---- Self-check ----------------------------------------------------- */

/**
 * vrb_vq_check - verify the driver-side invariants of a queue
 * @vq: the queue.
 *
 * Checks, using only driver-private state plus the driver-written
 * avail->idx: every descriptor is either on the free list or in exactly
 * one in-flight chain (free + in flight == N, no descriptor twice); every
 * in-flight head has exactly one token; the number of in-flight heads
 * equals the in-flight count; avail.idx - last used idx <= N.
 * For tests and debugfs; O(N).
 *
 * Context: Caller serializes with other vrb_vq calls on @vq.
 * Return: 0 if all hold, -EUCLEAN (with a message) otherwise.
 */
int vrb_vq_check(struct vrb_vq *vq)
{
	unsigned int i, j, heads = 0, inflight_descs = 0, free = 0;
	u16 d;

	bitmap_zero(vq->check_map, vq->num);

	/* Walk the free list: it ends with VRB_VQ_NO_DESC. */
	for (d = vq->free_head; d != VRB_VQ_NO_DESC; d = vq->state[d].next) {
		if (d >= vq->num || test_and_set_bit(d, vq->check_map)) {
			vrb_vq_err(vq, "check: free list corrupt at %u\n", d);
			return -EUCLEAN;
		}
		free++;
	}
	if (free != vq->num_free) {
		vrb_vq_err(vq, "check: %u on free list, num_free %u\n",
			   free, vq->num_free);
		return -EUCLEAN;
	}

	/* Walk every chain in flight. */
	for (i = 0; i < vq->num; i++) {
		if (!vq->state[i].token)
			continue;
		heads++;
		for (j = 0, d = i; j < vq->state[i].ndescs; j++) {
			if (d >= vq->num || test_and_set_bit(d, vq->check_map)) {
				vrb_vq_err(vq, "check: chain %u overlaps at %u\n",
					   i, d);
				return -EUCLEAN;
			}
			inflight_descs++;
			d = vq->state[d].next;
		}
	}
	if (free + inflight_descs != vq->num) {
		vrb_vq_err(vq, "check: %u free + %u in flight != %u\n",
			   free, inflight_descs, vq->num);
		return -EUCLEAN;
	}
	if (heads != vq->num_inflight) {
		vrb_vq_err(vq, "check: %u heads with tokens, %u in flight\n",
			   heads, vq->num_inflight);
		return -EUCLEAN;
	}
	if ((u16)(READ_ONCE(vq->avail->idx) - vq->last_used_idx) > vq->num ||
	    vq->avail_idx_shadow != READ_ONCE(vq->avail->idx)) {
		vrb_vq_err(vq, "check: avail idx %u, last used %u, size %u\n",
			   vq->avail_idx_shadow, vq->last_used_idx, vq->num);
		return -EUCLEAN;
	}
	return 0;
}
