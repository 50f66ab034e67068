// SPDX-License-Identifier: GPL-2.0
/*
 * vrb_pci.c - vringblk's legacy virtio-pci transport: finds the device,
 * walks the initialisation handshake of virtio 1.2 §3.1 (legacy variant,
 * §3.1.2: no FEATURES_OK), builds the virtqueues in dma_alloc_coherent()
 * memory (§4.1.4.10, §2.7.2), wires up interrupts (MSI-X, §4.1.4.10 and
 * §4.1.5.1.2; or INTx with the ISR, §4.1.4.5) and tears it all down.
 *
 * Reading order: module parameters, interrupt handlers, the queues, the
 * interrupts, probe (the handshake, step by step), remove, module init.
 */
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "vringblk.h"
#include "vrb_trace.h"

/* ---- Module parameters ---------------------------------------------- */

/* Feature names accepted by disable=, in bit order. */
static const struct {
	const char *name;
	unsigned int bit;
} vrb_feature_names[] = {
	{ "size_max", VRB_BLK_F_SIZE_MAX },
	{ "seg_max", VRB_BLK_F_SEG_MAX },
	{ "geometry", VRB_BLK_F_GEOMETRY },
	{ "ro", VRB_BLK_F_RO },
	{ "blk_size", VRB_BLK_F_BLK_SIZE },
	{ "flush", VRB_BLK_F_FLUSH },
	{ "topology", VRB_BLK_F_TOPOLOGY },
	{ "config_wce", VRB_BLK_F_CONFIG_WCE },
	{ "mq", VRB_BLK_F_MQ },
	{ "discard", VRB_BLK_F_DISCARD },
	{ "write_zeroes", VRB_BLK_F_WRITE_ZEROES },
	{ "indirect_desc", VRB_F_RING_INDIRECT_DESC },
	{ "event_idx", VRB_F_RING_EVENT_IDX },
};

/* Features declined with disable=, as a mask of bits. */
static u32 vrb_declined;
static char vrb_declined_str[256];

static int vrb_param_disable_set(const char *val, const struct kernel_param *kp)
{
	char buf[sizeof(vrb_declined_str)];
	char *cur = buf, *tok;
	u32 mask = 0;
	unsigned int i;

	if (strscpy(buf, val, sizeof(buf)) < 0) {
		pr_err(VRB_NAME ": disable=: value too long\n");
		return -EINVAL;
	}
	strim(buf);
	while ((tok = strsep(&cur, ",")) != NULL) {
		if (!*tok)
			continue;
		for (i = 0; i < ARRAY_SIZE(vrb_feature_names); i++)
			if (!strcmp(tok, vrb_feature_names[i].name))
				break;
		if (i == ARRAY_SIZE(vrb_feature_names)) {
			pr_err(VRB_NAME ": disable=: unknown feature '%s' (known: size_max seg_max geometry ro blk_size flush topology config_wce mq discard write_zeroes indirect_desc event_idx)\n",
			       tok);
			return -EINVAL;
		}
		mask |= BIT(vrb_feature_names[i].bit);
	}
	vrb_declined = mask;
	strscpy(vrb_declined_str, val, sizeof(vrb_declined_str));
	strim(vrb_declined_str);
	return 0;
}

static int vrb_param_disable_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n", vrb_declined_str);
}

static const struct kernel_param_ops vrb_param_disable_ops = {
	.set = vrb_param_disable_set,
	.get = vrb_param_disable_get,
};

module_param_cb(disable, &vrb_param_disable_ops, NULL, 0444);
MODULE_PARM_DESC(disable,
		 "Comma-separated features to decline even if offered: size_max,seg_max,geometry,ro,blk_size,flush,topology,config_wce,mq,discard,write_zeroes,indirect_desc,event_idx");

unsigned int vrb_param_num_queues;
unsigned int vrb_param_queue_depth;

/* A uint parameter with an upper bound, rejected with a message. */
static int vrb_param_uint_max(const char *val, const struct kernel_param *kp,
			      unsigned int max)
{
	unsigned int v;
	int err;

	err = kstrtouint(val, 0, &v);
	if (err || v > max) {
		pr_err(VRB_NAME ": %s=%s: expected 0..%u\n", kp->name, val, max);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = v;
	return 0;
}

static int vrb_param_num_queues_set(const char *val,
				    const struct kernel_param *kp)
{
	return vrb_param_uint_max(val, kp, 256);
}

static const struct kernel_param_ops vrb_param_num_queues_ops = {
	.set = vrb_param_num_queues_set,
	.get = param_get_uint,
};

module_param_cb(num_queues, &vrb_param_num_queues_ops,
		&vrb_param_num_queues, 0444);
MODULE_PARM_DESC(num_queues,
		 "Most interrupt-driven virtqueues (hardware queues) per device, 0 = one per CPU up to what the device offers (default 0, max 256)");

/*
 * Poll queues: virtqueues without an interrupt, for io_uring's IOPOLL
 * (HIPRI) requests, whose submitter reaps completions by polling.  They
 * need VIRTIO_BLK_F_MQ (§5.2.3) and come on top of at least one
 * interrupt queue, which every other request uses.
 */
static unsigned int vrb_param_poll_queues;

static int vrb_param_poll_queues_set(const char *val,
				     const struct kernel_param *kp)
{
	return vrb_param_uint_max(val, kp, 255);
}

static const struct kernel_param_ops vrb_param_poll_queues_ops = {
	.set = vrb_param_poll_queues_set,
	.get = param_get_uint,
};

module_param_cb(poll_queues, &vrb_param_poll_queues_ops,
		&vrb_param_poll_queues, 0444);
MODULE_PARM_DESC(poll_queues,
		 "Virtqueues reserved for polled I/O (io_uring IOPOLL), without interrupts; needs a device with more queues than that (default 0, max 255)");

static int vrb_param_queue_depth_set(const char *val,
				     const struct kernel_param *kp)
{
	return vrb_param_uint_max(val, kp, VRB_VQ_MAX_SIZE);
}

static const struct kernel_param_ops vrb_param_queue_depth_ops = {
	.set = vrb_param_queue_depth_set,
	.get = param_get_uint,
};

module_param_cb(queue_depth, &vrb_param_queue_depth_ops,
		&vrb_param_queue_depth, 0444);
MODULE_PARM_DESC(queue_depth,
		 "Requests in flight per queue, 0 = derived from the ring size (default 0, max 32768)");

/* How to interrupt: "auto" tries msix, then shared, then intx. */
static const char *const vrb_irq_modes[] = { "auto", "msix", "shared",
					     "intx" };
static int vrb_param_irq;	/* index into vrb_irq_modes */

static int vrb_param_irq_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(vrb_irq_modes, val);

	if (i < 0) {
		pr_err(VRB_NAME ": irq=%s: expected auto, msix, shared or intx\n",
		       val);
		return -EINVAL;
	}
	vrb_param_irq = i;
	return 0;
}

