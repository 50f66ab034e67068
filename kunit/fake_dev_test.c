// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vringblk_fake_dev: the fake device checks itself.
 *
 * The other suites trust the fake device to notice a driver that breaks
 * the rules of virtio 1.2 §2.7.5 (descriptor chains), §2.7.5.3 (indirect
 * tables) and §2.7.13 (the available ring).  Here hand-written descriptors,
 * with no driver involved, show that it does: each case breaks one rule
 * and expects exactly one violation, no chain taken, and no descriptor
 * left marked as held.  One case shows valid chains pass and complete.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "../mod/vrb_vq.h"
#include "fake_dev.h"

/**
 * struct fd_env - a fake device on a ring the test writes by hand
 * @dev: the device.
 * @ring: ring memory.
 * @num: queue size.
 * @buf: buffer space the descriptors point into.
 * @table: an indirect table.
 */
struct fd_env {
	struct fake_dev dev;
	void *ring;
	unsigned int num;
	u8 buf[256];
	struct vrb_desc table[8];
};

static void fd_free(struct kunit_resource *res)
{
	struct fd_env *fd = res->data;

	fake_dev_destroy(&fd->dev);
}

static struct fd_env *fd_create(struct kunit *test, unsigned int num,
				bool indirect)
{
	struct vrb_vq_layout layout;
	struct fd_env *fd;

	KUNIT_ASSERT_EQ(test, vrb_vq_layout_compute(num, &layout), 0);
	fd = kunit_kzalloc(test, sizeof(*fd), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fd);
	fd->num = num;
	fd->ring = kunit_kzalloc(test, layout.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fd->ring);
	KUNIT_ASSERT_PTR_EQ(test, kunit_alloc_resource(test, NULL, fd_free,
						       GFP_KERNEL, fd),
			    (void *)fd);
	KUNIT_ASSERT_EQ(test, fake_dev_init(&fd->dev, fd->ring, num, false,
					    indirect), 0);
	return fd;
}

