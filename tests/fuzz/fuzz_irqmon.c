/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interrupt counters: /proc/interrupts text and per_cpu_count files,
 * read every sample while a guest drives the device. Both parsers see the
 * same input. per_cpu_count takes (bytes, length): it gets exactly the
 * bytes, no terminator. Oracles: counts never exceed the capacity given,
 * and a vector reported missing is never also counted.
 */
#include "fuzz.h"

#include "irqmon.h"

#define CAP 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned vectors[] = { 0, 1, 9, 16, 24, 30, 40, 42, 120, 4294967295u };
	uint64_t vals[CAP], counts[sizeof(vectors) / sizeof(vectors[0])];
	size_t nv = sizeof(vectors) / sizeof(vectors[0]);
	char *bytes = fuzz_bytes(data, size), *text = fuzz_text(data, size);
	struct vf_err e = { 0 };
	int r, missing = 0;

	r = irqmon_parse_per_cpu_count(bytes, size, vals, CAP, &e);
	FUZZ_CHECK(r < 0 ? e.msg[0] != 0 : r >= 1 && r <= CAP);

	memset(&e, 0, sizeof(e));
	r = irqmon_parse_proc_interrupts(text, vectors, nv, counts, &e);
	if (r >= 0) {
		for (size_t i = 0; i < nv; i++)
			missing += counts[i] == IRQMON_COUNT_MISSING;
		FUZZ_CHECK((size_t)r + (size_t)missing == nv);
	} else {
		FUZZ_CHECK(e.msg[0]);
	}
	free(bytes);
	free(text);
	return 0;
}
