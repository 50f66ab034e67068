// SPDX-License-Identifier: GPL-2.0
/*
 * vrb_pci_legacy.c - the legacy virtio-pci register file, one accessor per
 * register (virtio 1.2 §4.1.4.10 "Legacy Interfaces: A Note on PCI Device
 * Layout").  All registers are in BAR0, an I/O port region, in the guest's
 * native byte order.  Register offsets are in vrb_wire.h.
 *
 * None of these sleep; all may be called from any context.  Serializing
 * QUEUE_SEL with the registers it selects is the caller's job (setup and
 * teardown run in process context, one at a time).
 */
#include <linux/io.h>

#include "vringblk.h"

/**
 * vrb_pci_get_features - read the device's feature bits 0-31
 * @vdev: the device.
 *
 * Context: Any context.
 * Return: the HOST_FEATURES register.
 */
u32 vrb_pci_get_features(struct vrb_dev *vdev)
{
	return ioread32(vdev->ioaddr + VRB_PCI_HOST_FEATURES);
}

/**
 * vrb_pci_set_features - tell the device which features the driver uses
 * @vdev: the device.
 * @features: a subset of what vrb_pci_get_features() returned.
 *
 * Legacy devices have no FEATURES_OK step (§3.1.2): this write is final.
 *
 * Context: Any context.
 */
void vrb_pci_set_features(struct vrb_dev *vdev, u32 features)
{
	iowrite32(features, vdev->ioaddr + VRB_PCI_GUEST_FEATURES);
}

/**
 * vrb_pci_get_status - read the device status byte (§2.1)
 * @vdev: the device.
 *
 * Context: Any context.
 * Return: VRB_STATUS_* bits.
 */
u8 vrb_pci_get_status(struct vrb_dev *vdev)
{
	return ioread8(vdev->ioaddr + VRB_PCI_STATUS);
}

/**
 * vrb_pci_set_status - write the device status byte (§2.1)
 * @vdev: the device.
 * @status: new value; must not be 0 (use vrb_pci_reset()).
 *
 * Context: Any context.
 */
void vrb_pci_set_status(struct vrb_dev *vdev, u8 status)
{
	iowrite8(status, vdev->ioaddr + VRB_PCI_STATUS);
}

/**
 * vrb_pci_add_status - set more bits in the device status byte (§3.1.1)
 * @vdev: the device.
 * @status: VRB_STATUS_* bits to add to those already set.
 *
 * Context: Any context.
 */
void vrb_pci_add_status(struct vrb_dev *vdev, u8 status)
{
	vrb_pci_set_status(vdev, vrb_pci_get_status(vdev) | status);
}

/**
 * vrb_pci_reset - reset the device (§2.1: writing 0 to status)
 * @vdev: the device.
 *
 * After this the device no longer reads or writes the rings and has
 * forgotten the queue addresses and features.
 *
 * Context: Any context.
 */
void vrb_pci_reset(struct vrb_dev *vdev)
{
	iowrite8(0, vdev->ioaddr + VRB_PCI_STATUS);
	/*
	 * Read only to flush the write: the reset is done once the write
	 * reached the device, and I/O port writes are not posted, but
	 * reading back makes that explicit and matches what Linux does.
	 */
	ioread8(vdev->ioaddr + VRB_PCI_STATUS);
}

/**
 * vrb_pci_read_isr - read and clear the interrupt status (§4.1.4.5)
 * @vdev: the device.
 *
 * Side effect: reading the ISR also clears it and de-asserts INTx.
 *
 * Context: Any context.
 * Return: VRB_PCI_ISR_QUEUE and/or VRB_PCI_ISR_CONFIG, or 0.
 */
u8 vrb_pci_read_isr(struct vrb_dev *vdev)
{
	return ioread8(vdev->ioaddr + VRB_PCI_ISR);
}

/**
 * vrb_pci_select_queue - choose the queue QUEUE_NUM/PFN/VECTOR refer to
 * @vdev: the device.
 * @index: virtqueue number.
 *
 * Context: Any context; caller serializes queue register access.
 */
void vrb_pci_select_queue(struct vrb_dev *vdev, u16 index)
{
	iowrite16(index, vdev->ioaddr + VRB_PCI_QUEUE_SEL);
}

/**
 * vrb_pci_get_queue_num - size of the selected queue
 * @vdev: the device.
 *
 * Context: Any context; caller serializes queue register access.
 * Return: the number of descriptors; 0 if the queue does not exist.
 */
u16 vrb_pci_get_queue_num(struct vrb_dev *vdev)
{
	return ioread16(vdev->ioaddr + VRB_PCI_QUEUE_NUM);
}

/**
 * vrb_pci_get_queue_pfn - ring address of the selected queue
 * @vdev: the device.
 *
 * Context: Any context; caller serializes queue register access.
 * Return: page frame number (4096-byte pages), 0 if the queue is unused.
 */
u32 vrb_pci_get_queue_pfn(struct vrb_dev *vdev)
{
	return ioread32(vdev->ioaddr + VRB_PCI_QUEUE_PFN);
}

