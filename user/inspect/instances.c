// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include "instances.h"
#include "log.h"
#include "util.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define IDS_MAX 16u   /* maps of one program we look at; ours has 9 */

/* A datagram socket bound to abstract name (no leading NUL): per network
 * namespace, gone with its holder. Returns it, or -errno. */
static int bind_abstract(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd;

	if (n + 1 > sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path + 1, name, n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + 1 + n) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int instance_lock(unsigned int ifindex)
{
	char name[32];
	int fd;

	snprintf(name, sizeof(name), "mctun/ifindex/%u", ifindex);
	fd = bind_abstract(name);
	return fd == -EADDRINUSE ? -EBUSY : fd;
}

static __u64 ns_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (__u64)st.st_ino;
}

__u64 instance_own_ns(const char *kind)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/ns/%s", kind);
	return ns_ino(path);
}

/* The initial pid namespace's inode (PROC_PID_INIT_INO, fixed since Linux
 * 3.8), and the initial network namespace's where the kernel fixes it too
 * (6.18 does; 6.1 does not). */
#define INIT_PIDNS_INO 0xEFFFFFFCull
#define INIT_NETNS_INO 0xEFFFFFF9ull

__u64 instance_host_netns(void)
{
	if (instance_own_ns("net") == INIT_NETNS_INO)
		return INIT_NETNS_INO;
	/* pid 1 is the host's init only in the initial pid namespace: in a
	 * container it is the container's, in the container's namespace */
	if (instance_own_ns("pid") == INIT_PIDNS_INO)
		return ns_ino("/proc/1/ns/net");
	return 0;
}

int pin_dir_for(const char *ifname, char *buf, size_t len)
{
	__u64 self = ns_ino("/proc/self/ns/net");
	int n;

	if (!self)
		return errno ? -errno : -EIO;
	/* the host's namespace; unknown means we are not it */
	if (instance_host_netns() == self)
		n = snprintf(buf, len, "%s/%s", PIN_ROOT, ifname);
	else
		n = snprintf(buf, len, "%s/netns%llu/%s", PIN_ROOT, (unsigned long long)self,
			     ifname);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool pid_is_mctun(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "mctun", 5);
}

/* The last pid of /proc/PID/status's NSpid: its pid in its own pid
 * namespace; 0 when it cannot be read. */
static __u32 nspid_last(long pid)
{
	char path[64], line[256];
	unsigned long last = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (;;) {
			unsigned long v = strtoul(p, &end, 10);

			if (end == p)
				break;
			last = v;
			p = end;
		}
		break;
	}
	fclose(f);
	return last;
}

/* Does process pid hold map id open? (/proc/PID/fdinfo) */
static bool pid_holds_map(long pid, __u32 id)
{
	char path[300], line[128];
	struct dirent *f;
	bool held = false;
	DIR *fds;

	snprintf(path, sizeof(path), "/proc/%ld/fdinfo", pid);
	fds = opendir(path);
	if (!fds)
		return false;
	while (!held && (f = readdir(fds))) {
		FILE *fi;

		if (f->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%s", pid, f->d_name);
		fi = fopen(path, "re");
		if (!fi)
			continue;
		while (fgets(line, sizeof(line), fi)) {
			unsigned long v;

			if (sscanf(line, "map_id: %lu", &v) == 1) {
				held = v == id;
				break;
			}
		}
		fclose(fi);
	}
	closedir(fds);
	return held;
}

/*
 * The processes other than us that hold map id open: *held says whether
 * there is one (true when /proc cannot be read: never take a running one
 * for gone); returns the one whose pid in its own namespace is nspid (the
 * daemon, not a tool that reads its maps), 0 when none is.
 */
static pid_t map_holder(__u32 id, __u32 nspid, bool *held)
{
	struct dirent *p;
	pid_t self = getpid(), found = 0;
	DIR *proc;

	*held = false;
	proc = opendir("/proc");
	if (!proc) {
		*held = true;
		return 0;
	}
	while (!found && (p = readdir(proc))) {
		char *end;
		long pid = strtol(p->d_name, &end, 10);

		if (*end || pid <= 0 || pid == self || !pid_holds_map(pid, id))
			continue;
		*held = true;
		if (nspid_last(pid) == nspid)
			found = pid;
	}
	closedir(proc);
	return found;
}

pid_t instance_locate(const struct mctun_info *info, bool *alive)
{
	char path[64];
	__u64 ns;

	*alive = false;
	if (!info->pid)
		return 0;
	if (info->pidns && info->pidns != instance_own_ns("pid"))
		return map_holder(info->map_ids[MCTUN_IM_INFO], info->pid, alive);
	if (!pid_is_mctun(info->pid))
		return 0;
	/* against a reused pid: it must still live in the namespace it said */
	snprintf(path, sizeof(path), "/proc/%u/ns/net", info->pid);
	ns = ns_ino(path);
	*alive = !info->netns || ns == info->netns || ns == 0;
	return *alive ? (pid_t)info->pid : 0;
}

bool instance_alive(const struct mctun_info *info)
{
	bool alive;

	instance_locate(info, &alive);
	return alive;
}

int instance_map_fd(__u32 id)
{
	int fd = bpf_map_get_fd_by_id(id);

	return fd < 0 ? -errno : fd;
}

/* info's content if fd is an instance's info map of our layout. */
static int read_info(int fd, struct mctun_info *info)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), zero = 0;

	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return -errno;
	if (strcmp(mi.name, "mctun_info") || mi.value_size != sizeof(*info) ||
	    mi.type != BPF_MAP_TYPE_ARRAY)
		return -ENOENT;
	if (bpf_map_lookup_elem(fd, &zero, info))
		return -errno;
	/* an instance still starting has not written it yet */
	return info->pid ? 0 : -ENOENT;
}

