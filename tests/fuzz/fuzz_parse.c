/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The small parsers everything else uses on outside strings: integers,
 * PCI addresses, names that become path components, domain names, IRQ
 * thread names, module lists, what /proc says of a process (start time,
 * state, ids; the "<pid>@<start>" form vfiod records), irqbalance's setup
 * answer, CPU lists, mountinfo lines. Oracles: a parsed BDF formats to a canonical
 * BDF that parses to the same address; a parsed number is within its
 * bounds and prints back as the same text when canonical; a CPU list
 * formats to one that parses to the same set.
 */
#include "fuzz.h"

#include <inttypes.h>

#include "cgroup.h"
#include "domxml.h"
#include "inventory.h"
#include "irqbal.h"
#include "irqmon.h"
#include "parse.h"
#include "proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_text(data, size), buf[32], canon[VF_BDF_LEN];
	struct vf_bdf b, b2;
	uint64_t u;
	int64_t i;

	if (vf_parse_u64(s, 10, 1000000, &u) == 0)
		FUZZ_CHECK(u <= 1000000);
	if (vf_parse_u64(s, 16, UINT64_MAX, &u) == 0)
		FUZZ_CHECK(size > 0);
	if (vf_parse_u64(s, 10, UINT64_MAX, &u) == 0 && (s[0] != '0' || !s[1])) {
		snprintf(buf, sizeof(buf), "%" PRIu64, u);
		FUZZ_CHECK(strcmp(buf, s) == 0);
	}
	if (vf_parse_i64(s, -5, 5, &i) == 0)
		FUZZ_CHECK(i >= -5 && i <= 5);
	(void)vf_parse_i64(s, INT64_MIN, INT64_MAX, &i);

	if (vf_parse_bdf(s, &b) == 0) {
		FUZZ_CHECK(b.dev < 32 && b.fn < 8);
		vf_bdf_format(&b, canon);
		FUZZ_CHECK(vf_is_canonical_bdf(canon));
		FUZZ_CHECK(vf_parse_bdf(canon, &b2) == 0);
		FUZZ_CHECK(b.domain == b2.domain && b.bus == b2.bus && b.dev == b2.dev &&
			   b.fn == b2.fn);
	}
	if (vf_is_canonical_bdf(s))
		FUZZ_CHECK(vf_parse_bdf(s, &b) == 0);
	if (vf_name_is_safe(s))
		FUZZ_CHECK(!strchr(s, '/') && strcmp(s, ".") && strcmp(s, ".."));
	if (domxml_name_ok(s))
		FUZZ_CHECK(vf_name_is_safe(s) && s[0] != '-' && s[0] != '.');
	for (unsigned v = 0; v < 64; v += 21)
		if (devcg_is_vfio_irq_thread(s, v))
			FUZZ_CHECK(irqmon_is_irq_thread(s, v));
	(void)irqmon_is_irq_thread(s, 4294967295u);
	(void)inventory_modules_list_has(s, "vfio-pci");
	(void)inventory_modules_list_has(s, "vfio_iommu_type1");
	(void)devcg_list_has(s, "cpu");
	{
		uint32_t ids[4];
		uint64_t start;
		char st, id[48];
		int pid;

		(void)vf_parse_proc_start(s, &start);
		(void)vf_parse_proc_state(s, &st);
		(void)vf_parse_status_ids(s, "Uid:", ids);
		if (proc_id_parse(s, &pid, &start) == 0) {
			uint64_t start2;
			int pid2;

			/* what is recorded parses back to the same process */
			FUZZ_CHECK(pid >= 1);
			proc_id_format(pid, start, id, sizeof(id));
			FUZZ_CHECK(proc_id_parse(id, &pid2, &start2) == 0 && pid2 == pid &&
				   start2 == start);
		}
	}
	{
		/* a CPU list (either flavour) formats to one that parses to the same set */
		uint64_t m[4] = { 0 }, m2[4] = { 0 }, m3[4] = { 0 };
		char list[1024];
		struct vf_cpulist_err ce;
		int n = vf_parse_cpulist(s, VF_CPULIST_BLANKS, m, 256, &ce);

		if (n < 0)
			FUZZ_CHECK(ce.at + ce.len <= strlen(s));
		if (vf_parse_cpulist(s, 0, m3, 256, NULL) >= 0 && n < 0)
			FUZZ_CHECK(0); /* the strict flavour never accepts more */
		if (n >= 0 && vf_format_cpulist(m, 256, list, sizeof(list)) >= 0) {
			FUZZ_CHECK(vf_parse_cpulist(list, 0, m2, 256, NULL) == n);
			FUZZ_CHECK(memcmp(m, m2, sizeof(m)) == 0);
		}
	}
	{
		char cg[64];

		if (vf_parse_proc_cgroup(s, "devices", cg, sizeof(cg)) == 0)
			FUZZ_CHECK(cg[0] == '/' && strlen(cg) < sizeof(cg));
	}
	{
		/* a mountinfo line: its fields lie within the line, unescaped never longer */
		char *line = strdup(s);
		struct vf_mountinfo mi;

		if (line && vf_parse_mountinfo_line(line, &mi) == 0)
			FUZZ_CHECK(mi.root && mi.mountpoint && mi.fstype && mi.source && mi.superopts &&
				   strlen(mi.mountpoint) <= size);
		free(line);
	}
	{
		struct irqbal_setup set;
		struct vf_err e = { 0 };
		char *exact = fuzz_bytes(data, size);

		if (irqbal_parse_setup(exact, size, &set, &e) == 0)
			FUZZ_CHECK(set.banned.n <= IRQBAL_LIST_MAX);
		free(exact);
	}
	free(s);
	return 0;
}
