/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI facts: what sysfs says about each device, read through hostfs. Facts
 * only, no verdicts (see verdict.h). Problems with one device (a truncated
 * file, junk in a numeric attribute, a dangling link) are recorded in that
 * device's `errors` and the scan goes on with the others.
 */
#ifndef VFIOD_PCI_H
#define VFIOD_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "hostfs.h"
#include "parse.h"
#include "util.h"

#define VF_NAME_MAX 256

enum vf_header_type {
	VF_HDR_UNKNOWN = -1,
	VF_HDR_NORMAL = 0,
	VF_HDR_BRIDGE = 1,
	VF_HDR_CARDBUS = 2,
};

enum vf_irq_mode {
	VF_IRQ_NONE,
	VF_IRQ_INTX,
	VF_IRQ_MSI,
	VF_IRQ_MSIX,
};

struct pci_dev_info {
	char bdf[VF_BDF_LEN];
	struct vf_bdf addr;
	char syspath[1024];  /* canonical, inside the root: /sys/devices/... */
	char parent[VF_BDF_LEN]; /* upstream PCI device, "" on a root bus */

	bool ids_ok;         /* vendor, device and class were all read */
	uint16_t vendor, device;
	uint32_t class;      /* 24 bits: base, sub, prog-if */
	bool subsys_ok;
	uint16_t subsys_vendor, subsys_device;
	enum vf_header_type header;

	char vendor_name[VF_NAME_MAX];  /* "" when unknown to pci.ids */
	char device_name[VF_NAME_MAX];
	char class_name[VF_NAME_MAX];

	char driver[VF_NAME_MAX];  /* "" when no driver is bound */
	bool driver_bad;           /* a driver link that is unreadable or leads nowhere */
	bool group_bad;            /* an iommu_group link that is not a group */
	char driver_override[VF_NAME_MAX];
	int iommu_group;           /* -1 when none */
	int numa_node;             /* -1 when none or unknown */
	int boot_vga;              /* -1 when the attribute is absent */

	char physfn[VF_BDF_LEN];   /* set on an SR-IOV VF */
	int sriov_totalvfs;        /* -1 when not a PF */
	int sriov_numvfs;
	struct vf_strv vfs;        /* BDFs of the VFs (virtfnN links) */

	bool has_reset_method;     /* the reset_method attribute exists */
	struct vf_strv reset_methods;

	unsigned irq;              /* INTx line, 0 when none */
	enum vf_irq_mode irq_mode;
	unsigned *vectors;         /* MSI/MSI-X vectors from msi_irqs/ */
	size_t n_vectors;

	struct vf_strv errors;     /* what could not be read, one sentence each */
};

struct pci_inventory {
	struct pci_dev_info *devs; /* sorted by BDF */
	size_t n;
	struct vf_strv errors;     /* entries that are not devices at all */
};

/*
 * Scans sys/bus/pci/devices under the root. Fails only when the directory
 * itself cannot be read; per-device problems land in the device's errors.
 */
int pci_scan(const struct hostfs *h, struct pci_inventory *inv,
	     struct vf_err *e);
void pci_inventory_free(struct pci_inventory *inv);

/*
 * Reads one device, as pci_scan does, into `d` (overwritten). Returns
 * -ENOENT when the device is not (or no longer) there, -EINVAL for a
 * malformed address; per-device problems land in d->errors as in a scan.
 * Free with pci_dev_info_free().
 */
int pci_read_device(const struct hostfs *h, const char *bdf, struct pci_dev_info *d);
/* Reads d's INTx line and MSI vectors again (they change without a uevent). */
int pci_read_interrupts(const struct hostfs *h, struct pci_dev_info *d);
void pci_dev_info_free(struct pci_dev_info *d);

/* Everything the safety rules need was read: ids, class, header type,
 * and the driver and IOMMU group links (when present) make sense. */
bool pci_facts_complete(const struct pci_dev_info *d);

/* Where `bdf` is, or would go, in the sorted devs: the first device not before it. */
size_t pci_lower_bound(const struct pci_inventory *inv, const char *bdf);

/* The device with this BDF, or NULL. */
const struct pci_dev_info *pci_find(const struct pci_inventory *inv,
				    const char *bdf);

/* Endpoint: a type-0 header (known: an unreadable header is not one) and not
 * a bridge-class (0x06) function. */
bool pci_is_endpoint(const struct pci_dev_info *d);

/* A PCI-to-PCI or CardBus bridge (type-1/2 header, or class 0x0604/0x0607). */
bool pci_is_bridge(const struct pci_dev_info *d);

const char *pci_irq_mode_name(enum vf_irq_mode m);
const char *pci_header_name(enum vf_header_type t);

/*
 * The last canonical BDF component in a sysfs path: the PCI device a block
 * or network device hangs from. Returns false when there is none.
 */
bool pci_bdf_of_syspath(const char *path, char out[VF_BDF_LEN]);

/* ---- the command register (config offset 4, through sysfs config) ---- */

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400

/* The command register with bus mastering off and INTx disabled (pure). */
static inline unsigned silenced_command(unsigned cmd)
{
	return (cmd & ~(unsigned)PCI_COMMAND_MASTER) | PCI_COMMAND_INTX_DISABLE;
}

/* The device's PCI command register. */
int pci_read_command(const struct hostfs *h, const char *bdf, unsigned *cmd, struct vf_err *e);
int pci_write_command(const struct hostfs *h, const char *bdf, unsigned cmd, struct vf_err *e);

#endif