int instances_walk(instance_fn fn, void *ctx)
{
	struct mctun_info info;
	__u32 id = 0;
	int fd;

	while (!bpf_map_get_next_id(id, &id)) {
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0) {
			if (errno == EPERM || errno == EACCES)
				return -EPERM;
			continue;   /* gone in between */
		}
		if (!read_info(fd, &info))
			fn(&info, ctx);
		close(fd);
	}
	return errno == ENOENT ? 0 : errno == EPERM || errno == EACCES ? -EPERM : -errno;
}

int instance_info_of_prog(__u32 prog_id, struct mctun_info *info)
{
	struct bpf_prog_info pi = {};
	__u32 ids[IDS_MAX], len = sizeof(pi), i, n;
	int pfd, fd, err = -ENOENT;

	pfd = bpf_prog_get_fd_by_id(prog_id);
	if (pfd < 0)
		return -errno;
	pi.nr_map_ids = IDS_MAX;
	pi.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(pfd, &pi, &len)) {
		err = -errno;
		goto out;
	}
	n = pi.nr_map_ids < IDS_MAX ? pi.nr_map_ids : IDS_MAX;
	for (i = 0; i < n && err; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		err = read_info(fd, info);
		close(fd);
	}
out:
	close(pfd);
	return err;
}

/* ---- daemons that state themselves ------------------------------------- */

#define ANN_PREFIX "mctun/run/"

static const char *const mode_names[] = {
	[MCTUN_MODE_TC] = "tc", [MCTUN_MODE_SOCKET] = "socket", [MCTUN_MODE_XDP] = "xdp",
};

int instance_announce(__u32 mode, unsigned int ifindex, const char *ifname)
{
	static int fd = -1;     /* held until we exit: the kernel closes it */
	char name[108];
	int n;

	if (fd >= 0)
		return 0;
	n = snprintf(name, sizeof(name), ANN_PREFIX "ifindex/%u/iface/%s/mode/%s/pid/%d/pidns/%llu",
		     ifindex, ifname, mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "?",
		     (int)getpid(), (unsigned long long)instance_own_ns("pid"));
	fd = n > 0 && (size_t)n < sizeof(name) ? bind_abstract(name) : -ENAMETOOLONG;
	if (fd < 0) {
		n = fd;
		fd = -1;
		pr_warn("abstract socket @%s, by which mctun status finds this instance: %s\n",
			name, strerror(-n));
		return n;
	}
	return 0;
}