static int vrb_param_irq_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n", vrb_irq_modes[vrb_param_irq]);
}

static const struct kernel_param_ops vrb_param_irq_ops = {
	.set = vrb_param_irq_set,
	.get = vrb_param_irq_get,
};

module_param_cb(irq, &vrb_param_irq_ops, NULL, 0444);
MODULE_PARM_DESC(irq,
		 "Interrupt mode: auto (MSI-X per queue, else a config vector and one shared by the queues, else INTx), msix, shared or intx (default auto)");

unsigned int vrb_param_io_timeout = 30;

static int vrb_param_io_timeout_set(const char *val,
				    const struct kernel_param *kp)
{
	unsigned int v;

	if (kstrtouint(val, 0, &v) || v < 1 || v > 3600) {
		pr_err(VRB_NAME ": io_timeout=%s: expected 1..3600 (seconds)\n",
		       val);
		return -EINVAL;
	}
	vrb_param_io_timeout = v;
	return 0;
}

static const struct kernel_param_ops vrb_param_io_timeout_ops = {
	.set = vrb_param_io_timeout_set,
	.get = param_get_uint,
};

module_param_cb(io_timeout, &vrb_param_io_timeout_ops, &vrb_param_io_timeout,
		0444);
MODULE_PARM_DESC(io_timeout,
		 "Seconds a request may take before the driver steps in: look for a lost interrupt, kick again, reset (default 30, 1..3600)");

bool vrb_param_batch_kicks = true;
module_param_named(batch_kicks, vrb_param_batch_kicks, bool, 0444);
MODULE_PARM_DESC(batch_kicks,
		 "Kick once per batch of requests (blk-mq's bd->last) instead of after every request (default Y)");

/*
 * Recovery (the reset) and configuration changes run here, not on the
 * system workqueue: a disk that holds swap, or dirty pages the kernel
 * must write back to free memory, may need a reset to make progress
 * exactly when memory is short.  WQ_MEM_RECLAIM gives this workqueue a
 * rescuer thread of its own, so its work runs even when no new worker
 * can be created (nvme does the same).
 */
struct workqueue_struct *vrb_wq;

/* ---- Interrupts ------------------------------------------------------ */

/*
 * A config change (§4.1.4.5 bit 1): QEMU's block_resize, for instance.
 * During probe the disk is not live yet: remember it, probe replays it.
 */
static void vrb_pci_config_irq(struct vrb_dev *vdev)
{
	spin_lock(&vdev->config_lock);
	if (vdev->config_enabled)
		queue_work(vrb_wq, &vdev->config_work);
	else
		vdev->config_pending = true;
	spin_unlock(&vdev->config_lock);
}

/* The config interrupt's bottom half: it may sleep. */
static void vrb_pci_config_work(struct work_struct *work)
{
	struct vrb_dev *vdev = container_of(work, struct vrb_dev,
					    config_work);

	vrb_blk_config_changed(vdev);
}

/* MSI-X: the config vector. */
static irqreturn_t vrb_pci_msix_config(int irq, void *data)
{
	struct vrb_dev *vdev = data;

	trace_vrb_irq(vdev->index, 0, VRB_PCI_ISR_CONFIG);
	vrb_pci_config_irq(vdev);
	return IRQ_HANDLED;
}

/* MSI-X: one queue's vector. */
static irqreturn_t vrb_pci_msix_queue(int irq, void *data)
{
	struct vrb_queue *q = data;

	trace_vrb_irq(q->vdev->index, q->index + 1, VRB_PCI_ISR_QUEUE);
	vrb_blk_complete_queue(q);
	return IRQ_HANDLED;
}

/*
 * MSI-X: the one vector all queues share (irq=shared).  It says "a queue
 * has news", not which: drain them all.  The ISR is not read: with MSI-X
 * enabled the device need not set it (§4.1.4.5, §4.1.5.3-4).
 */
static irqreturn_t vrb_pci_msix_vqs(int irq, void *data)
{
	struct vrb_dev *vdev = data;
	unsigned int i;

	trace_vrb_irq(vdev->index, 1, VRB_PCI_ISR_QUEUE);	/* vector 1 */
	for (i = 0; i < vrb_irq_queues(vdev); i++)	/* poll queues: no */
		vrb_blk_complete_queue(&vdev->queues[i]);
	return IRQ_HANDLED;
}

/*
 * INTx: one handler for everything.  Reading the ISR tells what happened
 * and de-asserts the line.  INTx lines are shared, so a zero ISR means
 * "not us".
 */
