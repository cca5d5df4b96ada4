// SPDX-License-Identifier: GPL-2.0-or-later
#include "names.h"

#include <pci/pci.h>
#include <stdio.h>
#include <string.h>

struct pci_names {
	struct pci_access *pacc;
};

/* libpci reports a malformed database through these; vfiod keeps going. */
static void quiet(char *msg, ...)
{
	(void)msg;
}

struct pci_names *names_open(const char *ids_path)
{
	struct pci_names *n = vf_xcalloc(1, sizeof(*n));

	n->pacc = pci_alloc();
	if (!n->pacc)
		return n;
	n->pacc->warning = quiet;
	n->pacc->debug = quiet;
	if (ids_path)
		pci_set_name_list_path(n->pacc, (char *)ids_path, 0);
	return n;
}

void names_close(struct pci_names *n)
{
	if (!n)
		return;
	if (n->pacc)
		pci_cleanup(n->pacc);
	free(n);
}

/* libpci's lookup takes the ids as varargs; every kind used here takes two. */
static void lookup(struct pci_names *n, char *out, size_t cap, int flags,
		   unsigned a, unsigned b)
{
	char buf[VF_NAME_MAX];
	const char *r = NULL;

	if (n->pacc)
		r = pci_lookup_name(n->pacc, buf, sizeof(buf),
				    flags | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB,
				    a, b);
	snprintf(out, cap, "%s", r ? r : "");
}

void names_fill_dev(struct pci_names *n, struct pci_dev_info *d)
{
	if (!d->ids_ok)
		return;
	lookup(n, d->vendor_name, sizeof(d->vendor_name),
	       PCI_LOOKUP_VENDOR, (unsigned)d->vendor, 0u);
	lookup(n, d->device_name, sizeof(d->device_name),
	       PCI_LOOKUP_DEVICE, (unsigned)d->vendor, (unsigned)d->device);
	lookup(n, d->class_name, sizeof(d->class_name), PCI_LOOKUP_CLASS,
	       (unsigned)(d->class >> 8), 0u);
}

void names_fill(struct pci_names *n, struct pci_inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++)
		names_fill_dev(n, &inv->devs[i]);
}
