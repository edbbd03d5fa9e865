// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mctun: join multicast islands over TCP.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "log.h"
#include "util.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cmds[] = {
	{ "run",    run_main,    "run the tunnel daemon on an interface" },
	{ "send",   send_main,   "send numbered test datagrams to a group" },
	{ "recv",   recv_main,   "receive a group and report loss, order, TTL, DSCP, latency" },
	{ "status", status_main, "joined groups, and every instance with its peers and counters" },
	{ "stats",  stats_main,  "every counter of a running instance: table, JSON, Prometheus" },
	{ "doctor", doctor_main, "check for what makes multicast fail silently" },
	{ "genpsk", genpsk_main, "make a pre-shared key for run --psk-file" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: mctun COMMAND [OPTIONS]\n"
		   "       mctun COMMAND --help\n\n"
		   "Join multicast islands over TCP, with an eBPF capture path.\n\n"
		   "Commands:\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %-6s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\nOptions:\n"
		   "  -h, --help     this text\n"
		   "  -V, --version  print the version\n\n"
		   "See mctun(8) for the full manual.\n");
}

int main(int argc, char **argv)
{
	size_t i;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("mctun %s\n", MCTUN_VERSION);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		log_prog = "mctun";
		rc = cmds[i].fn(argc - 1, argv + 1);
		return rc == 0 ? 0 : rc == -EINVAL || rc == -ERANGE ? 2 : 1;
	}
	fprintf(stderr, "mctun: unknown command '%s' (see mctun --help)\n", argv[1]);
	return 2;
}
