// SPDX-License-Identifier: GPL-2.0
/*
 * vrb_debugfs.c - a live view of vringblk's rings for learners.
 *
 *	/sys/kernel/debug/vringblk/vringblk0/features	negotiated, by name
 *	/sys/kernel/debug/vringblk/vringblk0/irq	interrupt mode, vectors
 *	/sys/kernel/debug/vringblk/vringblk0/vq0/ring	layout and indices
 *	/sys/kernel/debug/vringblk/vringblk0/vq0/descs	descriptor table
 *	/sys/kernel/debug/vringblk/vringblk0/vq0/rings	recent avail/used
 *	/sys/kernel/debug/vringblk/vringblk0/vq0/stats	counters
 *	/sys/kernel/debug/vringblk/vringblk0/vq0/inject	play a bad device
 *
 * Every file is a snapshot taken under the queue's lock, so its numbers
 * agree with each other; reading it never disturbs I/O beyond holding
 * the lock for the copy.  Writing 0 to "stats" resets the counters.
 *
 * "inject" takes one of the names in vrb_dbg_inject_names: the next used
 * element the driver looks at is altered in ring memory before the ring
 * core reads it, exactly as if the device had written the bad value, so
 * the real checks in vrb_vq.c run against it.
 */
#include <linux/debugfs.h>
#include <linux/math64.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "vringblk.h"

static struct dentry *vrb_dbg_root;

/* Feature bits by name, for "features" and the ring view. */
static const char *const vrb_dbg_feature_names[32] = {
	[VRB_BLK_F_SIZE_MAX] = "SIZE_MAX",
	[VRB_BLK_F_SEG_MAX] = "SEG_MAX",
	[VRB_BLK_F_GEOMETRY] = "GEOMETRY",
	[VRB_BLK_F_RO] = "RO",
	[VRB_BLK_F_BLK_SIZE] = "BLK_SIZE",
	[VRB_BLK_F_FLUSH] = "FLUSH",
	[VRB_BLK_F_TOPOLOGY] = "TOPOLOGY",
	[VRB_BLK_F_CONFIG_WCE] = "CONFIG_WCE",
	[VRB_BLK_F_MQ] = "MQ",
	[VRB_BLK_F_DISCARD] = "DISCARD",
	[VRB_BLK_F_WRITE_ZEROES] = "WRITE_ZEROES",
	[VRB_F_RING_INDIRECT_DESC] = "INDIRECT_DESC",
	[VRB_F_RING_EVENT_IDX] = "EVENT_IDX",
	[VRB_BLK_F_SCSI_LEGACY] = "SCSI(legacy)",
	[VRB_F_NOTIFY_ON_EMPTY] = "NOTIFY_ON_EMPTY",
	[VRB_F_ANY_LAYOUT] = "ANY_LAYOUT",
	[VRB_F_BAD_FEATURE] = "BAD_FEATURE",
};

static void vrb_dbg_print_features(struct seq_file *m, u32 features)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		if (!(features & BIT(bit)))
			continue;
		if (vrb_dbg_feature_names[bit])
			seq_printf(m, " %s", vrb_dbg_feature_names[bit]);
		else
			seq_printf(m, " bit%u", bit);
	}
	seq_putc(m, '\n');
}

static int vrb_dbg_features_show(struct seq_file *m, void *v)
{
	struct vrb_dev *vdev = m->private;

	seq_printf(m, "device:    %#010x", vdev->device_features);
	vrb_dbg_print_features(m, vdev->device_features);
	seq_printf(m, "negotiated: %#010x", vdev->features);
	vrb_dbg_print_features(m, vdev->features);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vrb_dbg_features);

/*
 * irq: how the device interrupts us, which MSI-X vector serves what, and
 * how often the INTx handler had to read the ISR to find out why.
 */
