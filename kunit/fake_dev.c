// SPDX-License-Identifier: GPL-2.0
/*
 * A simulated legacy virtio device for the vringblk KUnit
 * tests: the device side of a split virtqueue (virtio 1.2 §2.7, legacy
 * layout §2.7.2, notification suppression §2.7.7 and §2.7.10).
 *
 * The device trusts nothing the driver wrote.  Every chain is checked
 * before it is taken (§2.7.5: index below the queue size, no loops, no
 * chain longer than the queue, readable before writable, §2.7.5.3:
 * INDIRECT only if negotiated, never with NEXT, never nested, table
 * length a non-zero multiple of 16).  A broken rule is counted in
 * &fake_dev.violations, described in &fake_dev.reason, and stops the
 * device until fake_dev_reset(), as a real device would set NEEDS_RESET.
 *
 * Barriers: the driver and the device each use virt_*() barriers; each
 * one here carries the label of the driver barrier it pairs with in
 * mod/vrb_vq.c ("Barrier A" ... "Barrier D").  In the tests both sides
 * run on one thread, so the barriers document the protocol more than
 * they order anything; they are the same ones a device on another CPU
 * would need, as the litmus tests in kunit/litmus/ prove (`make litmus`).
 */
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/overflow.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/barrier.h>

#include "fake_dev.h"

/* §2.7.2: legacy rings put the used ring on a 4096-byte boundary. */
#define FAKE_DEV_ALIGN		4096U
#define fake_dev_align(x)	(((x) + FAKE_DEV_ALIGN - 1) & ~(FAKE_DEV_ALIGN - 1))

/* Flags a descriptor may carry (§2.7.5); any other bit is a violation. */
#define FAKE_DEV_DESC_FLAGS \
	(VRB_DESC_F_NEXT | VRB_DESC_F_WRITE | VRB_DESC_F_INDIRECT)

/* Bus addresses are kernel virtual addresses in the tests. */
static void *fake_dev_ptr(u64 addr)
{
	return (void *)(uintptr_t)addr;
}

static __printf(2, 3)
void fake_dev_violation(struct fake_dev *dev, const char *fmt, ...)
{
	va_list ap;

	if (!dev->violations++) {
		va_start(ap, fmt);
		vsnprintf(dev->reason, sizeof(dev->reason), fmt, ap);
		va_end(ap);
	}
	dev->broken = true;
}

/* Read a descriptor the driver wrote, one field at a time. */
static void fake_dev_read_desc(const struct vrb_desc *src, struct vrb_desc *d)
{
	d->addr = READ_ONCE(src->addr);
	d->len = READ_ONCE(src->len);
	d->flags = READ_ONCE(src->flags);
	d->next = READ_ONCE(src->next);
}

/**
 * fake_dev_init - attach a fake device to ring memory
 * @dev: the device (caller-owned storage).
 * @ring: the ring memory the driver uses.
 * @num: queue size.
 * @event_idx: VRB_F_RING_EVENT_IDX was negotiated.
 * @indirect: VRB_F_RING_INDIRECT_DESC was negotiated.
 *
 * The device computes where the rings are from @num alone, with the
 * §2.7.2 formula, not from the driver's layout.
 *
 * Context: Process context; may sleep.
 * Return: 0, -EINVAL for a bad queue size, -ENOMEM.
 */
int fake_dev_init(struct fake_dev *dev, void *ring, unsigned int num,
		  bool event_idx, bool indirect)
{
	size_t used_off;

	memset(dev, 0, sizeof(*dev));
	if (num == 0 || num > VRB_VQ_MAX_SIZE || (num & (num - 1)))
		return -EINVAL;

	dev->owned = bitmap_zalloc(num, GFP_KERNEL);
	if (!dev->owned)
		return -ENOMEM;

	used_off = fake_dev_align(16 * num + 2 * (3 + num));
	dev->num = num;
	dev->desc = ring;
	dev->avail = ring + 16 * num;
	dev->used = ring + used_off;
	dev->used_event = &dev->avail->ring[num];
	dev->avail_event = (u16 *)&dev->used->ring[num];
	dev->event_idx = event_idx;
	dev->indirect = indirect;
	INIT_LIST_HEAD(&dev->pending);
	return 0;
}

