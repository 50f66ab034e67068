// SPDX-License-Identifier: GPL-2.0
/*
 * vrb_blk.c - vringblk's block device: blk-mq on top of the ring core.
 *
 * A request becomes a virtio-blk request (virtio 1.2 §5.2.6): a 16-byte
 * header the device reads, the data (read or written), and one status
 * byte the device writes.  Header, status and (for DISCARD and
 * WRITE_ZEROES) the ranges live in a per-tag slot of coherent memory
 * allocated once per queue, next to the tag's indirect descriptor table,
 * so the hot path neither allocates nor maps anything but the data.
 *
 * Reading order: translating a request, submitting it (queue_rq), the
 * completion interrupt, the disk's limits from the device configuration
 * (§5.2.4), sysfs (serial, cache_type), and setup and teardown.
 */
#include <linux/blk-mq.h>
#include <linux/dma-mapping.h>
#include <linux/hdreg.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "vringblk.h"
#include "vrb_compat.h"
#include "vrb_limits.h"
#include "vrb_trace.h"

/* Partitions per disk: vringblk0p1 .. vringblk0p15. */
#define VRB_PART_BITS	4

static int vrb_major;
static DEFINE_IDA(vrb_index_ida);

/* ---- One request ------------------------------------------------------ */

/* The one place that maps a virtio-blk status (§5.2.6) to blk_status_t. */
static blk_status_t vrb_blk_status(u8 status)
{
	switch (status) {
	case VRB_BLK_S_OK:
		return BLK_STS_OK;
	case VRB_BLK_S_UNSUPP:
		return BLK_STS_NOTSUPP;
	case VRB_BLK_S_IOERR:
		return BLK_STS_IOERR;
	default:
		/* Including VRB_STATUS_UNWRITTEN: the device never wrote it. */
		return BLK_STS_IOERR;
	}
}

/*
 * Fill in the header (and ranges) for @rq in its slot.  Returns the
 * number of ranges, or a negative errno for an operation we do not do.
 */
static int vrb_blk_setup_hdr(struct vrb_dev *vdev, struct request *rq,
			     struct vrb_req_dma *dma)
{
	struct vrb_blk_req_hdr *hdr = &dma->hdr;
	unsigned int i, n = 0;
	struct bio *bio;
	bool unmap;

	hdr->ioprio = 0;
	hdr->sector = 0;
	switch (req_op(rq)) {
	case REQ_OP_READ:
		hdr->type = VRB_BLK_T_IN;
		hdr->sector = blk_rq_pos(rq);
		return 0;
	case REQ_OP_WRITE:
		hdr->type = VRB_BLK_T_OUT;
		hdr->sector = blk_rq_pos(rq);
		return 0;
	case REQ_OP_FLUSH:
		hdr->type = VRB_BLK_T_FLUSH;
		return 0;
	case REQ_OP_DRV_IN:
		/* Only the driver's own GET_ID uses this (vrb_blk_get_id()). */
		hdr->type = VRB_BLK_T_GET_ID;
		return 0;
	case REQ_OP_DISCARD:
		hdr->type = VRB_BLK_T_DISCARD;
		break;
	case REQ_OP_WRITE_ZEROES:
		hdr->type = VRB_BLK_T_WRITE_ZEROES;
		break;
	default:
		return -EOPNOTSUPP;
	}

	/* DISCARD and WRITE_ZEROES: one range per bio (§5.2.6). */
	if (blk_rq_nr_discard_segments(rq) > vdev->max_discard_segs)
		return -EINVAL;
	if (blk_rq_nr_discard_segments(rq) == 1) {
		dma->range[0].sector = blk_rq_pos(rq);
		dma->range[0].num_sectors = blk_rq_sectors(rq);
		n = 1;
	} else {
		__rq_for_each_bio(bio, rq) {
			dma->range[n].sector = bio->bi_iter.bi_sector;
			dma->range[n].num_sectors = bio_sectors(bio);
			n++;
		}
	}
	unmap = req_op(rq) == REQ_OP_WRITE_ZEROES &&
		!(rq->cmd_flags & REQ_NOUNMAP);
	for (i = 0; i < n; i++)
		dma->range[i].flags = unmap ? VRB_BLK_WZ_F_UNMAP : 0;
	return n;
}

/*
 * Buffer @i of a request's chain.  When the ring uses indirect
 * descriptors it goes straight into the request's indirect @table,
 * complete with flags and link (§2.7.5.3.1): the chain is built once, in
 * place, and vrb_vq_add_indirect() publishes it.  Otherwise (@table NULL)
 * it goes into the list of buffers vrb_vq_add() turns into ring
 * descriptors.  @flags: VRB_DESC_F_WRITE if the device writes it,
 * VRB_DESC_F_NEXT unless last.
 */
static __always_inline void vrb_blk_put(struct vrb_req *vreq,
					struct vrb_desc *table, unsigned int i,
					u64 addr, u32 len, u16 flags)
{
	if (table)
		table[i] = (struct vrb_desc){
			.addr = addr,
			.len = len,
			.flags = flags,
			.next = i + 1,	/* ignored without NEXT */
		};
	else
		vreq->bufs[i] = (struct vrb_vq_buf){ .addr = addr, .len = len };
}

/*
 * The general case of vrb_blk_put_data(): the data as a scatterlist.
 * Out of line, so that its locals (blk_rq_map_sg()'s) do not cost the
 * one-segment path a stack frame.
 */
static noinline unsigned int vrb_blk_put_sg(struct request *rq,
					    struct vrb_req *vreq,
					    struct vrb_desc *table,
					    unsigned int n, u16 flags)
{
	struct scatterlist *sg;
	unsigned int nents;
	int i;

	nents = vrb_compat_map_sg(rq->q, rq, vreq->sg);
	for_each_sg(vreq->sg, sg, nents, i)
		vrb_blk_put(vreq, table, n++, sg_phys(sg), sg->length, flags);
	return n;
}

/*
 * The data buffers of @rq's chain, written from buffer @n on with @flags;
 * returns the number of the next buffer.
 *
 * Their addresses.  Legacy virtio knows no IOMMU (VIRTIO_F_ACCESS_PLATFORM
 * is feature bit 33, beyond the legacy interface's 32): the device reads
 * and writes guest-physical addresses (§2.7.5: addr is a "guest-physical
 * address").  So a data buffer's bus address is its physical address,
 * and there is nothing to map or unmap; the kernel's virtio_ring does the
 * same for such devices (vring_use_dma_api()).  vrb_pci_setup_queue()
 * refuses a device whose coherent memory would be addressed otherwise.
 *
 * Their number.  blk_rq_nr_phys_segments() is the block layer's count,
 * made within our limits when the bios were split and merged, and it
 * counts each bio_vec as at least one segment.  So a request of one
 * segment is one bio_vec, whole, and it becomes one buffer straight from
 * the bio, as nvme-pci's nvme_map_data() takes it; the check on its
 * length keeps that promise honest (and costs one compare).  Anything
 * else goes through the scatterlist, where blk_rq_map_sg() merges
 * physically contiguous pieces and splits at max_segment_size: never
 * more pieces than segments, so never more than the table holds.
 */
