// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Counters of one instance, read from its maps: found through the kernel,
 * pinned, or handed over by the daemon as fds. Used by mctun status, mctun
 * stats, doctor and the daemon's --metrics server; render.c writes them out.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "instances.h"
#include "util.h"

/* ---- reading maps ----------------------------------------------------- */

int stats_sum(int map_fd, unsigned int key, void *out, size_t size)
{
	int ncpus = libbpf_num_possible_cpus(), err = 0, c;
	size_t words = size / 8, w;
	__u64 *vals, *sum = out;

	if (ncpus < 0)
		return ncpus;
	vals = calloc(ncpus, size);
	if (!vals)
		return -ENOMEM;
	memset(out, 0, size);
	if (bpf_map_lookup_elem(map_fd, &key, vals)) {
		err = -errno;
		goto out;
	}
	for (c = 0; c < ncpus; c++)
		for (w = 0; w < words; w++)
			sum[w] += vals[c * words + w];
out:
	free(vals);
	return err;
}

static void set_err(struct counters *c, int err)
{
	if (!c->err)
		c->err = err;
}

/* A map pinned by another build of mctun may hold another layout: refuse
 * it rather than read past our struct. */
static bool value_size_is(struct counters *c, int fd, size_t size)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);

	if (bpf_obj_get_info_by_fd(fd, &mi, &len)) {
		set_err(c, -errno);
		return false;
	}
	if (mi.value_size != size) {
		set_err(c, -EPROTO);
		return false;
	}
	return true;
}

