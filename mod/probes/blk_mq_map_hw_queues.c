// SPDX-License-Identifier: GPL-2.0
/*
 * VRB_HAVE_BLK_MQ_MAP_HW_QUEUES: blk_mq_map_hw_queues() maps hardware
 * queues to CPUs from any device's IRQ affinity.  Upstream 6.14, which
 * also removed <linux/blk-mq-pci.h>; Debian 6.12 has both.  Before:
 * blk_mq_pci_map_queues() from <linux/blk-mq-pci.h>.
 */
#include <linux/blk-mq.h>
#include <linux/pci.h>

int vrb_probe(struct blk_mq_queue_map *map, struct pci_dev *pdev);

#ifdef VRB_PROBE_HAVE
int vrb_probe(struct blk_mq_queue_map *map, struct pci_dev *pdev)
{
	blk_mq_map_hw_queues(map, &pdev->dev, 1);
	return 0;
}
#else
#include <linux/blk-mq-pci.h>

/* Fails to compile if blk_mq_map_hw_queues() is declared. */
static int blk_mq_map_hw_queues;

int vrb_probe(struct blk_mq_queue_map *map, struct pci_dev *pdev)
{
	blk_mq_pci_map_queues(map, pdev, 1);
	return blk_mq_map_hw_queues;
}
#endif
