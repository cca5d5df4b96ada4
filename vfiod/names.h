/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Vendor, device and class names from the pci.ids database, through libpci.
 * The database is the analysing machine's (like `lspci -F`), not the
 * sysroot's: a tree captured elsewhere is named with local knowledge.
 */
#ifndef VFIOD_NAMES_H
#define VFIOD_NAMES_H

#include "pci.h"

struct pci_names;

/* `ids_path` NULL means libpci's default database. Never fails: a missing
 * database only leaves the names empty. */
struct pci_names *names_open(const char *ids_path);
void names_close(struct pci_names *n);

/* Fills vendor_name, device_name and class_name of each device with ids. */
void names_fill(struct pci_names *n, struct pci_inventory *inv);
/* The same for one device. */
void names_fill_dev(struct pci_names *n, struct pci_dev_info *d);

#endif