static int cmp_group(const void *a, const void *b)
{
	const struct counters_group *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

#define BATCH 1024    /* map entries per batched lookup */

static int group_add(struct counters *c, unsigned int *cap, const struct mc_group *g,
		     const struct mctun_group_val *val)
{
	struct counters_group *v;

	if (val->flags & MCTUN_GF_ADDR)
		return 0;
	if (c->ngroups == *cap) {
		unsigned int n = *cap ? 2 * *cap : 16;

		v = realloc(c->groups, n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->groups = v;
		*cap = n;
	}
	v = &c->groups[c->ngroups++];
	memset(v, 0, sizeof(*v));
	v->id = val->id;
	v->flags = val->flags;
	v->g = *g;
	group_str(&v->g, v->name, sizeof(v->name));
	return 0;
}

static int key_add(struct counters *c, unsigned int *cap, const struct mctun_group_key *key,
		   const struct mctun_group_val *val)
{
	struct mc_group g = { .family = key->family, .port = ntohs(key->port) };

	g.plen = group_full_plen(g.family);
	memcpy(g.addr, key->addr, 16);
	memcpy(g.src, key->src, 16);
	g.ssm = memcmp(key->src, (uint8_t[16]){}, 16) != 0;
	return group_add(c, cap, &g, val);
}

/* The ranges: an LPM trie has no batched lookups, and holds few entries. */
static void read_ranges(struct counters *c, int rfd, unsigned int *cap)
{
	struct mctun_range_key key, next, *prev = NULL;
	struct mctun_group_val val;

	while (!bpf_map_get_next_key(rfd, prev, &next)) {
		struct mc_group g = { .family = next.family, .port = ntohs(next.port) };

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(rfd, &key, &val))
			continue;
		g.plen = key.prefixlen - MCTUN_RANGE_FIXED_BITS;
		memcpy(g.addr, key.addr, 16);
		memcpy(g.src, key.src, 16);
		g.ssm = memcmp(key.src, (uint8_t[16]){}, 16) != 0;
		if (group_add(c, cap, &g, &val)) {
			set_err(c, -ENOMEM);
			return;
		}
	}
}

/* Key by key: two syscalls a group, for kernels without batched lookups. */
static void walk_groups(struct counters *c, int gfd, unsigned int *cap)
{
	struct mctun_group_key key, next, *prev = NULL;
	struct mctun_group_val val;

	while (!bpf_map_get_next_key(gfd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(gfd, &key, &val) && key_add(c, cap, &key, &val)) {
			set_err(c, -ENOMEM);
			return;
		}
	}
}

/*
 * The groups hash, BATCH entries a syscall: the daemon renders these for
 * every scrape, inside its event loop, and there may be thousands.
 */
static void read_group_keys(struct counters *c, int gfd, unsigned int *cap)
{
	struct mctun_group_key *keys = malloc(BATCH * sizeof(*keys));
	struct mctun_group_val *vals = malloc(BATCH * sizeof(*vals));
	__u32 in = 0, out = 0, n, i;
	bool first = true;
	int err;

	if (!keys || !vals) {
		set_err(c, -ENOMEM);
		goto out;
	}
	for (;;) {
		n = BATCH;
		err = bpf_map_lookup_batch(gfd, first ? NULL : &in, &out, keys, vals, &n, NULL);
		if (err && errno != ENOENT) {
			/* no batches here (or a bucket beyond BATCH): start over */
			c->ngroups = 0;
			walk_groups(c, gfd, cap);
			break;
		}
		for (i = 0; i < n; i++) {
			if (key_add(c, cap, &keys[i], &vals[i])) {
				set_err(c, -ENOMEM);
				goto out;
			}
		}
		if (err)            /* ENOENT: that was the last batch */
			break;
		in = out;
		first = false;
	}
out:
	free(keys);
	free(vals);
}

/* Per-CPU counters of ids 0 .. the largest in use, BATCH ids a syscall,
 * summed into the groups (sorted by id). */
static void read_gstats(struct counters *c, int sfd)
{
	const size_t vsize = sizeof(struct mctun_gstats);
	int ncpus = libbpf_num_possible_cpus();
	unsigned int g = 0, i, k, cpu, chunk;
	__u32 in = 0, out = 0, n, done = 0, want;
	__u64 *vals = NULL;
	__u32 *ids = NULL;
	bool first = true;
	int err;

	if (ncpus <= 0 || !c->ngroups)
		return;
	chunk = MAX(1u, MIN(BATCH, (256u << 10) / (ncpus * vsize)));
	ids = malloc(chunk * sizeof(*ids));
	vals = malloc(chunk * ncpus * vsize);
	want = c->groups[c->ngroups - 1].id + 1;
	while (ids && vals && done < want) {
		n = MIN(chunk, want - done);
		err = bpf_map_lookup_batch(sfd, first ? NULL : &in, &out, ids, vals, &n, NULL);
		if (err && errno != ENOENT)
			break;
		for (i = 0; i < n; i++) {
			const __u64 *v = vals + (size_t)i * ncpus * (vsize / 8);

			while (g < c->ngroups && c->groups[g].id < ids[i])
				g++;
			for (; g < c->ngroups && c->groups[g].id == ids[i]; g++) {
				__u64 *sum = (__u64 *)&c->groups[g].st;

				for (cpu = 0; cpu < (unsigned int)ncpus; cpu++)
					for (k = 0; k < vsize / 8; k++)
						sum[k] += v[cpu * (vsize / 8) + k];
				c->groups[g].have_st = true;
			}
		}
		done += n;
		if (err || !n)
			break;
		in = out;
		first = false;
	}
	/* what batches did not give (an old kernel): one lookup a group */
	for (g = 0; g < c->ngroups; g++)
		if (!c->groups[g].have_st)
			c->groups[g].have_st = !stats_sum(sfd, c->groups[g].id, &c->groups[g].st,
							  vsize);
	free(ids);
	free(vals);
}

static void read_groups(struct counters *c, int gfd, int rfd, int sfd)
{
	unsigned int cap = 0;

	read_group_keys(c, gfd, &cap);
	if (rfd >= 0)
		read_ranges(c, rfd, &cap);
	if (c->ngroups)	/* qsort's array may not be NULL, even for 0 */
		qsort(c->groups, c->ngroups, sizeof(*c->groups), cmp_group);
	if (sfd >= 0 && value_size_is(c, sfd, sizeof(struct mctun_gstats)))
		read_gstats(c, sfd);
}

static void read_peers(struct counters *c, int fd)
{
	struct mctun_peer_info p;
	__u32 i;

	if (!value_size_is(c, fd, sizeof(p)))
		return;
	c->peers = calloc(MCTUN_PINNED_PEERS, sizeof(*c->peers));
	if (!c->peers) {
		set_err(c, -ENOMEM);
		return;
	}
	for (i = 0; i < MCTUN_PINNED_PEERS; i++)
		if (!bpf_map_lookup_elem(fd, &i, &p) && p.state != MCTUN_PEER_EMPTY)
			c->peers[c->npeers++] = p;
}

/* Rows published from slot 0 on, up to the first empty one (its family
 * byte, at fam_off, is 0). */
static void read_rows(struct counters *c, int fd, size_t size, unsigned int max, size_t fam_off,
		      void **out, unsigned int *n)
{
	uint8_t row[128];
	__u32 i;

	if (size > sizeof(row) || !value_size_is(c, fd, size))
		return;
	for (i = 0; i < max; i++) {
		if (bpf_map_lookup_elem(fd, &i, row) || !row[fam_off])
			break;
		if (!*out) {
			*out = calloc(max, size);
			if (!*out) {
				set_err(c, -ENOMEM);
				return;
			}
		}
		memcpy((uint8_t *)*out + (size_t)(*n)++ * size, row, size);
	}
}

/* The learned groups and the wants, each published from slot 0 on. */
static void read_members(struct counters *c, int fd)
{
	read_rows(c, fd, sizeof(struct mctun_member_info), MCTUN_PINNED_MEMBERS,
		  offsetof(struct mctun_member_info, family), (void **)&c->members, &c->nmembers);
}

static void read_wants(struct counters *c, int fd)
{
	read_rows(c, fd, sizeof(struct mctun_want_info), MCTUN_PINNED_WANTS,
		  offsetof(struct mctun_want_info, family), (void **)&c->wants, &c->nwants);
}

/* The local targets: slots from 0 on, up to the first without a name. */
static void read_targets(struct counters *c, int tfd, int sfd)
{
	struct mctun_target t;
	__u32 i;

	if (!value_size_is(c, tfd, sizeof(t)))
		return;
	if (sfd >= 0 && !value_size_is(c, sfd, sizeof(struct mctun_tstats)))
		sfd = -1;
	for (i = 0; i < MCTUN_MAX_TARGETS; i++) {
		struct counters_target *v = &c->targets[c->ntargets];

		if (bpf_map_lookup_elem(tfd, &i, &t) || !t.ifname[0])
			break;
		memset(v, 0, sizeof(*v));
		snprintf(v->ifname, sizeof(v->ifname), "%.*s", (int)sizeof(t.ifname), t.ifname);
		v->ifindex = t.ifindex;
		v->ttl = t.ttl;
		v->flags = t.flags;
		v->have_st = sfd >= 0 && !stats_sum(sfd, i, &v->st, sizeof(v->st));
		c->ntargets++;
	}
}

static int tgroup_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct mctun_tgroup_key));
}

