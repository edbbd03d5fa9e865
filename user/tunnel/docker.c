// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "docker.h"
#include "util.h"

#ifndef MCTUN_VERSION
#define MCTUN_VERSION "0"
#endif

static void set_err(struct docker_info *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct docker_info *out, const char *fmt, ...)
{
	va_list ap;

	out->state = DOCKER_ERROR;
	out->pid = 0;
	out->status[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(out->err, sizeof(out->err), fmt, ap);
	va_end(ap);
}

/* ---- the answer ------------------------------------------------------------ */

/* The value of header name (without the colon) in the head [p, end), or
 * NULL; *vlen its length, blanks around it left out. */
static const char *header(const char *p, const char *end, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *v, *ve;

		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			v = p + nl + 1;
			ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		p = eol + 1;
	}
	return NULL;
}

/* A chunked body [p, end) decoded in place into buf (as long as it);
 * its length, or -1 when malformed or cut short. */
static long dechunk(const char *p, const char *end, char *buf)
{
	size_t out = 0;

	for (;;) {
		unsigned long size = 0;
		int digits = 0;

		while (p < end && isxdigit((unsigned char)*p) && digits < 8) {
			size = size * 16 + (unsigned long)(isdigit((unsigned char)*p) ? *p - '0' :
							   (tolower((unsigned char)*p) - 'a' + 10));
			p++;
			digits++;
		}
		if (!digits)
			return -1;
		/* chunk extensions, then the line's end */
		while (p < end && *p != '\n')
			p++;
		if (p == end)
			return -1;
		p++;
		if (!size)
			return (long)out;
		if ((size_t)(end - p) < size)
			return -1;
		memmove(buf + out, p, size);
		out += size;
		p += size;
		if (p < end && *p == '\r')
			p++;
		if (p == end || *p != '\n')
			return -1;
		p++;
	}
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v) ?
	       v : NULL;
}

int docker_parse_inspect(const char *buf, size_t len, struct docker_info *out)
{
	const char *end = buf + len, *head_end, *body, *v;
	char line[64], *copy = NULL;
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *root = NULL, *state, *msg;
	int minor, code;
	size_t vlen, blen, n;

	memset(out, 0, sizeof(*out));
	if (!len) {
		set_err(out, "closed the connection without an answer");
		return 0;
	}
	n = MIN(len, sizeof(line) - 1);
	memcpy(line, buf, n);
	line[n] = '\0';
	if (sscanf(line, "HTTP/1.%d %3d", &minor, &code) != 2 || code < 100 || code > 999) {
		set_err(out, "not an HTTP answer");
		return 0;
	}
	head_end = memmem(buf, len, "\r\n\r\n", 4);
	body = head_end ? head_end + 4 : NULL;
	if (!head_end) {
		head_end = memmem(buf, len, "\n\n", 2);
		body = head_end ? head_end + 2 : NULL;
	}
	if (!head_end) {
		set_err(out, "answer cut short (no end of its head)");
		return 0;
	}
	blen = (size_t)(end - body);
	if ((v = header(buf, head_end, "Transfer-Encoding", &vlen)) && vlen >= 7 &&
	    !strncasecmp(v + vlen - 7, "chunked", 7)) {
		long l;

		copy = malloc(blen ? blen : 1);
		if (!copy) {
			set_err(out, "%s", strerror(ENOMEM));
			return 0;
		}
		l = dechunk(body, end, copy);
		if (l < 0) {
			free(copy);
			set_err(out, "answer cut short (chunked)");
			return 0;
		}
		body = copy;
		blen = (size_t)l;
	} else if ((v = header(buf, head_end, "Content-Length", &vlen))) {
		unsigned long long cl = 0;
		size_t i;

		for (i = 0; i < vlen && i < 12 && isdigit((unsigned char)v[i]); i++)
			cl = cl * 10 + (unsigned long long)(v[i] - '0');
		if (i != vlen || !vlen) {
			set_err(out, "answer with a bad Content-Length");
			return 0;
		}
		if (cl > blen) {
			set_err(out, "answer cut short (%zu of %llu bytes)", blen, cl);
			return 0;
		}
		blen = (size_t)cl;
	}
	if (code == 404) {
		free(copy);
		out->state = DOCKER_MISSING;
		return 0;
	}
	tok = json_tokener_new();
	if (!tok) {
		free(copy);
		set_err(out, "%s", strerror(ENOMEM));
		return 0;
	}
	if (blen <= DOCKER_ANSWER_MAX)
		root = json_tokener_parse_ex(tok, body, (int)blen);
	jerr = blen <= DOCKER_ANSWER_MAX ? json_tokener_get_error(tok) : json_tokener_error_size;
	json_tokener_free(tok);
	free(copy);
	if (code != 200) {
		msg = jerr == json_tokener_success ? get(root, "message") : NULL;
		set_err(out, "answered %d%s%.100s", code, msg ? ": " : "",
			json_object_is_type(msg, json_type_string) ? json_object_get_string(msg) : "");
		json_object_put(root);
		return 0;
	}
	if (jerr != json_tokener_success) {
		json_object_put(root);
		set_err(out, "answer is not JSON: %s", jerr == json_tokener_continue ?
			"it ends early" : json_tokener_error_desc(jerr));
		return 0;
	}
	state = get(root, "State");
	if (!json_object_is_type(state, json_type_object) ||
	    !json_object_is_type(get(state, "Running"), json_type_boolean) ||
	    !json_object_is_type(get(state, "Pid"), json_type_int)) {
		json_object_put(root);
		set_err(out, "answer without State.Running and State.Pid");
		return 0;
	}
	if (json_object_is_type(get(state, "Status"), json_type_string))
		snprintf(out->status, sizeof(out->status), "%s",
			 json_object_get_string(get(state, "Status")));
	if (json_object_get_boolean(get(state, "Running"))) {
		int64_t pid = json_object_get_int64(get(state, "Pid"));

		if (pid <= 0 || pid > INT32_MAX) {
			json_object_put(root);
			set_err(out, "running, but with pid %lld", (long long)pid);
			return 0;
		}
		out->state = DOCKER_RUNNING;
		out->pid = (int)pid;
	} else {
		out->state = DOCKER_STOPPED;
	}
	json_object_put(root);
	return 0;
}