/* Forget every pending chain without completing it. */
static void fake_dev_drop_pending(struct fake_dev *dev)
{
	struct fake_dev_chain *c, *tmp;

	list_for_each_entry_safe(c, tmp, &dev->pending, node) {
		list_del(&c->node);
		kfree(c);
	}
	dev->npending = 0;
	bitmap_zero(dev->owned, dev->num);
}

/**
 * fake_dev_destroy - free what the device allocated
 * @dev: the device.
 *
 * Context: Process context.
 */
void fake_dev_destroy(struct fake_dev *dev)
{
	if (!dev->owned)
		return;
	fake_dev_drop_pending(dev);
	bitmap_free(dev->owned);
	dev->owned = NULL;
}

/**
 * fake_dev_reset - the device is reset (status register written with 0)
 * @dev: the device.
 *
 * Pending chains are dropped without being completed, the indices start
 * at 0 again, and the device works again after a violation.  Ring memory
 * is not touched: the driver re-initialises it.  Knobs, counters and the
 * violation record are kept, so a test can still check them.
 *
 * Context: Process context.
 */
void fake_dev_reset(struct fake_dev *dev)
{
	fake_dev_drop_pending(dev);
	dev->last_avail_idx = 0;
	dev->used_idx = 0;
	dev->published_idx = 0;
	dev->broken = false;
}

/**
 * fake_dev_avail_idx - avail->idx as the driver last published it
 * @dev: the device.
 *
 * Context: Any context.
 * Return: avail->idx.
 */
u16 fake_dev_avail_idx(struct fake_dev *dev)
{
	return READ_ONCE(dev->avail->idx);
}

/* ---- Taking chains from the available ring (§2.7.13) --------------- */

/*
 * Check one buffer descriptor: flags, address, length, and the rule that
 * device-readable buffers come first (§2.7.4.2).  @where names the
 * descriptor for the message.
 */
static int fake_dev_check_buf(struct fake_dev *dev, const struct vrb_desc *d,
			      const char *where, u16 i, bool *seen_write)
{
	if (d->flags & ~FAKE_DEV_DESC_FLAGS) {
		fake_dev_violation(dev, "%s %u: unknown flags %#x",
				   where, i, d->flags);
		return -EINVAL;
	}
	if (d->flags & VRB_DESC_F_INDIRECT) {
		fake_dev_violation(dev, "%s %u: INDIRECT not alone (in a chain or nested)",
				   where, i);
		return -EINVAL;
	}
	if (!d->addr || !d->len) {
		fake_dev_violation(dev, "%s %u: addr %#llx len %u",
				   where, i, d->addr, d->len);
		return -EINVAL;
	}
	if (d->flags & VRB_DESC_F_WRITE) {
		*seen_write = true;
	} else if (*seen_write) {
		fake_dev_violation(dev, "%s %u: readable after writable",
				   where, i);
		return -EINVAL;
	}
	return 0;
}

static struct fake_dev_chain *fake_dev_alloc_chain(struct fake_dev *dev,
						   u16 head, unsigned int n)
{
	struct fake_dev_chain *c;

	c = kzalloc(struct_size(c, bufs, n), GFP_KERNEL);
	if (!c) {
		fake_dev_violation(dev, "out of memory for a chain of %u", n);
		return NULL;
	}
	c->head = head;
	c->nbufs = n;
	return c;
}

/* Record buffer @k of @c from descriptor @i, and count its bytes. */
static void fake_dev_record_buf(struct fake_dev_chain *c, unsigned int k,
				const struct vrb_desc *d, u16 i)
{
	c->bufs[k].addr = d->addr;
	c->bufs[k].len = d->len;
	c->bufs[k].write = d->flags & VRB_DESC_F_WRITE;
	c->bufs[k].desc = i;
	if (c->bufs[k].write)
		c->in_bytes += d->len;
	else
		c->out_bytes += d->len;
}

