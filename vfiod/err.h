/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one error idiom of vfiod: a fallible function takes `struct vf_err *`,
 * returns a negative value on failure and fills the error with an errno and
 * a message. Callers add context on the way up with vf_err_wrap(); the whole
 * message ends up in the log or in the reply to a client. Library code never
 * prints or exits. Work that goes on past failures keeps the first one
 * (vf_err_keep_first), never a bare errno beside it.
 *
 * The one exception is deliberate: pure functions fed from memory (the
 * parsers of parse.h and the modules' own) take no vf_err and return 0 or
 * a negative errno, so tests and fuzzers can call them bare; their callers
 * turn that into a vf_err with context.
 */
#ifndef VFIOD_ERR_H
#define VFIOD_ERR_H

#include <stddef.h>

#define VF_ERR_MSG_MAX 1024

struct vf_err {
	int errnum;                /* errno value, 0 when none applies */
	const char *code;          /* stable machine-readable code of a refusal
				    * ("host-critical", "busy", ...); NULL for
				    * failures, which clients see as "internal" */
	char msg[VF_ERR_MSG_MAX];  /* human sentence, never ends in '\n' */
};

/* Sets the error; appends ": strerror(errnum)" when errnum != 0. Returns -1. */
int vf_err_set(struct vf_err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A refusal: sets the code and the message (errno 0). Returns -1. */
int vf_err_refuse(struct vf_err *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with context: "ctx: old". Returns -1. */
int vf_err_wrap(struct vf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends to the existing message: "old; more". Returns -1. */
int vf_err_append(struct vf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void vf_err_clear(struct vf_err *e);

/* True when `e` holds a failure or a refusal. */
static inline int vf_err_is_set(const struct vf_err *e)
{
	return e->errnum || e->code || e->msg[0];
}

/*
 * Work that goes on past failures (a teardown) keeps the first: copies `e`
 * into `first` unless `first` holds one already.
 */
void vf_err_keep_first(struct vf_err *first, const struct vf_err *e);

#endif
