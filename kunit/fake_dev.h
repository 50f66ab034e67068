/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A simulated legacy virtio device for the vringblk KUnit
 * tests: the device side of a split virtqueue (virtio 1.2 §2.7).
 *
 * The fake device works on the same ring memory as the driver under test,
 * the way a strict device would: it finds the rings from the queue size
 * alone (legacy layout, §2.7.2), reads only what the driver publishes,
 * checks every descriptor chain against the spec, and records a violation
 * instead of crashing.  It completes chains in any order the test asks
 * for, filling device-writable buffers with a pattern the test can check.
 *
 * Bus addresses in the tests are kernel virtual addresses:
 * (dma_addr_t)(uintptr_t)pointer.  The device converts them back.
 *
 * A test drives the device by hand; nothing runs on its own:
 *
 *	fake_dev_take()			read the avail ring, check chains
 *	fake_dev_complete_one() x n	process chains, write used elements
 *	fake_dev_publish()		move used->idx; "interrupt?"
 *
 * The barriers in fake_dev.c carry the labels "Barrier A" to "Barrier D"
 * of the driver barriers they pair with in mod/vrb_vq.c.
 */
#ifndef FAKE_DEV_H
#define FAKE_DEV_H

#include <linux/list.h>
#include <linux/types.h>
#include "../mod/vrb_wire.h"

struct rnd_state;

/* Start value of fake_dev_hash() (the FNV-1a offset basis). */
#define FAKE_DEV_HASH_INIT	0x811c9dc5U

/**
 * struct fake_dev_buf - one buffer of a chain, as the device read it
 * @addr: bus address of the buffer (a kernel virtual address here).
 * @len: length in bytes.
 * @write: the buffer is device-writable (VRB_DESC_F_WRITE).
 * @desc: descriptor index in the ring (direct) or in the indirect table.
 */
struct fake_dev_buf {
	u64 addr;
	u32 len;
	bool write;
	u16 desc;
};

/**
 * struct fake_dev_chain - a chain the device took and has not completed
 * @node: link in &fake_dev.pending, oldest first.
 * @head: head descriptor index: the id of its used element.
 * @avail_idx: avail ring index it was taken from (free-running).
 * @indirect: the chain came as one VRB_DESC_F_INDIRECT descriptor.
 * @table: copy of the ring's head descriptor if @indirect, to verify the
 *	   driver leaves it alone while the chain is in flight.
 * @ndescs: ring descriptors the chain holds (1 if @indirect).
 * @out_bytes: device-readable bytes.
 * @in_bytes: device-writable bytes.
 * @seed: fake_dev_hash() of all readable bytes, in chain order.
 * @nbufs: entries in @bufs.
 * @bufs: the buffers, in chain order.
 */
struct fake_dev_chain {
	struct list_head node;
	u16 head;
	u16 avail_idx;
	bool indirect;
	struct vrb_desc table;
	u16 ndescs;
	u32 out_bytes;
	u32 in_bytes;
	u32 seed;
	u16 nbufs;
	struct fake_dev_buf bufs[];
};

/**
 * struct fake_dev - the simulated device and its knobs
 * @num: queue size.
 * @desc: descriptor table, found from @num alone (§2.7.2).
 * @avail: available ring (the device only reads it).
 * @used: used ring (the device writes it).
 * @used_event: &avail->ring[num], read with EVENT_IDX.
 * @avail_event: &used->ring[num], written with EVENT_IDX.
 * @event_idx: VRB_F_RING_EVENT_IDX was negotiated.
 * @indirect: VRB_F_RING_INDIRECT_DESC was negotiated.
 * @broken: a violation was seen; the device takes nothing more until
 *	    fake_dev_reset() (like a device setting NEEDS_RESET).
 * @last_avail_idx: next avail ring index the device will read.
 * @used_idx: next used ring index the device will write (private).
 * @published_idx: used->idx as last published by fake_dev_publish().
 * @owned: bitmap of ring descriptors held by pending chains.
 * @pending: chains taken and not completed, oldest first.
 * @npending: entries on @pending.
 * @ignore_suppression: knob: interrupt after every publish, whatever
 *			avail->flags or used_event say.
 * @auto_avail_event: knob (EVENT_IDX): after each take, ask the driver
 *		      for a kick at the next chain it adds.
 * @violations: number of spec violations seen in driver-written memory.
 * @reason: description of the first violation.
 * @taken: chains taken.
 * @completed: used elements written (hostile pushes included).
 * @interrupts: publishes that raised an interrupt.
 * @suppressed: publishes that did not, because the driver asked so.
 * @kicks: notifications received through fake_dev_kick().
 * @last_id: id of the last used element written.
 * @last_len: len of the last used element written.
 */
