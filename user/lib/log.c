// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "log.h"

int log_level = LOG_LVL_INFO;
const char *log_prog = "mctun";

static void vlog(int level, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	fprintf(stderr, "%s: ", log_prog);
	vfprintf(stderr, fmt, ap);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* Demoted one level: libbpf's warnings explain an error we report. */
	int lvl = level == LIBBPF_WARN ? LOG_LVL_INFO :
		  level == LIBBPF_INFO ? LOG_LVL_DEBUG : LOG_LVL_DEBUG + 1;

	vlog(lvl, fmt, ap);
	return 0;
}

void log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