/*
 * A chain in the descriptor table itself.  Pass 1 checks it, marking its
 * descriptors in @dev->owned: finding a mark means a loop or a descriptor
 * that belongs to a chain already in flight.  Since every descriptor can
 * be marked once, a chain can also never be longer than the queue.
 * Pass 2 copies it; the driver cannot change the table in between, as
 * both sides run on the test's thread.
 */
static struct fake_dev_chain *fake_dev_walk_direct(struct fake_dev *dev,
						   u16 head)
{
	struct fake_dev_chain *c;
	struct vrb_desc d;
	bool seen_write = false;
	unsigned int n = 0, k;
	u16 i = head;

	for (;;) {
		if (i >= dev->num) {
			fake_dev_violation(dev, "chain %u: next %u >= queue size %u",
					   head, i, dev->num);
			goto unmark;
		}
		if (test_bit(i, dev->owned)) {
			fake_dev_violation(dev, "chain %u: descriptor %u twice (loop or in flight)",
					   head, i);
			goto unmark;
		}
		__set_bit(i, dev->owned);
		n++;
		fake_dev_read_desc(&dev->desc[i], &d);
		if (fake_dev_check_buf(dev, &d, "descriptor", i, &seen_write))
			goto unmark;
		if (!(d.flags & VRB_DESC_F_NEXT))
			break;
		i = d.next;
	}

	c = fake_dev_alloc_chain(dev, head, n);
	if (!c)
		goto unmark;
	for (k = 0, i = head; k < n; k++) {
		fake_dev_read_desc(&dev->desc[i], &d);
		fake_dev_record_buf(c, k, &d, i);
		i = d.next;
	}
	c->ndescs = n;
	return c;

unmark:
	/* Pass 1 marked @n descriptors along a path it checked. */
	for (k = 0, i = head; k < n; k++) {
		__clear_bit(i, dev->owned);
		i = READ_ONCE(dev->desc[i].next);
	}
	return NULL;
}

/* A chain in an indirect table (§2.7.5.3), described by ring desc @head. */
static struct fake_dev_chain *fake_dev_walk_indirect(struct fake_dev *dev,
						     u16 head,
						     const struct vrb_desc *hd)
{
	struct fake_dev_chain *c = NULL;
	const struct vrb_desc *table = fake_dev_ptr(hd->addr);
	unsigned long *seen;
	unsigned int entries, n = 0, k;
	bool seen_write = false;
	struct vrb_desc d;
	u16 i = 0;

	if (!dev->indirect) {
		fake_dev_violation(dev, "chain %u: INDIRECT not negotiated", head);
		return NULL;
	}
	if (hd->flags & VRB_DESC_F_NEXT) {
		fake_dev_violation(dev, "chain %u: INDIRECT together with NEXT",
				   head);
		return NULL;
	}
	if (hd->flags & ~(VRB_DESC_F_INDIRECT | VRB_DESC_F_WRITE)) {
		fake_dev_violation(dev, "chain %u: unknown flags %#x",
				   head, hd->flags);
		return NULL;
	}
	if (test_bit(head, dev->owned)) {
		fake_dev_violation(dev, "chain %u: head is in flight", head);
		return NULL;
	}
	if (!hd->addr || !hd->len || hd->len % sizeof(struct vrb_desc)) {
		fake_dev_violation(dev, "chain %u: indirect table addr %#llx len %u",
				   head, hd->addr, hd->len);
		return NULL;
	}
	entries = hd->len / sizeof(struct vrb_desc);
	if (entries > dev->num) {
		fake_dev_violation(dev, "chain %u: indirect table of %u > queue size %u",
				   head, entries, dev->num);
		return NULL;
	}

	seen = bitmap_zalloc(entries, GFP_KERNEL);
	if (!seen) {
		fake_dev_violation(dev, "out of memory for a table of %u",
				   entries);
		return NULL;
	}
	for (;;) {
		if (i >= entries) {
			fake_dev_violation(dev, "chain %u: table next %u >= %u entries",
					   head, i, entries);
			goto out;
		}
		if (__test_and_set_bit(i, seen)) {
			fake_dev_violation(dev, "chain %u: table loop at %u",
					   head, i);
			goto out;
		}
		n++;
		fake_dev_read_desc(&table[i], &d);
		if (fake_dev_check_buf(dev, &d, "table entry", i, &seen_write))
			goto out;
		if (!(d.flags & VRB_DESC_F_NEXT))
			break;
		i = d.next;
	}

	c = fake_dev_alloc_chain(dev, head, n);
	if (!c)
		goto out;
	for (k = 0, i = 0; k < n; k++) {
		fake_dev_read_desc(&table[i], &d);
		fake_dev_record_buf(c, k, &d, i);
		i = d.next;
	}
	c->indirect = true;
	c->table = *hd;
	c->ndescs = 1;
	__set_bit(head, dev->owned);
out:
	bitmap_free(seen);
	return c;
}