static irqreturn_t vrb_pci_isr_irq(int irq, void *data)
{
	struct vrb_dev *vdev = data;
	unsigned int i;
	u8 isr;

	isr = vrb_pci_read_isr(vdev);	/* reading clears it */
	WRITE_ONCE(vdev->isr_reads, vdev->isr_reads + 1);
	trace_vrb_irq(vdev->index, -1, isr);
	/*
	 * Zero: not us (the line is shared).  All-ones: no device answered
	 * the read (surprise removal); only bits 0 and 1 are defined
	 * (§4.1.4.5), so it is not ours either, and must not send us
	 * draining rings for a device that is gone.
	 */
	if (!isr || isr == 0xff)
		return IRQ_NONE;
	if (isr & VRB_PCI_ISR_CONFIG)
		vrb_pci_config_irq(vdev);
	/* Poll queues are left to their poller, even if the device erred. */
	for (i = 0; i < vrb_irq_queues(vdev); i++)
		vrb_blk_complete_queue(&vdev->queues[i]);
	return IRQ_HANDLED;
}

/* ---- Virtqueues (§4.1.4.10, §2.7.2) ---------------------------------- */

/*
 * Set up virtqueue @index: select it, read its size, allocate the ring
 * in coherent memory and tell the device where it is.
 */
static int vrb_pci_setup_queue(struct vrb_dev *vdev, struct vrb_queue *q,
			       u16 index)
{
	struct device *dev = &vdev->pdev->dev;
	struct vrb_vq_layout layout;
	char name[32];
	u16 num;
	int err;

	vrb_pci_select_queue(vdev, index);
	num = vrb_pci_get_queue_num(vdev);
	if (!num) {
		dev_err(dev, "queue %u does not exist\n", index);
		return -ENOENT;
	}
	if (vrb_pci_get_queue_pfn(vdev)) {
		dev_err(dev, "queue %u is already active\n", index);
		return -EBUSY;
	}
	/* Legacy: we must use the size the device reports (§2.7.2). */
	err = vrb_vq_layout_compute(num, &layout);
	if (err) {
		dev_err(dev, "queue %u: invalid size %u\n", index, num);
		return err;
	}

	q->ring_size = layout.size;
	q->ring = dma_alloc_coherent(dev, q->ring_size, &q->ring_dma,
				     GFP_KERNEL);
	if (!q->ring)
		return -ENOMEM;

	/* The PFN register holds 32 bits of 4096-byte page number. */
	if ((u64)q->ring_dma >> VRB_PCI_QUEUE_PFN_SHIFT > U32_MAX) {
		dev_err(dev, "queue %u: ring at %pad is above 16 TiB\n",
			index, &q->ring_dma);
		err = -E2BIG;
		goto out_free_ring;
	}

	/*
	 * A legacy device addresses memory by guest-physical address (it
	 * knows no IOMMU, see vrb_blk_put_data()).  If the DMA API hands out
	 * other bus addresses (an IOMMU in translating mode), the device
	 * would read and write the wrong memory: refuse.
	 */
	if (is_vmalloc_addr(q->ring) || q->ring_dma != virt_to_phys(q->ring)) {
		dev_err(dev, "queue %u: bus address %pad is not the ring's physical address (an IOMMU?); a legacy device cannot work behind one\n",
			index, &q->ring_dma);
		err = -ENODEV;
		goto out_free_ring;
	}

	snprintf(name, sizeof(name), "%s/vq%u", pci_name(vdev->pdev), index);
	err = vrb_vq_init(&q->vq, name, num, q->ring, q->ring_dma,
			  vrb_has_feature(vdev, VRB_F_RING_EVENT_IDX),
			  vrb_has_feature(vdev, VRB_F_RING_INDIRECT_DESC));
	if (err)
		goto out_free_ring;

	/* The last vdev->npoll queues are polled: no interrupts, ever. */
	if (index >= vrb_irq_queues(vdev))
		vrb_vq_set_polled(&q->vq);
	spin_lock_init(&q->lock);
	q->vdev = vdev;
	q->index = index;
	vrb_pci_set_queue_pfn(vdev, q->ring_dma >> VRB_PCI_QUEUE_PFN_SHIFT);
	return 0;

out_free_ring:
	dma_free_coherent(dev, q->ring_size, q->ring, q->ring_dma);
	q->ring = NULL;
	return err;
}

/* Undo vrb_pci_setup_queue(); the device must be reset already. */
static void vrb_pci_del_queue(struct vrb_dev *vdev, struct vrb_queue *q)
{
	vrb_pci_select_queue(vdev, q->index);
	vrb_pci_set_queue_pfn(vdev, 0);		/* deactivate (§4.1.4.10) */
	vrb_vq_cleanup(&q->vq);
	dma_free_coherent(&vdev->pdev->dev, q->ring_size, q->ring,
			  q->ring_dma);
	q->ring = NULL;
}

static void vrb_pci_del_queues(struct vrb_dev *vdev)
{
	unsigned int i;

	for (i = 0; i < vdev->nvqs; i++)
		if (vdev->queues[i].ring)
			vrb_pci_del_queue(vdev, &vdev->queues[i]);
}

/*
 * Every queue is checked on its own (vrb_pci_setup_queue()); requests
 * are sized for the smallest, since blk-mq gives every hardware queue
 * the same depth and segment limit.
 */