struct fake_dev {
	u16 num;
	struct vrb_desc *desc;
	struct vrb_avail *avail;
	struct vrb_used *used;
	u16 *used_event;
	u16 *avail_event;
	bool event_idx;
	bool indirect;
	bool broken;
	u16 last_avail_idx;
	u16 used_idx;
	u16 published_idx;
	unsigned long *owned;
	struct list_head pending;
	unsigned int npending;
	bool ignore_suppression;
	bool auto_avail_event;
	unsigned int violations;
	char reason[128];
	u64 taken;
	u64 completed;
	u64 interrupts;
	u64 suppressed;
	u64 kicks;
	u32 last_id;
	u32 last_len;
};

/**
 * fake_dev_hash - FNV-1a over a buffer
 * @hash: running hash, FAKE_DEV_HASH_INIT to start.
 * @buf: bytes to add.
 * @len: number of bytes.
 *
 * The device hashes every readable byte of a chain into the chain's seed,
 * so a test that computes the same hash over the buffers it offered
 * proves the device read exactly those bytes.
 *
 * Context: Any context.
 * Return: the updated hash.
 */
static inline u32 fake_dev_hash(u32 hash, const void *buf, size_t len)
{
	const u8 *p = buf;

	while (len--) {
		hash ^= *p++;
		hash *= 0x01000193U;
	}
	return hash;
}

/**
 * fake_dev_data_byte - the byte the device writes at a writable offset
 * @seed: the chain's seed (hash of its readable bytes).
 * @off: offset counted over the chain's writable bytes, in chain order.
 *
 * Context: Any context.
 * Return: the byte value.
 */
static inline u8 fake_dev_data_byte(u32 seed, u32 off)
{
	return (u8)((seed >> (8 * (off & 3))) + off * 7 + (off >> 8));
}

/**
 * fake_dev_status_byte - the status the device writes in the last byte
 * @seed: the chain's seed.
 *
 * Cycles through VRB_BLK_S_OK, _IOERR and _UNSUPP so that a status that
 * lands in the wrong request is noticed.
 *
 * Context: Any context.
 * Return: a VRB_BLK_S_* value.
 */
static inline u8 fake_dev_status_byte(u32 seed)
{
	return seed % 3;
}

int fake_dev_init(struct fake_dev *dev, void *ring, unsigned int num,
		  bool event_idx, bool indirect);
void fake_dev_destroy(struct fake_dev *dev);
void fake_dev_reset(struct fake_dev *dev);

u16 fake_dev_avail_idx(struct fake_dev *dev);
unsigned int fake_dev_take(struct fake_dev *dev, unsigned int max);
struct fake_dev_chain *fake_dev_pending_chain(struct fake_dev *dev,
					      unsigned int pos);
int fake_dev_complete_one(struct fake_dev *dev, unsigned int pos);
int fake_dev_complete_one_len(struct fake_dev *dev, unsigned int pos,
			      u32 len);
bool fake_dev_publish(struct fake_dev *dev);
bool fake_dev_complete(struct fake_dev *dev, unsigned int pos);
bool fake_dev_complete_all(struct fake_dev *dev, struct rnd_state *rnd);

bool fake_dev_set_no_notify(struct fake_dev *dev, bool no_notify);
bool fake_dev_set_avail_event(struct fake_dev *dev, u16 event);
bool fake_dev_kick_wanted(struct fake_dev *dev, u16 old, u16 new_idx);
void fake_dev_kick(struct fake_dev *dev);

void fake_dev_push_used_raw(struct fake_dev *dev, u32 id, u32 len);
void fake_dev_repeat_last(struct fake_dev *dev);
void fake_dev_jump_used_idx(struct fake_dev *dev, u16 delta);

#endif /* FAKE_DEV_H */