/**
 * vrb_pci_set_queue_pfn - activate (or with 0, deactivate) the queue
 * @vdev: the device.
 * @pfn: ring bus address >> 12.
 *
 * Side effect: a non-zero PFN makes the device start using the ring.
 *
 * Context: Any context; caller serializes queue register access.
 */
void vrb_pci_set_queue_pfn(struct vrb_dev *vdev, u32 pfn)
{
	iowrite32(pfn, vdev->ioaddr + VRB_PCI_QUEUE_PFN);
}

/**
 * vrb_pci_set_config_vector - route config changes to an MSI-X vector
 * @vdev: the device (MSI-X must be enabled).
 * @vector: MSI-X table entry, or VRB_PCI_NO_VECTOR.
 *
 * The device may refuse (out of resources): it then reads back
 * VRB_PCI_NO_VECTOR (§4.1.5.1.2.1).  The read also flushes the write.
 *
 * Context: Any context.
 * Return: the vector the device accepted.
 */
u16 vrb_pci_set_config_vector(struct vrb_dev *vdev, u16 vector)
{
	iowrite16(vector, vdev->ioaddr + VRB_PCI_MSI_CONFIG_VECTOR);
	return ioread16(vdev->ioaddr + VRB_PCI_MSI_CONFIG_VECTOR);
}

/**
 * vrb_pci_set_queue_vector - route the selected queue to an MSI-X vector
 * @vdev: the device (MSI-X must be enabled).
 * @vector: MSI-X table entry, or VRB_PCI_NO_VECTOR.
 *
 * Like vrb_pci_set_config_vector(), the read back tells whether the
 * device accepted the vector.
 *
 * Context: Any context; caller serializes queue register access.
 * Return: the vector the device accepted.
 */
u16 vrb_pci_set_queue_vector(struct vrb_dev *vdev, u16 vector)
{
	iowrite16(vector, vdev->ioaddr + VRB_PCI_MSI_QUEUE_VECTOR);
	return ioread16(vdev->ioaddr + VRB_PCI_MSI_QUEUE_VECTOR);
}

/*
 * Device-specific configuration follows the common registers, at 0x14,
 * or at 0x18 when MSI-X is enabled (the two vector registers sit in
 * between).  The offset must be taken each time: it follows MSI-X state.
 */
static void __iomem *vrb_pci_config(struct vrb_dev *vdev, unsigned int off)
{
	bool msix = vdev->irq_mode == VRB_IRQ_MSIX ||
		    vdev->irq_mode == VRB_IRQ_MSIX_SHARED;

	return vdev->ioaddr + VRB_PCI_CONFIG_OFF(msix) + off;
}

/**
 * vrb_pci_config_read8 - read a u8 of the device configuration
 * @vdev: the device.
 * @off: offset inside the configuration, e.g. VRB_BLK_CFG_WRITEBACK.
 *
 * Context: Any context.
 * Return: the value.
 */
u8 vrb_pci_config_read8(struct vrb_dev *vdev, unsigned int off)
{
	return ioread8(vrb_pci_config(vdev, off));
}

/**
 * vrb_pci_config_read16 - read a u16 of the device configuration
 * @vdev: the device.
 * @off: offset inside the configuration.
 *
 * Context: Any context.
 * Return: the value (legacy config is guest-native endian).
 */
u16 vrb_pci_config_read16(struct vrb_dev *vdev, unsigned int off)
{
	return ioread16(vrb_pci_config(vdev, off));
}

/**
 * vrb_pci_config_read32 - read a u32 of the device configuration
 * @vdev: the device.
 * @off: offset inside the configuration.
 *
 * Context: Any context.
 * Return: the value.
 */
u32 vrb_pci_config_read32(struct vrb_dev *vdev, unsigned int off)
{
	return ioread32(vrb_pci_config(vdev, off));
}

/**
 * vrb_pci_config_read64 - read a u64 of the device configuration
 * @vdev: the device.
 * @off: offset inside the configuration, e.g. VRB_BLK_CFG_CAPACITY.
 *
 * Legacy configuration has no generation counter (§2.5.4), so a 64-bit
 * field read as two 32-bit halves may tear while the device changes it.
 * Read it until two reads in a row agree.
 *
 * Context: Any context.
 * Return: the value.
 */
u64 vrb_pci_config_read64(struct vrb_dev *vdev, unsigned int off)
{
	u64 prev, val;
	int tries = 10;

	val = ioread32(vrb_pci_config(vdev, off)) |
	      (u64)ioread32(vrb_pci_config(vdev, off + 4)) << 32;
	do {
		prev = val;
		val = ioread32(vrb_pci_config(vdev, off)) |
		      (u64)ioread32(vrb_pci_config(vdev, off + 4)) << 32;
	} while (val != prev && --tries);
	return val;
}

/**
 * vrb_pci_config_write8 - write a u8 of the device configuration
 * @vdev: the device.
 * @off: offset inside the configuration, e.g. VRB_BLK_CFG_WRITEBACK.
 * @val: the value.
 *
 * Context: Any context.
 */
void vrb_pci_config_write8(struct vrb_dev *vdev, unsigned int off, u8 val)
{
	iowrite8(val, vrb_pci_config(vdev, off));
}