static int vrb_pci_setup_queues(struct vrb_dev *vdev)
{
	unsigned int i;
	int err;

	for (i = 0; i < vdev->nvqs; i++) {
		err = vrb_pci_setup_queue(vdev, &vdev->queues[i], i);
		if (err) {
			vrb_pci_del_queues(vdev);
			return err;
		}
	}
	vdev->ring_size = vdev->queues[0].vq.num;
	for (i = 1; i < vdev->nvqs; i++) {
		if (vdev->queues[i].vq.num == vdev->ring_size)
			continue;
		dev_warn(&vdev->pdev->dev, "queue %u has %u entries, queue 0 %u: sizing requests for the smaller\n",
			 i, vdev->queues[i].vq.num, vdev->ring_size);
		vdev->ring_size = min(vdev->ring_size, vdev->queues[i].vq.num);
	}
	return 0;
}

/* ---- Interrupt setup --------------------------------------------------- */

/*
 * MSI-X vectors: 0 for config changes; queue i gets vector i + 1 (irq=msix)
 * or all queues share vector 1 (irq=shared).  A poll queue gets none
 * (NO_VECTOR, §4.1.4.10): the device has no way to interrupt for it.
 */
static u16 vrb_pci_queue_vector(struct vrb_dev *vdev, unsigned int i)
{
	if (i >= vrb_irq_queues(vdev))
		return VRB_PCI_NO_VECTOR;
	return vdev->irq_mode == VRB_IRQ_MSIX ? i + 1 : 1;
}

/* Tell the device to stop using MSI-X vectors (before freeing them). */
static void vrb_pci_unroute_vectors(struct vrb_dev *vdev)
{
	unsigned int i;

	for (i = 0; i < vdev->nvqs; i++) {
		vrb_pci_select_queue(vdev, i);
		vrb_pci_set_queue_vector(vdev, VRB_PCI_NO_VECTOR);
	}
	vrb_pci_set_config_vector(vdev, VRB_PCI_NO_VECTOR);
}

static void vrb_pci_free_irqs(struct vrb_dev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int i;

	switch (vdev->irq_mode) {
	case VRB_IRQ_MSIX:
		vrb_pci_unroute_vectors(vdev);
		for (i = 0; i < vrb_irq_queues(vdev); i++)
			free_irq(pci_irq_vector(pdev, i + 1), &vdev->queues[i]);
		free_irq(pci_irq_vector(pdev, 0), vdev);
		break;
	case VRB_IRQ_MSIX_SHARED:
		vrb_pci_unroute_vectors(vdev);
		free_irq(pci_irq_vector(pdev, 1), vdev);
		free_irq(pci_irq_vector(pdev, 0), vdev);
		break;
	case VRB_IRQ_INTX:
		free_irq(pdev->irq, vdev);
		break;
	case VRB_IRQ_NONE:
		return;
	}
	/* The config offset moves back to 0x14 once MSI-X is off. */
	pci_free_irq_vectors(pdev);
	vdev->irq_mode = VRB_IRQ_NONE;
}

/*
 * Tell the device which MSI-X vector to use for config changes and for
 * each queue (§4.1.4.10 legacy: registers at 0x14 and 0x16), and check
 * it took them (it answers NO_VECTOR when it cannot).  A device reset
 * forgets them, so vrb_pci_restart() calls this again.
 */
static int vrb_pci_route_vectors(struct vrb_dev *vdev)
{
	unsigned int i;
	u16 vec;

	if (vdev->irq_mode != VRB_IRQ_MSIX &&
	    vdev->irq_mode != VRB_IRQ_MSIX_SHARED)
		return 0;
	if (vrb_pci_set_config_vector(vdev, 0) != 0)
		return -EBUSY;
	for (i = 0; i < vdev->nvqs; i++) {
		vec = vrb_pci_queue_vector(vdev, i);
		vrb_pci_select_queue(vdev, i);
		if (vrb_pci_set_queue_vector(vdev, vec) != vec)
			return -EBUSY;
	}
	return 0;
}

/* Wait until no interrupt handler of ours runs any more. */
static void vrb_pci_sync_irqs(struct vrb_dev *vdev)
{
	unsigned int i;

	switch (vdev->irq_mode) {
	case VRB_IRQ_MSIX:
		for (i = 0; i <= vrb_irq_queues(vdev); i++)
			synchronize_irq(pci_irq_vector(vdev->pdev, i));
		break;
	case VRB_IRQ_MSIX_SHARED:
		synchronize_irq(pci_irq_vector(vdev->pdev, 0));
		synchronize_irq(pci_irq_vector(vdev->pdev, 1));
		break;
	case VRB_IRQ_INTX:
		synchronize_irq(vdev->pdev->irq);
		break;
	case VRB_IRQ_NONE:
		break;
	}
}

/*
 * MSI-X: a vector for config changes, then one per queue spread over the
 * CPUs (@per_vq), or one shared by every queue, as virtio_pci falls back
 * to when vectors are short.  Poll queues get no vector either way.
 */
