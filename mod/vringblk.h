/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vringblk.h - private header of the vringblk module: the structures
 * shared by the legacy PCI transport (vrb_pci*.c), the block layer glue
 * (vrb_blk.c) and debugfs (vrb_debugfs.c), and their cross-file
 * prototypes.
 *
 * Layers and prefixes:
 *	vrb_vq_*	the split virtqueue core (vrb_vq.c), no PCI, no blk-mq
 *	vrb_pci_*	legacy virtio-pci registers and the device lifecycle
 *	vrb_blk_*	blk-mq and the gendisk
 *	vrb_dbg_*	debugfs views of the ring
 */
#ifndef VRINGBLK_H
#define VRINGBLK_H

#include <linux/blk-mq.h>
#include <linux/interrupt.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "vrb_vq.h"
#include "vrb_wire.h"

#define VRB_NAME		"vringblk"
#define VRB_VERSION		"0.3.0"

/*
 * Most data segments per request (and so entries per indirect table).
 * QEMU offers seg_max = queue size - 2, 254 for its default 256, and
 * virtio_blk takes all of it: so do we.  With a lower cap the block layer
 * splits large requests differently for the two drivers, and `make bench`
 * measured 5% more kicks per 1 MiB write for vringblk.  The price: each
 * tag's slot in coherent memory grows to about 4.4 KiB.
 */
#define VRB_MAX_DATA_SEGS	254U
/*
 * The tags' slots come in coherent allocations of at most this size
 * (order 3, PAGE_ALLOC_COSTLY_ORDER: such allocations do not fail for
 * fragmentation), however deep the queue: 1024 tags of 4.4 KiB in one
 * piece would need an order-11 allocation, beyond what the buddy
 * allocator can give.
 */
#define VRB_POOL_CHUNK		(32 * 1024)
/* Most ranges in one DISCARD / WRITE_ZEROES request. */
#define VRB_MAX_DISCARD_SEGS	16U
/* The status byte before the device writes it: not a valid status. */
#define VRB_STATUS_UNWRITTEN	0xff

/* Feature bits vringblk knows how to use (§5.2.3, §6). */
#define VRB_DRIVER_FEATURES					\
	(BIT(VRB_BLK_F_SIZE_MAX) | BIT(VRB_BLK_F_SEG_MAX) |	\
	 BIT(VRB_BLK_F_GEOMETRY) | BIT(VRB_BLK_F_RO) |		\
	 BIT(VRB_BLK_F_BLK_SIZE) | BIT(VRB_BLK_F_FLUSH) |	\
	 BIT(VRB_BLK_F_TOPOLOGY) | BIT(VRB_BLK_F_CONFIG_WCE) |	\
	 BIT(VRB_BLK_F_MQ) | BIT(VRB_BLK_F_DISCARD) |		\
	 BIT(VRB_BLK_F_WRITE_ZEROES) |				\
	 BIT(VRB_F_RING_INDIRECT_DESC) | BIT(VRB_F_RING_EVENT_IDX))

struct vrb_dev;

/**
 * enum vrb_inject - a bad value to pretend the device wrote (debugfs)
 * @VRB_INJECT_NONE: nothing armed.
 * @VRB_INJECT_ID_RANGE: used id >= queue size.
 * @VRB_INJECT_NON_HEAD: used id of a descriptor that heads no chain.
 * @VRB_INJECT_DUPLICATE: used id of the chain completed just before.
 * @VRB_INJECT_IDX_JUMP: used.idx far ahead of what is in flight.
 * @VRB_INJECT_LEN: used len larger than the chain can receive.
 * @VRB_INJECT_STATUS: status byte left unwritten.
 * @VRB_INJECT_LOST_IRQ: the interrupt for the next used element is lost
 *			 (its handler does nothing), as under TCG.
 * @VRB_INJECT_DROPPED: the next used element is taken off the ring but its
 *			request not completed, as the block layer's fault
 *			injection (fail_io_timeout) drops a completion.
 * @VRB_INJECT_MAX: number of values.
 */
enum vrb_inject {
	VRB_INJECT_NONE,
	VRB_INJECT_ID_RANGE,
	VRB_INJECT_NON_HEAD,
	VRB_INJECT_DUPLICATE,
	VRB_INJECT_IDX_JUMP,
	VRB_INJECT_LEN,
	VRB_INJECT_STATUS,
	VRB_INJECT_LOST_IRQ,
	VRB_INJECT_DROPPED,
	VRB_INJECT_MAX,
};