/* Write descriptor @i of the ring, pointing @off bytes into fd->buf. */
static void fd_desc(struct fd_env *fd, u16 i, u32 off, u32 len, u16 flags,
		    u16 next)
{
	struct vrb_desc *d = &fd->dev.desc[i];

	d->addr = (u64)(uintptr_t)&fd->buf[off];
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Write entry @i of the indirect table, pointing @off bytes into fd->buf. */
static void fd_entry(struct fd_env *fd, u16 i, u32 off, u32 len, u16 flags,
		     u16 next)
{
	fd->table[i].addr = (u64)(uintptr_t)&fd->buf[off];
	fd->table[i].len = len;
	fd->table[i].flags = flags;
	fd->table[i].next = next;
}

/* Ring descriptor @i points at the indirect table, @n entries long. */
static void fd_indirect(struct fd_env *fd, u16 i, u32 n, u16 flags)
{
	struct vrb_desc *d = &fd->dev.desc[i];

	d->addr = (u64)(uintptr_t)fd->table;
	d->len = n * sizeof(struct vrb_desc);
	d->flags = VRB_DESC_F_INDIRECT | flags;
	d->next = 0;
}

/* Offer the chain at @head in the next avail slot. */
static void fd_publish(struct fd_env *fd, u16 head)
{
	struct vrb_avail *avail = fd->dev.avail;

	avail->ring[avail->idx & (fd->num - 1)] = head;
	avail->idx++;
}

/* One violation, nothing taken, no descriptor left marked. */
static void expect_rejected(struct kunit *test, struct fd_env *fd,
			    unsigned int taken)
{
	KUNIT_EXPECT_EQ(test, fake_dev_take(&fd->dev, UINT_MAX), taken);
	KUNIT_EXPECT_EQ(test, fd->dev.violations, 1);
	KUNIT_EXPECT_TRUE(test, fd->dev.broken);
	KUNIT_EXPECT_NE(test, strlen(fd->dev.reason), 0);
	KUNIT_EXPECT_EQ(test, fd->dev.npending, taken);
	if (!taken)
		KUNIT_EXPECT_TRUE(test, bitmap_empty(fd->dev.owned, fd->num));
}

static void fake_dev_take_accepts_valid_chains(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, true);
	struct vrb_used_elem *e;
	u32 seed;

	/* Direct: 0 (4 readable) -> 1 (3 writable). */
	memset(fd->buf, 0x11, 4);
	fd_desc(fd, 0, 0, 4, VRB_DESC_F_NEXT, 1);
	fd_desc(fd, 1, 16, 3, VRB_DESC_F_WRITE, 0);
	fd_publish(fd, 0);
	/* Indirect at 5: table 0 (2 readable) -> 1 (2 writable). */
	fd_entry(fd, 0, 32, 2, VRB_DESC_F_NEXT, 1);
	fd_entry(fd, 1, 48, 2, VRB_DESC_F_WRITE, 0);
	fd_indirect(fd, 5, 2, 0);
	fd_publish(fd, 5);

	/*
	 * Expected: both taken, no violation; completing the direct one
	 * writes used element {id 0, len 3}, fills bytes 16..17 with the
	 * pattern and byte 18 with the status, and moves used->idx to 1.
	 */
	KUNIT_ASSERT_EQ(test, fake_dev_take(&fd->dev, UINT_MAX), 2);
	KUNIT_EXPECT_EQ_MSG(test, fd->dev.violations, 0, "%s", fd->dev.reason);
	KUNIT_EXPECT_TRUE(test, fake_dev_complete(&fd->dev, 0));
	e = &fd->dev.used->ring[0];
	KUNIT_EXPECT_EQ(test, e->id, 0);
	KUNIT_EXPECT_EQ(test, e->len, 3);
	KUNIT_EXPECT_EQ(test, fd->dev.used->idx, 1);
	seed = fake_dev_hash(FAKE_DEV_HASH_INIT, fd->buf, 4);
	KUNIT_EXPECT_EQ(test, fd->buf[16], fake_dev_data_byte(seed, 0));
	KUNIT_EXPECT_EQ(test, fd->buf[17], fake_dev_data_byte(seed, 1));
	KUNIT_EXPECT_EQ(test, fd->buf[18], fake_dev_status_byte(seed));
	KUNIT_EXPECT_EQ(test, fd->buf[19], 0);
	KUNIT_EXPECT_FALSE(test, test_bit(0, fd->dev.owned));
	KUNIT_EXPECT_TRUE(test, test_bit(5, fd->dev.owned));
}

static void fake_dev_take_rejects_head_out_of_range(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, false);

	/* Expected: an avail entry of 8 in a queue of 8 is refused. */
	fd_publish(fd, 8);
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_rejects_next_out_of_range(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, false);

	/* Expected: 0 -> next 9 leaves the table: refused. */
	fd_desc(fd, 0, 0, 4, VRB_DESC_F_NEXT, 9);
	fd_publish(fd, 0);
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_rejects_loop(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, false);

	/* Expected: 0 -> 1 -> 2 -> 1 is a loop: refused, marks undone. */
	fd_desc(fd, 0, 0, 4, VRB_DESC_F_NEXT, 1);
	fd_desc(fd, 1, 8, 4, VRB_DESC_F_NEXT, 2);
	fd_desc(fd, 2, 16, 4, VRB_DESC_F_NEXT, 1);
	fd_publish(fd, 0);
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_rejects_descriptor_in_flight(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, false);

	/*
	 * Expected: chain 0 -> 1 is taken; a second chain 2 -> 1 reuses
	 * descriptor 1, which the device still holds: refused, and only
	 * chain 0's descriptors stay marked.
	 */
	fd_desc(fd, 0, 0, 4, VRB_DESC_F_NEXT, 1);
	fd_desc(fd, 1, 8, 4, VRB_DESC_F_WRITE, 0);
	fd_publish(fd, 0);
	fd_desc(fd, 2, 16, 4, VRB_DESC_F_NEXT, 1);
	fd_publish(fd, 2);
	expect_rejected(test, fd, 1);
	KUNIT_EXPECT_TRUE(test, test_bit(0, fd->dev.owned));
	KUNIT_EXPECT_TRUE(test, test_bit(1, fd->dev.owned));
	KUNIT_EXPECT_FALSE(test, test_bit(2, fd->dev.owned));
}