static unsigned int vrb_blk_put_data(struct request *rq, struct vrb_req *vreq,
				     struct vrb_desc *table, unsigned int n,
				     u16 flags)
{
	struct bio_vec bv;

	/*
	 * Only reads, writes and GET_ID carry data.  DISCARD and
	 * WRITE_ZEROES count their ranges as "segments" but have no pages:
	 * their ranges live in the request's slot.
	 */
	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
	case REQ_OP_DRV_IN:
		break;
	default:
		return n;
	}
	switch (blk_rq_nr_phys_segments(rq)) {
	case 0:
		return n;
	case 1:
		bv = req_bvec(rq);
		if (likely(bv.bv_len == blk_rq_bytes(rq))) {
			vrb_blk_put(vreq, table, n,
				    page_to_phys(bv.bv_page) + bv.bv_offset,
				    bv.bv_len, flags);
			return n + 1;
		}
		break;
	}
	return vrb_blk_put_sg(rq, vreq, table, n, flags);
}

/*
 * Describe the request as the chain the device will walk: header, ranges,
 * data, status.  The device reads the first buffers and writes the last
 * ones (§2.7.4.2); for a read the data is device-writable too.  Built
 * outside the queue lock.
 */
static void vrb_blk_build_chain(struct vrb_queue *q, struct request *rq,
				struct vrb_req *vreq, unsigned int nranges)
{
	u16 data = op_is_write(req_op(rq)) ? 0 : VRB_DESC_F_WRITE;
	struct vrb_desc *table = q->vq.indirect ? vreq->slot->indir.table :
						  NULL;
	dma_addr_t slot = vreq->slot->dma;
	unsigned int n = 0, first;

	vrb_blk_put(vreq, table, n++, slot + offsetof(struct vrb_req_dma, hdr),
		    sizeof(struct vrb_blk_req_hdr), VRB_DESC_F_NEXT);
	if (nranges)
		vrb_blk_put(vreq, table, n++,
			    slot + offsetof(struct vrb_req_dma, range),
			    nranges * sizeof(struct vrb_blk_discard_wz),
			    VRB_DESC_F_NEXT);
	first = n;
	n = vrb_blk_put_data(rq, vreq, table, n, data | VRB_DESC_F_NEXT);
	/* The device-readable buffers come first (§2.7.4.2). */
	vreq->out = data ? first : n;
	/* What the device may write: the data of a read, and the status. */
	vreq->in_bytes = (data && n > first ? blk_rq_bytes(rq) : 0) + 1;
	vrb_blk_put(vreq, table, n++,
		    slot + offsetof(struct vrb_req_dma, status), 1,
		    VRB_DESC_F_WRITE);
	vreq->nbufs = n;
	vreq->table = !!table;
}

/* Bytes of the chain of @vreq, for the trace. */
static u32 vrb_blk_chain_bytes(const struct vrb_req *vreq)
{
	u32 bytes = 0;
	unsigned int i;

	for (i = 0; i < vreq->nbufs; i++)
		bytes += vreq->table ? vreq->slot->indir.table[i].len :
				       vreq->bufs[i].len;
	return bytes;
}

/* Publish the chain; called with q->lock held. */
static __always_inline int vrb_blk_add(struct vrb_queue *q,
				       struct request *rq,
				       struct vrb_req *vreq)
{
	struct vrb_vq *vq = &q->vq;
	int err;

	if (vreq->table)
		err = vrb_vq_add_indirect(vq, &vreq->slot->indir, vreq->nbufs,
					  vreq->in_bytes, rq);
	else
		err = vrb_vq_add(vq, vreq->bufs, vreq->out,
				 vreq->nbufs - vreq->out, rq, NULL);
	if (!err && trace_vrb_add_enabled()) {
		u16 head = vq->avail->ring[(u16)(vq->avail_idx_shadow - 1) &
					   (vq->num - 1)];

		trace_vrb_add(q->vdev->index, q->index, head, vreq->nbufs,
			      vq->state[head].ndescs, vrb_blk_chain_bytes(vreq),
			      vq->state[head].indir, vq->avail_idx_shadow);
	}
	return err;
}

/* The kick decision, traced with the indices it was made from. */
static inline bool vrb_blk_kick_prepare(struct vrb_queue *q)
{
	bool kick = vrb_vq_kick_prepare(&q->vq);

	trace_vrb_kick(q->vdev->index, q->index, q->vq.kick_old,
		       q->vq.avail_idx_shadow, q->vq.kick_event,
		       q->vq.event_idx, kick);
	return kick;
}

/*
 * Point @vreq at the slot of the tag @rq holds on queue @q.  Everything
 * about the slot's memory (where its indirect table is, and how large)
 * was worked out when the slots were made, so binding is one store.
 */
static void vrb_blk_bind_slot(struct vrb_queue *q, struct request *rq,
			      struct vrb_req *vreq)
{
	vreq->slot = &q->slots[rq->tag];
}

/*
 * The ring is full: stop the hardware queue and count a stall.  With
 * q->lock held; vrb_blk_after_drain() restarts it under the same lock,
 * so the restart cannot be lost.
 */
static void vrb_blk_stall(struct vrb_queue *q, struct blk_mq_hw_ctx *hctx)
{
	blk_mq_stop_hw_queue(hctx);
	q->stopped = true;
	q->stats.stalls++;
}

/*
 * Everything about @rq that needs no lock: its slot, header, data and
 * chain.  Shared by queue_rq and queue_rqs.
 */
static blk_status_t vrb_blk_prep(struct vrb_dev *vdev, struct vrb_queue *q,
				 struct request *rq)
{
	struct vrb_req *vreq = blk_mq_rq_to_pdu(rq);
	struct vrb_req_dma *dma;
	int nranges;

	if (unlikely(READ_ONCE(vdev->dead)))
		return BLK_STS_IOERR;
	if (unlikely(rq->tag < 0 || rq->tag >= vdev->tag_set.queue_depth))
		return BLK_STS_IOERR;
	vrb_blk_bind_slot(q, rq, vreq);
	dma = vreq->slot->cpu;
	nranges = vrb_blk_setup_hdr(vdev, rq, dma);
	if (unlikely(nranges < 0))
		return nranges == -EOPNOTSUPP ? BLK_STS_NOTSUPP : BLK_STS_IOERR;
	/* A buffer the device returns without writing the status fails. */
	dma->status = VRB_STATUS_UNWRITTEN;
	vreq->nudged = false;
	vrb_blk_build_chain(q, rq, vreq, nranges);
	return BLK_STS_OK;
}

/*
 * blk-mq's submission hook.  The shape is the one of virtio_blk: add and
 * decide on the kick under the lock, notify outside it, and kick only on
 * the last request of a batch (bd->last); commit_rqs covers a batch that
 * ends early.
 */
