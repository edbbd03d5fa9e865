// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The options of `mctun run`: one table serves the command line, the
 * config file and the help text. The file holds one option per line, its
 * key being the long option's name:
 *
 *     # comment
 *     iface eth1
 *     group 239.1.2.3:5000
 *     group 239.1.2.4:5000 direction in rewrite 239.9.9.9:6000
 *     listen 0.0.0.0:7000       # a comment after white space
 *
 * The file is read first, then the command line is applied over it, with
 * the same setters: a scalar from the command line replaces the file's, a
 * list (group, listen, peer) gets the entries of both. A scalar given twice
 * in the file is an error, as is an unknown key; every refusal is one line,
 * "FILE:LINE: reason".
 *
 * Adding an option: a field in struct config (daemon.h), a setter here, and
 * one line in options[]. OPT_FIXED with FIELD() makes a reload that changes
 * it refused; without it the new value simply takes effect on reload.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if_link.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allow.h"
#include "proto.h"
#include "config.h"
#include "docker.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "tls.h"
#include "util.h"

#define MAX_LINE 4096

/* The tool's own flags of struct opt (options.h has OPT_ONCE). */
#define OPT_LIST    0x1   /* repeatable: each occurrence adds, in the file and the command line */
#define OPT_FIXED   0x2   /* cannot change on reload; FIELD() names where it is kept */
#define OPT_STRING  0x4   /* with OPT_FIXED: the field is a char * */
#define OPT_CMDLINE 0x8   /* the command line's alone, not a key of the file */
#define OPT_BOOL    0x20  /* no value on the command line; 'yes' or 'no' in the file */

/* OPT_FIXED: the field of struct config that reloads compare. */
#define FIELD(f) .off = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)

/* ---- setters ------------------------------------------------------------ */

/* Each parses val into the struct config it gets as ctx; `who` names the
 * option in messages: "--ttl", or "FILE:LINE: ttl". */

static int set_iface(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	(void)who;
	free(cfg->ifname);
	cfg->ifname = strdup(val);
	return cfg->ifname ? 0 : -ENOMEM;
}

/* A rewrite maps every datagram of g to one destination: to one group, or
 * from a range to a range of the same length (host bits kept); a target
 * of any port keeps the datagram's port. */
static bool rewrite_defined(const struct mc_group *g, const struct mc_group *to)
{
	return to->plen == group_full_plen(to->family) || to->plen == g->plen;
}

/* val's words, copied into buf (len bytes) for strtok_r(): its first one,
 * or NULL when val is too long for buf (logged). */
static char *first_word(const char *who, const char *val, char *buf, size_t len, char **save)
{
	if (strlen(val) >= len) {
		pr_warn("%s: '%.40s...' is too long\n", who, val);
		return NULL;
	}
	strcpy(buf, val);
	return strtok_r(buf, " \t", save) ?: buf + strlen(buf);
}

