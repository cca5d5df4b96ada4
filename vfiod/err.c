// SPDX-License-Identifier: GPL-2.0-or-later
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int vf_err_set(struct vf_err *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!e)
		return -1;
	e->errnum = errnum;
	e->code = NULL;
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		e->msg[0] = '\0';
	if (errnum && n >= 0 && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s",
			 strerror(errnum));
	return -1;
}

int vf_err_refuse(struct vf_err *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->errnum = 0;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int vf_err_wrap(struct vf_err *e, const char *fmt, ...)
{
	char prefix[VF_ERR_MSG_MAX];
	char old[VF_ERR_MSG_MAX];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old);
	return -1;
}

int vf_err_append(struct vf_err *e, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	if (!e)
		return -1;
	len = strlen(e->msg);
	va_start(ap, fmt);
	vsnprintf(e->msg + len, sizeof(e->msg) - len, fmt, ap);
	va_end(ap);
	return -1;
}

void vf_err_clear(struct vf_err *e)
{
	if (!e)
		return;
	e->errnum = 0;
	e->code = NULL;
	e->msg[0] = '\0';
}

void vf_err_keep_first(struct vf_err *first, const struct vf_err *e)
{
	if (first && e && !vf_err_is_set(first) && vf_err_is_set(e))
		*first = *e;
}