static void fake_dev_take_rejects_readable_after_writable(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, false);

	/* Expected: writable 0 -> readable 1 breaks §2.7.4.2: refused. */
	fd_desc(fd, 0, 0, 4, VRB_DESC_F_WRITE | VRB_DESC_F_NEXT, 1);
	fd_desc(fd, 1, 8, 4, 0, 0);
	fd_publish(fd, 0);
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_rejects_zero_length(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, false);

	/* Expected: a buffer of 0 bytes is refused. */
	fd_desc(fd, 0, 0, 0, 0, 0);
	fd_publish(fd, 0);
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_rejects_indirect_with_next(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, true);

	/* Expected: INDIRECT together with NEXT (§2.7.5.3.1): refused. */
	fd_entry(fd, 0, 0, 4, 0, 0);
	fd_indirect(fd, 0, 1, VRB_DESC_F_NEXT);
	fd->dev.desc[0].next = 1;
	fd_desc(fd, 1, 8, 4, VRB_DESC_F_WRITE, 0);
	fd_publish(fd, 0);
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_rejects_indirect_not_negotiated(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, false);

	/* Expected: a valid table, but the feature is off: refused. */
	fd_entry(fd, 0, 0, 4, VRB_DESC_F_NEXT, 1);
	fd_entry(fd, 1, 8, 4, VRB_DESC_F_WRITE, 0);
	fd_indirect(fd, 3, 2, 0);
	fd_publish(fd, 3);
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_rejects_nested_indirect(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, true);

	/* Expected: a table entry with INDIRECT (§2.7.5.3.1): refused. */
	fd_entry(fd, 0, 0, 4, VRB_DESC_F_NEXT, 1);
	fd_entry(fd, 1, 8, 32, VRB_DESC_F_INDIRECT, 0);
	fd_indirect(fd, 0, 2, 0);
	fd_publish(fd, 0);
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_rejects_indirect_in_chain(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, true);

	/* Expected: INDIRECT anywhere but alone at the head: refused. */
	fd_entry(fd, 0, 0, 4, 0, 0);
	fd_desc(fd, 0, 8, 4, VRB_DESC_F_NEXT, 1);
	fd_indirect(fd, 1, 1, 0);
	fd_publish(fd, 0);
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_rejects_bad_table_length(struct kunit *test)
{
	static const u32 lens[] = { 0, 8, 24, 33 };
	struct fd_env *fd;
	unsigned int i;

	/* Expected: a table length of 0 or not a multiple of 16: refused. */
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		fd = fd_create(test, 8, true);
		fd_entry(fd, 0, 0, 4, 0, 0);
		fd_entry(fd, 1, 8, 4, 0, 0);
		fd_indirect(fd, 0, 1, 0);
		fd->dev.desc[0].len = lens[i];
		fd_publish(fd, 0);
		expect_rejected(test, fd, 0);
	}
}

static void fake_dev_take_rejects_table_longer_than_queue(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 4, true);
	unsigned int i;

	/* Expected: 5 entries in a queue of 4 (§2.7.5.3.1): refused. */
	for (i = 0; i < 5; i++)
		fd_entry(fd, i, 8 * i, 4, i < 4 ? VRB_DESC_F_NEXT : 0, i + 1);
	fd_indirect(fd, 0, 5, 0);
	fd_publish(fd, 0);
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_rejects_table_loop(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, true);

	/* Expected: table 0 -> 1 -> 0 is a loop: refused. */
	fd_entry(fd, 0, 0, 4, VRB_DESC_F_NEXT, 1);
	fd_entry(fd, 1, 8, 4, VRB_DESC_F_NEXT, 0);
	fd_indirect(fd, 0, 2, 0);
	fd_publish(fd, 0);
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_rejects_avail_idx_too_far(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, false);

	/* Expected: avail->idx 9 ahead with a queue of 8: refused. */
	fd->dev.avail->idx = 9;
	expect_rejected(test, fd, 0);
}

static void fake_dev_take_stops_until_reset(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, false);

	fd_publish(fd, 8);
	expect_rejected(test, fd, 0);

	/*
	 * Expected: a broken device takes nothing, even a valid chain,
	 * until it is reset; then it takes it.
	 */
	fd->dev.avail->idx = 0;
	fd_desc(fd, 0, 0, 4, 0, 0);
	fd_publish(fd, 0);
	KUNIT_EXPECT_EQ(test, fake_dev_take(&fd->dev, UINT_MAX), 0);
	fake_dev_reset(&fd->dev);
	KUNIT_EXPECT_EQ(test, fake_dev_take(&fd->dev, UINT_MAX), 1);
}