static blk_status_t vrb_blk_queue_rq(struct blk_mq_hw_ctx *hctx,
				     const struct blk_mq_queue_data *bd)
{
	struct vrb_queue *q = hctx->driver_data;
	struct vrb_dev *vdev = q->vdev;
	struct request *rq = bd->rq;
	unsigned long flags;
	bool notify = false;
	blk_status_t sts;
	int err;

	sts = vrb_blk_prep(vdev, q, rq);
	if (unlikely(sts))
		return sts;

	blk_mq_start_request(rq);

	spin_lock_irqsave(&q->lock, flags);
	err = vrb_blk_add(q, rq, blk_mq_rq_to_pdu(rq));
	if (unlikely(err)) {
		/* Make sure what we queued before this one gets to the device. */
		notify = vrb_blk_kick_prepare(q);
		if (err == -ENOSPC) {
			vrb_blk_stall(q, hctx);
		} else if (err == -EIO) {
			/*
			 * A broken ring: the device never saw this request,
			 * so it need not fail.  Park it until the reset has
			 * rebuilt the ring; the reset restarts the queue.
			 */
			blk_mq_stop_hw_queue(hctx);
		}
		spin_unlock_irqrestore(&q->lock, flags);
		if (notify)
			vrb_pci_notify(vdev, q->index);
		if (err == -EIO)
			vrb_pci_schedule_reset(vdev, "queue broken");
		if (err == -ENOSPC || err == -EIO)
			return BLK_STS_DEV_RESOURCE;
		return BLK_STS_IOERR;
	}
	if (bd->last || !vrb_param_batch_kicks)
		notify = vrb_blk_kick_prepare(q);
	spin_unlock_irqrestore(&q->lock, flags);

	if (notify)
		vrb_pci_notify(vdev, q->index);
	return BLK_STS_OK;
}

/*
 * blk-mq's batched submission hook, used when a task's plug is flushed
 * (io_uring submitting several requests at once, for one): a list of
 * requests, possibly for several hardware queues.  Each run of requests
 * for one queue is prepared outside the lock, then published under one
 * lock with one kick decision, as virtio_blk does.  Whatever is left in
 * @rqlist when we return (a request that failed its preparation, a full
 * or broken ring, and everything after it) blk-mq sends through
 * vrb_blk_queue_rq() one by one, which knows how to report or park it.
 */
static void vrb_blk_queue_rqs(vrb_compat_rq_list *rqlist)
{
	struct request *rq, *next;

	/* batch_kicks=0 asks for a kick per request: queue_rq does that. */
	if (!vrb_param_batch_kicks)
		return;
	while ((rq = rq_list_peek(rqlist))) {
		struct vrb_queue *q = rq->mq_hctx->driver_data;
		unsigned int n = 0, added = 0;
		unsigned long flags;
		bool notify;

		/* 1. Prepare the run of requests for @q, without the lock. */
		for (next = rq; next && next->mq_hctx->driver_data == q;
		     next = next->rq_next) {
			if (vrb_blk_prep(q->vdev, q, next))
				break;
			n++;
		}
		if (!n)
			return;

		/* 2. Publish them, then one kick decision for the run. */
		spin_lock_irqsave(&q->lock, flags);
		while (added < n) {
			int err;

			rq = rq_list_peek(rqlist);
			err = vrb_blk_add(q, rq, blk_mq_rq_to_pdu(rq));
			/* blk-mq parks the rest on the stopped queue. */
			if (err == -ENOSPC)
				vrb_blk_stall(q, rq->mq_hctx);
			if (err)
				break;
			rq_list_pop(rqlist);
			/* The completion needs q->lock: it cannot overtake. */
			blk_mq_start_request(rq);
			added++;
		}
		notify = added && vrb_blk_kick_prepare(q);
		spin_unlock_irqrestore(&q->lock, flags);
		if (notify)
			vrb_pci_notify(q->vdev, q->index);
		/* Stopped early (a failed add or preparation): blk-mq goes on. */
		if (added < n || (next && next->mq_hctx->driver_data == q))
			return;
	}
}

/* The batch ended without a bd->last request: kick now if needed. */
static void vrb_blk_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct vrb_queue *q = hctx->driver_data;
	struct vrb_dev *vdev = q->vdev;
	unsigned long flags;
	bool notify;

	spin_lock_irqsave(&q->lock, flags);
	notify = vrb_blk_kick_prepare(q);
	spin_unlock_irqrestore(&q->lock, flags);
	if (notify)
		vrb_pci_notify(vdev, q->index);
}

/* blk-mq's completion hook, possibly on the submitting CPU. */
static void vrb_blk_complete_rq(struct request *rq)
{
	struct vrb_req *vreq = blk_mq_rq_to_pdu(rq);
	u8 status = READ_ONCE(vreq->slot->cpu->status);	/* device wrote */

	blk_mq_end_request(rq, vrb_blk_status(status));
}

/*
 * A polled request is done: hand it to the block layer's batch (@iob),
 * which ends a whole poll's worth of requests at once, with one call
 * (blk_mq_end_request_batch()).  The batch only ends requests that
 * succeeded, so one that failed is ended on its own, as is one the batch
 * refuses (an I/O scheduler's request, say).  blk_mq_add_to_batch()'s
 * error argument became a bool in 6.14 (an int before); vringblk keeps
 * errors out of the batch itself and always passes false, so the call
 * is the same on every kernel.
 */
static __always_inline void vrb_blk_complete_polled(struct request *rq,
						    struct io_comp_batch *iob)
{
	struct vrb_req *vreq = blk_mq_rq_to_pdu(rq);
	u8 status = READ_ONCE(vreq->slot->cpu->status);	/* device wrote */

	/* Marks it complete; false: not sent to another CPU, ours to end. */
	if (blk_mq_complete_request_remote(rq))
		return;
	if (status == VRB_BLK_S_OK &&
	    blk_mq_add_to_batch(rq, iob, false, blk_mq_end_request_batch))
		return;
	blk_mq_end_request(rq, vrb_blk_status(status));
}

/*
 * The "drain" of §2.7.14: take every used element off @q's ring and
 * complete its request.  Called with q->lock held, from the interrupt,
 * from the timeout handler and from the reset (@iob NULL), and from
 * blk-mq's poll hook with the batch its requests go to (@iob).  Returns
 * how many.
 */
static __always_inline unsigned int
vrb_blk_drain_used(struct vrb_queue *q, struct io_comp_batch *iob)
{
	struct vrb_dev *vdev = q->vdev;
	unsigned int done = 0;
	void *token;
	u32 len;

	/* A cheap look first: at QD1 the second call would find nothing. */
	while (vrb_vq_used_hint(&q->vq)) {
		struct request *rq;

		if (unlikely(vrb_vq_get_used(&q->vq, &token, &len)))
			break;		/* broken: see vrb_blk_after_drain() */
		rq = token;
		trace_vrb_used(vdev->index, q->index, q->vq.last_id, len,
			       q->vq.last_used_idx);
		trace_vrb_free(vdev->index, q->index, q->vq.last_id,
			       q->vq.last_ndescs, q->vq.num_free);
		/*
		 * len is not trusted: the status byte tells.  The block
		 * layer's fault injection may drop the completion (as may
		 * debugfs, q->drop): the request then stays in flight
		 * without a chain, until its timeout; the reset finds it by
		 * its tag.
		 */
		if (unlikely(q->drop)) {
			q->drop = false;
		} else if (likely(!blk_should_fake_timeout(rq->q))) {
			if (iob)
				vrb_blk_complete_polled(rq, iob);
			else
				blk_mq_complete_request(rq);
		}
		done++;
	}
	q->stats.completed += done;
	return done;
}

/*
 * After a drain, with q->lock held: a queue the ring core found broken
 * gets a reset; a hardware queue stopped on a full ring is restarted
 * under the same lock that stopped it, so a restart is never lost.
 */
