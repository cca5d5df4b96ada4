/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host tables host-critical detection reads: mountinfo, swaps, and the
 * IPv4 and IPv6 route tables. Any user can shape mount points, and a
 * container runtime the mount sources; all four parsers see each input.
 * The callbacks read every string they get, so a bad one is caught.
 */
#include "fuzz.h"

#include "hostcrit.h"

static size_t total;

static void on_mount(void *ctx, unsigned major, unsigned minor, const char *fstype,
		     const char *source, const char *mountpoint)
{
	total += major + minor + strlen(fstype) + strlen(source) + strlen(mountpoint);
}

static void on_name(void *ctx, const char *name)
{
	FUZZ_CHECK(name);
	total += strlen(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	int r;

	r = hostcrit_parse_mountinfo(text, on_mount, NULL);
	FUZZ_CHECK(r >= 0 || r == -EINVAL);
	r = hostcrit_parse_swaps(text, on_name, NULL);
	FUZZ_CHECK(r >= 0 || r == -EINVAL);
	r = hostcrit_parse_route(text, on_name, NULL);
	FUZZ_CHECK(r >= 0 || r == -EINVAL);
	r = hostcrit_parse_ipv6_route(text, on_name, NULL);
	FUZZ_CHECK(r >= 0 || r == -EINVAL);
	free(text);
	return 0;
}