static int vrb_pci_setup_msix(struct vrb_dev *vdev, bool per_vq)
{
	struct irq_affinity desc = { .pre_vectors = 1 };
	struct pci_dev *pdev = vdev->pdev;
	unsigned int i, nvec;
	int err;

	nvec = per_vq ? vrb_irq_queues(vdev) + 1 : 2;
	if (per_vq)
		err = pci_alloc_irq_vectors_affinity(pdev, nvec, nvec,
						     PCI_IRQ_MSIX |
						     PCI_IRQ_AFFINITY, &desc);
	else
		err = pci_alloc_irq_vectors(pdev, nvec, nvec, PCI_IRQ_MSIX);
	if (err < 0)
		return err;
	/* From here the device config is at 0x18. */
	vdev->irq_mode = per_vq ? VRB_IRQ_MSIX : VRB_IRQ_MSIX_SHARED;

	err = request_irq(pci_irq_vector(pdev, 0), vrb_pci_msix_config, 0,
			  VRB_NAME "-config", vdev);
	if (err)
		goto out_free_vectors;

	if (per_vq) {
		for (i = 0; i < vrb_irq_queues(vdev); i++) {
			struct vrb_queue *q = &vdev->queues[i];

			snprintf(q->irq_name, sizeof(q->irq_name), "%s-%s-vq%u",
				 VRB_NAME, pci_name(pdev), i);
			err = request_irq(pci_irq_vector(pdev, i + 1),
					  vrb_pci_msix_queue, 0, q->irq_name,
					  q);
			if (err)
				goto out_free_queues;
		}
	} else {
		snprintf(vdev->irq_name, sizeof(vdev->irq_name), "%s-%s-vqs",
			 VRB_NAME, pci_name(pdev));
		err = request_irq(pci_irq_vector(pdev, 1), vrb_pci_msix_vqs, 0,
				  vdev->irq_name, vdev);
		if (err)
			goto out_free_config;
	}
	err = vrb_pci_route_vectors(vdev);
	if (err)
		goto out_unroute;
	return 0;

out_unroute:
	vrb_pci_unroute_vectors(vdev);
	i = vrb_irq_queues(vdev);
	if (!per_vq)
		free_irq(pci_irq_vector(pdev, 1), vdev);
out_free_queues:
	while (per_vq && i--)
		free_irq(pci_irq_vector(pdev, i + 1), &vdev->queues[i]);
out_free_config:
	free_irq(pci_irq_vector(pdev, 0), vdev);
out_free_vectors:
	pci_free_irq_vectors(pdev);
	vdev->irq_mode = VRB_IRQ_NONE;
	return err;
}

/* The legacy INTx line, shared with whoever else sits on it. */
static int vrb_pci_setup_intx(struct vrb_dev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int err;

	err = request_irq(pdev->irq, vrb_pci_isr_irq, IRQF_SHARED, VRB_NAME,
			  vdev);
	if (err)
		return err;
	vdev->irq_mode = VRB_IRQ_INTX;
	return 0;
}

/*
 * MSI-X with a vector per queue, else a config vector and one shared by
 * the queues, else INTx.  Must run before the device configuration is
 * read: enabling MSI-X moves it from 0x14 to 0x18.
 */
static int vrb_pci_setup_irqs(struct vrb_dev *vdev)
{
	struct device *dev = &vdev->pdev->dev;

	switch (vrb_param_irq) {
	case 1:
		return vrb_pci_setup_msix(vdev, true);
	case 2:
		return vrb_pci_setup_msix(vdev, false);
	case 3:
		return vrb_pci_setup_intx(vdev);
	}
	if (!vrb_pci_setup_msix(vdev, true))
		return 0;
	dev_info(dev, "no MSI-X vector per queue, trying a config vector and one for the queues\n");
	if (!vrb_pci_setup_msix(vdev, false))
		return 0;
	dev_info(dev, "no MSI-X, using INTx\n");
	return vrb_pci_setup_intx(vdev);
}

/* ---- Recovery: reset the device and rebuild the rings ---------------- */

/**
 * vrb_pci_schedule_reset - ask for a device reset
 * @vdev: the device.
 * @why: reason, for the log; a string constant.
 *
 * Called when a queue is found broken or a request timed out.  At most
 * one reset is queued at a time; none once removal has begun.
 *
 * Context: Any context.
 */
void vrb_pci_schedule_reset(struct vrb_dev *vdev, const char *why)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->config_lock, flags);
	if (vdev->resets_enabled && !vdev->reset_pending) {
		vdev->reset_pending = true;
		vdev->reset_reason = why;
		queue_work(vrb_wq, &vdev->reset_work);
	}
	spin_unlock_irqrestore(&vdev->config_lock, flags);
}

/*
 * After a reset: the handshake of probe again (§3.1.1), with the same
 * features, the same ring memory and the same interrupt vectors.
 */
static int vrb_pci_restart(struct vrb_dev *vdev)
{
	unsigned int i;

	vrb_pci_add_status(vdev, VRB_STATUS_ACKNOWLEDGE);
	vrb_pci_add_status(vdev, VRB_STATUS_DRIVER);
	vrb_pci_set_features(vdev, vdev->features);
	for (i = 0; i < vdev->nvqs; i++) {
		struct vrb_queue *q = &vdev->queues[i];

		vrb_pci_select_queue(vdev, i);
		if (vrb_pci_get_queue_num(vdev) != q->vq.num)
			return -EIO;	/* the device changed under us */
		vrb_pci_set_queue_pfn(vdev, q->ring_dma >>
				      VRB_PCI_QUEUE_PFN_SHIFT);
	}
	if (vrb_pci_route_vectors(vdev))
		return -EBUSY;
	vrb_pci_add_status(vdev, VRB_STATUS_DRIVER_OK);
	return 0;
}

/*
 * The reset, step by step.  Requests the device completed before the
 * reset (status written, used element published) complete normally.
 * The others are failed, not retried: after a timeout or a broken ring
 * we cannot know what the device did with them (a write may be half
 * done), so the honest answer is an error the file system or application
 * sees and can act on; retrying behind its back could loop forever on a
 * device that keeps failing.  Requests that reached a broken queue but
 * were never added wait, stopped, and go to the rebuilt ring.
 *
 * During probe (the disk is being added and reads its partition table)
 * a device that needs a reset is not restarted but given up: FAILED, all
 * I/O fails at once, and probe fails instead of waiting for it forever.
 *
 * vdev->mutex is held throughout, so a cache_type write cannot fall
 * between the reset (which makes the device forget the cache mode) and
 * vrb_blk_restore_cache().
 */