static __always_inline void vrb_blk_after_drain(struct vrb_queue *q,
						unsigned int done)
{
	struct vrb_dev *vdev = q->vdev;

	/*
	 * The ring core found the device breaking the rules (and said why,
	 * once).  Its requests are failed and the ring rebuilt by a reset.
	 */
	if (unlikely(vrb_vq_is_broken(&q->vq))) {
		trace_vrb_broken(vdev->index, q->index,
				 READ_ONCE(q->vq.used->idx), q->vq.last_used_idx);
		vrb_pci_schedule_reset(vdev, "queue broken");
	}
	if (done && q->stopped && vdev->disk) {
		q->stopped = false;
		q->stats.restarts++;
		blk_mq_start_stopped_hw_queues(vdev->disk->queue, true);
	}
}

/**
 * vrb_blk_complete_queue - take every completed request off a queue
 * @q: the queue whose interrupt fired.
 *
 * The disable / drain / enable loop: interrupts for this queue are
 * suppressed while the used ring is drained, then re-enabled; if a
 * completion slipped in meanwhile, vrb_vq_enable_cb() says so and we
 * drain again (§2.7.14), so nothing waits for an interrupt that already
 * happened.
 *
 * Context: Interrupt context; takes q->lock.
 */
void vrb_blk_complete_queue(struct vrb_queue *q)
{
	unsigned int done = 0;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	q->stats.irqs++;
	/* debugfs: pretend the device erred, or the interrupt got lost. */
	if (unlikely(READ_ONCE(q->inject)) && vrb_dbg_inject(q)) {
		spin_unlock_irqrestore(&q->lock, flags);
		return;
	}
	do {
		vrb_vq_disable_cb(&q->vq);
		done += vrb_blk_drain_used(q, NULL);
	} while (!vrb_vq_enable_cb(&q->vq));
	if (!done)
		q->stats.spurious++;
	vrb_blk_after_drain(q, done);
	spin_unlock_irqrestore(&q->lock, flags);
}

/*
 * blk-mq's poll hook, for the hardware queues of HCTX_TYPE_POLL: io_uring
 * with IOPOLL (fio's hipri) calls it, from the submitting task, while it
 * waits for its requests, instead of sleeping until an interrupt.  Each
 * call takes what the device has put in the used ring so far; the
 * requests go to @iob, which the caller ends in one batch.  A poll queue
 * never interrupts (vrb_vq_set_polled(), and no MSI-X vector), so its
 * interrupt counter stays 0 and "polls" counts these calls instead.
 *
 * Most calls find the ring as the last one left it (at QD1, dozens per
 * request): those look at used->idx without the lock and return, as
 * nvme_poll() does with its completion queue.
 *
 * Returns the number of requests completed (0: nothing yet; the caller
 * polls again).  Process context; takes q->lock if there is work.
 */
static int vrb_blk_poll(struct blk_mq_hw_ctx *hctx, struct io_comp_batch *iob)
{
	struct vrb_queue *q = hctx->driver_data;
	unsigned long flags;
	unsigned int done;

	atomic64_inc(&q->polls);
	if (!vrb_vq_used_hint(&q->vq) && likely(!READ_ONCE(q->inject)))
		return 0;
	spin_lock_irqsave(&q->lock, flags);
	/* debugfs: pretend the device erred (a lost interrupt: no effect). */
	if (unlikely(READ_ONCE(q->inject)) && vrb_dbg_inject(q)) {
		spin_unlock_irqrestore(&q->lock, flags);
		return 0;
	}
	done = vrb_blk_drain_used(q, iob);
	vrb_blk_after_drain(q, done);
	spin_unlock_irqrestore(&q->lock, flags);
	return done;
}

/* Fail one request blk-mq has handed us and that has not completed. */
static bool vrb_blk_cancel_rq(struct request *rq, void *data)
{
	struct vrb_req *vreq = blk_mq_rq_to_pdu(rq);
	unsigned int *failed = data;

	if (blk_mq_request_completed(rq))
		return true;
	/* The device no longer writes its status: we do. */
	WRITE_ONCE(vreq->slot->cpu->status, VRB_BLK_S_IOERR);
	blk_mq_complete_request(rq);
	(*failed)++;
	return true;
}

/**
 * vrb_blk_fail_inflight - finish every request the device still holds
 * @vdev: the device, reset (or gone), with interrupts synchronized and
 *	  the queue quiesced.
 * @completed: where to store how many requests the device had completed.
 *
 * What the device completed before the reset is completed normally: it
 * wrote the status byte and the used element before it stopped, and
 * reporting an error for a write that happened would be a lie.  (QEMU,
 * for one, finishes the I/O in flight before a reset returns, so a
 * request that timed out has often completed by now.)  A broken queue's
 * used ring is not trusted and not read.
 *
 * Then every request blk-mq still counts as ours fails with an I/O error,
 * found by its tag (blk_mq_tagset_busy_iter()), not by what the ring
 * holds: a request whose completion the block layer dropped (fault
 * injection's fail_io_timeout) has left the ring but is still in flight,
 * and must end too, exactly once.  Then every ring starts afresh with
 * vrb_vq_reset(), its chains forgotten.  Called by the reset work and by
 * surprise removal.
 *
 * Context: Process context; takes each queue's lock.
 * Return: the number of requests failed.
 */
unsigned int vrb_blk_fail_inflight(struct vrb_dev *vdev,
				   unsigned int *completed)
{
	unsigned int i, failed = 0;

	*completed = 0;
	for (i = 0; i < vdev->nvqs; i++) {
		struct vrb_queue *q = &vdev->queues[i];

		spin_lock_irq(&q->lock);
		if (!vrb_vq_is_broken(&q->vq))
			*completed += vrb_blk_drain_used(q, NULL);
		spin_unlock_irq(&q->lock);
	}
	blk_mq_tagset_busy_iter(&vdev->tag_set, vrb_blk_cancel_rq, &failed);
	/* Completions may run on other CPUs: wait until they have. */
	blk_mq_tagset_wait_completed_request(&vdev->tag_set);
	for (i = 0; i < vdev->nvqs; i++) {
		struct vrb_queue *q = &vdev->queues[i];

		spin_lock_irq(&q->lock);
		vrb_vq_reset(&q->vq);
		q->stopped = false;
		spin_unlock_irq(&q->lock);
	}
	return failed;
}

/*
 * blk-mq's timeout hook: the device sat on a request for io_timeout.
 * Three steps, each tried once, cheapest first:
 *
 *  1. A missed interrupt?  Drain the used ring as the interrupt handler
 *     would.  If the request is there, it completes now (NVMe's timeout
 *     handler asks the same question).
 *  2. A missed notification?  Kick the queue once more: a device that
 *     went idle without seeing our last avail->idx simply resumes.
 *  3. Otherwise virtio-blk has no abort command: the only remedy is a
 *     reset, which fails this request and every other one in flight
 *     that the device did not finish (see vrb_pci_reset_work()).  The
 *     timer keeps running until the reset work completes the request.
 *
 * Steps 1 and 2 are not theory: under QEMU's single-vCPU TCG, guest
 * barriers do not become host fences, so Barriers B and D cannot order
 * against QEMU's I/O thread, and about one notification or interrupt in
 * a few million is lost.  On real hardware they cost nothing.
 */
static enum blk_eh_timer_return vrb_blk_timeout(struct request *rq)
{
	struct vrb_dev *vdev = rq->q->queuedata;
	struct vrb_queue *q = &vdev->queues[rq->mq_hctx->queue_num];
	struct vrb_req *vreq = blk_mq_rq_to_pdu(rq);
	unsigned long flags;
	unsigned int found;

