/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging to stderr. Under systemd (JOURNAL_STREAM set) each line carries
 * the syslog priority prefix "<N>" so the journal keeps the level.
 */
#ifndef VFIOD_LOG_H
#define VFIOD_LOG_H

#include <syslog.h>

void vf_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
