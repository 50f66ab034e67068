/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vrb_wire.h - everything vringblk puts on the wire, defined here with
 * its virtio 1.2 (cs01) spec section instead of being taken from
 * <linux/virtio_*.h>, so a reader sees every bit the driver depends on.
 *
 * Endianness: vringblk speaks only the legacy interface, where the ring
 * and the device configuration are in the guest's native byte order
 * (§2.7.2 "Legacy Interfaces: A Note on Virtqueue Layout" and §2.4.3
 * "Legacy Interface: A Note on Virtqueue Endianness").  That is why the
 * fields below are plain u16/u32/u64 rather than __le16 and friends.
 *
 * The split virtqueue in memory (legacy layout, §2.7.2), for a queue of
 * N descriptors:
 *
 *	offset 0	struct vrb_desc desc[N];	16 bytes each
 *	16 * N		struct vrb_avail:		driver writes
 *			  u16 flags;
 *			  u16 idx;
 *			  u16 ring[N];
 *			  u16 used_event;		(only with EVENT_IDX)
 *			padding up to the next 4096-byte boundary
 *	used_off	struct vrb_used:		device writes
 *			  u16 flags;
 *			  u16 idx;
 *			  struct vrb_used_elem ring[N];	8 bytes each
 *			  u16 avail_event;		(only with EVENT_IDX)
 *
 *	used_off = ALIGN(16 * N + 2 * (3 + N), 4096)
 *	size     = used_off + ALIGN(2 * 3 + 8 * N, 4096)
 */
#ifndef VRB_WIRE_H
#define VRB_WIRE_H

#include <linux/types.h>

/* ---- Split virtqueue (§2.7) ---------------------------------------- */

/* §2.7: the queue size is a power of 2 and at most 32768. */
#define VRB_VQ_MAX_SIZE		32768U
/* §2.7.2: legacy rings align the used ring to a 4096-byte boundary. */
#define VRB_VQ_LEGACY_ALIGN	4096U

/* §2.7.5 descriptor flags. */
#define VRB_DESC_F_NEXT		1	/* chain continues via .next */
#define VRB_DESC_F_WRITE	2	/* buffer is device-writable */
#define VRB_DESC_F_INDIRECT	4	/* buffer is a table of descriptors */

/* §2.7.6 available ring flags: driver asks for no used-buffer interrupt. */
#define VRB_AVAIL_F_NO_INTERRUPT	1
/* §2.7.8 used ring flags: device asks for no available-buffer kick. */
#define VRB_USED_F_NO_NOTIFY		1

/**
 * struct vrb_desc - one entry of the descriptor table (§2.7.5)
 * @addr: guest-physical (bus) address of the buffer.  Driver writes.
 * @len: length of the buffer in bytes.  Driver writes.
 * @flags: VRB_DESC_F_*.  Driver writes.
 * @next: index of the next descriptor when NEXT is set.  Driver writes.
 *
 * The device only ever reads descriptors.
 */
struct vrb_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

/**
 * struct vrb_avail - the available ring (§2.7.6), written by the driver
 * @flags: VRB_AVAIL_F_NO_INTERRUPT or 0.
 * @idx: where the driver will put the next entry, free-running (mod 2^16).
 * @ring: heads of chains offered to the device, slot = idx & (N - 1).
 *
 * With EVENT_IDX, ring[N] is the driver's used_event field (§2.7.7).
 */
struct vrb_avail {
	u16 flags;
	u16 idx;
	u16 ring[];
};

/**
 * struct vrb_used_elem - one entry of the used ring (§2.7.8)
 * @id: head index of the completed chain.  Device writes; never trusted.
 * @len: bytes the device wrote into the chain.  Device writes; never
 *	 trusted beyond the chain's device-writable bytes.
 */
struct vrb_used_elem {
	u32 id;
	u32 len;
};

/**
 * struct vrb_used - the used ring (§2.7.8), written by the device
 * @flags: VRB_USED_F_NO_NOTIFY or 0.
 * @idx: where the device will put the next entry, free-running.
 * @ring: completed chains, slot = idx & (N - 1).
 *
 * With EVENT_IDX, the u16 after ring[N - 1] is the device's avail_event.
 */