/* Check and copy the chain that starts at ring descriptor @head. */
static struct fake_dev_chain *fake_dev_walk(struct fake_dev *dev, u16 head)
{
	struct vrb_desc hd;

	if (head >= dev->num) {
		fake_dev_violation(dev, "avail entry %u: head %u >= queue size %u",
				   dev->last_avail_idx, head, dev->num);
		return NULL;
	}
	fake_dev_read_desc(&dev->desc[head], &hd);
	if (hd.flags & VRB_DESC_F_INDIRECT)
		return fake_dev_walk_indirect(dev, head, &hd);
	return fake_dev_walk_direct(dev, head);
}

/**
 * fake_dev_take - take newly available chains, checking each one
 * @dev: the device.
 * @max: take at most this many.
 *
 * Reads avail->idx, then the ring entries and descriptors it covers, and
 * appends each valid chain to &fake_dev.pending.  Stops at the first
 * violation (the device is broken from then on).  With the
 * &fake_dev.auto_avail_event knob, then asks for a kick at the next chain.
 *
 * Context: Process context; may sleep (allocates).
 * Return: number of chains taken.
 */
unsigned int fake_dev_take(struct fake_dev *dev, unsigned int max)
{
	struct fake_dev_chain *c;
	unsigned int n = 0;
	u16 avail_idx, head;

	if (dev->broken)
		return 0;

	avail_idx = READ_ONCE(dev->avail->idx);
	if ((u16)(avail_idx - dev->last_avail_idx) > dev->num) {
		fake_dev_violation(dev, "avail idx %u is more than %u ahead of %u",
				   avail_idx, dev->num, dev->last_avail_idx);
		return 0;
	}

	/*
	 * Barrier A (for pairing): read avail->idx before the ring entries
	 * and descriptors it covers.  Pairs with the driver's virt_wmb()
	 * between writing them and incrementing avail->idx.  Proved by
	 * kunit/litmus/barrier-A-publish.litmus.
	 */
	virt_rmb();

	while (n < max && dev->last_avail_idx != avail_idx) {
		head = READ_ONCE(dev->avail->ring[dev->last_avail_idx &
						   (dev->num - 1)]);
		c = fake_dev_walk(dev, head);
		if (!c)
			break;
		c->avail_idx = dev->last_avail_idx++;
		list_add_tail(&c->node, &dev->pending);
		dev->npending++;
		dev->taken++;
		n++;
	}

	if (dev->event_idx && dev->auto_avail_event && !dev->broken)
		fake_dev_set_avail_event(dev, dev->last_avail_idx);
	return n;
}

/**
 * fake_dev_pending_chain - look at a chain the device holds
 * @dev: the device.
 * @pos: position on the pending list, 0 = oldest.
 *
 * Context: Any context.
 * Return: the chain, or NULL if fewer than @pos + 1 are pending.
 */
struct fake_dev_chain *fake_dev_pending_chain(struct fake_dev *dev,
					      unsigned int pos)
{
	struct fake_dev_chain *c;

	list_for_each_entry(c, &dev->pending, node)
		if (pos-- == 0)
			return c;
	return NULL;
}

/* ---- Completing chains (§2.7.8, §2.7.13) ----------------------------- */

/*
 * The driver must leave a chain alone while the device holds it: compare
 * the descriptors with what the device saw when it took the chain.
 */