static int vrb_dbg_irq_show(struct seq_file *m, void *v)
{
	static const char *const modes[] = {
		[VRB_IRQ_NONE] = "none",
		[VRB_IRQ_MSIX] = "msix",
		[VRB_IRQ_MSIX_SHARED] = "msix-shared",
		[VRB_IRQ_INTX] = "intx",
	};
	struct vrb_dev *vdev = m->private;
	struct pci_dev *pdev = vdev->pdev;
	unsigned int i;

	seq_printf(m, "mode: %s\n", modes[vdev->irq_mode]);
	switch (vdev->irq_mode) {
	case VRB_IRQ_MSIX:
		seq_printf(m, "config: vector 0 (irq %d)\n",
			   pci_irq_vector(pdev, 0));
		for (i = 0; i < vrb_irq_queues(vdev); i++)
			seq_printf(m, "vq%u: vector %u (irq %d)\n", i, i + 1,
				   pci_irq_vector(pdev, i + 1));
		break;
	case VRB_IRQ_MSIX_SHARED:
		seq_printf(m, "config: vector 0 (irq %d)\n",
			   pci_irq_vector(pdev, 0));
		seq_printf(m, "vq0-vq%u: vector 1 (irq %d)\n",
			   vrb_irq_queues(vdev) - 1, pci_irq_vector(pdev, 1));
		break;
	case VRB_IRQ_INTX:
		seq_printf(m, "config and queues: INTx (irq %d)\n", pdev->irq);
		break;
	case VRB_IRQ_NONE:
		break;
	}
	for (i = vrb_irq_queues(vdev); i < vdev->nvqs; i++)
		seq_printf(m, "vq%u: polled, no interrupt\n", i);
	seq_printf(m, "isr reads: %llu\n", READ_ONCE(vdev->isr_reads));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vrb_dbg_irq);

/* ring: the layout in memory and every index, as one snapshot. */
static int vrb_dbg_ring_show(struct seq_file *m, void *v)
{
	struct vrb_queue *q = m->private;
	struct vrb_vq *vq = &q->vq;
	u16 avail_idx, avail_flags, used_idx, used_flags;
	u16 used_event, avail_event;
	unsigned int num_free, inflight;
	u16 shadow, last_used;
	bool broken;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	avail_idx = READ_ONCE(vq->avail->idx);
	avail_flags = READ_ONCE(vq->avail->flags);
	used_idx = READ_ONCE(vq->used->idx);		/* device writes */
	used_flags = READ_ONCE(vq->used->flags);	/* device writes */
	used_event = READ_ONCE(*vq->used_event);
	avail_event = READ_ONCE(*vq->avail_event);	/* device writes */
	shadow = vq->avail_idx_shadow;
	last_used = vq->last_used_idx;
	num_free = vq->num_free;
	inflight = vq->num_inflight;
	broken = vq->broken;
	spin_unlock_irqrestore(&q->lock, flags);

	seq_printf(m, "queue size:        %u\n", vq->num);
	seq_printf(m, "ring memory:       %pad, %zu bytes, PFN %#llx\n",
		   &q->ring_dma, q->ring_size,
		   (unsigned long long)q->ring_dma >> VRB_PCI_QUEUE_PFN_SHIFT);
	seq_printf(m, "descriptor table:  %pad + %#zx, %zu bytes\n",
		   &q->ring_dma, vq->layout.desc_off, vq->layout.desc_bytes);
	seq_printf(m, "available ring:    %pad + %#zx, %zu bytes\n",
		   &q->ring_dma, vq->layout.avail_off, vq->layout.avail_bytes);
	seq_printf(m, "used ring:         %pad + %#zx, %zu bytes\n",
		   &q->ring_dma, vq->layout.used_off, vq->layout.used_bytes);
	seq_printf(m, "ring features:    %s%s\n",
		   vq->indirect ? " INDIRECT_DESC" : "",
		   vq->event_idx ? " EVENT_IDX" : "");
	seq_printf(m, "completions:       %s\n",
		   vq->polled ? "polled (interrupts off for good)" :
		   "interrupt");
	seq_printf(m, "avail.idx:         %u (shadow %u)\n", avail_idx, shadow);
	seq_printf(m, "avail.flags:       %#x%s\n", avail_flags,
		   avail_flags & VRB_AVAIL_F_NO_INTERRUPT ?
		   " NO_INTERRUPT" : "");
	seq_printf(m, "used.idx:          %u (last seen by driver %u)\n",
		   used_idx, last_used);
	seq_printf(m, "used.flags:        %#x%s\n", used_flags,
		   used_flags & VRB_USED_F_NO_NOTIFY ? " NO_NOTIFY" : "");
	if (vq->event_idx)
		seq_printf(m, "used_event:        %u\navail_event:       %u\n",
			   used_event, avail_event);
	seq_printf(m, "chains in flight:  %u\n", inflight);
	seq_printf(m, "free descriptors:  %u of %u\n", num_free, vq->num);
	seq_printf(m, "broken:            %s\n", broken ? "yes" : "no");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vrb_dbg_ring);

/* What the descs view shows of a request, copied under the lock. */
struct vrb_dbg_rq {
	int tag;		/* blk-mq tag */
	enum req_op op;		/* REQ_OP_* */
	unsigned int owner;	/* head of the chain holding it, or FREE */
};

