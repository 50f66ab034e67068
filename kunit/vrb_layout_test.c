// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vringblk_layout: the legacy ring layout
 * (virtio 1.2 §2.7.2) and every constant vringblk puts on the wire
 * (mod/vrb_wire.h), cross-checked against Linux's uapi headers.
 *
 * vringblk defines its wire format itself so a reader sees every bit; the
 * uapi headers are an independent transcription of the same spec, so a
 * typo on either side shows up here.
 */
#include <kunit/test.h>
#include <linux/blk_types.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/stddef.h>
#include <uapi/linux/virtio_blk.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ids.h>
#include <uapi/linux/virtio_pci.h>
#include <uapi/linux/virtio_ring.h>

#include "../mod/vrb_vq.h"

/* The spec's ALIGN, written correctly: round @x up to a multiple of @a. */
static size_t spec_align(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static void vrb_vq_layout_compute_power_of_two_sizes(struct kunit *test)
{
	/* Base of a fake ring for vring_init(), which only does arithmetic. */
	const uintptr_t base = 0x10000000;
	struct vrb_vq_layout layout;
	struct vring vr;
	unsigned int n;
	size_t used_off;

	for (n = 1; n <= 32768; n *= 2) {
		/*
		 * Expected, for N = n (§2.7.2): desc[N] at 0, avail (flags,
		 * idx, ring[N], used_event) right after, the used ring at the
		 * next 4096 boundary, total
		 * ALIGN(16N + 2(3+N), 4096) + ALIGN(6 + 8N, 4096),
		 * and the same offsets as uapi vring_init().  uapi
		 * vring_size() is the size without the padding after the
		 * used ring: used_off + 6 + 8N.
		 */
		used_off = spec_align(16 * n + 2 * (3 + n), 4096);
		vring_init(&vr, n, (void *)base, 4096);

		KUNIT_ASSERT_EQ_MSG(test, vrb_vq_layout_compute(n, &layout), 0,
				    "N=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, layout.num, n, "N=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, layout.desc_off, 0, "N=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, layout.desc_bytes, 16 * n, "N=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, layout.avail_off, 16 * n, "N=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, layout.avail_bytes, 2 * (3 + n),
				    "N=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, layout.used_off, used_off, "N=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, layout.used_bytes, 6 + 8 * n,
				    "N=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, layout.size,
				    used_off + spec_align(6 + 8 * n, 4096),
				    "N=%u", n);

		KUNIT_EXPECT_EQ_MSG(test, layout.used_off + layout.used_bytes,
				    vring_size(n, 4096), "N=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, layout.avail_off,
				    (uintptr_t)vr.avail - base, "N=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, layout.used_off,
				    (uintptr_t)vr.used - base, "N=%u", n);
	}
}

static void vrb_vq_layout_compute_256_is_three_pages(struct kunit *test)
{
	struct vrb_vq_layout layout;

	/*
	 * Expected: QEMU's default queue of 256 takes 3 pages, used ring at
	 * 8192 (4096 + 518 bytes of descriptors and avail ring round up to
	 * 8192; 2054 bytes of used ring round up to 4096).
	 */
	KUNIT_ASSERT_EQ(test, vrb_vq_layout_compute(256, &layout), 0);
	KUNIT_EXPECT_EQ(test, layout.used_off, 2 * 4096);
	KUNIT_EXPECT_EQ(test, layout.size, 3 * 4096);
}

static void vrb_vq_layout_compute_rejects_non_powers_of_two(struct kunit *test)
{
	struct vrb_vq_layout layout;
	unsigned int n, rejected = 0;

	/*
	 * Expected: every size from 1 to 65536 that is not a power of 2 is
	 * refused with -EINVAL (§2.7: "Queue Size ... is a power of 2").
	 */
	for (n = 1; n <= 65536; n++) {
		if (is_power_of_2(n))
			continue;
		KUNIT_EXPECT_EQ_MSG(test, vrb_vq_layout_compute(n, &layout),
				    -EINVAL, "N=%u", n);
		rejected++;
	}
	/* 65536 numbers minus the 17 powers of 2 from 1 to 65536. */
	KUNIT_EXPECT_EQ(test, rejected, 65536 - 17);
}

static void vrb_vq_layout_compute_rejects_zero(struct kunit *test)
{
	struct vrb_vq_layout layout;

	/* Expected: 0 means "no such queue", not a size: -EINVAL. */
	KUNIT_EXPECT_EQ(test, vrb_vq_layout_compute(0, &layout), -EINVAL);
}

static void vrb_vq_layout_compute_rejects_above_32768(struct kunit *test)
{
	static const unsigned int sizes[] = { 65536, 131072, 1U << 31,
					      UINT_MAX };
	struct vrb_vq_layout layout;
	unsigned int i;

	/* Expected: the largest queue is 32768 (§2.7); beyond: -EINVAL. */
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		KUNIT_EXPECT_EQ_MSG(test, vrb_vq_layout_compute(sizes[i], &layout),
				    -EINVAL, "N=%u", sizes[i]);
}

static void vrb_vq_init_rejects_invalid_size(struct kunit *test)
{
	static const unsigned int sizes[] = { 0, 3, 255, 65536 };
	struct vrb_vq *vq = kunit_kzalloc(test, sizeof(*vq), GFP_KERNEL);
	void *ring = kunit_kzalloc(test, 4096, GFP_KERNEL);
	unsigned int i;
	int err;

	KUNIT_ASSERT_NOT_NULL(test, vq);
	KUNIT_ASSERT_NOT_NULL(test, ring);
	/* Expected: -EINVAL and no shadow state allocated. */
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		err = vrb_vq_init(vq, "kunit/bad", sizes[i], ring,
				  (dma_addr_t)(uintptr_t)ring, false, false);
		KUNIT_EXPECT_EQ_MSG(test, err, -EINVAL, "N=%u", sizes[i]);
		KUNIT_EXPECT_NULL_MSG(test, vq->state, "N=%u", sizes[i]);
		vrb_vq_cleanup(vq);
	}
}