static void fake_dev_verify_unchanged(struct fake_dev *dev,
				      struct fake_dev_chain *c)
{
	const struct vrb_desc *table = dev->desc;
	struct vrb_desc d;
	unsigned int k;
	u16 flags;

	if (c->indirect) {
		fake_dev_read_desc(&dev->desc[c->head], &d);
		if (d.addr != c->table.addr || d.len != c->table.len ||
		    d.flags != c->table.flags) {
			fake_dev_violation(dev, "chain %u: indirect descriptor changed in flight",
					   c->head);
			return;
		}
		table = fake_dev_ptr(c->table.addr);
	}
	for (k = 0; k < c->nbufs; k++) {
		fake_dev_read_desc(&table[c->bufs[k].desc], &d);
		flags = c->bufs[k].write ? VRB_DESC_F_WRITE : 0;
		if (k + 1 < c->nbufs)
			flags |= VRB_DESC_F_NEXT;
		if (d.addr != c->bufs[k].addr || d.len != c->bufs[k].len ||
		    d.flags != flags ||
		    (k + 1 < c->nbufs && d.next != c->bufs[k + 1].desc)) {
			fake_dev_violation(dev, "chain %u: descriptor %u changed in flight",
					   c->head, c->bufs[k].desc);
			return;
		}
	}
}

/* Write one used element at the device's private used index. */
static void fake_dev_write_used(struct fake_dev *dev, u32 id, u32 len)
{
	struct vrb_used_elem *e = &dev->used->ring[dev->used_idx &
						   (dev->num - 1)];

	WRITE_ONCE(e->id, id);
	WRITE_ONCE(e->len, len);
	dev->used_idx++;
	dev->completed++;
	dev->last_id = id;
	dev->last_len = len;
}

/*
 * Do the "I/O" of chain @c: hash every readable byte into its seed, fill
 * every writable byte with the pattern, the last one with the status.
 * Returns the bytes written.
 */
static u32 fake_dev_process(struct fake_dev_chain *c)
{
	u32 seed = FAKE_DEV_HASH_INIT, off = 0, j;
	unsigned int k;
	u8 *p;

	for (k = 0; k < c->nbufs; k++)
		if (!c->bufs[k].write)
			seed = fake_dev_hash(seed, fake_dev_ptr(c->bufs[k].addr),
					     c->bufs[k].len);
	c->seed = seed;

	for (k = 0; k < c->nbufs; k++) {
		if (!c->bufs[k].write)
			continue;
		p = fake_dev_ptr(c->bufs[k].addr);
		for (j = 0; j < c->bufs[k].len; j++, off++)
			p[j] = off + 1 == c->in_bytes ?
			       fake_dev_status_byte(seed) :
			       fake_dev_data_byte(seed, off);
	}
	return off;
}

/* Complete pending chain @pos reporting @len, or the true length. */
static int fake_dev_finish(struct fake_dev *dev, unsigned int pos,
			   bool override, u32 len)
{
	struct fake_dev_chain *c = fake_dev_pending_chain(dev, pos);
	unsigned int k;
	u32 written;

	if (!c)
		return -ENOENT;

	fake_dev_verify_unchanged(dev, c);
	written = fake_dev_process(c);
	fake_dev_write_used(dev, c->head, override ? len : written);

	if (c->indirect)
		__clear_bit(c->head, dev->owned);
	else
		for (k = 0; k < c->nbufs; k++)
			__clear_bit(c->bufs[k].desc, dev->owned);
	list_del(&c->node);
	dev->npending--;
	kfree(c);
	return 0;
}

/**
 * fake_dev_complete_one - process a pending chain and write its used element
 * @dev: the device.
 * @pos: position on the pending list, 0 = oldest.
 *
 * The used element (id = head, len = bytes written) is not visible to the
 * driver until fake_dev_publish().
 *
 * Context: Process context.
 * Return: 0, or -ENOENT if no chain is pending at @pos.
 */
int fake_dev_complete_one(struct fake_dev *dev, unsigned int pos)
{
	return fake_dev_finish(dev, pos, false, 0);
}