#define VRB_DBG_FREE	UINT_MAX
/* Entries of the avail and used rings shown by "rings". */
#define VRB_DBG_RECENT	16U

/* One descriptor on one line, without the newline. */
static void vrb_dbg_print_desc(struct seq_file *m, const char *pfx,
			       unsigned int i, const struct vrb_desc *d)
{
	seq_printf(m, "%s%4u addr %#014llx len %6u next %4u %-8s%-6s%-9s", pfx,
		   i, d->addr, d->len, d->next,
		   d->flags & VRB_DESC_F_NEXT ? "NEXT" : "",
		   d->flags & VRB_DESC_F_WRITE ? "WRITE" : "",
		   d->flags & VRB_DESC_F_INDIRECT ? "INDIRECT" : "");
}

/*
 * descs: the descriptor table, with each in-flight chain walked from its
 * head (indirect tables expanded) and a count of free descriptors.  The
 * copy is taken under the lock into a buffer, then printed.
 */
static int vrb_dbg_descs_show(struct seq_file *m, void *v)
{
	struct vrb_queue *q = m->private;
	struct vrb_vq *vq = &q->vq;
	struct vrb_vq_desc_state *st;
	struct vrb_desc *desc, *indir;
	struct vrb_dbg_rq *rqs;
	unsigned int i, j, n, max_indir = q->vdev->indir_max;
	unsigned long flags;
	int err = 0;
	size_t indir_bytes = sizeof(*indir) * max_indir * vq->num;

	desc = kvmalloc_array(vq->num, sizeof(*desc), GFP_KERNEL);
	st = kvmalloc_array(vq->num, sizeof(*st), GFP_KERNEL);
	rqs = kvmalloc_array(vq->num, sizeof(*rqs), GFP_KERNEL);
	indir = vq->indirect ? kvmalloc(indir_bytes, GFP_KERNEL) : NULL;
	if (!desc || !st || !rqs || (vq->indirect && !indir)) {
		err = -ENOMEM;
		goto out_free;
	}

	spin_lock_irqsave(&q->lock, flags);
	memcpy(desc, vq->desc, sizeof(*desc) * vq->num);
	memcpy(st, vq->state, sizeof(*st) * vq->num);
	for (i = 0; i < vq->num; i++) {
		struct request *rq = st[i].token;

		if (!rq)
			continue;
		/* The request is ours while in flight: safe to look at. */
		rqs[i].tag = rq->tag;
		rqs[i].op = req_op(rq);
		if (indir && st[i].indir)
			memcpy(&indir[i * max_indir], st[i].indir,
			       sizeof(*indir) * min_t(unsigned int,
						      st[i].nbufs, max_indir));
	}
	spin_unlock_irqrestore(&q->lock, flags);

	/* Which chain does each descriptor belong to?  Walk them all. */
	for (i = 0; i < vq->num; i++)
		rqs[i].owner = VRB_DBG_FREE;
	for (i = 0; i < vq->num; i++) {
		unsigned int d = i;

		if (!st[i].token)
			continue;
		for (j = 0; j < st[i].ndescs && d < vq->num; j++) {
			rqs[d].owner = i;
			d = st[d].next;
		}
	}

	seq_printf(m, "%u descriptors, %u free (driver-private free list)\n",
		   vq->num, vq->num_free);
	for (i = 0; i < vq->num; i++) {
		unsigned int h = rqs[i].owner;

		vrb_dbg_print_desc(m, "", i, &desc[i]);
		if (h == VRB_DBG_FREE) {
			seq_puts(m, "| free\n");
			continue;
		}
		if (h != i) {
			seq_printf(m, "| in chain %u\n", h);
			continue;
		}
		seq_printf(m, "| head: tag %d %s, %u buffers, %u writable bytes\n",
			   rqs[h].tag, blk_op_str(rqs[h].op), st[h].nbufs,
			   st[h].in_bytes);
		if (!st[i].indir)
			continue;
		n = min_t(unsigned int, st[i].nbufs, max_indir);
		for (j = 0; j < n; j++) {
			vrb_dbg_print_desc(m, "     indirect ", j,
					   &indir[i * max_indir + j]);
			seq_printf(m, "| table of chain %u\n", i);
		}
	}

out_free:
	kvfree(desc);
	kvfree(st);
	kvfree(rqs);
	kvfree(indir);
	return err;
}
DEFINE_SHOW_ATTRIBUTE(vrb_dbg_descs);