static void vrb_pci_reset_work(struct work_struct *work)
{
	struct vrb_dev *vdev = container_of(work, struct vrb_dev, reset_work);
	struct request_queue *rq_q = vdev->disk->queue;
	struct device *dev = &vdev->pdev->dev;
	unsigned int failed, completed;
	bool live;

	spin_lock_irq(&vdev->config_lock);
	live = vdev->live;
	spin_unlock_irq(&vdev->config_lock);
	dev_warn(dev, "%s: resetting the device: %s\n",
		 vdev->disk->disk_name, vdev->reset_reason);
	mutex_lock(&vdev->mutex);
	/* 1. No queue_rq() runs or starts while the rings are rebuilt. */
	blk_mq_quiesce_queue(rq_q);
	/* 2. Reset (§2.1): the device forgets the rings, stops using them. */
	vrb_pci_reset(vdev);
	/* 3. No interrupt handler of ours is still looking at them. */
	vrb_pci_sync_irqs(vdev);
	/*
	 * 4. Complete what the device finished before the reset, fail the
	 *    rest, start every ring from index 0.
	 */
	failed = vrb_blk_fail_inflight(vdev, &completed);
	trace_vrb_reset(vdev->index, failed);
	/*
	 * 5. Handshake again; a device that is gone reads all-ones.  The
	 *    device forgot the cache mode too: put back the block layer's.
	 */
	if (!live) {
		dev_err(dev, "%s: the device stopped answering during probe: giving it up\n",
			vdev->disk->disk_name);
		vrb_pci_add_status(vdev, VRB_STATUS_FAILED);
		WRITE_ONCE(vdev->dead, true);
	} else if (!pci_device_is_present(vdev->pdev) ||
		   vrb_pci_restart(vdev)) {
		dev_err(dev, "%s: device did not come back, failing all I/O\n",
			vdev->disk->disk_name);
		vrb_pci_add_status(vdev, VRB_STATUS_FAILED);
		WRITE_ONCE(vdev->dead, true);
		blk_mark_disk_dead(vdev->disk);
	} else {
		vrb_blk_restore_cache(vdev);
		dev_info(dev, "%s: reset done, %u request(s) failed, %u completed by the device before the reset\n",
			 vdev->disk->disk_name, failed, completed);
	}
	mutex_unlock(&vdev->mutex);

	spin_lock_irq(&vdev->config_lock);
	vdev->resets++;
	vdev->reset_pending = false;
	spin_unlock_irq(&vdev->config_lock);
	/*
	 * 6. Let requests flow again: restart the hardware queues stopped on
	 *    a full or broken ring first, so that unquiescing runs them all.
	 */
	blk_mq_start_stopped_hw_queues(rq_q, true);
	blk_mq_unquiesce_queue(rq_q);
}

/* ---- Probe: the initialisation handshake (§3.1.1, legacy §3.1.2) ----- */

/*
 * How many virtqueues to use (vdev->nvqs), and how many of them are poll
 * queues (vdev->npoll, the last ones): the device's num_queues, the CPUs,
 * num_queues= for the interrupt queues and poll_queues= on top.  Poll
 * queues need at least one interrupt queue beside them: a device with
 * too few queues gets none, and the log says why.  Like the interrupt
 * queues they are at most one per CPU: blk-mq maps each CPU to one poll
 * queue, and one no CPU maps to would never see a request, yet cost a
 * ring and a slot per tag.
 */
static void vrb_pci_count_queues(struct vrb_dev *vdev)
{
	bool mq = vdev->device_features & BIT(VRB_BLK_F_MQ) &&
		  !(vrb_declined & BIT(VRB_BLK_F_MQ));
	unsigned int offered = 1, n;

	/* VRB_BLK_F_MQ: num_queues is valid; 0 would be a device bug. */
	if (mq)
		offered = max_t(unsigned int, 1,
				vrb_pci_config_read16(vdev,
						      VRB_BLK_CFG_NUM_QUEUES));
	vdev->npoll = vrb_param_poll_queues;
	if (vdev->npoll > nr_cpu_ids) {
		dev_warn(&vdev->pdev->dev, "poll_queues=%u: only %u CPU(s) to poll them, using %u\n",
			 vdev->npoll, nr_cpu_ids, nr_cpu_ids);
		vdev->npoll = nr_cpu_ids;
	}
	if (vdev->npoll && offered < vdev->npoll + 1) {
		dev_warn(&vdev->pdev->dev, "poll_queues=%u needs %u virtqueues (one for interrupts), the device offers %u%s: running without poll queues\n",
			 vdev->npoll, vdev->npoll + 1, offered,
			 mq ? "" : " (no VIRTIO_BLK_F_MQ)");
		vdev->npoll = 0;
	}
	n = min_t(unsigned int, offered - vdev->npoll, nr_cpu_ids);
	if (vrb_param_num_queues)
		n = min(n, vrb_param_num_queues);
	vdev->nvqs = n + vdev->npoll;
}

static void vrb_pci_teardown(struct vrb_dev *vdev, bool failed);

