/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt domain XML, the parts vfiod writes and reads (pure: no libvirt
 * connection). vfiod hands a device to a domain as
 *   <hostdev mode='subsystem' type='pci' managed='no'>
 * because vfiod owns the binding and libvirt must not rebind it; each
 * hostdev carries a user alias ("ua-vfiod-0000_3b_00_0") so the
 * device-removed event names it. Reading uses libxml2's XPath, never
 * string matching, and never expands entities or reaches the network.
 */
#ifndef VFIOD_DOMXML_H
#define VFIOD_DOMXML_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "parse.h"

#define DOMXML_ALIAS_LEN 32
#define DOMXML_MAX_PORTS 256

/*
 * libxml2 set up once, from the main thread, before threads parse domain
 * documents (hand-offs' workers do).
 */
void domxml_init(void);

/* The user alias of the hostdev for `bdf`: "ua-vfiod-0000_3b_00_0". */
void domxml_alias(const char *bdf, char buf[DOMXML_ALIAS_LEN]);

/*
 * The <hostdev> element for host device `bdf`; `guest` is its address in
 * the guest (NULL: let libvirt choose). Returns a malloc'ed string.
 */
char *domxml_hostdev(const struct vf_bdf *host, const struct vf_bdf *guest);

/*
 * The indexes of the domain's pcie-root-port controllers that nothing sits
 * behind (no device's PCI address is on their bus), each once, in ascending
 * order: the lowest `max` of them. Returns how many, or -1 on a document
 * that is not a domain.
 */
int domxml_free_ports(const char *xml, unsigned *idx, size_t max, struct vf_err *e);

/* 1 when the domain has a PCI hostdev with source address `host`, 0 when not, -1 on bad XML. */
int domxml_has_hostdev(const char *xml, const struct vf_bdf *host, struct vf_err *e);

/* Domain names vfiod accepts: 1..64 of [A-Za-z0-9_.:+-], not starting with '-' or '.'. */
bool domxml_name_ok(const char *name);

#endif
