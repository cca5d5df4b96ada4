/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy parser (INI through libinih): the operator's files, and on
 * reload whatever a file holds at that moment. Oracle (docs/policy.md): a
 * policy that parses formats to text that parses again, and formatting
 * that gives the same text, so `vfiod --check-policy` output is stable.
 */
#include "fuzz.h"

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct policy p = { 0 }, q = { 0 };
	struct vf_err e = { 0 };
	char *t1, *t2;

	if (policy_parse(&p, "fuzz.conf", text, &e) == 0) {
		t1 = policy_format(&p);
		FUZZ_CHECK(t1);
		if (policy_parse(&q, "formatted.conf", t1, &e) != 0) {
			fprintf(stderr, "formatted policy does not parse: %s\n%s", e.msg, t1);
			abort();
		}
		t2 = policy_format(&q);
		FUZZ_CHECK(t2 && strcmp(t1, t2) == 0);
		free(t1);
		free(t2);
		policy_free(&q);
	} else {
		FUZZ_CHECK(e.msg[0]);
	}
	policy_free(&p);
	free(text);
	return 0;
}
