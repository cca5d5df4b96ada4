// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spin CPU SECONDS: a CPU-bound load pinned to CPU, the tenant's work in
 * the containment outcome tests (tests/testbed/probe-outcome.sh). Every
 * 250 ms it prints "T WORK": the time since start in ms and the loop
 * iterations done in that window. Work lost to interrupts (hard-IRQ time,
 * an IRQ thread of higher priority on the same CPU) shows as fewer
 * iterations. Exits after SECONDS.
 */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	cpu_set_t set;
	int64_t start, next, end;
	volatile uint64_t sink = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: spin CPU SECONDS\n");
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(atoi(argv[1]), &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("sched_setaffinity");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	start = now_ms();
	next = start + 250;
	end = start + atoll(argv[2]) * 1000;
	for (;;) {
		uint64_t work = 0;

		while (now_ms() < next) {
			for (int i = 0; i < 10000; i++)
				sink += (uint64_t)i;
			work++;
		}
		printf("%lld %llu\n", (long long)(next - start), (unsigned long long)work);
		if (next >= end)
			return 0;
		next += 250;
	}
}