static void vrb_wire_desc_flags_match_uapi(struct kunit *test)
{
	/* Expected: §2.7.5 descriptor flags as in uapi virtio_ring.h. */
	KUNIT_EXPECT_EQ(test, VRB_DESC_F_NEXT, VRING_DESC_F_NEXT);
	KUNIT_EXPECT_EQ(test, VRB_DESC_F_WRITE, VRING_DESC_F_WRITE);
	KUNIT_EXPECT_EQ(test, VRB_DESC_F_INDIRECT, VRING_DESC_F_INDIRECT);
}

static void vrb_wire_ring_flags_match_uapi(struct kunit *test)
{
	/* Expected: §2.7.6 / §2.7.8 ring flags as in uapi virtio_ring.h. */
	KUNIT_EXPECT_EQ(test, VRB_AVAIL_F_NO_INTERRUPT,
			VRING_AVAIL_F_NO_INTERRUPT);
	KUNIT_EXPECT_EQ(test, VRB_USED_F_NO_NOTIFY, VRING_USED_F_NO_NOTIFY);
	KUNIT_EXPECT_EQ(test, VRB_VQ_LEGACY_ALIGN, VIRTIO_PCI_VRING_ALIGN);
}

static void vrb_wire_ring_structs_match_uapi(struct kunit *test)
{
	/* Expected: sizes and offsets of the ring structures as in uapi. */
	KUNIT_EXPECT_EQ(test, sizeof(struct vrb_desc), sizeof(struct vring_desc));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_desc, addr),
			offsetof(struct vring_desc, addr));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_desc, len),
			offsetof(struct vring_desc, len));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_desc, flags),
			offsetof(struct vring_desc, flags));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_desc, next),
			offsetof(struct vring_desc, next));

	KUNIT_EXPECT_EQ(test, sizeof(struct vrb_avail),
			sizeof(struct vring_avail));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_avail, flags),
			offsetof(struct vring_avail, flags));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_avail, idx),
			offsetof(struct vring_avail, idx));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_avail, ring),
			offsetof(struct vring_avail, ring));

	KUNIT_EXPECT_EQ(test, sizeof(struct vrb_used_elem),
			sizeof(struct vring_used_elem));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_used_elem, id),
			offsetof(struct vring_used_elem, id));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_used_elem, len),
			offsetof(struct vring_used_elem, len));

	KUNIT_EXPECT_EQ(test, sizeof(struct vrb_used), sizeof(struct vring_used));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_used, flags),
			offsetof(struct vring_used, flags));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_used, idx),
			offsetof(struct vring_used, idx));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_used, ring),
			offsetof(struct vring_used, ring));
}