struct vrb_used {
	u16 flags;
	u16 idx;
	struct vrb_used_elem ring[];
};

/* ---- Feature bits (§6 reserved bits, §5.2.3 block) ----------------- */

/*
 * Offered by QEMU's legacy devices and never negotiated by vringblk:
 * SCSI passthrough (§5.2.3.1 legacy), NOTIFY_ON_EMPTY and ANY_LAYOUT
 * (§6.3 legacy), and bit 30, which legacy drivers used to detect a
 * broken negotiation ("BAD_FEATURE").
 */
#define VRB_BLK_F_SCSI_LEGACY		7
#define VRB_F_NOTIFY_ON_EMPTY		24
#define VRB_F_ANY_LAYOUT		27
#define VRB_F_BAD_FEATURE		30

#define VRB_F_RING_INDIRECT_DESC	28	/* §2.7.5.3 indirect tables */
#define VRB_F_RING_EVENT_IDX		29	/* used_event §2.7.7, avail_event §2.7.10 */

#define VRB_BLK_F_SIZE_MAX	1	/* config size_max is valid */
#define VRB_BLK_F_SEG_MAX	2	/* config seg_max is valid */
#define VRB_BLK_F_GEOMETRY	4	/* config geometry is valid */
#define VRB_BLK_F_RO		5	/* device is read-only */
#define VRB_BLK_F_BLK_SIZE	6	/* config blk_size is valid */
#define VRB_BLK_F_FLUSH		9	/* FLUSH command (legacy: WCE) */
#define VRB_BLK_F_TOPOLOGY	10	/* config topology is valid */
#define VRB_BLK_F_CONFIG_WCE	11	/* writeback is writable */
#define VRB_BLK_F_MQ		12	/* num_queues is valid */
#define VRB_BLK_F_DISCARD	13	/* DISCARD command */
#define VRB_BLK_F_WRITE_ZEROES	14	/* WRITE_ZEROES command */

/* ---- Block device configuration (§5.2.4), offsets in bytes --------- */

#define VRB_BLK_CFG_CAPACITY		0	/* u64, 512-byte sectors */
#define VRB_BLK_CFG_SIZE_MAX		8	/* u32, max segment bytes */
#define VRB_BLK_CFG_SEG_MAX		12	/* u32, max segments */
#define VRB_BLK_CFG_GEO_CYLINDERS	16	/* u16 */
#define VRB_BLK_CFG_GEO_HEADS		18	/* u8 */
#define VRB_BLK_CFG_GEO_SECTORS		19	/* u8 */
#define VRB_BLK_CFG_BLK_SIZE		20	/* u32, logical block */
#define VRB_BLK_CFG_PHYS_BLK_EXP	24	/* u8, log2 blocks per phys */
#define VRB_BLK_CFG_ALIGN_OFFSET	25	/* u8, in logical blocks */
#define VRB_BLK_CFG_MIN_IO_SIZE		26	/* u16, in logical blocks */
#define VRB_BLK_CFG_OPT_IO_SIZE		28	/* u32, in logical blocks */
#define VRB_BLK_CFG_WRITEBACK		32	/* u8, 1 = write-back cache */
#define VRB_BLK_CFG_NUM_QUEUES		34	/* u16 */
#define VRB_BLK_CFG_MAX_DISCARD_SECT	36	/* u32 */
#define VRB_BLK_CFG_MAX_DISCARD_SEG	40	/* u32 */
#define VRB_BLK_CFG_DISCARD_ALIGN	44	/* u32, in 512-byte sectors */
#define VRB_BLK_CFG_MAX_WZ_SECT		48	/* u32 */
#define VRB_BLK_CFG_MAX_WZ_SEG		52	/* u32 */
#define VRB_BLK_CFG_WZ_MAY_UNMAP	56	/* u8 */

/* ---- Block requests (§5.2.6) --------------------------------------- */

