/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every fuzz target shares. libFuzzer hands bytes that are not
 * NUL-terminated; parsers that take a (buffer, length) get exactly those
 * bytes in an allocation of that size (so ASan sees a read past the end),
 * parsers that take text get a NUL-terminated copy, as their callers give.
 */
#ifndef VFIOD_FUZZ_H
#define VFIOD_FUZZ_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An exact-size copy (one byte for an empty input, which is never read). */
static inline char *fuzz_bytes(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	if (!p)
		abort();
	memcpy(p, data, size);
	return p;
}

/* A NUL-terminated copy; embedded NULs end the text early, as in a file. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *p = malloc(size + 1);

	if (!p)
		abort();
	memcpy(p, data, size);
	p[size] = '\0';
	return p;
}

/* An oracle failed: a bug even though no sanitizer saw it. */
#define FUZZ_CHECK(cond)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                           \
			abort();                                                  \
		}                                                                 \
	} while (0)

#endif