static void vrb_wire_feature_bits_match_uapi(struct kunit *test)
{
	/* Expected: ring and block feature bit numbers as in uapi. */
	KUNIT_EXPECT_EQ(test, VRB_F_RING_INDIRECT_DESC,
			VIRTIO_RING_F_INDIRECT_DESC);
	KUNIT_EXPECT_EQ(test, VRB_F_RING_EVENT_IDX, VIRTIO_RING_F_EVENT_IDX);
	KUNIT_EXPECT_EQ(test, VRB_BLK_F_SIZE_MAX, VIRTIO_BLK_F_SIZE_MAX);
	KUNIT_EXPECT_EQ(test, VRB_BLK_F_SEG_MAX, VIRTIO_BLK_F_SEG_MAX);
	KUNIT_EXPECT_EQ(test, VRB_BLK_F_GEOMETRY, VIRTIO_BLK_F_GEOMETRY);
	KUNIT_EXPECT_EQ(test, VRB_BLK_F_RO, VIRTIO_BLK_F_RO);
	KUNIT_EXPECT_EQ(test, VRB_BLK_F_BLK_SIZE, VIRTIO_BLK_F_BLK_SIZE);
	KUNIT_EXPECT_EQ(test, VRB_BLK_F_FLUSH, VIRTIO_BLK_F_FLUSH);
	KUNIT_EXPECT_EQ(test, VRB_BLK_F_TOPOLOGY, VIRTIO_BLK_F_TOPOLOGY);
	KUNIT_EXPECT_EQ(test, VRB_BLK_F_CONFIG_WCE, VIRTIO_BLK_F_CONFIG_WCE);
	KUNIT_EXPECT_EQ(test, VRB_BLK_F_MQ, VIRTIO_BLK_F_MQ);
	KUNIT_EXPECT_EQ(test, VRB_BLK_F_DISCARD, VIRTIO_BLK_F_DISCARD);
	KUNIT_EXPECT_EQ(test, VRB_BLK_F_WRITE_ZEROES,
			VIRTIO_BLK_F_WRITE_ZEROES);
}

static void vrb_wire_blk_requests_match_uapi(struct kunit *test)
{
	/* Expected: §5.2.6 request types, status, header, payloads. */
	KUNIT_EXPECT_EQ(test, VRB_BLK_T_IN, VIRTIO_BLK_T_IN);
	KUNIT_EXPECT_EQ(test, VRB_BLK_T_OUT, VIRTIO_BLK_T_OUT);
	KUNIT_EXPECT_EQ(test, VRB_BLK_T_FLUSH, VIRTIO_BLK_T_FLUSH);
	KUNIT_EXPECT_EQ(test, VRB_BLK_T_GET_ID, VIRTIO_BLK_T_GET_ID);
	KUNIT_EXPECT_EQ(test, VRB_BLK_T_DISCARD, VIRTIO_BLK_T_DISCARD);
	KUNIT_EXPECT_EQ(test, VRB_BLK_T_WRITE_ZEROES,
			VIRTIO_BLK_T_WRITE_ZEROES);
	KUNIT_EXPECT_EQ(test, VRB_BLK_S_OK, VIRTIO_BLK_S_OK);
	KUNIT_EXPECT_EQ(test, VRB_BLK_S_IOERR, VIRTIO_BLK_S_IOERR);
	KUNIT_EXPECT_EQ(test, VRB_BLK_S_UNSUPP, VIRTIO_BLK_S_UNSUPP);
	KUNIT_EXPECT_EQ(test, VRB_BLK_ID_BYTES, VIRTIO_BLK_ID_BYTES);
	KUNIT_EXPECT_EQ(test, VRB_BLK_WZ_F_UNMAP,
			VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	KUNIT_EXPECT_EQ(test, VRB_BLK_SECTOR_SHIFT, SECTOR_SHIFT);

	KUNIT_EXPECT_EQ(test, sizeof(struct vrb_blk_req_hdr),
			sizeof(struct virtio_blk_outhdr));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_blk_req_hdr, type),
			offsetof(struct virtio_blk_outhdr, type));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_blk_req_hdr, ioprio),
			offsetof(struct virtio_blk_outhdr, ioprio));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_blk_req_hdr, sector),
			offsetof(struct virtio_blk_outhdr, sector));

	KUNIT_EXPECT_EQ(test, sizeof(struct vrb_blk_discard_wz),
			sizeof(struct virtio_blk_discard_write_zeroes));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_blk_discard_wz, sector),
			offsetof(struct virtio_blk_discard_write_zeroes, sector));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_blk_discard_wz, num_sectors),
			offsetof(struct virtio_blk_discard_write_zeroes,
				 num_sectors));
	KUNIT_EXPECT_EQ(test, offsetof(struct vrb_blk_discard_wz, flags),
			offsetof(struct virtio_blk_discard_write_zeroes, flags));
}

