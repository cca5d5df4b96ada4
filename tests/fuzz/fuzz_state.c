/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state store loader: state.json is vfiod's own file, but it survives
 * crashes, disk errors and an operator's editor, and a file that does not
 * follow the schema must be refused, never trusted (docs/state.md). Oracle:
 * a store that parses formats to text that parses again to the same text.
 */
#include "fuzz.h"

#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct store s = { 0 }, t = { 0 };
	struct vf_err e = { 0 };
	char *t1, *t2;

	if (store_parse(&s, text, &e) == 0) {
		for (size_t i = 0; i < s.n; i++) {
			FUZZ_CHECK(vf_is_canonical_bdf(s.devs[i].bdf));
			FUZZ_CHECK(s.devs[i].n_unit <= STATE_UNIT_MAX);
		}
		FUZZ_CHECK(s.intent.n <= STATE_UNIT_MAX);
		t1 = store_format(&s);
		FUZZ_CHECK(t1);
		if (store_parse(&t, t1, &e) != 0) {
			fprintf(stderr, "formatted store does not parse: %s\n%s", e.msg, t1);
			abort();
		}
		t2 = store_format(&t);
		FUZZ_CHECK(t2 && strcmp(t1, t2) == 0);
		free(t1);
		free(t2);
		store_close(&t);
	} else {
		FUZZ_CHECK(s.n == 0 && !s.devs && e.msg[0]);
	}
	store_close(&s);
	free(text);
	return 0;
}