/**
 * fake_dev_complete_one_len - like fake_dev_complete_one(), lying about len
 * @dev: the device.
 * @pos: position on the pending list, 0 = oldest.
 * @len: the length to report in the used element.
 *
 * Context: Process context.
 * Return: 0, or -ENOENT if no chain is pending at @pos.
 */
int fake_dev_complete_one_len(struct fake_dev *dev, unsigned int pos,
			      u32 len)
{
	return fake_dev_finish(dev, pos, true, len);
}

/* §2.7.7: would the device interrupt for used idx old -> new? */
static bool fake_dev_would_interrupt(struct fake_dev *dev, u16 old, u16 new_idx)
{
	u16 event;

	if (dev->ignore_suppression)
		return true;
	if (dev->event_idx) {
		/* The device ignores avail->flags with EVENT_IDX. */
		event = READ_ONCE(*dev->used_event);
		return (u16)(new_idx - event - 1) < (u16)(new_idx - old);
	}
	return !(READ_ONCE(dev->avail->flags) & VRB_AVAIL_F_NO_INTERRUPT);
}

/**
 * fake_dev_publish - make the written used elements visible
 * @dev: the device.
 *
 * Writes used->idx, then decides whether to interrupt the driver: with
 * EVENT_IDX iff used_event lies in the batch just published, else iff
 * avail->flags lacks NO_INTERRUPT (or always, with the
 * &fake_dev.ignore_suppression knob).
 *
 * Context: Any context.
 * Return: true if the device raises an interrupt.
 */
bool fake_dev_publish(struct fake_dev *dev)
{
	u16 old = dev->published_idx;
	bool irq;

	if (old == dev->used_idx)
		return false;

	/*
	 * Barrier C (for pairing): the used elements must be visible before
	 * the used->idx that covers them.  Pairs with the driver's
	 * virt_rmb() between reading used->idx and reading the elements.
	 * Proved by kunit/litmus/barrier-C-complete.litmus, and for the
	 * status byte by kunit/litmus/barrier-C-status.litmus.
	 */
	virt_wmb();
	WRITE_ONCE(dev->used->idx, dev->used_idx);
	dev->published_idx = dev->used_idx;

	/*
	 * Barrier D (for pairing): used->idx must be visible before we read
	 * whether the driver wants an interrupt, or a driver re-enabling
	 * interrupts could miss this completion while we miss its request.
	 * Pairs with the driver's virt_mb() between writing avail->flags /
	 * used_event and re-reading used->idx.  Proved by
	 * kunit/litmus/barrier-D-reenable.litmus.
	 */
	virt_mb();

	irq = fake_dev_would_interrupt(dev, old, dev->used_idx);
	if (irq)
		dev->interrupts++;
	else
		dev->suppressed++;
	return irq;
}

/**
 * fake_dev_complete - complete one pending chain and publish it
 * @dev: the device.
 * @pos: position on the pending list, 0 = oldest.
 *
 * Context: Process context.
 * Return: true if the device raises an interrupt; false if not, or if no
 * chain is pending at @pos.
 */
bool fake_dev_complete(struct fake_dev *dev, unsigned int pos)
{
	if (fake_dev_complete_one(dev, pos))
		return false;
	return fake_dev_publish(dev);
}

/**
 * fake_dev_complete_all - complete every pending chain, publish once
 * @dev: the device.
 * @rnd: random state for a random completion order, or NULL for FIFO.
 *
 * Context: Process context.
 * Return: true if the device raises an interrupt.
 */
bool fake_dev_complete_all(struct fake_dev *dev, struct rnd_state *rnd)
{
	while (dev->npending)
		fake_dev_complete_one(dev, rnd ? prandom_u32_state(rnd) %
					   dev->npending : 0);
	return fake_dev_publish(dev);
}

/* ---- Available buffer notifications (§2.7.10) ---------------- */

