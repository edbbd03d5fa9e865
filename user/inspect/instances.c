// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
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

#include "instances.h"

#define IDS_MAX 16u   /* maps of one program we look at; ours has 9 */

int instance_lock(unsigned int ifindex)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd, n;

	/* abstract (leading NUL): per network namespace, gone with its holder */
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "mctun/ifindex/%u", ifindex);
	len = offsetof(struct sockaddr_un, sun_path) + 1 + n;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		int err = errno == EADDRINUSE ? -EBUSY : -errno;

		close(fd);
		return err;
	}
	return fd;
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

__u64 instance_host_netns(void)
{
	return ns_ino("/proc/1/ns/net");
}

int pin_dir_for(const char *ifname, char *buf, size_t len)
{
	__u64 self = ns_ino("/proc/self/ns/net");
	int n;

	if (!self)
		return errno ? -errno : -EIO;
	/* pid 1's namespace is the host's; unreadable means we are not it */
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

/* Does some process other than us hold map id open? (/proc/PID/fdinfo) */
static bool map_held(__u32 id)
{
	char path[300], line[128];
	struct dirent *p, *f;
	DIR *proc, *fds;
	bool held = false;
	pid_t self = getpid();

	proc = opendir("/proc");
	if (!proc)
		return true;    /* cannot tell: take it as running, never clear it */
	while (!held && (p = readdir(proc))) {
		char *end;
		long pid = strtol(p->d_name, &end, 10);

		if (*end || pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fdinfo", pid);
		fds = opendir(path);
		if (!fds)
			continue;
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
	}
	closedir(proc);
	return held;
}

bool instance_alive(const struct mctun_info *info)
{
	char path[64];

	if (!info->pid)
		return false;
	if (info->pidns && info->pidns != instance_own_ns("pid"))
		return map_held(info->map_ids[MCTUN_IM_INFO]);
	if (!pid_is_mctun(info->pid))
		return false;
	/* against a reused pid: it must still live in the namespace it said */
	snprintf(path, sizeof(path), "/proc/%u/ns/net", info->pid);
	return !info->netns || ns_ino(path) == info->netns || ns_ino(path) == 0;
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