	spin_lock_irqsave(&q->lock, flags);
	q->stats.timeouts++;
	found = vrb_blk_drain_used(q, NULL);
	q->stats.missed_irqs += found;
	vrb_blk_after_drain(q, found);
	spin_unlock_irqrestore(&q->lock, flags);
	/* blk-mq holds a reference: @rq is not reused while we look. */
	if (blk_mq_rq_state(rq) != MQ_RQ_IN_FLIGHT) {
		dev_warn(&vdev->pdev->dev, "%s: %s request (tag %d) had completed without an interrupt (%u found)\n",
			 vdev->disk->disk_name, blk_op_str(req_op(rq)),
			 rq->tag, found);
		return BLK_EH_DONE;
	}

	dev_warn(&vdev->pdev->dev, "%s: %s request (tag %d, sector %llu) timed out%s\n",
		 vdev->disk->disk_name, blk_op_str(req_op(rq)), rq->tag,
		 (unsigned long long)blk_rq_pos(rq),
		 vreq->nudged ? "" : ", kicking the queue again");
	if (!vreq->nudged) {
		vreq->nudged = true;
		spin_lock_irqsave(&q->lock, flags);
		q->stats.rekicks++;
		spin_unlock_irqrestore(&q->lock, flags);
		vrb_pci_notify(vdev, q->index);
		return BLK_EH_RESET_TIMER;
	}
	vrb_pci_schedule_reset(vdev, "request timed out");
	return BLK_EH_RESET_TIMER;
}

/* Each hardware queue is one virtqueue: remember which. */
static int vrb_blk_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			     unsigned int hctx_idx)
{
	struct vrb_dev *vdev = data;

	hctx->driver_data = &vdev->queues[hctx_idx];
	return 0;
}

static int vrb_blk_init_request(struct blk_mq_tag_set *set,
				struct request *rq, unsigned int hctx_idx,
				vrb_compat_numa_node_t numa_node)
{
	struct vrb_dev *vdev = set->driver_data;
	struct vrb_req *vreq = blk_mq_rq_to_pdu(rq);

	sg_init_table(vreq->sg, vdev->max_data_segs);
	vreq->bufs = (struct vrb_vq_buf *)&vreq->sg[vdev->max_data_segs];
	return 0;
}

/*
 * Which hardware queue serves which CPU.  Without poll queues there is
 * one map: interrupt queue i is served by MSI-X vector i + 1, which has
 * a CPU affinity.  With poll queues there are three (set->nr_maps), as
 * in virtio_blk: DEFAULT, the interrupt queues, exactly as without; READ,
 * empty, so reads use DEFAULT too; POLL, the poll queues after them,
 * spread over the CPUs by blk-mq, since no interrupt affinity exists to
 * follow.  blk-mq sends a request there only if it was submitted for
 * polling (REQ_POLLED: io_uring's IOPOLL).
 */
static void vrb_blk_map_queues(struct blk_mq_tag_set *set)
{
	struct vrb_dev *vdev = set->driver_data;
	struct blk_mq_queue_map *map = &set->map[HCTX_TYPE_DEFAULT];

	if (set->nr_maps > 1) {
		map->nr_queues = vrb_irq_queues(vdev);
		map->queue_offset = 0;
	}
	if (vdev->irq_mode == VRB_IRQ_MSIX)
		vrb_compat_pci_map_queues(map, vdev->pdev, 1);
	else
		blk_mq_map_queues(map);
	if (set->nr_maps == 1)
		return;

	set->map[HCTX_TYPE_READ].nr_queues = 0;
	map = &set->map[HCTX_TYPE_POLL];
	map->nr_queues = vdev->npoll;
	map->queue_offset = vrb_irq_queues(vdev);
	blk_mq_map_queues(map);
}

static const struct blk_mq_ops vrb_blk_mq_ops = {
	.queue_rq = vrb_blk_queue_rq,
	.queue_rqs = vrb_blk_queue_rqs,
	.commit_rqs = vrb_blk_commit_rqs,
	.complete = vrb_blk_complete_rq,
	.timeout = vrb_blk_timeout,
	.init_hctx = vrb_blk_init_hctx,
	.init_request = vrb_blk_init_request,
	.map_queues = vrb_blk_map_queues,
	.poll = vrb_blk_poll,
};

/* ---- The disk ---------------------------------------------------------- */

/*
 * HDIO_GETGEO: the device's geometry (§5.2.4), or a made-up one.  An fd
 * opened before the device went away still reaches here: the registers
 * are gone then, and so is the answer (-ENXIO, as virtio_blk says).
 */
static int vrb_blk_getgeo(vrb_compat_getgeo_arg *arg, struct hd_geometry *geo)
{
	struct gendisk *disk = vrb_compat_getgeo_disk(arg);
	struct vrb_dev *vdev = disk->private_data;
	int err = 0;

	mutex_lock(&vdev->mutex);
	if (vdev->removed) {
		err = -ENXIO;
		goto out;
	}
	if (vrb_has_feature(vdev, VRB_BLK_F_GEOMETRY)) {
		unsigned int cyl = VRB_BLK_CFG_GEO_CYLINDERS;

		geo->cylinders = vrb_pci_config_read16(vdev, cyl);
		geo->heads = vrb_pci_config_read8(vdev, VRB_BLK_CFG_GEO_HEADS);
		geo->sectors = vrb_pci_config_read8(vdev,
						    VRB_BLK_CFG_GEO_SECTORS);
		if (geo->heads && geo->sectors)
			goto out;
	}
	/* Like virtio_blk: 64 heads, 32 sectors per track. */
	geo->heads = 1 << 6;
	geo->sectors = 1 << 5;
	geo->cylinders = get_capacity(disk) >> 11;
out:
	mutex_unlock(&vdev->mutex);
	return err;
}

/*
 * The gendisk's last reference is gone (the last fd closed, or remove
 * dropped it): nothing can reach the per-disk state any more.  The
 * transport was torn down by vrb_pci_remove() long before, perhaps.
 */
static void vrb_blk_free_disk(struct gendisk *disk)
{
	struct vrb_dev *vdev = disk->private_data;

	ida_free(&vrb_index_ida, vdev->index);
	mutex_destroy(&vdev->mutex);
	kfree(vdev);
}

static const struct block_device_operations vrb_blk_fops = {
	.owner = THIS_MODULE,
	.getgeo = vrb_blk_getgeo,
	.free_disk = vrb_blk_free_disk,
};

/* Capacity in 512-byte sectors (§5.2.4), torn reads avoided. */
static sector_t vrb_blk_read_capacity(struct vrb_dev *vdev)
{
	return vrb_pci_config_read64(vdev, VRB_BLK_CFG_CAPACITY);
}

/**
 * vrb_blk_config_changed - the device configuration changed
 * @vdev: the device.
 *
 * Re-reads the capacity (QEMU's block_resize) and tells the block layer,
 * which sends a uevent so that user space sees the new size.
 *
 * Context: Process context (the config work); may sleep.
 */