/**
 * fake_dev_set_no_notify - set or clear used->flags NO_NOTIFY
 * @dev: the device.
 * @no_notify: true to ask the driver not to kick.
 *
 * Without EVENT_IDX this is how the device turns kicks off while it polls
 * and on again before it sleeps.  Like a real device, it then looks at
 * avail->idx again: a chain added before the driver could see the new
 * flags would otherwise sit there with nobody kicking.
 *
 * Context: Any context.
 * Return: true if chains are available that the device has not taken.
 */
bool fake_dev_set_no_notify(struct fake_dev *dev, bool no_notify)
{
	WRITE_ONCE(dev->used->flags, no_notify ? VRB_USED_F_NO_NOTIFY : 0);
	/*
	 * Barrier B (for pairing): the flags must be visible before we
	 * re-read avail->idx.  Pairs with the driver's virt_mb() between
	 * writing avail->idx and reading used->flags.  Proved by
	 * kunit/litmus/barrier-B-kick.litmus.
	 */
	virt_mb();
	return READ_ONCE(dev->avail->idx) != dev->last_avail_idx;
}

/**
 * fake_dev_set_avail_event - write avail_event (EVENT_IDX)
 * @dev: the device.
 * @event: the driver should kick once avail->idx moves past @event.
 *
 * Context: Any context.
 * Return: true if chains are available that the device has not taken.
 */
bool fake_dev_set_avail_event(struct fake_dev *dev, u16 event)
{
	WRITE_ONCE(*dev->avail_event, event);
	/*
	 * Barrier B (for pairing): avail_event must be visible before we
	 * re-read avail->idx.  Pairs with the driver's virt_mb() between
	 * writing avail->idx and reading avail_event.  Proved by
	 * kunit/litmus/barrier-B-kick.litmus.
	 */
	virt_mb();
	return READ_ONCE(dev->avail->idx) != dev->last_avail_idx;
}

/**
 * fake_dev_kick_wanted - should a driver moving avail->idx kick?
 * @dev: the device.
 * @old: avail->idx before the driver's batch.
 * @new_idx: avail->idx after it.
 *
 * The device's side of the rule: with EVENT_IDX iff avail_event lies in
 * [@old, @new_idx) (§2.7.10), else iff used->flags lacks NO_NOTIFY.
 *
 * Context: Any context.
 * Return: true if the device expects a notification.
 */
bool fake_dev_kick_wanted(struct fake_dev *dev, u16 old, u16 new_idx)
{
	u16 event;

	if (dev->event_idx) {
		event = READ_ONCE(*dev->avail_event);
		return (u16)(new_idx - event - 1) < (u16)(new_idx - old);
	}
	return !(READ_ONCE(dev->used->flags) & VRB_USED_F_NO_NOTIFY);
}

/**
 * fake_dev_kick - the driver wrote the queue notify register
 * @dev: the device.
 *
 * Only counted: the tests decide when the device takes chains.
 *
 * Context: Any context.
 */
void fake_dev_kick(struct fake_dev *dev)
{
	dev->kicks++;
}

/* ---- Hostile device -------------------------------------------------- */

/**
 * fake_dev_push_used_raw - write a used element with any id and len
 * @dev: the device.
 * @id: the id to write, in range or not.
 * @len: the len to write.
 *
 * Nothing is checked and no pending chain is touched.  Visible to the
 * driver after fake_dev_publish().
 *
 * Context: Any context.
 */
void fake_dev_push_used_raw(struct fake_dev *dev, u32 id, u32 len)
{
	fake_dev_write_used(dev, id, len);
}

/**
 * fake_dev_repeat_last - write the last used element again
 * @dev: the device.
 *
 * A chain completed twice.  Visible after fake_dev_publish().
 *
 * Context: Any context.
 */
void fake_dev_repeat_last(struct fake_dev *dev)
{
	fake_dev_write_used(dev, dev->last_id, dev->last_len);
}

/**
 * fake_dev_jump_used_idx - move the used index without writing elements
 * @dev: the device.
 * @delta: how far to move it.
 *
 * Visible after fake_dev_publish().
 *
 * Context: Any context.
 */
void fake_dev_jump_used_idx(struct fake_dev *dev, u16 delta)
{
	dev->used_idx += delta;
}