static int set_group(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;
	char buf[512], who_rw[PATH_MAX + 80], name[GROUP_STRLEN], *save = NULL, *tok;
	struct cfg_group gc = { .dir = GDIR_BOTH };
	bool have_dir = false;
	unsigned int i;
	int err;

	tok = first_word(who, val, buf, sizeof(buf), &save);
	if (!tok)
		return -EINVAL;
	err = group_parse_range(who, tok, &gc.g);
	if (err)
		return err;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		const char *arg = strtok_r(NULL, " \t", &save);

		if (!strcmp(tok, "direction")) {
			if (have_dir) {
				pr_warn("%s: '%s': direction is given twice\n", who, val);
				return -EINVAL;
			}
			have_dir = true;
			if (arg && !strcmp(arg, "in"))
				gc.dir = GDIR_IN;
			else if (arg && !strcmp(arg, "out"))
				gc.dir = GDIR_OUT;
			else if (arg && !strcmp(arg, "both"))
				gc.dir = GDIR_BOTH;
			else {
				pr_warn("%s: '%s': direction '%s' is not in, out or both\n", who, val,
					arg ? arg : "");
				return -EINVAL;
			}
		} else if (!strcmp(tok, "rewrite")) {
			if (gc.to.family) {
				pr_warn("%s: '%s': rewrite is given twice\n", who, val);
				return -EINVAL;
			}
			snprintf(who_rw, sizeof(who_rw), "%s rewrite", who);
			err = group_parse_range(who_rw, arg ? arg : "", &gc.to);
			if (err)
				return err;
			if (gc.to.family == gc.g.family && !rewrite_defined(&gc.g, &gc.to)) {
				pr_warn("%s: '%s': a rewrite target is one group (any port: keep the "
					"port), or for a range a prefix of its length (/%u), which keeps "
					"the address's host bits\n", who, val, gc.g.plen);
				return -EINVAL;
			}
			if (gc.to.ssm) {
				pr_warn("%s: '%s': the rewrite target takes no @SOURCE (mctun sends it)\n",
					who, arg);
				return -EINVAL;
			}
			if (gc.to.family != gc.g.family) {
				pr_warn("%s: '%s': the rewrite target is of another address family\n",
					who, val);
				return -EINVAL;
			}
			if (group_same_dest(&gc.to, &gc.g)) {
				pr_warn("%s: '%s': rewrite to the group itself\n", who, val);
				return -EINVAL;
			}
		} else {
			pr_warn("%s: '%s': '%s' is neither 'direction' nor 'rewrite'\n", who, val, tok);
			return -EINVAL;
		}
	}
	if (gc.to.family && gc.dir == GDIR_OUT) {
		pr_warn("%s: '%s': rewrite needs direction in or both (out is never re-injected)\n",
			who, val);
		return -EINVAL;
	}
	for (i = 0; i < cfg->ngroups; i++) {
		if (!memcmp(&cfg->groups[i].g, &gc.g, sizeof(gc.g))) {
			pr_warn("%s: '%s' is given twice\n", who, group_str(&gc.g, name, sizeof(name)));
			return -EINVAL;
		}
	}
	if (cfg->ngroups >= MCTUN_MAX_GROUPS) {
		pr_warn("%s: at most %u groups\n", who, MCTUN_MAX_GROUPS);
		return -EINVAL;
	}
	if ((cfg->ngroups & (cfg->ngroups + 1)) == 0 || !cfg->groups) {
		struct cfg_group *n = realloc(cfg->groups, 2 * (cfg->ngroups + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		cfg->groups = n;
	}
	gc.id = cfg->ngroups;
	cfg->groups[cfg->ngroups++] = gc;
	return 0;
}

static int add_endpoint(const char *who, const char *val, struct endpoint *eps, unsigned int *n,
			bool passive)
{
	struct endpoint *ep;
	unsigned int i;
	int err;

	if (*n >= MAX_ENDPOINTS) {
		pr_warn("%s: at most %d\n", who, MAX_ENDPOINTS);
		return -EINVAL;
	}
	ep = &eps[*n];
	memset(ep, 0, sizeof(*ep));
	err = hostport_parse(who, val, ep->host, sizeof(ep->host), &ep->port);
	if (err)
		return err;
	err = hostport_resolve(who, ep->host, ep->port, passive, &ep->ss, &ep->sslen);
	if (err)
		return err;
	snprintf(ep->name, sizeof(ep->name), "%s", val);
	for (i = 0; i < *n; i++) {
		if (endpoint_same(&eps[i], ep)) {
			pr_warn("%s: '%s' is given twice (as '%s' before)\n", who, val, eps[i].name);
			return -EINVAL;
		}
	}
	(*n)++;
	return 0;
}

static int set_listen(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return add_endpoint(who, val, cfg->listen, &cfg->nlisten, true);
}

static int set_peer(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return add_endpoint(who, val, cfg->peer, &cfg->npeer, false);
}

/* A Docker container's name or id, as it goes into the API's URL path:
 * Docker's own charset for names ([a-zA-Z0-9][a-zA-Z0-9_.-]*), which
 * covers ids and their prefixes. */
static bool container_name_ok(const char *s)
{
	size_t i;

	if (!isalnum((unsigned char)s[0]))
		return false;
	for (i = 1; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

enum { TGT_IFACE, TGT_NETNS, TGT_CONTAINER };

/* --to 'IFACE [ttl N] [direction in|out|both] [groups all|learned]',
 * --netns 'PATH ...', --container 'NAME [network NET] ...' */
static int add_target(struct config *cfg, const char *who, const char *val, int kind)
{
	struct cfg_target t = { 0 };
	char buf[256], *save = NULL, *tok, *arg;
	uint32_t ttl;
	unsigned int i;
	int err;

	tok = first_word(who, val, buf, sizeof(buf), &save);
	if (!tok)
		return -EINVAL;
	if (kind == TGT_NETNS) {
		if (*tok != '/' || strlen(tok) >= sizeof(t.netns)) {
			pr_warn("%s: '%s' is not an absolute path of at most %zu bytes "
				"(/run/netns/NAME, /proc/PID/ns/net)\n", who, *tok ? tok : val,
				sizeof(t.netns) - 1);
			return -EINVAL;
		}
		strcpy(t.netns, tok);
	} else if (kind == TGT_CONTAINER) {
		if (!container_name_ok(tok) || strlen(tok) >= sizeof(t.container)) {
			pr_warn("%s: '%s' is not a container's name or id (letters, digits, "
				"'_.-', at most %zu bytes)\n", who, *tok ? tok : val,
				sizeof(t.container) - 1);
			return -EINVAL;
		}
		strcpy(t.container, tok);
	} else if (!*tok || strlen(tok) >= IF_NAMESIZE) {
		pr_warn("%s: '%s' is not an interface name\n", who, *tok ? tok : val);
		return -EINVAL;
	} else {
		strcpy(t.ifname, tok);
	}
	while ((tok = strtok_r(NULL, " \t", &save))) {
		arg = strtok_r(NULL, " \t", &save);
		if (kind == TGT_CONTAINER && !strcmp(tok, "network") && arg) {
			/* Docker's network names have the charset of its containers' */
			if (!container_name_ok(arg) || strlen(arg) >= sizeof(t.network)) {
				pr_warn("%s: '%s' is not a Docker network's name or id (letters, "
					"digits, '_.-', at most %zu bytes)\n", who, arg,
					sizeof(t.network) - 1);
				return -EINVAL;
			}
			strcpy(t.network, arg);
			continue;
		}
		if (!strcmp(tok, "groups") && arg) {
			if (strcmp(arg, "all") && strcmp(arg, "learned")) {
				pr_warn("%s: '%s': groups '%s': 'all' or 'learned'\n", who, val,
					arg);
				return -EINVAL;
			}
			t.all_groups = !strcmp(arg, "all");
			continue;
		}
		if ((strcmp(tok, "ttl") && strcmp(tok, "direction")) || !arg) {
			pr_warn("%s: '%s': after the %s only %s'ttl N', 'direction in|out|both' and "
				"'groups all|learned' may follow\n", who, val,
				kind == TGT_NETNS ? "path" : kind == TGT_CONTAINER ? "container" :
				"interface", kind == TGT_CONTAINER ? "'network NET', " : "");
			return -EINVAL;
		}
		if (!strcmp(tok, "direction")) {
			if (!strcmp(arg, "in"))
				t.dir = TDIR_IN;
			else if (!strcmp(arg, "out"))
				t.dir = TDIR_OUT;
			else if (!strcmp(arg, "both"))
				t.dir = TDIR_BOTH;
			else {
				pr_warn("%s: '%s': direction '%s' is not in, out or both\n", who,
					val, arg);
				return -EINVAL;
			}
			continue;
		}
		if ((err = parse_u32(who, arg, 1, 255, &ttl)))
			return err;
		t.ttl = (uint8_t)ttl;
	}
	for (i = 0; i < cfg->ntargets; i++) {
		if (!strcmp(cfg->targets[i].ifname, t.ifname) &&
		    !strcmp(cfg->targets[i].netns, t.netns) &&
		    !strcmp(cfg->targets[i].container, t.container) &&
		    !strcmp(cfg->targets[i].network, t.network)) {
			pr_warn("%s: '%s' is already a target\n", who,
				kind == TGT_NETNS ? t.netns : kind == TGT_CONTAINER ? t.container :
				t.ifname);
			return -EINVAL;
		}
	}
	if (cfg->ntargets == MCTUN_MAX_TARGETS) {
		pr_warn("%s: '%s': at most %u targets (--to, --netns and --container together)\n",
			who, val, MCTUN_MAX_TARGETS);
		return -E2BIG;
	}
	cfg->targets[cfg->ntargets++] = t;
	return 0;
}

static int set_to(void *ctx, const char *who, const char *val)
{
	return add_target(ctx, who, val, TGT_IFACE);
}

static int set_netns(void *ctx, const char *who, const char *val)
{
	return add_target(ctx, who, val, TGT_NETNS);
}

static int set_container(void *ctx, const char *who, const char *val)
{
	return add_target(ctx, who, val, TGT_CONTAINER);
}

static int set_docker_socket(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	if (val[0] != '/' || strlen(val) >= sizeof(cfg->docker_socket)) {
		pr_warn("%s: '%s' is not an absolute path of at most %zu bytes\n", who, val,
			sizeof(cfg->docker_socket) - 1);
		return -EINVAL;
	}
	strcpy(cfg->docker_socket, val);
	return 0;
}

static int set_mode(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	if (!strcmp(val, "tc"))
		cfg->mode = MCTUN_MODE_TC;
	else if (!strcmp(val, "socket"))
		cfg->mode = MCTUN_MODE_SOCKET;
	else if (!strcmp(val, "xdp"))
		cfg->mode = MCTUN_MODE_XDP;
	else {
		pr_warn("%s: '%s' is not tc, xdp or socket\n", who, val);
		return -EINVAL;
	}
	return 0;
}

static int set_xdp_mode(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	if (!strcmp(val, "native"))
		cfg->xdp_flags = XDP_FLAGS_DRV_MODE;
	else if (!strcmp(val, "generic"))
		cfg->xdp_flags = XDP_FLAGS_SKB_MODE;
	else if (!strcmp(val, "auto"))
		cfg->xdp_flags = 0;
	else {
		pr_warn("%s: '%s' is not auto, native or generic\n", who, val);
		return -EINVAL;
	}
	return 0;
}

static int set_ttl(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_u32(who, val, 1, 255, &cfg->ttl);
}

static int set_max_hops(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_u32(who, val, 1, 255, &cfg->max_hops);
}

static int set_queue_size(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_size(who, val, 2 * FRAME_MAX, 1ULL << 30, &cfg->queue_bytes);
}

static int set_queue_total(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_size(who, val, 2 * FRAME_MAX, 1ULL << 40, &cfg->queue_total);
}

static int set_ring_size(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;
	uint64_t v;
	int err = parse_size(who, val, 1 << 16, 1ULL << 30, &v);

	if (err)
		return err;
	if (v & (v - 1)) {
		pr_warn("%s: %s is not a power of two\n", who, val);
		return -EINVAL;
	}
	cfg->ring_bytes = v;
	return 0;
}

static int set_max_peers(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_u32(who, val, 1, 65536, &cfg->max_peers);
}

static int set_keepalive(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_seconds(who, val, 0.05, 3600, &cfg->keepalive_s);
}

static int set_dead_after(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_seconds(who, val, 0.1, 3600, &cfg->dead_s);
}

static int set_metrics(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;
	unsigned int n = 0;
	int err = add_endpoint(who, val, &cfg->metrics, &n, true);

	cfg->metrics_on = !err;
	return err;
}

static int set_busy_poll(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_seconds(who, val, 0, 1, &cfg->busy_poll_s);
}

static int set_coalesce(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_seconds(who, val, 0, 0.1, &cfg->coalesce_s);
}

static int set_metrics_timeout(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_seconds(who, val, 0.1, 3600, &cfg->metrics_timeout_s);
}

static int set_framing(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	if (!strcmp(val, "mctun"))
		cfg->framing = MCTUN_FRAMING_MCTUN;
	else if (!strcmp(val, "udptunnel"))
		cfg->framing = MCTUN_FRAMING_UDPTUNNEL;
	else {
		pr_warn("%s: '%s' is not mctun or udptunnel\n", who, val);
		return -EINVAL;
	}
	return 0;
}

static int set_resume(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_seconds(who, val, 0, 3600, &cfg->resume_s);
}

static int set_transport(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	if (!strcmp(val, "tcp") || !strcmp(val, "mptcp")) {
		cfg->mptcp = val[0] == 'm';
		return 0;
	}
	pr_warn("%s: '%s' is not tcp or mptcp\n", who, val);
	return -EINVAL;
}

static int set_membership(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	if (!strcmp(val, "static"))
		cfg->membership = MEMBERSHIP_STATIC;
	else if (!strcmp(val, "learn"))
		cfg->membership = MEMBERSHIP_LEARN;
	else {
		pr_warn("%s: '%s' is not learn or static\n", who, val);
		return -EINVAL;
	}
	return 0;
}

static int set_querier(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	if (!strcmp(val, "auto"))
		cfg->querier = QUERIER_AUTO;
	else if (!strcmp(val, "on"))
		cfg->querier = QUERIER_ON;
	else if (!strcmp(val, "off"))
		cfg->querier = QUERIER_OFF;
	else {
		pr_warn("%s: '%s' is not auto, on or off\n", who, val);
		return -EINVAL;
	}
	return 0;
}

static int set_query_interval(void *ctx, const char *who, const char *val)
{
	return parse_seconds(who, val, 0.1, 31744, &((struct config *)ctx)->query_interval_s);
}

static int set_query_response(void *ctx, const char *who, const char *val)
{
	return parse_seconds(who, val, 0.1, 3174.4, &((struct config *)ctx)->query_response_s);
}

static int set_last_member(void *ctx, const char *who, const char *val)
{
	return parse_seconds(who, val, 0.1, 25, &((struct config *)ctx)->last_member_s);
}

static int set_robustness(void *ctx, const char *who, const char *val)
{
	return parse_u32(who, val, 1, 7, &((struct config *)ctx)->robustness);
}

static int set_max_groups(void *ctx, const char *who, const char *val)
{
	return parse_u32(who, val, 1, 65536, &((struct config *)ctx)->max_groups);
}

static int set_file(const char *who, const char *val, const char **dst)
{
	char *s;

	if (!*val) {
		pr_warn("%s: empty file name\n", who);
		return -EINVAL;
	}
	s = strdup(val);
	if (!s)
		return -ENOMEM;
	free((char *)*dst);
	*dst = s;
	return 0;
}

static int set_tls_cert(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return set_file(who, val, &cfg->tls_opts.cert);
}

static int set_tls_key(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return set_file(who, val, &cfg->tls_opts.key);
}

static int set_tls_ca(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return set_file(who, val, &cfg->tls_opts.ca);
}

static int set_psk_file(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return set_file(who, val, &cfg->tls_opts.psk_file);
}

/* A flag's value: NULL from the command line, which says it by being
 * there; yes or no in the file. */
static int parse_yes_no(const char *who, const char *val, bool *out)
{
	if (!val || !strcmp(val, "yes"))
		*out = true;
	else if (!strcmp(val, "no"))
		*out = false;
	else {
		pr_warn("%s: '%s' is not yes or no\n", who, val);
		return -EINVAL;
	}
	return 0;
}

static int set_insecure(void *ctx, const char *who, const char *val)
{
	return parse_yes_no(who, val, &((struct config *)ctx)->insecure);
}

static int set_keep_source(void *ctx, const char *who, const char *val)
{
	return parse_yes_no(who, val, &((struct config *)ctx)->keep_source);
}

static int set_allow(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;
	struct cidr c, *n;
	int err;

	err = cidr_parse(who, val, &c);
	if (err)
		return err;
	if (cfg->nallow >= MAX_ENDPOINTS) {
		pr_warn("%s: at most %d\n", who, MAX_ENDPOINTS);
		return -EINVAL;
	}
	n = realloc(cfg->allow, (cfg->nallow + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	cfg->allow = n;
	cfg->allow[cfg->nallow++] = c;
	return 0;
}

static int set_auth_timeout(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_seconds(who, val, 0.1, 600, &cfg->handshake_s);
}

static int set_max_pending(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	return parse_u32(who, val, 1, 65536, &cfg->max_pending);
}

static int set_verbose(void *ctx, const char *who, const char *val)
{
	struct config *cfg = ctx;

	(void)who;
	(void)val;
	cfg->verbose++;
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

static const struct opt options[] = {
	{ "iface", 'i', "IFACE", OPT_FIXED | OPT_STRING, set_iface,
	  "the island's interface (required)", FIELD(ifname) },
	{ "group", 'g', "GROUP:PORT", OPT_LIST, set_group,
	  "a group to carry, repeatable: 239.1.2.3:5000,\n"
	  "[ff15::1]:5000, or source-specific\n"
	  "232.1.1.1:5000@198.18.1.1; or a range: a prefix,\n"
	  "any port or both (239.192.0.0/16:5000,\n"
	  "'239.192.0.0/16:*', '[ff15::/16]:*'), the most\n"
	  "specific entry winning; may go on with\n"
	  "'direction in|out|both' and 'rewrite GROUP:PORT'\n"
	  "(quoted as one argument)" },
	{ "listen", 'l', "ADDR:PORT", OPT_LIST, set_listen,
	  "accept tunnel peers here, repeatable ([::]:7000 for IPv6)" },
	{ "peer", 'p', "HOST:PORT", OPT_LIST, set_peer,
	  "connect to this peer and keep reconnecting, repeatable" },
	{ "to", 0, "IFACE", OPT_LIST | OPT_FIXED, set_to,
	  "copy the groups' datagrams to this local interface\n"
	  "(a bridge, a container's veth) in the kernel, as\n"
	  "they arrive on the island or leave onto it (from\n"
	  "the tunnel too): no routing hop, so TTL and source\n"
	  "are kept; 'IFACE ttl N' sets the copies' TTL;\n"
	  "only the groups its receivers joined go to it\n"
	  "(their IGMP/MLD reports, a query of ours asking),\n"
	  "and the island joins them; 'IFACE groups all':\n"
	  "every configured group, for receivers that never\n"
	  "report; 'IFACE direction both' also forwards what\n"
	  "is sent from behind it onto the island, to the\n"
	  "other targets and into the tunnel (never back to\n"
	  "it; out: only that; in: only into it, the\n"
	  "default); repeatable, at most 16; --mode tc", FIELD(targets) },
	{ "netns", 0, "PATH", OPT_LIST | OPT_FIXED, set_netns,
	  "a target as --to, found by its network namespace\n"
	  "(/run/netns/NAME, /proc/PID/ns/net): the veth that\n"
	  "leads there from here, followed when the namespace\n"
	  "is made anew; 'PATH ttl N', 'PATH direction D',\n"
	  "'PATH groups all' as for --to", FIELD(targets) },
	{ "container", 0, "NAME|ID", OPT_LIST | OPT_FIXED, set_container,
	  "a target as --netns, found by a Docker container's\n"
	  "name or id: the Docker Engine API (--docker-socket)\n"
	  "gives its process, the target is the veth into that\n"
	  "process's network namespace; followed when it stops\n"
	  "and starts again (a new veth), and accepted while\n"
	  "not running (copies start when it does); an unknown\n"
	  "container is refused; 'NAME network NET': its veth\n"
	  "on Docker network NET (needed when it is on several);\n"
	  "'NAME ttl N', 'NAME direction D', 'NAME groups all'\n"
	  "as for --to", FIELD(targets) },
	{ "docker-socket", 0, "PATH", OPT_FIXED, set_docker_socket,
	  "the Docker Engine API's Unix socket, for --container\n"
	  "(default: DOCKER_HOST when it is unix://PATH, else\n"
	  DOCKER_SOCKET_DEFAULT ")", FIELD(docker_socket) },
	{ "mode", 0, "tc|xdp|socket", OPT_FIXED, set_mode,
	  "capture with the eBPF TC program (default); with XDP\n"
	  "for the island's traffic plus TC for local senders and\n"
	  "fragments; or with plain sockets (no BPF needed; local\n"
	  "senders are seen only with multicast loopback on)", FIELD(mode) },
	{ "xdp-mode", 0, "MODE", OPT_FIXED, set_xdp_mode,
	  "auto (default: native if the driver has it, else\n"
	  "generic), native or generic", FIELD(xdp_flags) },
	{ "ttl", 0, "N", 0, set_ttl,
	  "TTL / hop limit of re-injected datagrams (default 1)" },
	{ "keep-source", 0, NULL, OPT_FIXED | OPT_BOOL, set_keep_source,
	  "re-inject with the original sender's address and\n"
	  "port (a header-included raw socket), so that SSM\n"
	  "receivers and applications see the real sender;\n"
	  "in the file 'keep-source yes' (default: sent from\n"
	  "this gateway's address and a port of its own)", FIELD(keep_source) },
	{ "max-hops", 0, "N", 0, set_max_hops,
	  "tunnel links a datagram may cross (default 8)" },
	{ "queue-size", 0, "BYTES", OPT_FIXED, set_queue_size,
	  "output queue bound per peer (default 4M)", FIELD(queue_bytes) },
	{ "queue-total", 0, "BYTES", 0, set_queue_total,
	  "bound of all peers' queues together (default 16M)" },
	{ "ring-size", 0, "BYTES", OPT_FIXED, set_ring_size,
	  "BPF ring buffer, power of two (default 8M)", FIELD(ring_bytes) },
	{ "max-peers", 0, "N", 0, set_max_peers,
	  "inbound peers up (authenticated) at once (default 256)" },
	{ "keepalive", 0, "SECS", 0, set_keepalive,
	  "keepalive after this idle time (default 1)" },
	{ "dead-after", 0, "SECS", 0, set_dead_after,
	  "drop a peer silent this long (default 3)" },
	{ "busy-poll", 0, "SECS", 0, set_busy_poll,
	  "after each datagram, poll on without sleeping this\n"
	  "long (e.g. 2ms; default 0, off): no wake-up delay\n"
	  "for a datagram within it, at the cost of up to a core" },
	{ "coalesce", 0, "SECS", 0, set_coalesce,
	  "tc and xdp mode: above about two datagrams per this\n"
	  "period, stop the ring's wake-up per datagram and read\n"
	  "it on a timer of this period instead; back to wake-ups\n"
	  "when the rate falls (default 200us; 0: a wake-up per\n"
	  "datagram always). Costs up to this much latency under\n"
	  "load, saves a wake-up per datagram" },
	{ "metrics", 0, "ADDR:PORT", OPT_FIXED | OPT_ONCE, set_metrics,
	  "serve every counter over HTTP: GET /metrics, in the\n"
	  "Prometheus text format (as mctun stats --prometheus)", FIELD(metrics) },
	{ "metrics-timeout", 0, "SECS", 0, set_metrics_timeout,
	  "close a metrics client still without its answer\n"
	  "after this long (default 5)" },
	{ "framing", 0, "KIND", OPT_FIXED, set_framing,
	  "mctun (default): the mctun protocol; udptunnel: a\n"
	  "16-bit length before each datagram, as Debian's\n"
	  "udptunnel and mcasttunnel speak it, to replace one\n"
	  "end of their tunnel. Exactly one -g; no hello, no\n"
	  "loop or duplicate detection (use no cycles); TCP\n"
	  "keepalives after --keepalive (whole seconds) find a\n"
	  "dead peer within about --dead-after", FIELD(framing) },
	{ "transport", 0, "KIND", OPT_FIXED, set_transport,
	  "tcp (default), or mptcp: Multipath TCP, so that a\n"
	  "connection uses every path `ip mptcp endpoint` sets\n"
	  "up and outlives the loss of one; plain TCP where the\n"
	  "kernel or the peer has no MPTCP", FIELD(mptcp) },
	{ "resume", 0, "SECS", OPT_FIXED, set_resume,
	  "keep what was sent to each peer this long (and\n"
	  "within --queue-size) until it acknowledges it, and\n"
	  "replay what it missed when it reconnects after a cut\n"
	  "(default 10; 0: off, a cut loses what was sent)", FIELD(resume_s) },
	{ "config", 'c', "FILE", OPT_CMDLINE, NULL,
	  "read options from FILE (default " CONFIG_DEFAULT_PATH "\n"
	  "when present); the command line wins over its\n"
	  "scalars, lists add up; SIGHUP reads it again" },
	{ "no-config", 0, NULL, OPT_CMDLINE, NULL,
	  "read no config file, not even the default one" },
	{ "verbose", 'v', NULL, OPT_LIST, set_verbose,
	  "more log (repeat for libbpf's)" },
	{ "help", 'h', NULL, OPT_CMDLINE, NULL, "this text" },
	{ "version", 'V', NULL, OPT_CMDLINE, NULL, "print the version" },
	{ NULL, 0, NULL, 0, NULL,
	  "Membership (groups learned from IGMP/MLD):" },
	{ "membership", 0, "learn|static", OPT_FIXED, set_membership,
	  "static (default): carry the configured groups whether\n"
	  "or not anyone listens; learn: re-inject only the\n"
	  "groups receivers on this island joined (IGMP/MLD,\n"
	  "within the configured groups and ranges)", FIELD(membership) },
	{ "querier", 0, "auto|on|off", OPT_FIXED, set_querier,
	  "with learn: send IGMP/MLD queries unless a lower\n"
	  "address does (auto, default), always (on) or never", FIELD(querier) },
	{ "query-interval", 0, "SECS", OPT_FIXED, set_query_interval,
	  "between general queries (default 125)", FIELD(query_interval_s) },
	{ "query-response-interval", 0, "SECS", OPT_FIXED, set_query_response,
	  "hosts answer a general query within this (default 10)",
	  FIELD(query_response_s) },
	{ "last-member-interval", 0, "SECS", OPT_FIXED, set_last_member,
	  "between the queries after a leave; a group nobody\n"
	  "answers for is dropped after robustness of them\n"
	  "(default 0.5: a leave takes about a second)", FIELD(last_member_s) },
	{ "robustness", 0, "N", OPT_FIXED, set_robustness,
	  "IGMP/MLD robustness variable, 1 to 7 (default 2)", FIELD(robustness) },
	{ "max-groups", 0, "N", OPT_FIXED, set_max_groups,
	  "groups learned at once; more reports are counted\n"
	  "and ignored (default 4096)", FIELD(max_groups) },
	{ NULL, 0, NULL, 0, NULL,
	  "Authentication (one of these three is required):" },
	{ "tls-cert", 0, "FILE", OPT_FIXED | OPT_STRING | OPT_ONCE, set_tls_cert,
	  "TLS 1.3 with certificates: this gateway's PEM cert,", FIELD(tls_opts.cert) },
	{ "tls-key", 0, "FILE", OPT_FIXED | OPT_STRING | OPT_ONCE, set_tls_key,
	  "its PEM private key (not encrypted, mode 0600),", FIELD(tls_opts.key) },
	{ "tls-ca", 0, "FILE", OPT_FIXED | OPT_STRING | OPT_ONCE, set_tls_ca,
	  "the CA that peers' certificates must chain to;\n"
	  "both sides verify each other", FIELD(tls_opts.ca) },
	{ "psk-file", 0, "FILE", OPT_FIXED | OPT_STRING | OPT_ONCE, set_psk_file,
	  "or TLS 1.3 with a pre-shared key: one line\n"
	  "'IDENTITY HEXKEY' (128 to 512 bits), mode 0600,\n"
	  "the same file on every gateway; make one with\n"
	  "'mctun genpsk FILE'", FIELD(tls_opts.psk_file) },
	{ "insecure", 0, NULL, OPT_FIXED | OPT_BOOL, set_insecure,
	  "or plain TCP, unauthenticated and unencrypted: anyone\n"
	  "who reaches a --listen address can inject into the\n"
	  "island. Only on a path you already trust (loopback,\n"
	  "a VPN); in the file 'insecure yes'. Needed by\n"
	  "--framing udptunnel", FIELD(insecure) },
	{ "allow", 0, "CIDR", OPT_LIST, set_allow,
	  "accept connections only from these, repeatable\n"
	  "(198.19.0.0/16, 2001:db8::/32); checked at accept" },
	{ "auth-timeout", 0, "SECS", 0, set_auth_timeout,
	  "TLS handshake and hello within this (default 5)" },
	{ "max-pending", 0, "N", 0, set_max_pending,
	  "inbound connections authenticating at once; one\n"
	  "more closes the oldest of them (default 256)" },
};

#define NOPTS ARRAY_SIZE(options)
_Static_assert(NOPTS <= OPT_MAX, "the option table fits the engine");

void config_print_options(FILE *f)
{
	opt_print_help(f, options, NOPTS, 20);
}

/* ---- the file ----------------------------------------------------------- */

/* One line; line_of[] holds where each scalar was set. */
static int parse_line(struct config *cfg, const char *path, unsigned int lineno, char *line,
		      size_t len, unsigned int *line_of)
{
	char who[PATH_MAX + 64], *p, *key, *val, *end;
	const struct opt *o;
	int i;

	if (strlen(line) != len) {
		pr_warn("%s:%u: holds a NUL byte\n", path, lineno);
		return -EINVAL;
	}
	if (len > MAX_LINE) {
		pr_warn("%s:%u: longer than %d bytes\n", path, lineno, MAX_LINE);
		return -EINVAL;
	}
	for (p = line; *p; p++) {
		if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	}
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	for (key = line; isspace((unsigned char)*key); key++)
		;
	if (!*key)
		return 0;
	for (val = key; *val && !isspace((unsigned char)*val); val++)
		;
	if (*val)
		*val++ = '\0';
	while (isspace((unsigned char)*val))
		val++;

	i = opt_by_name(options, NOPTS, key);
	if (i < 0) {
		pr_warn("%s:%u: unknown key '%s'\n", path, lineno, key);
		return -EINVAL;
	}
	o = &options[i];
	if (o->flags & OPT_CMDLINE) {
		pr_warn("%s:%u: '%s' is an option of the command line only\n", path, lineno, key);
		return -EINVAL;
	}
	if (o->flags & OPT_BOOL) {
		if (strcmp(val, "yes") && strcmp(val, "no")) {
			pr_warn("%s:%u: %s needs yes or no (%s yes)\n", path, lineno, key, key);
			return -EINVAL;
		}
	} else if (o->arg && !*val) {
		pr_warn("%s:%u: %s needs a value (%s %s)\n", path, lineno, key, key, o->arg);
		return -EINVAL;
	} else if (!o->arg && *val) {
		pr_warn("%s:%u: %s takes no value\n", path, lineno, key);
		return -EINVAL;
	}
	if (!(o->flags & OPT_LIST) && line_of[i]) {
		pr_warn("%s:%u: %s is already set on line %u\n", path, lineno, key, line_of[i]);
		return -EINVAL;
	}
	line_of[i] = lineno;
	snprintf(who, sizeof(who), "%s:%u: %s", path, lineno, key);
	return o->set(cfg, who, *val ? val : NULL);
}

static int parse_file(struct config *cfg, const char *path)
{
	unsigned int *line_of = cfg->key_line, lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int err = 0;

	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		pr_warn("%s: %s\n", path, strerror(-err));
		return err;
	}
	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		err = parse_line(cfg, path, ++lineno, line, n, line_of);
		if (err)
			break;
		errno = 0;
	}
	if (!err && ferror(f)) {
		err = errno ? -errno : -EIO;
		pr_warn("%s: %s\n", path, strerror(-err));
	}
	free(line);
	fclose(f);
	return err;
}

/* ---- loading ------------------------------------------------------------- */

static struct config *config_new(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->key_line = calloc(NOPTS, sizeof(*cfg->key_line));
	if (!cfg->key_line) {
		free(cfg);
		return NULL;
	}
	cfg->mode = MCTUN_MODE_TC;
	cfg->ttl = 1;
	cfg->max_hops = 8;
	cfg->queue_bytes = 4u << 20;     /* 75 ms of 200-byte datagrams at 200k pps */
	cfg->queue_total = 16u << 20;    /* with 100 peers, under 64 MiB in all */
	cfg->ring_bytes = MCTUN_RING_DEFAULT;
	cfg->coalesce_s = 200e-6;
	cfg->max_peers = 256;
	cfg->keepalive_s = 1;
	cfg->dead_s = 3;
	cfg->resume_s = 10;
	cfg->handshake_s = 5;
	cfg->metrics_timeout_s = METRICS_TIMEOUT_S;
	cfg->max_pending = 256;   /* a full --max-peers may connect at once */
	cfg->query_interval_s = 125;
	cfg->query_response_s = 10;
	cfg->last_member_s = 0.5;
	cfg->robustness = 2;
	cfg->max_groups = 4096;
	return cfg;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	free(cfg->ifname);
	free(cfg->groups);
	free(cfg->path);
	free(cfg->key_line);
	free((char *)cfg->tls_opts.cert);
	free((char *)cfg->tls_opts.key);
	free((char *)cfg->tls_opts.ca);
	free((char *)cfg->tls_opts.psk_file);
	free(cfg->allow);
	tls_ctx_free(cfg->tls);
	free(cfg);
}

/* --container's Docker: --docker-socket, else DOCKER_HOST when it is
 * unix://PATH, else the default; another DOCKER_HOST is refused (mctun
 * speaks to a Unix socket only). Left "" without --container. */
static int docker_socket_default(struct config *cfg)
{
	unsigned int i;

	for (i = 0; i < cfg->ntargets && !cfg->docker_socket[0]; i++) {
		const char *host = getenv("DOCKER_HOST");

		if (!cfg->targets[i].container[0])
			continue;
		if (!host || !*host) {
			strcpy(cfg->docker_socket, DOCKER_SOCKET_DEFAULT);
		} else if (!strncmp(host, "unix://", 7) && host[7] == '/' &&
			   strlen(host + 7) < sizeof(cfg->docker_socket)) {
			strcpy(cfg->docker_socket, host + 7);
		} else {
			pr_warn("--container %s: DOCKER_HOST '%s' is not unix://PATH (an absolute "
				"path of at most %zu bytes): give --docker-socket PATH\n",
				cfg->targets[i].container, host, sizeof(cfg->docker_socket) - 1);
			return -EINVAL;
		}
	}
	return 0;
}

/* What must hold once the file and the command line are both in. */
static int check(const struct config *cfg)
{
	char name[GROUP_STRLEN];
	unsigned int i;

	if (!cfg->ifname) {
		pr_warn("run: no interface (-i IFACE, or iface in a config file)\n");
		return -EINVAL;
	}
	if (!cfg->ngroups) {
		pr_warn("run: no group (-g GROUP:PORT, or group in a config file)\n");
		return -EINVAL;
	}
	/* The framing names no group: a connection carries exactly one. */
	if (cfg->framing == MCTUN_FRAMING_UDPTUNNEL && cfg->ngroups != 1) {
		pr_warn("--framing udptunnel: carries exactly one group (-g), %u given\n",
			cfg->ngroups);
		return -EINVAL;
	}
	if (cfg->framing == MCTUN_FRAMING_UDPTUNNEL && group_is_range(&cfg->groups[0].g)) {
		pr_warn("--framing udptunnel: '%s' is a range; the framing names no group, so "
			"it carries one (GROUP:PORT)\n", group_str(&cfg->groups[0].g, name,
								   sizeof(name)));
		return -EINVAL;
	}
	if (cfg->framing == MCTUN_FRAMING_UDPTUNNEL && cfg->keep_source) {
		pr_warn("--keep-source: not with --framing udptunnel, which carries no sender "
			"address\n");
		return -EINVAL;
	}
	/* a socket joins one group on one port */
	for (i = 0; cfg->mode == MCTUN_MODE_SOCKET && i < cfg->ngroups; i++) {
		if (group_is_range(&cfg->groups[i].g) && group_captures(&cfg->groups[i])) {
			pr_warn("--mode socket: cannot capture the range %s (a socket joins one "
				"group on one port): use --mode tc or xdp, or direction in\n",
				group_str(&cfg->groups[i].g, name, sizeof(name)));
			return -EINVAL;
		}
	}
	if (cfg->membership == MEMBERSHIP_LEARN && cfg->mode == MCTUN_MODE_SOCKET) {
		pr_warn("--membership learn: needs --mode tc or xdp (the BPF program reads the "
			"island's IGMP and MLD)\n");
		return -EINVAL;
	}
	if (cfg->membership == MEMBERSHIP_LEARN && cfg->query_response_s >= cfg->query_interval_s) {
		pr_warn("--query-response-interval (%g s) must be shorter than --query-interval "
			"(%g s)\n", cfg->query_response_s, cfg->query_interval_s);
		return -EINVAL;
	}
	/* udptunnel speaks plain TCP: TLS would only make it a stranger */
	if (cfg->framing == MCTUN_FRAMING_UDPTUNNEL && tls_opts_on(&cfg->tls_opts)) {
		pr_warn("--framing udptunnel: not with --tls-cert or --psk-file (udptunnel "
			"has no TLS)\n");
		return -EINVAL;
	}
	if (!cfg->nlisten && !cfg->npeer && !cfg->ntargets) {
		pr_warn("run: nothing to connect: give --listen, --peer and/or --to\n");
		return -EINVAL;
	}
	if (cfg->ntargets && cfg->mode != MCTUN_MODE_TC) {
		pr_warn("--to, --netns, --container: need --mode tc (its TC program copies the "
			"datagrams)\n");
		return -EINVAL;
	}
	for (i = 0; i < cfg->ntargets; i++) {
		if (!strcmp(cfg->targets[i].ifname, cfg->ifname)) {
			pr_warn("--to: '%s' is the island interface (-i) itself\n", cfg->ifname);
			return -EINVAL;
		}
	}
	/* Secure by default: plain TCP lets anyone who reaches a listener
	 * inject into the island, so it must be asked for by name. */
	if (cfg->insecure && tls_opts_on(&cfg->tls_opts)) {
		pr_warn("--insecure: not together with --tls-cert or --psk-file: choose one\n");
		return -EINVAL;
	}
	if (cfg->framing == MCTUN_FRAMING_UDPTUNNEL && !cfg->insecure) {
		pr_warn("--framing udptunnel: cannot authenticate (plain TCP, no TLS): say --insecure "
			"(config file: insecure yes) to run it on a path you already trust\n");
		return -EINVAL;
	}
	/* with local targets alone there is no tunnel to authenticate */
	if (!cfg->insecure && !tls_opts_on(&cfg->tls_opts) && (cfg->nlisten || cfg->npeer)) {
		pr_warn("run: refusing an unauthenticated tunnel: make a key with 'mctun genpsk FILE' "
			"and give every gateway --psk-file FILE (or use --tls-cert/--tls-key/--tls-ca), "
			"or say --insecure (config file: insecure yes) to run plain TCP on a path you "
			"already trust\n");
		return -EINVAL;
	}
	if (cfg->dead_s <= cfg->keepalive_s) {
		pr_warn("run: dead-after (%.2f s) must be longer than keepalive (%.2f s)\n",
			cfg->dead_s, cfg->keepalive_s);
		return -EINVAL;
	}
	return 0;
}

int config_load(int argc, char **argv, struct config **out)
{
	struct opt_parser p;
	const char *path = NULL;
	bool no_config = false;
	struct config *cfg;
	int k, err = 0;

	*out = NULL;
	opt_parser_init(&p, "run", options, NOPTS);

	/* First pass: what decides the file, and anything unknown. */
	while ((k = opt_next(&p, argc, argv)) != -1) {
		if (k < 0)
			return k;
		if (!strcmp(options[k].name, "help"))
			return CONFIG_HELP;
		if (!strcmp(options[k].name, "version"))
			return CONFIG_VERSION;
		if (!strcmp(options[k].name, "config"))
			path = optarg;
		if (!strcmp(options[k].name, "no-config"))
			no_config = true;
	}
	if (optind < argc) {
		pr_warn("run: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (path && no_config) {
		pr_warn("run: --config and --no-config exclude each other\n");
		return -EINVAL;
	}
	if (!path && !no_config && !access(CONFIG_DEFAULT_PATH, F_OK))
		path = CONFIG_DEFAULT_PATH;

	cfg = config_new();
	if (!cfg)
		return -ENOMEM;
	cfg->argc = argc;
	cfg->argv = argv;
	if (path) {
		cfg->path = strdup(path);
		err = cfg->path ? parse_file(cfg, path) : -ENOMEM;
	}

	/* Second pass: the command line over the file. */
	opt_rewind(&p);
	while (!err && (k = opt_next(&p, argc, argv)) >= 0)
		err = opt_set(&p, k, cfg);
	if (!err)
		err = docker_socket_default(cfg);
	if (!err)
		err = check(cfg);
	if (err) {
		config_free(cfg);
		return err;
	}
	*out = cfg;
	return 0;
}

/* The refusal of a reload that changes options[i]: FILE:LINE of the new
 * file's line that sets it, or FILE alone with the line that set it before
 * when the new file no longer does. */
static void fixed_refusal(const struct config *old, const struct config *cfg, unsigned int i)
{
	const char *name = options[i].name;

	if (cfg->path && cfg->key_line[i])
		pr_warn("%s:%u: %s: cannot change at run time (restart mctun for that)\n",
			cfg->path, cfg->key_line[i], name);
	else if (old->path && old->key_line[i])
		pr_warn("%s: %s: no longer set (it was on line %u), and it cannot change at run "
			"time (restart mctun for that)\n", cfg->path ? cfg->path : old->path, name,
			old->key_line[i]);
	else
		pr_warn("%s: %s: cannot change at run time (restart mctun for that)\n",
			cfg->path ? cfg->path : "run", name);
}

bool config_fixed_changed(const struct config *old, const struct config *cfg)
{
	unsigned int i;

	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &options[i];
		const char *a = (const char *)old + o->off, *b = (const char *)cfg + o->off;
		bool differ;

		if (!(o->flags & OPT_FIXED))
			continue;
		if (o->flags & OPT_STRING) {
			const char *sa = *(char *const *)a, *sb = *(char *const *)b;

			differ = strcmp(sa ? sa : "", sb ? sb : "");
		} else {
			differ = memcmp(a, b, o->size);
		}
		if (differ) {
			fixed_refusal(old, cfg, i);
			return true;
		}
	}
	return false;
}

/* ---- matching one config's entries to another's ---------------------- */

unsigned int config_auth_flags(const struct config *cfg)
{
	unsigned int i, f;

	if (cfg->tls_opts.psk_file)
		return MCTUN_INFO_PSK;
	if (tls_opts_on(&cfg->tls_opts))
		return MCTUN_INFO_TLS_CERT;
	if (!cfg->insecure && !cfg->nlisten && !cfg->npeer)
		return MCTUN_INFO_NO_TUNNEL;
	f = cfg->insecure ? MCTUN_INFO_INSECURE : 0;
	for (i = 0; i < cfg->nlisten && f; i++)
		if (!sockaddr_is_loopback((const struct sockaddr *)&cfg->listen[i].ss))
			f |= MCTUN_INFO_INSECURE_PUBLIC;
	return f;
}

const char *target_name(const struct cfg_target *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s",
		 t->container[0] ? "--container" : t->netns[0] ? "--netns" : "--to",
		 t->container[0] ? t->container : t->netns[0] ? t->netns : t->ifname);
	return buf;
}

bool endpoint_same(const struct endpoint *a, const struct endpoint *b)
{
	return a->sslen == b->sslen && !memcmp(&a->ss, &b->ss, a->sslen);
}
