// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "localrx.h"
#include "log.h"
#include "mctun.h"
#include "util.h"

/* The daemon's own joins: a group address and how many of its sockets
 * joined it, sorted. One daemon per process: a table for the process. */
struct own {
	struct localrx_key k;
	unsigned int joins;
};

static struct own *own;
static unsigned int nown, own_cap;

static int key_cmp(const void *a, const void *b)
{
	const struct localrx_key *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

static struct localrx_key key_of(uint8_t family, const uint8_t addr[16])
{
	struct localrx_key k = { .family = family };

	memcpy(k.addr, addr, family == MCTUN_FAM_INET ? 4 : 16);
	return k;
}

/* Where k is in own[], or where it would go (*found false). */
static unsigned int own_find(const struct localrx_key *k, bool *found)
{
	unsigned int lo = 0, hi = nown;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		int r = key_cmp(&own[mid].k, k);

		if (!r) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

void localrx_own_join(uint8_t family, const uint8_t addr[16])
{
	struct localrx_key k = key_of(family, addr);
	bool found;
	unsigned int i = own_find(&k, &found);

	if (found) {
		own[i].joins++;
		return;
	}
	if (nown == own_cap) {
		unsigned int cap = own_cap ? 2 * own_cap : 64;
		struct own *n = realloc(own, cap * sizeof(*n));

		/* without room the join is not known as ours: its group looks
		 * wanted here, and is delivered as before */
		if (!n)
			return;
		own = n;
		own_cap = cap;
	}
	memmove(&own[i + 1], &own[i], (nown - i) * sizeof(*own));
	own[i] = (struct own){ .k = k, .joins = 1 };
	nown++;
}

void localrx_own_leave(uint8_t family, const uint8_t addr[16])
{
	struct localrx_key k = key_of(family, addr);
	bool found;
	unsigned int i = own_find(&k, &found);

	if (!found)
		return;
	if (--own[i].joins)
		return;
	memmove(&own[i], &own[i + 1], (nown - i - 1) * sizeof(*own));
	nown--;
	if (!nown) {
		free(own);
		own = NULL;
		own_cap = 0;
	}
}

static unsigned int own_joins(const struct localrx_key *k)
{
	bool found;
	unsigned int i = own_find(k, &found);

	return found ? own[i].joins : 0;
}

/* A growing list of keys. */
struct keys {
	struct localrx_key *v;
	unsigned int n, cap;
};

static int keys_add(struct keys *ks, const struct localrx_key *k)
{
	if (ks->n == ks->cap) {
		unsigned int cap = ks->cap ? 2 * ks->cap : 16;
		struct localrx_key *n = realloc(ks->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ks->v = n;
		ks->cap = cap;
	}
	ks->v[ks->n++] = *k;
	return 0;
}

/* A group of ifindex the kernel counts users joins of: ours taken off. */
static int consider(struct keys *ks, const struct localrx_key *k, unsigned long users)
{
	if (users <= own_joins(k))
		return 0;
	return keys_add(ks, k);
}

/* /proc/net/igmp: a line per interface ("4\teth0      :     1      V3"),
 * then one per group ("\t\t\t\t030201EF     2 0:00000000\t\t0": the address
 * as the kernel's __be32 printed in host order, then its users). */
static int read_igmp(struct keys *ks, unsigned int ifindex)
{
	FILE *f = fopen("/proc/net/igmp", "re");
	char *line = NULL;
	size_t cap = 0;
	bool ours = false;
	int err = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;   /* no IPv4: no IPv4 receivers */
	while (!err && getline(&line, &cap, f) > 0) {
		unsigned int a;
		unsigned long users;
		struct localrx_key k = { .family = MCTUN_FAM_INET };

		if (line[0] >= '0' && line[0] <= '9') {
			ours = strtoul(line, NULL, 10) == ifindex;
			continue;
		}
		if (!ours || line[0] != '\t' || sscanf(line, " %x %lu", &a, &users) != 2)
			continue;
		memcpy(k.addr, &a, 4);
		err = consider(ks, &k, users);
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	fclose(f);
	return err;
}

/* /proc/net/igmp6: "2    eth0            ff150000000000000000000000000001     1
 * 00000004 0": interface index and name, the address in hex, users. */
static int read_igmp6(struct keys *ks, unsigned int ifindex)
{
	FILE *f = fopen("/proc/net/igmp6", "re");
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;   /* no IPv6 */
	while (!err && getline(&line, &cap, f) > 0) {
		unsigned int idx, i;
		unsigned long users;
		char hex[33];
		struct localrx_key k = { .family = MCTUN_FAM_INET6 };

		if (sscanf(line, "%u %*s %32s %lu", &idx, hex, &users) != 3 || idx != ifindex ||
		    strlen(hex) != 32)
			continue;
		for (i = 0; i < 16; i++) {
			unsigned int b;

			if (sscanf(hex + 2 * i, "%2x", &b) != 1)
				break;
			k.addr[i] = (uint8_t)b;
		}
		if (i == 16)
			err = consider(ks, &k, users);
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	fclose(f);
	return err;
}

static void map_key(const struct localrx_key *k, struct mctun_tgroup_key *mk, bool joined)
{
	char a[ADDR_STRLEN];

	memset(mk, 0, sizeof(*mk));
	mk->family = k->family;
	memcpy(mk->addr, k->addr, sizeof(mk->addr));
	pr_info("local receivers: %s %s\n", addr_str(k->family, k->addr, a, sizeof(a)),
		joined ? "joined here: delivered to this host" :
		"left: nobody here wants it any more");
}

/* The map from old (l->v) to now: deletions, then additions. */
static int map_sync(int map_fd, const struct localrx_key *old, unsigned int nold,
		    const struct localrx_key *now, unsigned int nnow, bool *changed)
{
	struct mctun_tgroup_key mk;
	unsigned int i = 0, j = 0;
	__u8 one = 1;
	int err = 0;

	while (i < nold || j < nnow) {
		int r = i == nold ? 1 : j == nnow ? -1 : key_cmp(&old[i], &now[j]);

		if (r)
			*changed = true;
		if (r < 0) {
			map_key(&old[i++], &mk, false);
			if (map_fd >= 0 && bpf_map_delete_elem(map_fd, &mk) && errno != ENOENT)
				err = -errno;
		} else if (r > 0) {
			map_key(&now[j++], &mk, true);
			if (map_fd >= 0 && bpf_map_update_elem(map_fd, &mk, &one, BPF_ANY))
				err = -errno;
		} else {
			i++;
			j++;
		}
	}
	return err;
}

bool localrx_refresh(struct localrx *l, unsigned int ifindex, int map_fd)
{
	struct keys ks = { 0 };
	bool changed = false, was = l->known;
	int err;

	err = read_igmp(&ks, ifindex);
	if (!err)
		err = read_igmp6(&ks, ifindex);
	if (!err && ks.n > MCTUN_MAX_LOCALRX)
		err = -E2BIG;
	if (!err) {
		if (ks.n)   /* qsort() takes no NULL, not even for none */
			qsort(ks.v, ks.n, sizeof(*ks.v), key_cmp);
		err = map_sync(map_fd, l->v, l->n, ks.v, ks.n, &changed);
		free(l->v);
		l->v = ks.v;
		l->n = ks.n;
		ks.v = NULL;
		/* the map may miss some: all of them again next time (one it
		 * keeps too many of only delivers a group as before) */
		if (err)
			l->n = 0;
	}
	free(ks.v);
	l->known = !err;
	if (err && !l->warned)
		pr_warn("local receivers: %s: every group is delivered on this host as if "
			"joined\n", err == -E2BIG ? "more groups joined than the map holds" :
			strerror(-err));
	l->warned = err != 0;
	return changed || was != l->known;
}

bool localrx_has(const struct localrx *l, uint8_t family, const uint8_t addr[16])
{
	struct localrx_key k = key_of(family, addr);

	if (!l || !l->known)
		return true;
	return l->n && bsearch(&k, l->v, l->n, sizeof(*l->v), key_cmp);
}

void localrx_free(struct localrx *l)
{
	free(l->v);
	*l = (struct localrx){ 0 };
}