void vrb_blk_config_changed(struct vrb_dev *vdev)
{
	u64 cap = vrb_blk_read_capacity(vdev);

	/*
	 * A device that is gone reads all-ones: that is not a new size.
	 * Nor is anything the block layer cannot address.
	 */
	if (cap == U64_MAX || !pci_device_is_present(vdev->pdev)) {
		dev_warn(&vdev->pdev->dev, "%s: config change from a device that does not answer: ignored\n",
			 vdev->disk->disk_name);
		return;
	}
	if (!vrb_capacity_valid(cap)) {
		dev_warn(&vdev->pdev->dev, "%s: ignoring impossible capacity %llu\n",
			 vdev->disk->disk_name, cap);
		return;
	}
	if (cap == get_capacity(vdev->disk))
		return;
	dev_info(&vdev->pdev->dev, "%s: capacity changed from %llu to %llu sectors\n",
		 vdev->disk->disk_name,
		 (unsigned long long)get_capacity(vdev->disk), cap);
	set_capacity_and_notify(vdev->disk, cap);
}

/* Does the device cache writes?  CONFIG_WCE: ask; else FLUSH says so. */
static bool vrb_blk_write_cache(struct vrb_dev *vdev)
{
	if (vrb_has_feature(vdev, VRB_BLK_F_CONFIG_WCE))
		return vrb_pci_config_read8(vdev, VRB_BLK_CFG_WRITEBACK);
	return vrb_has_feature(vdev, VRB_BLK_F_FLUSH);
}

/*
 * Turn the configuration into queue limits.  Every value comes from an
 * untrusted device: out-of-range values are ignored with a warning.
 */
static void vrb_blk_limits(struct vrb_dev *vdev, struct vrb_limits *l)
{
	struct device *dev = &vdev->pdev->dev;
	unsigned int bs = SECTOR_SIZE;
	u32 v;

	memset(l, 0, sizeof(*l));
	if (vrb_has_feature(vdev, VRB_BLK_F_BLK_SIZE)) {
		v = vrb_pci_config_read32(vdev, VRB_BLK_CFG_BLK_SIZE);
		if (is_power_of_2(v) && v >= SECTOR_SIZE && v <= PAGE_SIZE)
			bs = v;
		else
			dev_warn(dev, "ignoring invalid blk_size %u\n", v);
	}
	l->logical_block_size = bs;
	l->physical_block_size = bs;

	if (vrb_has_feature(vdev, VRB_BLK_F_TOPOLOGY)) {
		u8 exp = vrb_pci_config_read8(vdev, VRB_BLK_CFG_PHYS_BLK_EXP);
		u8 align = vrb_pci_config_read8(vdev, VRB_BLK_CFG_ALIGN_OFFSET);
		u16 min_io = vrb_pci_config_read16(vdev,
						   VRB_BLK_CFG_MIN_IO_SIZE);
		u32 opt_io = vrb_pci_config_read32(vdev,
						   VRB_BLK_CFG_OPT_IO_SIZE);

		if (exp <= 16 - ilog2(bs))
			l->physical_block_size = bs << exp;
		else
			dev_warn(dev, "ignoring physical_block_exp %u\n", exp);
		l->alignment_offset = bs * align;
		l->io_min = bs * min_io;
		if (opt_io <= UINT_MAX / bs)
			l->io_opt = bs * opt_io;
	}

	l->max_segments = vdev->max_data_segs;
	l->max_segment_size = dma_max_mapping_size(dev);
	if (vrb_has_feature(vdev, VRB_BLK_F_SIZE_MAX)) {
		v = vrb_pci_config_read32(vdev, VRB_BLK_CFG_SIZE_MAX);
		if (v >= PAGE_SIZE)
			l->max_segment_size = min_t(u64, v,
						    l->max_segment_size);
		else
			dev_warn(dev, "ignoring size_max %u below a page\n", v);
	}
	l->max_segment_size = min_t(u64, l->max_segment_size, UINT_MAX);

	if (vrb_has_feature(vdev, VRB_BLK_F_DISCARD)) {
		v = vrb_pci_config_read32(vdev, VRB_BLK_CFG_MAX_DISCARD_SECT);
		l->max_discard_sectors = v ? v : UINT_MAX;
		l->max_discard_segments = vdev->max_discard_segs;
		v = vrb_pci_config_read32(vdev, VRB_BLK_CFG_DISCARD_ALIGN);
		l->discard_granularity = v && v <= (UINT_MAX >> SECTOR_SHIFT) ?
					 v << SECTOR_SHIFT : bs;
	}
	if (vrb_has_feature(vdev, VRB_BLK_F_WRITE_ZEROES)) {
		v = vrb_pci_config_read32(vdev, VRB_BLK_CFG_MAX_WZ_SECT);
		l->max_write_zeroes_sectors = v ? v : UINT_MAX;
	}
	l->write_cache = vrb_blk_write_cache(vdev);
}

/* ---- sysfs: serial and cache_type ------------------------------------ */

/* GET_ID (§5.2.6): up to 20 bytes of serial, not NUL-terminated. */
static int vrb_blk_get_id(struct gendisk *disk, char *id)
{
	struct request_queue *q = disk->queue;
	struct request *rq;
	int err;

	rq = blk_mq_alloc_request(q, REQ_OP_DRV_IN, 0);
	if (IS_ERR(rq))
		return PTR_ERR(rq);
	err = vrb_compat_map_kern(q, rq, id, VRB_BLK_ID_BYTES, GFP_KERNEL);
	if (!err)
		err = blk_status_to_errno(blk_execute_rq(rq, false));
	blk_mq_free_request(rq);
	return err;
}

static ssize_t serial_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct gendisk *disk = dev_to_disk(dev);
	char *id;
	int err;

	/* The request's data must be DMA-able: not on the stack. */
	id = kzalloc(VRB_BLK_ID_BYTES, GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	err = vrb_blk_get_id(disk, id);
	if (!err)
		err = sysfs_emit(buf, "%.*s\n", VRB_BLK_ID_BYTES, id);
	kfree(id);
	return err;
}
static DEVICE_ATTR_RO(serial);

static const char *const vrb_blk_cache_types[] = {
	"write through", "write back",
};

/* What the device says it does (not what we last asked for). */
static ssize_t cache_type_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct vrb_dev *vdev = dev_to_disk(dev)->private_data;
	ssize_t ret = -ENXIO;

	mutex_lock(&vdev->mutex);
	if (!vdev->removed)
		ret = sysfs_emit(buf, "%s\n",
				 vrb_blk_cache_types[vrb_blk_write_cache(vdev)]);
	mutex_unlock(&vdev->mutex);
	return ret;
}

/*
 * Tell the device @writeback (CONFIG_WCE, §5.2.5), read back what it
 * does, and tell the block layer that: with a write cache it sends FLUSH,
 * without it does not.  With vdev->mutex held, so that a cache_type write
 * and a reset (which makes the device forget the mode) never interleave.
 * Setting the queue's flag does not freeze the queue, so no request needs
 * to complete (or a reset to run) while we hold the mutex.
 */
static void vrb_blk_set_cache(struct vrb_dev *vdev, bool writeback)
{
	lockdep_assert_held(&vdev->mutex);
	vrb_pci_config_write8(vdev, VRB_BLK_CFG_WRITEBACK, writeback);
	/* Read back: the device decides what it actually does. */
	vdev->writeback = vrb_blk_write_cache(vdev);
	vrb_compat_set_write_cache(vdev->disk->queue, vdev->writeback);
}