#define cfg_off(member) offsetof(struct virtio_blk_config, member)

static void vrb_wire_blk_config_offsets_match_uapi(struct kunit *test)
{
	/* Expected: §5.2.4 config offsets as struct virtio_blk_config. */
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_CAPACITY, cfg_off(capacity));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_SIZE_MAX, cfg_off(size_max));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_SEG_MAX, cfg_off(seg_max));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_GEO_CYLINDERS,
			cfg_off(geometry.cylinders));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_GEO_HEADS, cfg_off(geometry.heads));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_GEO_SECTORS,
			cfg_off(geometry.sectors));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_BLK_SIZE, cfg_off(blk_size));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_PHYS_BLK_EXP,
			cfg_off(physical_block_exp));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_ALIGN_OFFSET,
			cfg_off(alignment_offset));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_MIN_IO_SIZE, cfg_off(min_io_size));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_OPT_IO_SIZE, cfg_off(opt_io_size));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_WRITEBACK, cfg_off(wce));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_NUM_QUEUES, cfg_off(num_queues));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_MAX_DISCARD_SECT,
			cfg_off(max_discard_sectors));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_MAX_DISCARD_SEG,
			cfg_off(max_discard_seg));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_DISCARD_ALIGN,
			cfg_off(discard_sector_alignment));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_MAX_WZ_SECT,
			cfg_off(max_write_zeroes_sectors));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_MAX_WZ_SEG,
			cfg_off(max_write_zeroes_seg));
	KUNIT_EXPECT_EQ(test, VRB_BLK_CFG_WZ_MAY_UNMAP,
			cfg_off(write_zeroes_may_unmap));
}