/* The groups joined behind targets (a hash map: walked key by key). */
static void read_tgroups(struct counters *c, int fd)
{
	struct mctun_tgroup_key k, next, *prev = NULL;
	struct counters_tgroup *v;
	unsigned int n = 0;
	__u32 mask;

	v = calloc(MCTUN_MAX_TGROUPS, sizeof(*v));
	if (!v)
		return;
	while (n < MCTUN_MAX_TGROUPS && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &mask) || !mask)
			continue;
		v[n].k = k;
		v[n++].mask = mask;
	}
	qsort(v, n, sizeof(*v), tgroup_cmp);
	c->tgroups = v;
	c->ntgroups = n;
}

void counters_read_fds(struct counters *c, const struct counters_fds *fds)
{
	__u32 zero = 0;

	if (fds->info >= 0 && value_size_is(c, fds->info, sizeof(c->info)))
		c->have_info = !bpf_map_lookup_elem(fds->info, &zero, &c->info);
	if (fds->stats >= 0 && value_size_is(c, fds->stats, sizeof(c->st)))
		c->have_stats = !stats_sum(fds->stats, 0, &c->st, sizeof(c->st));
	if (fds->dstats >= 0 && value_size_is(c, fds->dstats, sizeof(c->ds)))
		c->have_dstats = !bpf_map_lookup_elem(fds->dstats, &zero, &c->ds);
	if (fds->groups >= 0)
		read_groups(c, fds->groups, fds->ranges, fds->gstats);
	if (fds->peers >= 0)
		read_peers(c, fds->peers);
	if (fds->members >= 0)
		read_members(c, fds->members);
	if (fds->wants >= 0)
		read_wants(c, fds->wants);
	if (fds->targets >= 0)
		read_targets(c, fds->targets, fds->tstats);
	if (fds->tgroups >= 0 && value_size_is(c, fds->tgroups, sizeof(__u32)))
		read_tgroups(c, fds->tgroups);
}