/**
 * struct vrb_queue_stats - per-queue counters kept by the transport
 * @irqs: interrupts taken for this queue (0 on a poll queue).
 * @spurious: interrupts that found no used element.
 * @completed: requests completed from the used ring.
 * @stalls: times the ring was full and the hardware queue was stopped.
 * @restarts: times the completion path restarted stopped queues.
 * @timeouts: request timeouts reported by blk-mq on this queue.
 * @missed_irqs: completions the timeout handler found in the used ring
 *		 although no interrupt had announced them.
 * @rekicks: notifications re-sent by the timeout handler.
 */
struct vrb_queue_stats {
	u64 irqs;
	u64 spurious;
	u64 completed;
	u64 stalls;
	u64 restarts;
	u64 timeouts;
	u64 missed_irqs;
	u64 rekicks;
};

/**
 * struct vrb_slot - one tag's piece of coherent memory
 * @cpu: its CPU address: header, ranges and status (the indirect table
 *	 follows them, at vrb_dev.indir_off).
 * @dma: its bus address.
 * @indir: the indirect table, as vrb_vq_add_indirect() takes it: worked
 *	   out once, when the slot is made (vrb_blk_alloc_pools()).
 */
struct vrb_slot {
	struct vrb_req_dma *cpu;
	dma_addr_t dma;
	struct vrb_vq_indir indir;
};

/**
 * struct vrb_chunk - one dma_alloc_coherent() allocation of slots
 * @cpu: CPU address.
 * @dma: bus address.
 * @size: bytes.
 */
struct vrb_chunk {
	void *cpu;
	dma_addr_t dma;
	size_t size;
};

/**
 * struct vrb_queue - one virtqueue and everything hanging off it
 * @lock: protects @vq, @stats and @stopped; taken from queue_rq (process
 *	  context) and the interrupt handler, so always with irqsave.
 * @vq: the ring core's state.
 * @stats: transport counters, see struct vrb_queue_stats.
 * @polls: calls of blk-mq's poll hook on this queue (poll queues only);
 *	   counted outside @lock, as most calls never take it.
 * @stopped: the hardware queue was stopped because the ring was full.
 * @vdev: the device this queue belongs to.
 * @index: virtqueue number (QUEUE_SEL value).
 * @ring: ring memory from dma_alloc_coherent().
 * @ring_dma: bus address of @ring.
 * @ring_size: bytes of @ring.
 * @slots: per tag, its slot in coherent memory (header, ranges, status,
 *	   indirect table), carved out of @chunks.
 * @chunks: the coherent memory behind @slots, in pieces of at most
 *	    VRB_POOL_CHUNK bytes.
 * @nchunks: entries of @chunks.
 * @irq_name: name shown in /proc/interrupts.
 * @dbg_dir: this queue's debugfs directory.
 * @inject: armed enum vrb_inject, consumed by the next completion.
 * @drop: the next used element's request is not completed (injected).
 */
struct vrb_queue {
	spinlock_t lock;		/* see above: vq, stats, stopped */
	struct vrb_vq vq;
	struct vrb_queue_stats stats;
	atomic64_t polls;
	bool stopped;
	struct vrb_dev *vdev;
	u16 index;
	void *ring;
	dma_addr_t ring_dma;
	size_t ring_size;
	struct vrb_slot *slots;
	struct vrb_chunk *chunks;
	unsigned int nchunks;
	char irq_name[40];
	struct dentry *dbg_dir;
	int inject;
	bool drop;
} ____cacheline_aligned_in_smp;

/**
 * enum vrb_irq_mode - how the device interrupts us
 * @VRB_IRQ_NONE: not set up yet.
 * @VRB_IRQ_MSIX: one MSI-X vector for config changes and one per queue.
 * @VRB_IRQ_MSIX_SHARED: one MSI-X vector for config changes and one shared
 *			 by all queues (the ISR is not read: with MSI-X the
 *			 device need not set it, §4.1.4.5).
 * @VRB_IRQ_INTX: the legacy INTx line, possibly shared; the ISR says why.
 */
enum vrb_irq_mode {
	VRB_IRQ_NONE,
	VRB_IRQ_MSIX,
	VRB_IRQ_MSIX_SHARED,
	VRB_IRQ_INTX,
};