/* One name of ours from a /proc/net/unix path (after its '@'). */
static bool ann_parse(const char *path, struct instance_ann *a)
{
	char mode[8];
	unsigned long long pidns;
	unsigned int i;
	int end = 0;

	memset(a, 0, sizeof(*a));
	if (sscanf(path, ANN_PREFIX "ifindex/%u/iface/%15[^/]/mode/%7[^/]/pid/%u/pidns/%llu%n",
		   &a->ifindex, a->ifname, mode, &a->pid, &pidns, &end) != 5 || path[end])
		return false;
	a->pidns = pidns;
	for (i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (mode_names[i] && !strcmp(mode, mode_names[i]))
			break;
	a->mode = i;
	return i < ARRAY_SIZE(mode_names);
}

struct ann_vec {
	struct instance_ann *v;
	unsigned long *ino;          /* the socket's inode, for its owner in /proc */
	unsigned int n;
	int err;
};

/* Our names among a network namespace's Unix sockets (netns: its inode). */
static void read_unix(const char *file, __u64 netns, struct ann_vec *av)
{
	char line[512];
	FILE *f = fopen(file, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct instance_ann a;
		unsigned long ino;
		unsigned int i;
		char *path;
		int off = 0;
		void *p;

		/* Num RefCount Protocol Flags Type St Inode Path */
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %n", &ino, &off) != 1 || !off ||
		    line[off] != '@')
			continue;
		path = line + off + 1;
		path[strcspn(path, "\n")] = '\0';
		if (!ann_parse(path, &a))
			continue;
		for (i = 0; i < av->n && av->ino[i] != ino; i++)
			;
		if (i < av->n)
			continue;    /* a namespace seen twice, its netns unreadable */
		a.netns = netns;
		p = realloc(av->v, (av->n + 1) * sizeof(*av->v));
		if (p)
			av->v = p;
		p = p ? realloc(av->ino, (av->n + 1) * sizeof(*av->ino)) : NULL;
		if (!p) {
			av->err = -ENOMEM;
			break;
		}
		av->ino = p;
		av->v[av->n] = a;
		av->ino[av->n++] = ino;
	}
	fclose(f);
}

/* Every network namespace a process of ours is in, once. */
static void read_unix_all(struct ann_vec *av)
{
	__u64 *seen = NULL, ns;
	unsigned int nseen = 0, i;
	char path[64];
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (!d) {
		av->err = -errno;
		return;
	}
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		void *p;

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		ns = ns_ino(path);
		for (i = 0; ns && i < nseen && seen[i] != ns; i++)
			;
		if (ns && i < nseen)
			continue;
		/* a namespace we may not see: only where a mctun runs */
		if (!ns && !pid_is_mctun(pid))
			continue;
		if (ns) {
			p = realloc(seen, (nseen + 1) * sizeof(*seen));
			if (!p)
				break;
			seen = p;
			seen[nseen++] = ns;
		}
		snprintf(path, sizeof(path), "/proc/%ld/net/unix", pid);
		read_unix(path, ns, av);
	}
	closedir(d);
	free(seen);
}

