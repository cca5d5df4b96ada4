/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup module's parsers of /proc text: mountinfo (cgroup mounts),
 * /proc/PID/cgroup and /proc/PID/stat of the tasks it contains (a task
 * names itself: comm is the task's to choose), and CPU lists. All see
 * each input. Oracles: paths fit their buffers, a CPU list sets no bit
 * beyond the bitmap and counts what it names.
 */
#include "fuzz.h"

#include "cgroup.h"

#define NBITS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct devcg_mount *v2 = calloc(2, sizeof(*v2)), *v1 = v2 + 1;
	uint64_t mask[NBITS / 64 + 1];
	struct devcg_stat st;
	char path[64];
	int r;

	FUZZ_CHECK(v2);
	r = devcg_scan_mountinfo(text, v2, v1);
	if (r >= 0) {
		FUZZ_CHECK(r <= 3);
		if (r & 1)
			FUZZ_CHECK(strlen(v2->path) < sizeof(v2->path));
		if (r & 2)
			FUZZ_CHECK(strlen(v1->root) < sizeof(v1->root));
	}
	for (enum devcg_hier h = DEVCG_HIER_V1; h <= DEVCG_HIER_V2; h++)
		if (devcg_parse_proc_cgroup(text, h, path, sizeof(path)) == 0)
			FUZZ_CHECK(strlen(path) < sizeof(path));
	(void)devcg_parse_stat(text, &st);

	memset(mask, 0, sizeof(mask));
	mask[NBITS / 64] = 0x5a5a; /* a canary word past the bitmap */
	r = vf_parse_cpulist(text, 0, mask, NBITS, NULL);
	FUZZ_CHECK(mask[NBITS / 64] == 0x5a5a);
	if (r >= 0) {
		int set = 0;

		for (size_t i = 0; i < NBITS / 64; i++)
			set += __builtin_popcountll(mask[i]);
		FUZZ_CHECK(set <= r);
	}
	free(v2);
	free(text);
	return 0;
}