/**
 * struct vrb_dev - one vringblk device
 * @pdev: the PCI device.
 * @ioaddr: BAR0, the legacy I/O register window (§4.1.4.10).
 * @features: feature bits negotiated (device's & ours & not declined).
 * @device_features: feature bits the device offered.
 * @irq_mode: see enum vrb_irq_mode.
 * @nvqs: number of virtqueues in use.
 * @npoll: how many of them are poll queues: the last @npoll, with no
 *	   interrupt vector, mapped as HCTX_TYPE_POLL (poll_queues=).
 * @queues: @nvqs queues.
 * @tag_set: blk-mq tag set, one hardware queue per virtqueue.
 * @disk: the gendisk, "vringblk<index>".
 * @index: number in the disk name, from an ida; freed with the disk.
 * @ring_size: size of the smallest queue as reported by the device.
 * @max_data_segs: data segments per request.
 * @indir_max: entries of each indirect table, 0 without INDIRECT_DESC.
 * @max_discard_segs: ranges per discard / write-zeroes request.
 * @slot_size: bytes of one request's slot (struct vrb_slot).
 * @indir_off: offset of the indirect table inside a slot.
 * @config_lock: protects @config_enabled, @config_pending, @live,
 *		 @resets_enabled, @reset_pending and @reset_reason.
 * @config_enabled: config interrupts may queue @config_work.
 * @config_pending: a config interrupt came while @config_enabled was
 *		    false (during probe): replayed once it is true.
 * @config_work: re-reads the configuration after a config interrupt.
 * @live: probe is over; before, a reset gives the device up (probe fails).
 * @resets_enabled: vrb_pci_schedule_reset() may queue @reset_work.
 * @reset_pending: @reset_work is queued or running.
 * @reset_reason: why, for the log.
 * @reset_work: resets the device and rebuilds its rings.
 * @resets: resets done so far.
 * @dead: the device is gone or could not be recovered: fail all I/O.
 * @mutex: protects @removed and @writeback, and serializes what writes
 *	   the device's writeback byte (cache_type, the reset) with each
 *	   other and with the block device operations that read registers.
 * @removed: the transport is gone (remove ran): @ioaddr and @queues are
 *	     no more; the block device operations of fds still open on the
 *	     disk answer -ENXIO.  struct vrb_dev itself lives until the
 *	     gendisk's last reference (vrb_blk_free_disk()).
 * @writeback: the write cache mode the block layer was told (FLUSH or
 *	       not); the device is put back in it after every reset.
 * @isr_reads: ISR register reads by the INTx handler (debugfs "irq").
 * @irq_name: name of the queues' shared MSI-X vector in /proc/interrupts.
 * @dbg_dir: this device's debugfs directory.
 */
struct vrb_dev {
	struct pci_dev *pdev;
	void __iomem *ioaddr;
	u32 features;
	u32 device_features;
	enum vrb_irq_mode irq_mode;
	unsigned int nvqs;
	unsigned int npoll;
	struct vrb_queue *queues;
	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	int index;
	u16 ring_size;
	unsigned int max_data_segs;
	u16 indir_max;
	unsigned int max_discard_segs;
	size_t slot_size;
	size_t indir_off;
	spinlock_t config_lock;	/* see above; irq and process context */
	bool config_enabled;
	bool config_pending;
	struct work_struct config_work;
	bool live;
	bool resets_enabled;
	bool reset_pending;
	const char *reset_reason;
	struct work_struct reset_work;
	unsigned int resets;
	bool dead;
	struct mutex mutex;	/* removed, writeback; process context */
	bool removed;
	bool writeback;
	u64 isr_reads;
	char irq_name[40];
	struct dentry *dbg_dir;
};

/**
 * struct vrb_req_dma - the part of a request the device reads or writes
 *			besides the data: lives in coherent memory
 * @hdr: request header, device-readable (§5.2.6).
 * @range: DISCARD / WRITE_ZEROES ranges, device-readable.
 * @status: status byte, device-writable; VRB_STATUS_UNWRITTEN until then.
 */
struct vrb_req_dma {
	struct vrb_blk_req_hdr hdr;
	struct vrb_blk_discard_wz range[VRB_MAX_DISCARD_SEGS];
	u8 status;
};

/**
 * struct vrb_req - per-request driver data (blk-mq pdu)
 * @slot: the slot of the tag this request holds (vrb_blk_bind_slot()).
 * @nudged: this request already timed out once and the queue was kicked.
 * @table: the chain is in the slot's indirect table
 *	   (vrb_vq_add_indirect()), not in @bufs.
 * @nbufs: buffers in the chain.
 * @out: how many of them the device reads (the rest it writes).
 * @in_bytes: bytes the device may write (read data and status).
 * @bufs: the chain handed to vrb_vq_add(): header, ranges, data, status;
 *	  vrb_dev.max_data_segs + 3 entries, placed after @sg.
 * @sg: scatterlist for the data, vrb_dev.max_data_segs entries.
 */
struct vrb_req {
	const struct vrb_slot *slot;
	bool nudged;
	bool table;
	unsigned int nbufs;
	unsigned int out;
	u32 in_bytes;
	struct vrb_vq_buf *bufs;
	struct scatterlist sg[];
};