/* The pid, in our /proc, holding socket inode ino; 0 when none we may see. */
static pid_t socket_owner(unsigned long ino)
{
	char path[300], link[64], want[32];
	struct dirent *p, *f;
	pid_t found = 0;
	DIR *proc, *fds;

	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (!found && (p = readdir(proc))) {
		char *end;
		long pid = strtol(p->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!found && (f = readdir(fds))) {
			ssize_t n;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/fd/%s", pid, f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n > 0 && (link[n] = '\0', !strcmp(link, want)))
				found = pid;
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

int instances_announced(bool all, struct instance_ann **out)
{
	struct ann_vec av = {};
	__u64 own_pidns = instance_own_ns("pid");
	unsigned int i;

	if (all)
		read_unix_all(&av);
	else
		read_unix("/proc/self/net/unix", instance_own_ns("net"), &av);
	for (i = 0; i < av.n; i++) {
		struct instance_ann *a = &av.v[i];

		a->local_pid = a->pidns == own_pidns ? (pid_t)a->pid : socket_owner(av.ino[i]);
	}
	free(av.ino);
	if (av.err) {
		free(av.v);
		return av.err;
	}
	*out = av.v;
	return av.n;
}

/* ---- an instance's record: pins and mctun_info ------------------------------ */

const char *const instance_pin_names[MCTUN_IM_COUNT] = {
	[MCTUN_IM_STATS] = "stats", [MCTUN_IM_GSTATS] = "gstats", [MCTUN_IM_GROUPS] = "groups",
	[MCTUN_IM_INFO] = "info", [MCTUN_IM_DSTATS] = "dstats", [MCTUN_IM_PEERS] = "peers",
	[MCTUN_IM_RANGES] = "ranges", [MCTUN_IM_MEMBERS] = "members", [MCTUN_IM_WANTS] = "wants",
	[MCTUN_IM_TARGETS] = "targets", [MCTUN_IM_TSTATS] = "tstats",
	[MCTUN_IM_TGROUPS] = "tgroups",
};

int instance_bpffs(void)
{
	struct statfs st;

	if (statfs(PIN_ROOT_FS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	return mount("bpf", PIN_ROOT_FS, "bpf", 0, "mode=0700") < 0 ? -errno : 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

void instance_unpin(const char *dir)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < MCTUN_IM_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, instance_pin_names[i]);
		unlink(path);
	}
	rmdir(dir);
	/* the per-namespace parent, when it is left empty */
	snprintf(path, sizeof(path), "%s", dir);
	*strrchr(path, '/') = '\0';
	if (strcmp(path, PIN_ROOT))
		rmdir(path);
	rmdir(PIN_ROOT);   /* fails, as it should, while other instances run */
}

int instance_pin(const char *dir, const int fds[MCTUN_IM_COUNT])
{
	char path[PATH_MAX];
	unsigned int i;
	int err;

	err = mkdir_p(dir);
	if (err)
		return err;
	for (i = 0; i < MCTUN_IM_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, instance_pin_names[i]);
		if (bpf_obj_pin(fds[i], path))
			return -errno;
	}
	return 0;
}

int instance_write_info(const int fds[MCTUN_IM_COUNT], unsigned int ifindex, const char *ifname,
			__u32 mode, __u32 flags)
{
	struct mctun_info info = {
		.pid = getpid(),
		.ifindex = ifindex,
		.flags = flags,
		.mode = mode,
		.start_ns = realtime_ns(),
		.netns = instance_own_ns("net"),
		.pidns = instance_own_ns("pid"),
	};
	__u32 zero = 0, i;

	for (i = 0; i < MCTUN_IM_COUNT; i++) {
		struct bpf_map_info mi = {};
		__u32 len = sizeof(mi);

		if (!bpf_obj_get_info_by_fd(fds[i], &mi, &len))
			info.map_ids[i] = mi.id;
	}
	snprintf(info.ifname, sizeof(info.ifname), "%s", ifname);
	if (bpf_map_update_elem(fds[MCTUN_IM_INFO], &zero, &info, BPF_ANY))
		return -errno;
	return 0;
}

int instance_set_flags(int info_fd, __u32 mask, __u32 flags)
{
	struct mctun_info info;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(info_fd, &zero, &info))
		return -errno;
	info.flags = (info.flags & ~mask) | (flags & mask);
	if (bpf_map_update_elem(info_fd, &zero, &info, BPF_ANY))
		return -errno;
	return 0;
}

/* ---- who runs, and what a killed one left ---------------------------------- */

/*
 * Is this program (a TC filter at our handle and priority, or the XDP
 * program) one of ours? Its name says. Reading it by id takes
 * CAP_SYS_ADMIN, which the daemon need not have: then `fallback` decides,
 * what the pinned info of a dead instance says it had attached.
 */
static bool filter_is_mctun(__u32 prog_id, bool fallback)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bool ours = false;
	int fd;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return errno == EPERM && fallback;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		ours = !strncmp(info.name, "mctun_", 6);
	close(fd);
	return ours;
}

/* The program id of our filter at handle on ifindex's hook, 0 if none. */
static __u32 tc_filter(unsigned int ifindex, enum bpf_tc_attach_point where, __u32 handle)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = handle, .priority = MCTUN_TC_PRIO);
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = ifindex, .attach_point = where);
	libbpf_print_fn_t old;
	int err;

	/* Usually there is nothing to find: keep libbpf quiet about it. */
	old = libbpf_set_print(NULL);
	err = bpf_tc_query(&h, &q);
	libbpf_set_print(old);
	return err ? 0 : q.prog_id;
}

bool instance_island_filters(unsigned int ifindex)
{
	return tc_filter(ifindex, BPF_TC_INGRESS, MCTUN_TC_HANDLE) ||
	       tc_filter(ifindex, BPF_TC_EGRESS, MCTUN_TC_HANDLE);
}

int instance_clear_target(unsigned int ifindex, bool qdisc_ours, bool fallback, __u32 *pid)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = MCTUN_TC_TGT_HANDLE,
			    .priority = MCTUN_TC_PRIO);
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	struct mctun_info info;
	__u32 id = tc_filter(ifindex, BPF_TC_INGRESS, MCTUN_TC_TGT_HANDLE);

	*pid = 0;
	if (!id || !filter_is_mctun(id, fallback))
		return 0;
	if (!instance_info_of_prog(id, &info) && instance_alive(&info)) {
		*pid = info.pid;
		return -EBUSY;
	}
	if (bpf_tc_detach(&h, &q))
		return 0;
	/* the qdisc it made, unless an island's filters are on it now */
	if (qdisc_ours && !instance_island_filters(ifindex)) {
		h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&h);
	}
	return 1;
}

/* The targets of a dead instance (its mctun_targets: pinned in pin_dir,
 * else by id from its record) that forwarded from a target: their filters
 * and qdiscs. How many were cleared. */
