// SPDX-License-Identifier: GPL-2.0
/*
 * VRB_HAVE_GETGEO_GENDISK: block_device_operations.getgeo takes the
 * struct gendisk.  Upstream 6.19 ("block: switch ->getgeo() to pass a
 * struct gendisk").  Before: the struct block_device.
 */
#include <linux/blkdev.h>
#include <linux/hdreg.h>

#ifdef VRB_PROBE_HAVE
static int vrb_probe_getgeo(struct gendisk *disk, struct hd_geometry *geo)
{
	geo->heads = disk->minors;
	return 0;
}
#else
static int vrb_probe_getgeo(struct block_device *bdev,
			    struct hd_geometry *geo)
{
	geo->heads = bdev->bd_disk->minors;
	return 0;
}
#endif

const struct block_device_operations vrb_probe_fops;
const struct block_device_operations vrb_probe_fops = {
	.getgeo = vrb_probe_getgeo,
};