/* optional: a map an instance may lack (the targets': an instance of an
 * older build has none), not read and no error when it is missing. */
static int map_open(struct counters *c, const char *name, bool optional)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", c->dir, name) >= (int)sizeof(path)) {
		set_err(c, -ENAMETOOLONG);
		return -1;
	}
	fd = bpf_obj_get(path);
	if (fd < 0 && !(optional && errno == ENOENT))
		set_err(c, -errno);
	return fd < 0 ? -1 : fd;
}

static int map_open_id(struct counters *c, __u32 id, bool optional)
{
	int fd = id ? instance_map_fd(id) : -ENOENT;

	if (fd < 0) {
		if (!(optional && !id))
			set_err(c, fd);
		return -1;
	}
	return fd;
}

void counters_read(struct counters *c)
{
	struct counters_fds fds;
	int *fd[] = { &fds.info, &fds.stats, &fds.gstats, &fds.groups, &fds.dstats, &fds.peers,
		      &fds.ranges, &fds.members, &fds.wants, &fds.targets, &fds.tstats,
		      &fds.tgroups };
	static const unsigned int im[] = { MCTUN_IM_INFO, MCTUN_IM_STATS, MCTUN_IM_GSTATS,
					   MCTUN_IM_GROUPS, MCTUN_IM_DSTATS, MCTUN_IM_PEERS,
					   MCTUN_IM_RANGES, MCTUN_IM_MEMBERS, MCTUN_IM_WANTS,
					   MCTUN_IM_TARGETS, MCTUN_IM_TSTATS, MCTUN_IM_TGROUPS };
	unsigned int i;
	bool optional;

	_Static_assert(ARRAY_SIZE(fd) == ARRAY_SIZE(im), "a map id for every fd");
	for (i = 0; i < ARRAY_SIZE(fd); i++) {
		optional = im[i] == MCTUN_IM_TARGETS || im[i] == MCTUN_IM_TSTATS ||
			   im[i] == MCTUN_IM_TGROUPS;
		*fd[i] = c->map_ids[MCTUN_IM_INFO] ? map_open_id(c, c->map_ids[im[i]], optional) :
			 map_open(c, instance_pin_names[im[i]], optional);
	}
	counters_read_fds(c, &fds);
	for (i = 0; i < ARRAY_SIZE(fd); i++)
		if (*fd[i] >= 0)
			close(*fd[i]);
}

void counters_free(struct counters *c)
{
	free(c->groups);
	free(c->peers);
	free(c->members);
	free(c->wants);
	free(c->tgroups);
	c->tgroups = NULL;
	c->ntgroups = 0;
	c->groups = NULL;
	c->peers = NULL;
	c->members = NULL;
	c->wants = NULL;
	c->nmembers = c->nwants = 0;
	c->ngroups = c->npeers = 0;
	c->ntargets = 0;
}

/* Its cgroup (the unified hierarchy's "0::PATH" line), "" when unreadable. */
static void read_cgroup(pid_t pid, char *buf, size_t len)
{
	char path[64], line[512];
	size_t n;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		n = strcspn(line + 3, "\n");
		n = n < len - 1 ? n : len - 1;
		memcpy(buf, line + 3, n);
		buf[n] = '\0';
		break;
	}
	fclose(f);
}

void counters_locate(struct counters *c)
{
	c->located = true;
	c->alive = false;
	c->local_pid = 0;
	c->cgroup[0] = '\0';
	if (!c->have_info)
		return;
	c->foreign_pid = c->info.pidns && c->info.pidns != instance_own_ns("pid");
	c->local_pid = instance_locate(&c->info, &c->alive);
	if (c->foreign_pid && c->local_pid)
		read_cgroup(c->local_pid, c->cgroup, sizeof(c->cgroup));
}

/* ---- finding instances ------------------------------------------------- */

static bool is_instance_dir(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/info", dir) >= (int)sizeof(path))
		return false;
	return stat(path, &st) == 0;
}