/*
 * rings: the most recent entries of the available ring (heads the driver
 * offered) and of the used ring (what the device returned), newest last.
 */
static int vrb_dbg_rings_show(struct seq_file *m, void *v)
{
	struct vrb_queue *q = m->private;
	struct vrb_vq *vq = &q->vq;
	u16 avail[VRB_DBG_RECENT];
	struct vrb_used_elem used[VRB_DBG_RECENT];
	u16 avail_idx, used_idx, i, n, na, nu, mask = vq->num - 1;
	unsigned long flags;

	n = min_t(unsigned int, VRB_DBG_RECENT, vq->num);
	spin_lock_irqsave(&q->lock, flags);
	avail_idx = vq->avail_idx_shadow;
	used_idx = READ_ONCE(vq->used->idx);		/* device writes */
	/* As in vrb_vq_get_used(): kunit/litmus/barrier-C-complete.litmus */
	virt_rmb();	/* Barrier C (for pairing): idx before elements */
	for (i = 0; i < n; i++) {
		avail[i] = vq->avail->ring[(u16)(avail_idx - n + i) & mask];
		used[i] = vq->used->ring[(u16)(used_idx - n + i) & mask];
	}
	spin_unlock_irqrestore(&q->lock, flags);

	/* Before the first wrap, slots below idx 0 were never written. */
	na = min(n, avail_idx);
	nu = min(n, used_idx);
	seq_printf(m, "avail ring, idx %u, last %u entries:\n", avail_idx, na);
	for (i = n - na; i < n; i++)
		seq_printf(m, "  [%5u] slot %4u head %u\n",
			   (u16)(avail_idx - n + i),
			   (u16)(avail_idx - n + i) & mask, avail[i]);
	seq_printf(m, "used ring, idx %u, last %u entries:\n", used_idx, nu);
	for (i = n - nu; i < n; i++)
		seq_printf(m, "  [%5u] slot %4u id %u len %u\n",
			   (u16)(used_idx - n + i),
			   (u16)(used_idx - n + i) & mask, used[i].id,
			   used[i].len);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vrb_dbg_rings);

/* a / b with two decimals, in integer arithmetic (no FPU in the kernel). */
static void vrb_dbg_print_ratio(struct seq_file *m, const char *name, u64 a,
				u64 b)
{
	u64 hundredths = b ? div64_u64(a * 100, b) : 0;

	seq_printf(m, "%s %llu.%02llu\n", name, div_u64(hundredths, 100),
		   hundredths % 100);
}

static int vrb_dbg_stats_show(struct seq_file *m, void *v)
{
	struct vrb_queue *q = m->private;
	struct vrb_vq_stats vs;
	struct vrb_queue_stats qs;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	vs = q->vq.stats;
	qs = q->stats;
	spin_unlock_irqrestore(&q->lock, flags);

	seq_printf(m, "added %llu\ndescs %llu\nindirect %llu\nfull %llu\n",
		   vs.added, vs.descs, vs.indirect, vs.full);
	seq_printf(m, "kicks %llu\nkicks_suppressed %llu\n",
		   vs.kicks, vs.kicks_suppressed);
	seq_printf(m, "used %llu\nlen_clamped %llu\nbroken %llu\n",
		   vs.used, vs.len_clamped, vs.broken);
	seq_printf(m, "max_inflight %u\n", vs.max_inflight);
	seq_printf(m, "irqs %llu\nspurious %llu\ncompleted %llu\n",
		   qs.irqs, qs.spurious, qs.completed);
	seq_printf(m, "polls %lld\n", atomic64_read(&q->polls));
	seq_printf(m, "stalls %llu\nrestarts %llu\n", qs.stalls, qs.restarts);
	seq_printf(m, "timeouts %llu\nmissed_irqs %llu\nrekicks %llu\n",
		   qs.timeouts, qs.missed_irqs, qs.rekicks);
	vrb_dbg_print_ratio(m, "completions_per_irq", qs.completed, qs.irqs);
	vrb_dbg_print_ratio(m, "kicks_per_request", vs.kicks, vs.added);
	return 0;
}

/* Names accepted by "inject", indexed by enum vrb_inject. */
static const char *const vrb_dbg_inject_names[VRB_INJECT_MAX] = {
	[VRB_INJECT_NONE] = "none",
	[VRB_INJECT_ID_RANGE] = "id_range",
	[VRB_INJECT_NON_HEAD] = "non_head",
	[VRB_INJECT_DUPLICATE] = "duplicate",
	[VRB_INJECT_IDX_JUMP] = "idx_jump",
	[VRB_INJECT_LEN] = "len",
	[VRB_INJECT_STATUS] = "status",
	[VRB_INJECT_LOST_IRQ] = "lost_irq",
	[VRB_INJECT_DROPPED] = "dropped",
};