/* ---- asking ------------------------------------------------------------------ */

/* Until fd is ready for ev: 0; -ETIMEDOUT past deadline (now_ns clock),
 * -ECANCELED when stop_fd became readable. */
static int wait_for(int fd, short ev, int stop_fd, uint64_t deadline)
{
	struct pollfd p[2] = { { .fd = fd, .events = ev }, { .fd = stop_fd, .events = POLLIN } };
	int r;

	for (;;) {
		uint64_t now = now_ns();

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(p, stop_fd >= 0 ? 2 : 1, (int)((deadline - now + 999999) / 1000000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (stop_fd >= 0 && p[1].revents)
			return -ECANCELED;
		if (p[0].revents)
			return 0;
	}
}

void docker_inspect(const char *sock, const char *name, int timeout_ms, int stop_fd,
		    struct docker_info *out)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[512], *buf = NULL, *nbuf;
	size_t len = 0, cap = 0, sent = 0, reqlen;
	const char *step = "connect";
	int fd, err = 0, r;
	socklen_t elen = sizeof(err);

	memset(out, 0, sizeof(*out));
	r = snprintf(req, sizeof(req), "GET /containers/%s/json HTTP/1.0\r\nHost: docker\r\n"
		     "User-Agent: mctun/" MCTUN_VERSION "\r\n\r\n", name);
	if (r < 0 || (size_t)r >= sizeof(req) || strlen(sock) >= sizeof(sa.sun_path)) {
		set_err(out, "name or socket path too long");
		return;
	}
	reqlen = (size_t)r;
	memcpy(sa.sun_path, sock, strlen(sock));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_err(out, "socket: %s", strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto fail;
		}
		if ((err = wait_for(fd, POLLOUT, stop_fd, deadline)))
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		if (err) {
			err = -err;
			goto fail;
		}
	}
	step = "send";
	while (sent < reqlen) {
		ssize_t n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((err = wait_for(fd, POLLOUT, stop_fd, deadline)))
				goto fail;
			continue;
		}
		if (n < 0) {
			err = -errno;
			goto fail;
		}
		sent += (size_t)n;
	}
	/* HTTP/1.0: the answer ends where the server closes */
	step = "receive";
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= DOCKER_ANSWER_MAX) {
				set_err(out, "answer longer than %d bytes", DOCKER_ANSWER_MAX);
				goto out;
			}
			cap = cap ? cap * 2 : 16384;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				err = -ENOMEM;
				goto fail;
			}
			buf = nbuf;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((err = wait_for(fd, POLLIN, stop_fd, deadline)))
				goto fail;
			continue;
		}
		if (n < 0) {
			err = -errno;
			goto fail;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	docker_parse_inspect(buf, len, out);
	goto out;
fail:
	if (err == -ETIMEDOUT)
		set_err(out, "no answer within %g s", timeout_ms / 1000.0);
	else if (err == -ECANCELED)
		set_err(out, "stopped");
	else
		set_err(out, "%s: %s", step, strerror(-err));
out:
	free(buf);
	close(fd);
}

