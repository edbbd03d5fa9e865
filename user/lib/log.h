/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Logging to stderr (journald captures it), with printf format checks. */
#ifndef MCTUN_LOG_H
#define MCTUN_LOG_H

enum log_level { LOG_LVL_WARN = 0, LOG_LVL_INFO = 1, LOG_LVL_DEBUG = 2 };

extern int log_level;
extern const char *log_prog;	/* prefix, e.g. "mctun" */

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Routes libbpf's messages through log_msg, one level lower than libbpf's. */
void log_setup_libbpf(void);

#define pr_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