/**
 * vrb_dbg_inject - alter the next used element as a bad device would
 * @q: the queue, with @q->inject armed.
 *
 * Waits (stays armed) until the device has published a used element,
 * then rewrites it, or used->idx, and disarms.
 *
 * Context: Interrupt context, with q->lock held.
 * Return: true if the interrupt must be ignored (lost_irq): the element
 * stays in the used ring until something else looks there.
 */
bool vrb_dbg_inject(struct vrb_queue *q)
{
	bool lost = false;
	struct vrb_vq *vq = &q->vq;
	u16 slot = vq->last_used_idx & (vq->num - 1);
	struct vrb_used_elem *e = &vq->used->ring[slot];
	struct vrb_req *vreq;
	struct request *rq;
	unsigned int i;

	if (vq->broken || READ_ONCE(vq->used->idx) == vq->last_used_idx)
		return false;		/* nothing published yet: wait */
	/* As in vrb_vq_get_used(): kunit/litmus/barrier-C-complete.litmus */
	virt_rmb();	/* Barrier C (for pairing): idx before the element */

	switch (q->inject) {
	case VRB_INJECT_ID_RANGE:
		WRITE_ONCE(e->id, vq->num + 7);
		break;
	case VRB_INJECT_NON_HEAD:
		for (i = 0; i < vq->num; i++)
			if (!vq->state[i].token)
				break;
		WRITE_ONCE(e->id, i);	/* == num if all are heads: also bad */
		break;
	case VRB_INJECT_DUPLICATE:
		/*
		 * The chain completed last time, completed again.  If that
		 * head is in flight again (the free list hands it straight
		 * back at queue depth 1), repeat the pending element in the
		 * next slot instead: the same chain, completed twice.
		 */
		if (vq->stats.used && !vq->state[vq->last_id].token) {
			WRITE_ONCE(e->id, vq->last_id);
			break;
		}
		vq->used->ring[(slot + 1) & (vq->num - 1)] = *e;
		/* The device's side: kunit/litmus/barrier-C-complete.litmus */
		virt_wmb();	/* Barrier C (for pairing): element, then idx */
		WRITE_ONCE(vq->used->idx, READ_ONCE(vq->used->idx) + 1);
		break;
	case VRB_INJECT_IDX_JUMP:
		WRITE_ONCE(vq->used->idx, vq->last_used_idx + vq->num + 1);
		break;
	case VRB_INJECT_LEN:
		WRITE_ONCE(e->len, U32_MAX);
		break;
	case VRB_INJECT_STATUS:
		if (READ_ONCE(e->id) >= vq->num)
			break;
		rq = vq->state[READ_ONCE(e->id)].token;
		if (!rq)
			break;
		vreq = blk_mq_rq_to_pdu(rq);
		WRITE_ONCE(vreq->slot->cpu->status, VRB_STATUS_UNWRITTEN);
		break;
	case VRB_INJECT_LOST_IRQ:
		lost = true;
		break;
	case VRB_INJECT_DROPPED:
		q->drop = true;		/* see vrb_blk_drain_used() */
		break;
	}
	dev_warn(&q->vdev->pdev->dev, "vq%u: injected '%s' at used idx %u\n",
		 q->index, vrb_dbg_inject_names[q->inject], vq->last_used_idx);
	WRITE_ONCE(q->inject, VRB_INJECT_NONE);
	return lost;
}

static int vrb_dbg_inject_show(struct seq_file *m, void *v)
{
	struct vrb_queue *q = m->private;
	unsigned int i;

	for (i = 0; i < VRB_INJECT_MAX; i++)
		seq_printf(m, i == READ_ONCE(q->inject) ? "[%s] " : "%s ",
			   vrb_dbg_inject_names[i]);
	seq_putc(m, '\n');
	return 0;
}

static int vrb_dbg_inject_open(struct inode *inode, struct file *file)
{
	return single_open(file, vrb_dbg_inject_show, inode->i_private);
}