static struct counters *list_add(struct counters_list *l, const char *dir, const char *ifname,
				 unsigned long netns)
{
	struct counters *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	l->v = v;
	v = &v[l->n];
	memset(v, 0, sizeof(*v));
	if (snprintf(v->dir, sizeof(v->dir), "%s", dir) >= (int)sizeof(v->dir))
		return NULL;
	snprintf(v->ifname, sizeof(v->ifname), "%s", ifname);
	v->netns = netns;
	l->n++;
	return v;
}

static int cmp_instance(const void *a, const void *b)
{
	const struct counters *x = a, *y = b;

	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	return strcmp(x->ifname, y->ifname);
}

struct scan {
	bool all;
	const char *iface;
	unsigned long own_ns;
	__u64 host_ns;
	struct counters_list *l;
};

static void scan_kernel(const struct mctun_info *info, void *ctx)
{
	struct scan *sc = ctx;
	unsigned long ns = info->netns == sc->host_ns ? 0 : info->netns;
	char ifname[sizeof(info->ifname) + 1], dir[PATH_MAX];
	struct counters *v;

	snprintf(ifname, sizeof(ifname), "%.*s", (int)sizeof(info->ifname), info->ifname);
	if ((!sc->all && ns != sc->own_ns) || (sc->iface && strcmp(sc->iface, ifname)))
		return;
	/* where it pins, or would where its mount namespace is ours */
	if (ns)
		snprintf(dir, sizeof(dir), "%s/netns%lu/%s", PIN_ROOT, ns, ifname);
	else
		snprintf(dir, sizeof(dir), "%s/%s", PIN_ROOT, ifname);
	v = list_add(sc->l, dir, ifname, ns);
	if (v)
		memcpy(v->map_ids, info->map_ids, sizeof(v->map_ids));
}

static void scan_pins(bool all, const char *iface, unsigned long own_ns, struct counters_list *l);

void counters_scan(bool all, const char *iface, unsigned long own_ns, struct counters_list *l)
{
	struct scan sc = { all, iface, own_ns, instance_host_netns(), l };
	int err;

	err = instances_walk(scan_kernel, &sc);
	if (err) {
		counters_list_free(l);
		l->by_pins = true;
		scan_pins(all, iface, own_ns, l);
		return;
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_instance);
}

/*
 * Every instance directory: PIN_ROOT/IFNAME (host namespace) and
 * PIN_ROOT/netnsINODE/IFNAME.
 */
static void scan_pins(bool all, const char *iface, unsigned long own_ns, struct counters_list *l)
{
	struct dirent *e, *f;
	char dir[PATH_MAX], sub[PATH_MAX];
	DIR *d, *nd;

	d = opendir(PIN_ROOT);
	if (!d) {
		l->err = errno == ENOENT ? 0 : -errno;
		return;
	}
	while ((e = readdir(d))) {
		unsigned long ns;
		char *end;

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(dir, sizeof(dir), "%s/%s", PIN_ROOT, e->d_name) >= (int)sizeof(dir))
			continue;
		if (is_instance_dir(dir)) {
			if ((all || own_ns == 0) && (!iface || !strcmp(iface, e->d_name)))
				list_add(l, dir, e->d_name, 0);
			continue;
		}
		if (strncmp(e->d_name, "netns", 5))
			continue;
		ns = strtoul(e->d_name + 5, &end, 10);
		if (*end || !ns || (!all && ns != own_ns))
			continue;
		nd = opendir(dir);
		if (!nd) {
			if (!l->err)
				l->err = -errno;
			continue;
		}
		while ((f = readdir(nd))) {
			if (f->d_name[0] == '.' || (iface && strcmp(iface, f->d_name)))
				continue;
			if (snprintf(sub, sizeof(sub), "%s/%s", dir, f->d_name) < (int)sizeof(sub) &&
			    is_instance_dir(sub))
				list_add(l, sub, f->d_name, ns);
		}
		closedir(nd);
	}
	closedir(d);
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_instance);
}

void counters_list_free(struct counters_list *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		counters_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

unsigned long counters_own_netns(void)
{
	char dir[PATH_MAX], *p;

	if (pin_dir_for("x", dir, sizeof(dir)))
		return 0;
	p = strstr(dir, "/netns");
	return p ? strtoul(p + 6, NULL, 10) : 0;
}