static inline bool vrb_has_feature(const struct vrb_dev *vdev, unsigned int bit)
{
	return vdev->features & BIT(bit);
}

/*
 * Queues 0 .. vrb_irq_queues() - 1 take interrupts; the rest, if any,
 * are poll queues (struct vrb_dev @npoll).
 */
static inline unsigned int vrb_irq_queues(const struct vrb_dev *vdev)
{
	return vdev->nvqs - vdev->npoll;
}

/* vrb_pci_legacy.c: legacy register accessors (§4.1.4.10). */
u32 vrb_pci_get_features(struct vrb_dev *vdev);
void vrb_pci_set_features(struct vrb_dev *vdev, u32 features);
u8 vrb_pci_get_status(struct vrb_dev *vdev);
void vrb_pci_set_status(struct vrb_dev *vdev, u8 status);
void vrb_pci_add_status(struct vrb_dev *vdev, u8 status);
void vrb_pci_reset(struct vrb_dev *vdev);
u8 vrb_pci_read_isr(struct vrb_dev *vdev);
void vrb_pci_select_queue(struct vrb_dev *vdev, u16 index);
u16 vrb_pci_get_queue_num(struct vrb_dev *vdev);
u32 vrb_pci_get_queue_pfn(struct vrb_dev *vdev);
void vrb_pci_set_queue_pfn(struct vrb_dev *vdev, u32 pfn);
u16 vrb_pci_set_config_vector(struct vrb_dev *vdev, u16 vector);
u16 vrb_pci_set_queue_vector(struct vrb_dev *vdev, u16 vector);
u8 vrb_pci_config_read8(struct vrb_dev *vdev, unsigned int off);
u16 vrb_pci_config_read16(struct vrb_dev *vdev, unsigned int off);
u32 vrb_pci_config_read32(struct vrb_dev *vdev, unsigned int off);
u64 vrb_pci_config_read64(struct vrb_dev *vdev, unsigned int off);
void vrb_pci_config_write8(struct vrb_dev *vdev, unsigned int off, u8 val);

/**
 * vrb_pci_notify - kick a queue: "there are new buffers" (§4.1.4.10)
 * @vdev: the device.
 * @index: virtqueue number.
 *
 * Writing the queue index to QUEUE_NOTIFY traps into the hypervisor,
 * which is why kicks are batched and suppressed where possible.
 *
 * Context: Any context; does not sleep.
 */
static inline void vrb_pci_notify(struct vrb_dev *vdev, u16 index)
{
	iowrite16(index, vdev->ioaddr + VRB_PCI_QUEUE_NOTIFY);
}

/* vrb_blk.c: the block device. */
int vrb_blk_probe(struct vrb_dev *vdev);
int vrb_blk_add_disk(struct vrb_dev *vdev);
void vrb_blk_destroy(struct vrb_dev *vdev);
void vrb_blk_remove(struct vrb_dev *vdev);
void vrb_blk_cleanup(struct vrb_dev *vdev);
void vrb_blk_config_changed(struct vrb_dev *vdev);
void vrb_blk_restore_cache(struct vrb_dev *vdev);
void vrb_blk_complete_queue(struct vrb_queue *q);
unsigned int vrb_blk_fail_inflight(struct vrb_dev *vdev,
				   unsigned int *completed);
int vrb_blk_init(void);
void vrb_blk_exit(void);

/* vrb_pci.c: the device lifecycle, and parameters shared with vrb_blk.c. */
void vrb_pci_schedule_reset(struct vrb_dev *vdev, const char *why);
extern struct workqueue_struct *vrb_wq;
extern unsigned int vrb_param_queue_depth;
extern unsigned int vrb_param_num_queues;
extern unsigned int vrb_param_io_timeout;
extern bool vrb_param_batch_kicks;

/* vrb_debugfs.c, with stubs so callers need no #ifdef. */
#ifdef CONFIG_DEBUG_FS
void vrb_dbg_init(void);
void vrb_dbg_exit(void);
void vrb_dbg_add_dev(struct vrb_dev *vdev);
void vrb_dbg_remove_dev(struct vrb_dev *vdev);
bool vrb_dbg_inject(struct vrb_queue *q);
#else
static inline void vrb_dbg_init(void) { }
static inline void vrb_dbg_exit(void) { }
static inline void vrb_dbg_add_dev(struct vrb_dev *vdev) { }
static inline void vrb_dbg_remove_dev(struct vrb_dev *vdev) { }
static inline bool vrb_dbg_inject(struct vrb_queue *q) { return false; }
#endif

#endif /* VRINGBLK_H */