/* CONFIG_WCE (§5.2.5): the driver may switch the device's cache mode. */
static ssize_t cache_type_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct gendisk *disk = dev_to_disk(dev);
	struct vrb_dev *vdev = disk->private_data;
	int i;

	i = sysfs_match_string(vrb_blk_cache_types, buf);
	if (i < 0) {
		dev_err(dev, "cache_type: expected \"write through\" or \"write back\"\n");
		return -EINVAL;
	}
	mutex_lock(&vdev->mutex);
	if (vdev->removed)
		count = -ENXIO;
	else
		vrb_blk_set_cache(vdev, i);
	mutex_unlock(&vdev->mutex);
	return count;
}

/**
 * vrb_blk_restore_cache - put the device back in the block layer's cache mode
 * @vdev: the device, just restarted after a reset, with @vdev->mutex held.
 *
 * A reset restores the device's own default write cache mode (QEMU's: the
 * drive's original one).  If the user had switched it with cache_type,
 * the block layer would still believe the old mode: with "write through"
 * it would stop sending FLUSH to a device that caches again, and fsync()
 * would return before the data is stable.  So the mode the block layer
 * was told is written again; if the device does not take it, the block
 * layer is told what the device does instead.
 *
 * Context: Process context (the reset work); may sleep.
 */
void vrb_blk_restore_cache(struct vrb_dev *vdev)
{
	bool want = vdev->writeback;

	if (!vrb_has_feature(vdev, VRB_BLK_F_CONFIG_WCE))
		return;
	vrb_blk_set_cache(vdev, want);
	if (vdev->writeback != want)
		dev_warn(&vdev->pdev->dev, "%s: the device refuses %s after a reset\n",
			 vdev->disk->disk_name, vrb_blk_cache_types[want]);
}
static DEVICE_ATTR_RW(cache_type);

static struct attribute *vrb_blk_attrs[] = {
	&dev_attr_serial.attr,
	&dev_attr_cache_type.attr,
	NULL,
};

static umode_t vrb_blk_attrs_visible(struct kobject *kobj,
				     struct attribute *a, int n)
{
	struct gendisk *disk = dev_to_disk(kobj_to_dev(kobj));
	struct vrb_dev *vdev = disk->private_data;

	/*
	 * cache_type is writable only when the device lets us switch; kernfs
	 * refuses writes to a 0444 file even from root (EACCES), so
	 * cache_type_store() never runs without CONFIG_WCE.
	 */
	if (a == &dev_attr_cache_type.attr &&
	    !vrb_has_feature(vdev, VRB_BLK_F_CONFIG_WCE))
		return 0444;
	return a->mode;
}

static const struct attribute_group vrb_blk_attr_group = {
	.attrs = vrb_blk_attrs,
	.is_visible = vrb_blk_attrs_visible,
};

static const struct attribute_group *vrb_blk_attr_groups[] = {
	&vrb_blk_attr_group,
	NULL,
};

/* ---- Setup and teardown ---------------------------------------------- */

static void vrb_blk_free_pools(struct vrb_dev *vdev)
{
	unsigned int i, c;

	for (i = 0; i < vdev->nvqs; i++) {
		struct vrb_queue *q = &vdev->queues[i];

		for (c = 0; q->chunks && c < q->nchunks; c++)
			if (q->chunks[c].cpu)
				dma_free_coherent(&vdev->pdev->dev,
						  q->chunks[c].size,
						  q->chunks[c].cpu,
						  q->chunks[c].dma);
		kfree(q->chunks);
		q->chunks = NULL;
		q->nchunks = 0;
		kfree(q->slots);
		q->slots = NULL;
	}
}

/*
 * One slot per tag per queue: header, ranges, status, indirect table,
 * allocated once here so that the hot path allocates nothing.  Slots
 * come in chunks of VRB_POOL_CHUNK bytes; q->slots[tag] says where each
 * one is.  @depth is the tag set's depth as blk-mq granted it, never a
 * number taken from the device.
 */
static int vrb_blk_alloc_pools(struct vrb_dev *vdev, unsigned int depth)
{
	struct device *dev = &vdev->pdev->dev;
	unsigned int i, c, t, per_chunk;

	per_chunk = max_t(unsigned int, 1, VRB_POOL_CHUNK / vdev->slot_size);
	for (i = 0; i < vdev->nvqs; i++) {
		struct vrb_queue *q = &vdev->queues[i];

		q->nchunks = DIV_ROUND_UP(depth, per_chunk);
		q->chunks = kcalloc(q->nchunks, sizeof(*q->chunks), GFP_KERNEL);
		q->slots = kcalloc(depth, sizeof(*q->slots), GFP_KERNEL);
		if (!q->chunks || !q->slots)
			goto fail;
		for (c = 0, t = 0; c < q->nchunks; c++) {
			struct vrb_chunk *ch = &q->chunks[c];
			unsigned int n = min(per_chunk, depth - t), k;

			ch->size = (size_t)n * vdev->slot_size;
			ch->cpu = dma_alloc_coherent(dev, ch->size, &ch->dma,
						     GFP_KERNEL);
			if (!ch->cpu)
				goto fail;
			for (k = 0; k < n; k++, t++) {
				struct vrb_slot *sl = &q->slots[t];

				sl->cpu = ch->cpu + k * vdev->slot_size;
				sl->dma = ch->dma + k * vdev->slot_size;
				sl->indir = (struct vrb_vq_indir){
					.table = (void *)sl->cpu +
						 vdev->indir_off,
					.addr = sl->dma + vdev->indir_off,
					.max = vdev->indir_max,
				};
			}
		}
	}
	return 0;

fail:
	vrb_blk_free_pools(vdev);
	return -ENOMEM;
}

/* What one tag's slot holds: header, ranges, status, indirect table. */
static void vrb_blk_size_slots(struct vrb_dev *vdev)
{
	/* Header, ranges, data segments, status. */
	vdev->indir_max = 0;
	if (vrb_has_feature(vdev, VRB_F_RING_INDIRECT_DESC))
		vdev->indir_max = vdev->max_data_segs + 3;
	vdev->indir_off = ALIGN(sizeof(struct vrb_req_dma),
				sizeof(struct vrb_desc));
	vdev->slot_size = ALIGN(vdev->indir_off +
				vdev->indir_max * sizeof(struct vrb_desc),
				SMP_CACHE_BYTES);
}

/**
 * vrb_blk_probe - allocate the blk-mq disk for a device with live queues
 * @vdev: the device, after DRIVER_OK.
 *
 * Everything but making the disk visible (vrb_blk_add_disk()).
 *
 * Context: Process context; may sleep.
 * Return: 0 or a negative errno; on error nothing is left allocated.
 */
