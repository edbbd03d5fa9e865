// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config_load() on an arbitrary config file (the input, as the file's
 * bytes) given as `mctun run --config FILE`.
 *
 * Invariants: the result is 0 or a negative errno, never HELP or VERSION;
 * an accepted config has an interface, at least one group and somewhere to
 * connect, a keepalive shorter than dead-after; each group is once there,
 * has a known direction and a distinct id, and a rewrite target that is of
 * the group's family, without a source, not the group itself, and never on
 * a group of direction out; it authenticates (TLS options) or says
 * insecure, never both. ASan sees that config_free() frees it all.
 * Inputs naming listen or peer are left out: they would resolve names (the
 * command line gives a numeric --listen, and --insecure, so that a file
 * without TLS options gets past the refusal of an unauthenticated tunnel).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"
#include "tls.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_level = -1;
	fd = memfd_create("mctun-fuzz.conf", 0);
	CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

static void check_config(const struct config *cfg)
{
	unsigned int i, j;

	CHECK(cfg->ifname && *cfg->ifname, "no interface");
	CHECK(cfg->ngroups >= 1 && cfg->ngroups <= MCTUN_MAX_GROUPS, "%u groups", cfg->ngroups);
	CHECK(cfg->nlisten || cfg->npeer, "nothing to connect");
	CHECK(cfg->dead_s > cfg->keepalive_s, "dead-after %g <= keepalive %g", cfg->dead_s,
	      cfg->keepalive_s);
	CHECK(cfg->ttl >= 1 && cfg->ttl <= 255, "ttl %u", cfg->ttl);
	CHECK(cfg->path && !strcmp(cfg->path, path), "path");
	CHECK(cfg->insecure != tls_opts_on(&cfg->tls_opts), "insecure %d with TLS options %d",
	      cfg->insecure, tls_opts_on(&cfg->tls_opts));
	for (i = 0; i < cfg->ngroups; i++) {
		const struct cfg_group *g = &cfg->groups[i];

		CHECK(g->dir == GDIR_BOTH || g->dir == GDIR_IN || g->dir == GDIR_OUT, "dir %u",
		      g->dir);
		if (g->to.family) {
			CHECK(g->to.family == g->g.family, "rewrite across families");
			CHECK(!g->to.ssm, "rewrite target with a source");
			CHECK(!group_same_dest(&g->to, &g->g), "rewrite to itself");
			CHECK(g->dir != GDIR_OUT, "rewrite on direction out");
		}
		for (j = 0; j < i; j++) {
			CHECK(memcmp(&cfg->groups[j].g, &g->g, sizeof(g->g)), "group %u twice", i);
			CHECK(cfg->groups[j].id != g->id, "id %u twice", g->id);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[] = { "run", "--config", path, "--listen", "127.0.0.1:7000", "--insecure", NULL };
	struct config *cfg = NULL;
	int err;

	if (memmem(data, size, "listen", 6) || memmem(data, size, "peer", 4))
		return 0;
	CHECK(!ftruncate(fd, 0) && pwrite(fd, data, size, 0) == (ssize_t)size, "memfd write");
	/* somewhere to connect comes from the command line, numeric */
	err = config_load(6, argv, &cfg);
	CHECK(err <= 0, "config_load returned %d", err);
	CHECK(!err == !!cfg, "result %d with config %p", err, (void *)cfg);
	if (cfg) {
		check_config(cfg);
		config_free(cfg);
	}
	return 0;
}