static unsigned int clear_targets(const char *pin_dir, const struct mctun_info *info,
				  bool have_info)
{
	char path[PATH_MAX];
	struct mctun_target t;
	unsigned int n = 0;
	__u32 i, pid;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, instance_pin_names[MCTUN_IM_TARGETS]);
	fd = bpf_obj_get(path);
	if (fd < 0 && have_info && info->map_ids[MCTUN_IM_TARGETS])
		fd = bpf_map_get_fd_by_id(info->map_ids[MCTUN_IM_TARGETS]);
	if (fd < 0)
		return 0;
	for (i = 0; i < MCTUN_MAX_TARGETS; i++) {
		if (bpf_map_lookup_elem(fd, &i, &t) || !t.ifname[0])
			break;
		if (t.ifindex && (t.flags & MCTUN_TF_OUT) &&
		    instance_clear_target(t.ifindex, t.flags & MCTUN_TF_QDISC_OURS, true, &pid) > 0)
			n++;
	}
	close(fd);
	return n;
}

/* Who holds the interface's lock: its pid, or 0 when we cannot tell. */
struct holder {
	__u64 netns;
	__u32 ifindex;
	__u32 pid;
};

static void find_holder(const struct mctun_info *info, void *ctx)
{
	struct holder *h = ctx;

	if (info->netns == h->netns && info->ifindex == h->ifindex && instance_alive(info))
		h->pid = info->pid;
}

__u32 instance_holder(unsigned int ifindex, const char *pin_dir)
{
	struct holder h = { .netns = instance_own_ns("net"), .ifindex = ifindex };
	struct mctun_info info = {};
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd;

	if (instances_walk(find_holder, &h) == -EPERM) {
		/* without CAP_SYS_ADMIN, the pins say, where we see them */
		snprintf(path, sizeof(path), "%s/info", pin_dir);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			if (!bpf_map_lookup_elem(fd, &zero, &info) && pid_is_mctun(info.pid))
				h.pid = info.pid;
			close(fd);
		}
	}
	return h.pid;
}

/*
 * What it had made is in its info map: pinned, or held by the programs it
 * left attached (found by id, which needs CAP_SYS_ADMIN).
 */
void instance_clear_stale(unsigned int ifindex, const char *ifname, const char *pin_dir)
{
	struct mctun_info info = {};
	char path[PATH_MAX];
	bool found = false, have_info = false;
	unsigned int ntargets;
	__u32 zero = 0;
	int fd, i;

	snprintf(path, sizeof(path), "%s/info", pin_dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		have_info = !bpf_map_lookup_elem(fd, &zero, &info) && info.pid;
		found = have_info;
		close(fd);
	}

	for (i = 0; i < 2; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = MCTUN_TC_HANDLE,
				    .priority = MCTUN_TC_PRIO);
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = ifindex,
				    .attach_point = i ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		libbpf_print_fn_t old;
		int qerr;

		/* Usually there is nothing to find: keep libbpf quiet about it. */
		old = libbpf_set_print(NULL);
		qerr = bpf_tc_query(&h, &q);
		libbpf_set_print(old);
		if (qerr || !filter_is_mctun(q.prog_id, found))
			continue;
		if (!have_info && !instance_info_of_prog(q.prog_id, &info))
			have_info = true;
		q.prog_id = 0;
		q.prog_fd = 0;
		q.flags = 0;
		if (!bpf_tc_detach(&h, &q))
			found = true;
	}
	{
		LIBBPF_OPTS(bpf_xdp_query_opts, xq);

		if (!bpf_xdp_query(ifindex, 0, &xq) && xq.prog_id &&
		    filter_is_mctun(xq.prog_id, found && info.mode == MCTUN_MODE_XDP)) {
			__u32 mode = xq.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE :
				     XDP_FLAGS_DRV_MODE;

			if (!have_info && !instance_info_of_prog(xq.prog_id, &info))
				have_info = true;
			if (!bpf_xdp_detach(ifindex, mode, NULL))
				found = true;
		}
	}
	if (have_info && (info.flags & MCTUN_INFO_QDISC_OURS)) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = ifindex,
				    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		bpf_tc_hook_destroy(&h);
	}
	ntargets = clear_targets(pin_dir, &info, have_info);
	instance_unpin(pin_dir);
	if (found || ntargets)
		pr_info("%s: cleared filters%s%s and pins left by a previous instance%s\n",
			ifname, have_info && (info.flags & MCTUN_INFO_QDISC_OURS) ?
			", its qdisc" : "", ntargets ? ", its targets' filters" : "",
			have_info ? "" : " (unknown pid)");
}
