/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domain XML reader: the XML libvirt returns for a domain, which the
 * domain's owner can shape (their own device list, names, metadata).
 * Oracle: the free ports are distinct and ascending, and asking for fewer
 * gives the lowest of them.
 */
#include "fuzz.h"

#include "domxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vf_bdf hosts[] = {
		{ 0x0000, 0x00, 0x03, 0 },
		{ 0x0001, 0x3b, 0x1f, 7 },
	};
	char *xml = fuzz_text(data, size);
	unsigned idx[DOMXML_MAX_PORTS], few[2];
	struct vf_err e = { 0 };
	int r, r2;

	r = domxml_free_ports(xml, idx, DOMXML_MAX_PORTS, &e);
	FUZZ_CHECK(r <= DOMXML_MAX_PORTS);
	for (int i = 1; i < r; i++)
		FUZZ_CHECK(idx[i - 1] < idx[i]);
	/* a short array: the lowest ports, never written past */
	r2 = domxml_free_ports(xml, few, 2, &e);
	FUZZ_CHECK(r < 0 ? r2 < 0 : r2 == (r < 2 ? r : 2));
	for (int i = 0; i < r2; i++)
		FUZZ_CHECK(few[i] == idx[i]);
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		r = domxml_has_hostdev(xml, &hosts[i], &e);
		FUZZ_CHECK(r >= -1 && r <= 1);
	}
	free(xml);
	return 0;
}