static void vrb_wire_pci_registers_match_uapi(struct kunit *test)
{
	/* Expected: §4.1.4.10 legacy BAR0 layout as uapi virtio_pci.h. */
	KUNIT_EXPECT_EQ(test, VRB_PCI_HOST_FEATURES, VIRTIO_PCI_HOST_FEATURES);
	KUNIT_EXPECT_EQ(test, VRB_PCI_GUEST_FEATURES,
			VIRTIO_PCI_GUEST_FEATURES);
	KUNIT_EXPECT_EQ(test, VRB_PCI_QUEUE_PFN, VIRTIO_PCI_QUEUE_PFN);
	KUNIT_EXPECT_EQ(test, VRB_PCI_QUEUE_NUM, VIRTIO_PCI_QUEUE_NUM);
	KUNIT_EXPECT_EQ(test, VRB_PCI_QUEUE_SEL, VIRTIO_PCI_QUEUE_SEL);
	KUNIT_EXPECT_EQ(test, VRB_PCI_QUEUE_NOTIFY, VIRTIO_PCI_QUEUE_NOTIFY);
	KUNIT_EXPECT_EQ(test, VRB_PCI_STATUS, VIRTIO_PCI_STATUS);
	KUNIT_EXPECT_EQ(test, VRB_PCI_ISR, VIRTIO_PCI_ISR);
	KUNIT_EXPECT_EQ(test, VRB_PCI_MSI_CONFIG_VECTOR,
			VIRTIO_MSI_CONFIG_VECTOR);
	KUNIT_EXPECT_EQ(test, VRB_PCI_MSI_QUEUE_VECTOR,
			VIRTIO_MSI_QUEUE_VECTOR);
	KUNIT_EXPECT_EQ(test, VRB_PCI_CONFIG_OFF(false),
			VIRTIO_PCI_CONFIG_OFF(false));
	KUNIT_EXPECT_EQ(test, VRB_PCI_CONFIG_OFF(true),
			VIRTIO_PCI_CONFIG_OFF(true));
	KUNIT_EXPECT_EQ(test, VRB_PCI_QUEUE_PFN_SHIFT,
			VIRTIO_PCI_QUEUE_ADDR_SHIFT);
	KUNIT_EXPECT_EQ(test, VRB_PCI_NO_VECTOR, VIRTIO_MSI_NO_VECTOR);
	KUNIT_EXPECT_EQ(test, VRB_PCI_ISR_CONFIG, VIRTIO_PCI_ISR_CONFIG);
	/* uapi names no ISR queue bit: §4.1.4.5 says bit 0. */
	KUNIT_EXPECT_EQ(test, VRB_PCI_ISR_QUEUE, BIT(0));
}

static void vrb_wire_pci_ids_and_status_match_uapi(struct kunit *test)
{
	/*
	 * Expected: §4.1.2.1 transitional device id 0x1000 + (virtio id - 1)
	 * for block; subsystem id = virtio id; §2.1 status bits as uapi.
	 */
	KUNIT_EXPECT_EQ(test, VRB_PCI_DEVICE_ID_BLK_LEGACY,
			0x1000 + VIRTIO_ID_BLOCK - 1);
	KUNIT_EXPECT_EQ(test, VRB_PCI_SUBSYS_ID_BLK, VIRTIO_ID_BLOCK);
	KUNIT_EXPECT_EQ(test, VRB_STATUS_ACKNOWLEDGE,
			VIRTIO_CONFIG_S_ACKNOWLEDGE);
	KUNIT_EXPECT_EQ(test, VRB_STATUS_DRIVER, VIRTIO_CONFIG_S_DRIVER);
	KUNIT_EXPECT_EQ(test, VRB_STATUS_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_EQ(test, VRB_STATUS_NEEDS_RESET,
			VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_EQ(test, VRB_STATUS_FAILED, VIRTIO_CONFIG_S_FAILED);
}

static struct kunit_case vrb_layout_cases[] = {
	KUNIT_CASE(vrb_vq_layout_compute_power_of_two_sizes),
	KUNIT_CASE(vrb_vq_layout_compute_256_is_three_pages),
	KUNIT_CASE(vrb_vq_layout_compute_rejects_non_powers_of_two),
	KUNIT_CASE(vrb_vq_layout_compute_rejects_zero),
	KUNIT_CASE(vrb_vq_layout_compute_rejects_above_32768),
	KUNIT_CASE(vrb_vq_init_rejects_invalid_size),
	KUNIT_CASE(vrb_wire_desc_flags_match_uapi),
	KUNIT_CASE(vrb_wire_ring_flags_match_uapi),
	KUNIT_CASE(vrb_wire_ring_structs_match_uapi),
	KUNIT_CASE(vrb_wire_feature_bits_match_uapi),
	KUNIT_CASE(vrb_wire_blk_requests_match_uapi),
	KUNIT_CASE(vrb_wire_blk_config_offsets_match_uapi),
	KUNIT_CASE(vrb_wire_pci_registers_match_uapi),
	KUNIT_CASE(vrb_wire_pci_ids_and_status_match_uapi),
	{}
};

static struct kunit_suite vrb_layout_suite = {
	.name = "vringblk_layout",
	.test_cases = vrb_layout_cases,
};

kunit_test_suite(vrb_layout_suite);
