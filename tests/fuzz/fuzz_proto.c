/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control protocol's request parser: any client that can connect sends
 * these bytes. The line is given as (bytes, length) without a terminator,
 * so a read past the length is caught. Oracles: a refusal is always
 * "bad-request"; a parsed request names an op and, for ops that take one,
 * a canonical BDF; a reply built from its id is one newline-ended JSON line.
 */
#include "fuzz.h"

#include "parse.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_bytes(data, size);
	struct vf_err e = { 0 };
	struct request req;
	char *reply;
	int r;

	r = proto_parse_request(line, size, &req, &e);
	if (r < 0) {
		FUZZ_CHECK(e.code && strcmp(e.code, "bad-request") == 0);
		reply = proto_reply_error(req.id, e.code, e.msg);
	} else {
		FUZZ_CHECK(req.op < OP_COUNT_);
		FUZZ_CHECK(!req.bdf[0] || vf_is_canonical_bdf(req.bdf));
		reply = proto_reply_ok(req.id, NULL);
	}
	FUZZ_CHECK(reply && *reply);
	FUZZ_CHECK(strchr(reply, '\n') == reply + strlen(reply) - 1);
	free(reply);
	proto_request_free(&req);
	free(line);
	return 0;
}