static int vrb_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct vrb_dev *vdev;
	const char *step;	/* what probe was doing, for the log */
	bool pending;
	int err;

	/* Legacy (transitional) devices have revision 0 (§4.1.2.3). */
	if (pdev->revision != 0) {
		dev_info(dev, "revision %u is not a legacy device, leaving it alone\n",
			 pdev->revision);
		return -ENODEV;
	}
	/* The legacy subsystem device id is the virtio device id: 2 = block. */
	if (pdev->subsystem_device != VRB_PCI_SUBSYS_ID_BLK) {
		dev_info(dev, "subsystem id %#x is not a block device\n",
			 pdev->subsystem_device);
		return -ENODEV;
	}

	step = "allocating the device state";
	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev) {
		err = -ENOMEM;
		goto out;
	}
	vdev->pdev = pdev;
	vdev->index = -1;
	spin_lock_init(&vdev->config_lock);
	mutex_init(&vdev->mutex);
	INIT_WORK(&vdev->config_work, vrb_pci_config_work);
	INIT_WORK(&vdev->reset_work, vrb_pci_reset_work);
	pci_set_drvdata(pdev, vdev);

	step = "enabling the PCI device";
	err = pci_enable_device(pdev);
	if (err)
		goto out_free_vdev;
	/*
	 * Streaming data may sit anywhere; rings must be below 2^44 so their
	 * 4096-byte page number fits the 32-bit PFN register.  Legacy virtio
	 * knows no IOMMU: bus addresses are guest-physical addresses.
	 */
	err = dma_set_mask(dev, DMA_BIT_MASK(64));
	if (!err)
		err = dma_set_coherent_mask(dev, DMA_BIT_MASK(32 +
					    VRB_PCI_QUEUE_PFN_SHIFT));
	if (err) {
		step = "setting the DMA masks";
		goto out_disable;
	}
	step = "claiming BAR0";
	err = pci_request_regions(pdev, VRB_NAME);
	if (err)
		goto out_disable;
	/* BAR0 is an I/O port window (§4.1.4.10). */
	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_IO)) {
		dev_err(dev, "BAR0 is not an I/O region: not a legacy device\n");
		err = -ENODEV;
		goto out_release;
	}
	step = "mapping BAR0";
	vdev->ioaddr = pci_iomap(pdev, 0, 0);
	if (!vdev->ioaddr) {
		err = -ENOMEM;
		goto out_release;
	}
	pci_set_master(pdev);

	/* §3.1.1 step 1: reset the device. */
	vrb_pci_reset(vdev);
	/* Step 2: ACKNOWLEDGE, we noticed the device. */
	vrb_pci_add_status(vdev, VRB_STATUS_ACKNOWLEDGE);
	/* Step 3: DRIVER, we know how to drive it. */
	vrb_pci_add_status(vdev, VRB_STATUS_DRIVER);

	/*
	 * Step 4: read the device's features, write the subset we both
	 * know and the user did not decline.  Legacy has no FEATURES_OK
	 * (§3.1.2): the device accepts whatever subset we write.
	 */
	vdev->device_features = vrb_pci_get_features(vdev);
	vdev->features = vdev->device_features & VRB_DRIVER_FEATURES &
			 ~vrb_declined;
	vrb_pci_set_features(vdev, vdev->features);
	dev_info(dev, "features: device %#010x, negotiated %#010x\n",
		 vdev->device_features, vdev->features);

	/* Step 7 (legacy order): set up the virtqueues. */
	step = "setting up the virtqueues";
	vrb_pci_count_queues(vdev);
	vdev->queues = kcalloc(vdev->nvqs, sizeof(*vdev->queues), GFP_KERNEL);
	if (!vdev->queues) {
		err = -ENOMEM;
		goto out_failed;
	}
	err = vrb_pci_setup_queues(vdev);
	if (err)
		goto out_free_queues;
	step = "setting up interrupts";
	err = vrb_pci_setup_irqs(vdev);
	if (err)
		goto out_del_queues;

	/*
	 * Step 8: DRIVER_OK before the disk goes live, since adding the
	 * disk already reads the partition table through the rings.
	 */
	vrb_pci_add_status(vdev, VRB_STATUS_DRIVER_OK);

	step = "creating the disk";
	err = vrb_blk_probe(vdev);
	if (err)
		goto out_reset;
	/*
	 * Those partition reads may time out: resets are enabled first (a
	 * reset now gives the device up, see vrb_pci_reset_work()), so that
	 * probe cannot wait forever on a device that stopped answering.
	 */
	spin_lock_irq(&vdev->config_lock);
	vdev->resets_enabled = true;
	spin_unlock_irq(&vdev->config_lock);
	step = "adding the disk";
	err = vrb_blk_add_disk(vdev);
	if (err)
		goto out_destroy;

	/*
	 * The disk is live, and owns vdev.  Config changes that came while
	 * it was being added are replayed now.
	 */
	spin_lock_irq(&vdev->config_lock);
	vdev->live = true;
	vdev->config_enabled = true;
	pending = vdev->config_pending;
	if (pending)
		queue_work(vrb_wq, &vdev->config_work);
	vdev->config_pending = false;
	spin_unlock_irq(&vdev->config_lock);
	if (pending)
		dev_info(dev, "%s: the configuration changed while the disk was added: reading it again\n",
			 vdev->disk->disk_name);
	/* A reset that ran during probe may have given the device up. */
	flush_work(&vdev->reset_work);
	if (READ_ONCE(vdev->dead)) {
		dev_err(dev, "%s: probe failed: the device failed while the disk was added\n",
			vdev->disk->disk_name);
		vrb_pci_teardown(vdev, true);
		return -EIO;
	}
	vrb_dbg_add_dev(vdev);
	return 0;

out_destroy:
	spin_lock_irq(&vdev->config_lock);
	vdev->resets_enabled = false;
	spin_unlock_irq(&vdev->config_lock);
	cancel_work_sync(&vdev->reset_work);
	vrb_pci_reset(vdev);
	vrb_pci_free_irqs(vdev);
	vrb_blk_destroy(vdev);
	goto out_del_queues;
out_reset:
	vrb_pci_reset(vdev);
	vrb_pci_free_irqs(vdev);
out_del_queues:
	vrb_pci_del_queues(vdev);
out_free_queues:
	kfree(vdev->queues);
out_failed:
	/*
	 * Give up (§3.1.1): reset, so the device lets go of every ring and
	 * vector, and say FAILED, so it knows.
	 */
	vrb_pci_reset(vdev);
	vrb_pci_add_status(vdev, VRB_STATUS_FAILED);
	pci_iounmap(pdev, vdev->ioaddr);