int vrb_blk_probe(struct vrb_dev *vdev)
{
	struct blk_mq_tag_set *set = &vdev->tag_set;
	struct device *dev = &vdev->pdev->dev;
	struct vrb_limits lim;
	u64 cap;
	u32 v;
	int err;

	BUILD_BUG_ON(VRB_MAX_DEPTH > BLK_MQ_MAX_DEPTH);
	if (vdev->ring_size < 3) {
		dev_err(dev, "ring of %u cannot hold a request\n",
			vdev->ring_size);
		return -EINVAL;
	}
	/* §5.2.4 seg_max; at least one, at most what fits the ring. */
	v = 1;
	if (vrb_has_feature(vdev, VRB_BLK_F_SEG_MAX))
		v = max(1U, vrb_pci_config_read32(vdev, VRB_BLK_CFG_SEG_MAX));
	vdev->max_data_segs = min3(v, (u32)vdev->ring_size - 2,
				   VRB_MAX_DATA_SEGS);
	vdev->max_discard_segs = 1;
	if (vrb_has_feature(vdev, VRB_BLK_F_DISCARD)) {
		v = vrb_pci_config_read32(vdev, VRB_BLK_CFG_MAX_DISCARD_SEG);
		vdev->max_discard_segs = clamp(v, 1U, VRB_MAX_DISCARD_SEGS);
	}
	cap = vrb_blk_read_capacity(vdev);
	if (!vrb_capacity_valid(cap)) {
		dev_err(dev, "impossible capacity %llu sectors\n", cap);
		return -EIO;
	}

	vdev->index = ida_alloc_max(&vrb_index_ida,
				    (1 << (MINORBITS - VRB_PART_BITS)) - 1,
				    GFP_KERNEL);
	if (vdev->index < 0)
		return vdev->index;

	memset(set, 0, sizeof(*set));
	set->ops = &vrb_blk_mq_ops;
	set->nr_hw_queues = vdev->nvqs;
	/* DEFAULT, READ (empty) and POLL: see vrb_blk_map_queues(). */
	set->nr_maps = vdev->npoll ? HCTX_TYPE_POLL + 1 : 1;
	set->queue_depth = vrb_queue_depth(vdev->ring_size,
					   vrb_has_feature(vdev, VRB_F_RING_INDIRECT_DESC),
					   vrb_param_queue_depth);
	set->timeout = vrb_param_io_timeout * HZ;
	set->numa_node = dev_to_node(dev);
	set->flags = BLK_MQ_F_SHOULD_MERGE;
	set->cmd_size = sizeof(struct vrb_req) +
			sizeof(struct scatterlist) * vdev->max_data_segs +
			sizeof(struct vrb_vq_buf) * (vdev->max_data_segs + 3);
	set->driver_data = vdev;
	err = blk_mq_alloc_tag_set(set);
	if (err)
		goto out_free_index;

	/* blk-mq may have granted less than asked: size what it granted. */
	vrb_blk_size_slots(vdev);
	err = vrb_blk_alloc_pools(vdev, set->queue_depth);
	if (err)
		goto out_free_tags;

	vrb_blk_limits(vdev, &lim);
	vdev->writeback = lim.write_cache;
	vdev->disk = vrb_compat_alloc_disk(set, &lim, vdev);
	if (IS_ERR(vdev->disk)) {
		err = PTR_ERR(vdev->disk);
		vdev->disk = NULL;
		goto out_free_pools;
	}
	vdev->disk->major = vrb_major;
	vdev->disk->first_minor = vdev->index << VRB_PART_BITS;
	vdev->disk->minors = 1 << VRB_PART_BITS;
	vdev->disk->fops = &vrb_blk_fops;
	vdev->disk->private_data = vdev;
	snprintf(vdev->disk->disk_name, DISK_NAME_LEN, VRB_NAME "%d",
		 vdev->index);
	if (vrb_has_feature(vdev, VRB_BLK_F_RO))
		set_disk_ro(vdev->disk, true);
	set_capacity(vdev->disk, cap);
	return 0;

out_free_pools:
	vrb_blk_free_pools(vdev);
out_free_tags:
	blk_mq_free_tag_set(set);
out_free_index:
	ida_free(&vrb_index_ida, vdev->index);
	vdev->index = -1;
	return err;
}

/**
 * vrb_blk_add_disk - make the disk visible
 * @vdev: the device, after vrb_blk_probe().
 *
 * device_add_disk() already reads the partition table through the rings,
 * so the device must be working (and recoverable: resets enabled).  Once
 * this succeeds the disk owns @vdev: it is freed with the disk's last
 * reference (vrb_blk_free_disk()).
 *
 * Context: Process context; may sleep.
 * Return: 0 or a negative errno (then call vrb_blk_destroy()).
 */
int vrb_blk_add_disk(struct vrb_dev *vdev)
{
	struct device *dev = &vdev->pdev->dev;
	int err;

	err = device_add_disk(dev, vdev->disk, vrb_blk_attr_groups);
	if (err)
		return err;
	dev_info(dev, "%s: %llu sectors, %u queue(s) of %u (%u polled), depth %u, %u segs, %s%s%s\n",
		 vdev->disk->disk_name,
		 (unsigned long long)get_capacity(vdev->disk), vdev->nvqs,
		 vdev->ring_size, vdev->npoll, vdev->tag_set.queue_depth,
		 vdev->max_data_segs,
		 vdev->irq_mode == VRB_IRQ_MSIX ? "msix" :
		 vdev->irq_mode == VRB_IRQ_MSIX_SHARED ? "msix-shared" :
		 "intx",
		 vrb_has_feature(vdev, VRB_F_RING_INDIRECT_DESC) ?
		 " indirect" : "",
		 vrb_has_feature(vdev, VRB_F_RING_EVENT_IDX) ?
		 " event_idx" : "");
	return 0;
}

/**
 * vrb_blk_destroy - undo vrb_blk_probe() for a disk that was never added
 * @vdev: the device, reset so it no longer touches the pools.
 *
 * Context: Process context; may sleep.
 */
void vrb_blk_destroy(struct vrb_dev *vdev)
{
	/*
	 * A disk never added: its last put_disk() also tears its request
	 * queue down (disk_release() calls blk_mq_exit_queue()), which still
	 * uses the tag set; so the disk goes first, then the tag set.  No
	 * ->free_disk for a disk that was never added.
	 */
	put_disk(vdev->disk);
	vdev->disk = NULL;
	vrb_blk_cleanup(vdev);
	ida_free(&vrb_index_ida, vdev->index);
	vdev->index = -1;
}

/**
 * vrb_blk_remove - take the disk away
 * @vdev: the device.
 *
 * After this no request is in flight or can be submitted: del_gendisk()
 * drains the queues.  fds opened on the disk may stay open: the gendisk,
 * and @vdev with it, lives until the last of them closes.
 *
 * Context: Process context; may sleep.
 */
void vrb_blk_remove(struct vrb_dev *vdev)
{
	del_gendisk(vdev->disk);
}

/**
 * vrb_blk_cleanup - free the tag set and the per-tag pools
 * @vdev: the device, reset so it no longer touches the pools, its disk
 *	  deleted (or never added).
 *
 * The gendisk stays: its last reference frees it, and @vdev.
 *
 * Context: Process context; may sleep.
 */
void vrb_blk_cleanup(struct vrb_dev *vdev)
{
	blk_mq_free_tag_set(&vdev->tag_set);
	vrb_blk_free_pools(vdev);
}

/**
 * vrb_blk_init - register the vringblk block major
 *
 * Context: Module init.
 * Return: 0 or a negative errno.
 */
int vrb_blk_init(void)
{
	vrb_major = register_blkdev(0, VRB_NAME);
	return vrb_major < 0 ? vrb_major : 0;
}

/**
 * vrb_blk_exit - unregister the block major
 *
 * Context: Module exit.
 */
void vrb_blk_exit(void)
{
	unregister_blkdev(vrb_major, VRB_NAME);
	ida_destroy(&vrb_index_ida);
}