static void fake_dev_complete_detects_changed_descriptor(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, false);

	fd_desc(fd, 0, 0, 4, VRB_DESC_F_NEXT, 1);
	fd_desc(fd, 1, 8, 4, VRB_DESC_F_WRITE, 0);
	fd_publish(fd, 0);
	KUNIT_ASSERT_EQ(test, fake_dev_take(&fd->dev, UINT_MAX), 1);

	/*
	 * Expected: the driver changing a descriptor the device holds is a
	 * violation, noticed when the chain completes.
	 */
	fd->dev.desc[1].len = 5;
	KUNIT_EXPECT_EQ(test, fake_dev_complete_one(&fd->dev, 0), 0);
	KUNIT_EXPECT_EQ(test, fd->dev.violations, 1);
}

static void fake_dev_publish_honours_no_interrupt(struct kunit *test)
{
	struct fd_env *fd = fd_create(test, 8, false);
	unsigned int i;

	for (i = 0; i < 3; i++) {
		fd_desc(fd, i, 8 * i, 4, VRB_DESC_F_WRITE, 0);
		fd_publish(fd, i);
	}
	KUNIT_ASSERT_EQ(test, fake_dev_take(&fd->dev, UINT_MAX), 3);

	/*
	 * Expected without EVENT_IDX: NO_INTERRUPT set, no interrupt;
	 * cleared, an interrupt; with the ignore knob, an interrupt even
	 * with NO_INTERRUPT set.
	 */
	fd->dev.avail->flags = VRB_AVAIL_F_NO_INTERRUPT;
	KUNIT_EXPECT_FALSE(test, fake_dev_complete(&fd->dev, 0));
	fd->dev.avail->flags = 0;
	KUNIT_EXPECT_TRUE(test, fake_dev_complete(&fd->dev, 0));
	fd->dev.avail->flags = VRB_AVAIL_F_NO_INTERRUPT;
	fd->dev.ignore_suppression = true;
	KUNIT_EXPECT_TRUE(test, fake_dev_complete(&fd->dev, 0));
	KUNIT_EXPECT_EQ(test, fd->dev.interrupts, 2);
	KUNIT_EXPECT_EQ(test, fd->dev.suppressed, 1);
}

static struct kunit_case fake_dev_cases[] = {
	KUNIT_CASE(fake_dev_take_accepts_valid_chains),
	KUNIT_CASE(fake_dev_take_rejects_head_out_of_range),
	KUNIT_CASE(fake_dev_take_rejects_next_out_of_range),
	KUNIT_CASE(fake_dev_take_rejects_loop),
	KUNIT_CASE(fake_dev_take_rejects_descriptor_in_flight),
	KUNIT_CASE(fake_dev_take_rejects_readable_after_writable),
	KUNIT_CASE(fake_dev_take_rejects_zero_length),
	KUNIT_CASE(fake_dev_take_rejects_indirect_with_next),
	KUNIT_CASE(fake_dev_take_rejects_indirect_not_negotiated),
	KUNIT_CASE(fake_dev_take_rejects_nested_indirect),
	KUNIT_CASE(fake_dev_take_rejects_indirect_in_chain),
	KUNIT_CASE(fake_dev_take_rejects_bad_table_length),
	KUNIT_CASE(fake_dev_take_rejects_table_longer_than_queue),
	KUNIT_CASE(fake_dev_take_rejects_table_loop),
	KUNIT_CASE(fake_dev_take_rejects_avail_idx_too_far),
	KUNIT_CASE(fake_dev_take_stops_until_reset),
	KUNIT_CASE(fake_dev_complete_detects_changed_descriptor),
	KUNIT_CASE(fake_dev_publish_honours_no_interrupt),
	{}
};

static struct kunit_suite fake_dev_suite = {
	.name = "vringblk_fake_dev",
	.test_cases = fake_dev_cases,
};

kunit_test_suite(fake_dev_suite);