out_release:
	pci_release_regions(pdev);
out_disable:
	pci_disable_device(pdev);
out_free_vdev:
	mutex_destroy(&vdev->mutex);
	kfree(vdev);
out:
	dev_err(dev, "probe failed %s: %pe\n", step, ERR_PTR(err));
	return err;
}

/*
 * Teardown, in the exact mirror order of probe:
 *  1. stop config interrupts from queueing work, and wait for the work;
 *  2. if the device is already gone (surprise removal: even its config
 *     space reads all-ones), stop resets and fail, by tag, every request
 *     blk-mq handed us: none will ever complete; requests parked on a
 *     hardware queue stopped because the ring was full are restarted,
 *     and fail as soon as they are dispatched;
 *  3. remove the disk: blk-mq drains every request, none is in flight.
 *     A request that hangs meanwhile still times out and is failed by a
 *     reset, so this cannot wait forever; then stop resets;
 *  4. the transport goes: fds still open on the disk get -ENXIO from now
 *     on; reset the device (it stops touching the rings), free the
 *     interrupts (MSI-X vectors are unrouted first), the tag set and the
 *     per-request pools, then the rings, and give the PCI resources back;
 *     @failed: say FAILED to the device (§3.1.1), when probe gives up;
 *  5. drop our reference to the disk: with the last one (perhaps an fd
 *     closed later) go the disk and vdev (vrb_blk_free_disk()).
 */
static void vrb_pci_teardown(struct vrb_dev *vdev, bool failed)
{
	struct pci_dev *pdev = vdev->pdev;
	struct request_queue *rq_q = vdev->disk->queue;
	unsigned int completed;

	spin_lock_irq(&vdev->config_lock);
	vdev->config_enabled = false;
	spin_unlock_irq(&vdev->config_lock);
	cancel_work_sync(&vdev->config_work);
	vrb_dbg_remove_dev(vdev);

	if (!pci_device_is_present(pdev)) {
		dev_warn(&pdev->dev, "device gone: failing I/O in flight\n");
		spin_lock_irq(&vdev->config_lock);
		vdev->resets_enabled = false;
		spin_unlock_irq(&vdev->config_lock);
		cancel_work_sync(&vdev->reset_work);
		WRITE_ONCE(vdev->dead, true);
		blk_mark_disk_dead(vdev->disk);
		blk_mq_quiesce_queue(rq_q);
		vrb_pci_sync_irqs(vdev);
		vrb_blk_fail_inflight(vdev, &completed);
		blk_mq_start_stopped_hw_queues(rq_q, true);
		blk_mq_unquiesce_queue(rq_q);
	}
	vrb_blk_remove(vdev);
	spin_lock_irq(&vdev->config_lock);
	vdev->resets_enabled = false;
	spin_unlock_irq(&vdev->config_lock);
	cancel_work_sync(&vdev->reset_work);

	mutex_lock(&vdev->mutex);
	vdev->removed = true;
	vrb_pci_reset(vdev);
	vrb_pci_free_irqs(vdev);
	vrb_blk_cleanup(vdev);
	vrb_pci_del_queues(vdev);
	kfree(vdev->queues);
	vdev->queues = NULL;
	if (failed)
		vrb_pci_add_status(vdev, VRB_STATUS_FAILED);
	pci_iounmap(pdev, vdev->ioaddr);
	vdev->ioaddr = NULL;
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	mutex_unlock(&vdev->mutex);

	put_disk(vdev->disk);
}

static void vrb_pci_remove(struct pci_dev *pdev)
{
	vrb_pci_teardown(pci_get_drvdata(pdev), false);
}

/*
 * Only the legacy (transitional) block device id.  Modern-only devices
 * (0x1042) and other device types are left to the kernel's drivers.
 */
static const struct pci_device_id vrb_pci_ids[] = {
	{ PCI_DEVICE(VRB_PCI_VENDOR_ID, VRB_PCI_DEVICE_ID_BLK_LEGACY) },
	{ }
};
MODULE_DEVICE_TABLE(pci, vrb_pci_ids);

static struct pci_driver vrb_pci_driver = {
	.name = VRB_NAME,
	.id_table = vrb_pci_ids,
	.probe = vrb_pci_probe,
	.remove = vrb_pci_remove,
};

static int __init vrb_init(void)
{
	int err;

	/*
	 * Unbound: a reset has no reason to run on the CPU that asked for
	 * it.  (Newer kernels, 7.3 for one, warn about a workqueue that says
	 * neither WQ_UNBOUND nor WQ_PERCPU; WQ_UNBOUND means the same on
	 * every kernel vringblk supports.)
	 */
	vrb_wq = alloc_workqueue(VRB_NAME, WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!vrb_wq)
		return -ENOMEM;
	vrb_dbg_init();
	err = vrb_blk_init();
	if (err)
		goto out_dbg;
	err = pci_register_driver(&vrb_pci_driver);
	if (err)
		goto out_blk;
	return 0;

out_blk:
	vrb_blk_exit();
out_dbg:
	vrb_dbg_exit();
	destroy_workqueue(vrb_wq);
	return err;
}

static void __exit vrb_exit(void)
{
	pci_unregister_driver(&vrb_pci_driver);
	vrb_blk_exit();
	vrb_dbg_exit();
	destroy_workqueue(vrb_wq);
}

module_init(vrb_init);
module_exit(vrb_exit);

MODULE_DESCRIPTION("Teaching driver for legacy virtio-blk PCI devices with its own split virtqueue");
MODULE_AUTHOR("The vringblk developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(VRB_VERSION);