#define VRB_BLK_T_IN		0	/* read */
#define VRB_BLK_T_OUT		1	/* write */
#define VRB_BLK_T_FLUSH		4	/* flush the write cache */
#define VRB_BLK_T_GET_ID	8	/* read the 20-byte serial */
#define VRB_BLK_T_DISCARD	11	/* discard sectors */
#define VRB_BLK_T_WRITE_ZEROES	13	/* zero sectors */

#define VRB_BLK_S_OK		0	/* success */
#define VRB_BLK_S_IOERR		1	/* device or driver error */
#define VRB_BLK_S_UNSUPP	2	/* request not supported */

/* §5.2.6: GET_ID returns at most 20 bytes, not NUL-terminated. */
#define VRB_BLK_ID_BYTES	20
/* §5.2.6: sectors on the wire are always 512 bytes. */
#define VRB_BLK_SECTOR_SHIFT	9

/**
 * struct vrb_blk_req_hdr - request header, device-readable (§5.2.6)
 * @type: VRB_BLK_T_*.
 * @ioprio: request priority (legacy "ioprio"); vringblk sends 0.
 * @sector: first 512-byte sector for IN/OUT, 0 otherwise.
 */
struct vrb_blk_req_hdr {
	u32 type;
	u32 ioprio;
	u64 sector;
};

/**
 * struct vrb_blk_discard_wz - payload of DISCARD / WRITE_ZEROES (§5.2.6)
 * @sector: first 512-byte sector.
 * @num_sectors: number of 512-byte sectors.
 * @flags: bit 0 "unmap" (WRITE_ZEROES only); other bits reserved.
 */
struct vrb_blk_discard_wz {
	u64 sector;
	u32 num_sectors;
	u32 flags;
};

#define VRB_BLK_WZ_F_UNMAP	1

/* ---- Legacy PCI transport (§4.1.4.10), offsets in BAR0 ------------ */

#define VRB_PCI_VENDOR_ID		0x1af4
#define VRB_PCI_DEVICE_ID_BLK_LEGACY	0x1001	/* transitional block */
#define VRB_PCI_SUBSYS_ID_BLK		2	/* virtio device id 2 */

#define VRB_PCI_HOST_FEATURES	0x00	/* u32 R: device features 0-31 */
#define VRB_PCI_GUEST_FEATURES	0x04	/* u32 RW: driver features */
#define VRB_PCI_QUEUE_PFN	0x08	/* u32 RW: ring address >> 12 */
#define VRB_PCI_QUEUE_NUM	0x0c	/* u16 R: size of selected queue */
#define VRB_PCI_QUEUE_SEL	0x0e	/* u16 RW: selects a queue */
#define VRB_PCI_QUEUE_NOTIFY	0x10	/* u16 W: kick queue N */
#define VRB_PCI_STATUS		0x12	/* u8 RW: writing 0 resets */
#define VRB_PCI_ISR		0x13	/* u8 R: reading clears it */
#define VRB_PCI_MSI_CONFIG_VECTOR 0x14	/* u16 RW: only with MSI-X on */
#define VRB_PCI_MSI_QUEUE_VECTOR 0x16	/* u16 RW: only with MSI-X on */
#define VRB_PCI_CONFIG_OFF(msix) ((msix) ? 0x18 : 0x14)

/* §4.1.4.10: the PFN counts 4096-byte pages, whatever PAGE_SIZE is. */
#define VRB_PCI_QUEUE_PFN_SHIFT	12
/* Table 4.1.5.1.2: "no vector" for the MSI-X vector registers. */
#define VRB_PCI_NO_VECTOR	0xffff

/* §4.1.4.5 ISR status bits. */
#define VRB_PCI_ISR_QUEUE	0x1	/* a used buffer notification */
#define VRB_PCI_ISR_CONFIG	0x2	/* a configuration change */

/* §2.1 device status bits. */
#define VRB_STATUS_ACKNOWLEDGE	1	/* guest noticed the device */
#define VRB_STATUS_DRIVER	2	/* guest knows how to drive it */
#define VRB_STATUS_DRIVER_OK	4	/* driver is ready */
#define VRB_STATUS_NEEDS_RESET	64	/* device hit an error */
#define VRB_STATUS_FAILED	128	/* guest gave up on the device */

#endif /* VRB_WIRE_H */