/* ---- the thread ---------------------------------------------------------------- */

struct docker_watch {
	pthread_t thread;
	bool running;
	int stop_fd;                   /* eventfd: readable once the thread is to stop */
	pthread_mutex_t lock;          /* over info and seq */
	char *sock;
	unsigned int n;
	char **names;
	struct docker_info *info;
	unsigned int *seq;
};

static bool info_same(const struct docker_info *a, const struct docker_info *b)
{
	return a->state == b->state && a->pid == b->pid && !strcmp(a->status, b->status) &&
	       !strcmp(a->err, b->err);
}

static bool stopping(int stop_fd, int ms)
{
	struct pollfd p = { .fd = stop_fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r != 0;
}

static void *watch_main(void *arg)
{
	struct docker_watch *w = arg;
	struct docker_info info;
	unsigned int i;

	while (!stopping(w->stop_fd, DOCKER_POLL_MS)) {
		for (i = 0; i < w->n; i++) {
			docker_inspect(w->sock, w->names[i], DOCKER_TIMEOUT_MS, w->stop_fd, &info);
			if (stopping(w->stop_fd, 0))
				return NULL;
			pthread_mutex_lock(&w->lock);
			if (!info_same(&w->info[i], &info)) {
				w->info[i] = info;
				w->seq[i]++;
			}
			pthread_mutex_unlock(&w->lock);
		}
	}
	return NULL;
}

int docker_watch_start(const char *sock, const char *const *names, unsigned int n,
		       const struct docker_info *first, struct docker_watch **out)
{
	struct docker_watch *w;
	unsigned int i;
	int err;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->stop_fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	w->n = n;
	w->sock = strdup(sock);
	w->names = calloc(n ? n : 1, sizeof(*w->names));
	w->info = calloc(n ? n : 1, sizeof(*w->info));
	w->seq = calloc(n ? n : 1, sizeof(*w->seq));
	if (!w->sock || !w->names || !w->info || !w->seq) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		w->names[i] = strdup(names[i]);
		if (!w->names[i]) {
			err = -ENOMEM;
			goto fail;
		}
		w->info[i] = first[i];
	}
	w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->stop_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = pthread_create(&w->thread, NULL, watch_main, w);
	if (err) {
		err = -err;
		goto fail;
	}
	w->running = true;
	*out = w;
	return 0;
fail:
	docker_watch_stop(w);
	return err;
}

void docker_watch_get(struct docker_watch *w, unsigned int i, struct docker_info *out,
		      unsigned int *seq)
{
	pthread_mutex_lock(&w->lock);
	*out = w->info[i];
	*seq = w->seq[i];
	pthread_mutex_unlock(&w->lock);
}

void docker_watch_stop(struct docker_watch *w)
{
	uint64_t one = 1;
	unsigned int i;

	if (!w)
		return;
	if (w->running) {
		/* (an eventfd that has not overflowed always takes it) */
		while (write(w->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
		pthread_join(w->thread, NULL);
	}
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	for (i = 0; w->names && i < w->n; i++)
		free(w->names[i]);
	free(w->names);
	free(w->info);
	free(w->seq);
	free(w->sock);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