static ssize_t vrb_dbg_inject_write(struct file *file,
				    const char __user *ubuf, size_t count,
				    loff_t *ppos)
{
	struct vrb_queue *q = file_inode(file)->i_private;
	char buf[16];
	int i;

	if (count < sizeof(buf)) {
		if (copy_from_user(buf, ubuf, count))
			return -EFAULT;
		buf[count] = '\0';
		i = sysfs_match_string(vrb_dbg_inject_names, buf);
	} else {
		i = -EINVAL;	/* longer than any name */
	}
	if (i < 0) {
		dev_err(&q->vdev->pdev->dev,
			"inject: expected none, id_range, non_head, duplicate, idx_jump, len, status, lost_irq or dropped\n");
		return -EINVAL;
	}
	WRITE_ONCE(q->inject, i);
	return count;
}

static const struct file_operations vrb_dbg_inject_fops = {
	.owner = THIS_MODULE,
	.open = vrb_dbg_inject_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = vrb_dbg_inject_write,
};

static int vrb_dbg_stats_open(struct inode *inode, struct file *file)
{
	return single_open(file, vrb_dbg_stats_show, inode->i_private);
}

/* Writing 0 resets every counter of the queue; anything else: -EINVAL. */
static ssize_t vrb_dbg_stats_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct vrb_queue *q = file_inode(file)->i_private;
	unsigned long flags;
	unsigned int val;
	int err;

	/*
	 * kstrtouint_from_user() quietly parses only the first bytes of a
	 * long write: refuse anything longer than a number can be.
	 */
	err = count > 16 ? -EINVAL : kstrtouint_from_user(ubuf, count, 0, &val);
	if (err || val != 0) {
		dev_err(&q->vdev->pdev->dev, "stats: write 0 to reset\n");
		return -EINVAL;
	}
	spin_lock_irqsave(&q->lock, flags);
	memset(&q->vq.stats, 0, sizeof(q->vq.stats));
	memset(&q->stats, 0, sizeof(q->stats));
	atomic64_set(&q->polls, 0);
	spin_unlock_irqrestore(&q->lock, flags);
	return count;
}

static const struct file_operations vrb_dbg_stats_fops = {
	.owner = THIS_MODULE,
	.open = vrb_dbg_stats_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = vrb_dbg_stats_write,
};

/**
 * vrb_dbg_add_dev - create a device's debugfs directory
 * @vdev: the device, with its disk added.
 *
 * Failures are ignored, as debugfs wants: the driver works without it.
 *
 * Context: Process context.
 */
void vrb_dbg_add_dev(struct vrb_dev *vdev)
{
	unsigned int i;
	char name[16];

	vdev->dbg_dir = debugfs_create_dir(vdev->disk->disk_name,
					   vrb_dbg_root);
	debugfs_create_file("features", 0444, vdev->dbg_dir, vdev,
			    &vrb_dbg_features_fops);
	debugfs_create_file("irq", 0444, vdev->dbg_dir, vdev,
			    &vrb_dbg_irq_fops);
	for (i = 0; i < vdev->nvqs; i++) {
		struct vrb_queue *q = &vdev->queues[i];

		snprintf(name, sizeof(name), "vq%u", i);
		q->dbg_dir = debugfs_create_dir(name, vdev->dbg_dir);
		debugfs_create_file("ring", 0444, q->dbg_dir, q,
				    &vrb_dbg_ring_fops);
		debugfs_create_file("descs", 0444, q->dbg_dir, q,
				    &vrb_dbg_descs_fops);
		debugfs_create_file("rings", 0444, q->dbg_dir, q,
				    &vrb_dbg_rings_fops);
		debugfs_create_file("stats", 0644, q->dbg_dir, q,
				    &vrb_dbg_stats_fops);
		debugfs_create_file("inject", 0600, q->dbg_dir, q,
				    &vrb_dbg_inject_fops);
	}
}

/**
 * vrb_dbg_remove_dev - remove a device's debugfs directory
 * @vdev: the device.
 *
 * Waits for readers of its files to finish.
 *
 * Context: Process context; may sleep.
 */
void vrb_dbg_remove_dev(struct vrb_dev *vdev)
{
	debugfs_remove(vdev->dbg_dir);
	vdev->dbg_dir = NULL;
}

/**
 * vrb_dbg_init - create /sys/kernel/debug/vringblk
 *
 * Context: Module init.
 */
void vrb_dbg_init(void)
{
	vrb_dbg_root = debugfs_create_dir(VRB_NAME, NULL);
}

/**
 * vrb_dbg_exit - remove /sys/kernel/debug/vringblk
 *
 * Context: Module exit.
 */
void vrb_dbg_exit(void)
{
	debugfs_remove(vrb_dbg_root);
}
