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
	out->nnets = 0;
	out->nets_more = false;
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

/* NetworkSettings.Networks: {"NAME": {"MacAddress": "02:42:...", ...}, ...} */
static void read_nets(json_object *nets, struct docker_info *out)
{
	if (!json_object_is_type(nets, json_type_object))
		return;
	json_object_object_foreach(nets, name, val) {
		struct docker_net *n;
		json_object *mac = get(val, "MacAddress");
		unsigned int b[6], i;
		int end = 0;

		if (out->nnets == DOCKER_NETS_MAX) {
			out->nets_more = true;
			break;
		}
		n = &out->nets[out->nnets++];
		snprintf(n->name, sizeof(n->name), "%.*s", (int)sizeof(n->name) - 1, name);
		n->cut = strlen(name) >= sizeof(n->name);
		if (json_object_is_type(mac, json_type_string) &&
		    sscanf(json_object_get_string(mac), "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1],
			   &b[2], &b[3], &b[4], &b[5], &end) == 6 &&
		    !json_object_get_string(mac)[end]) {
			for (i = 0; i < 6; i++)
				n->mac[i] = (unsigned char)b[i];
			n->have_mac = true;
		}
	}
}

int docker_pick_net(const struct docker_info *d, const char *want, unsigned char mac[6],
		    bool *have_mac, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	*have_mac = false;
	buf[0] = '\0';
	for (i = 0; want && want[0] && i < d->nnets; i++) {
		if (d->nets[i].cut || strcmp(d->nets[i].name, want))
			continue;
		*have_mac = d->nets[i].have_mac;
		memcpy(mac, d->nets[i].mac, 6);
		return 0;
	}
	if ((!want || !want[0]) && d->nnets <= 1)
		return 0;
	for (i = 0; i < d->nnets && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 d->nets[i].name);
	if (d->nets_more && used < len)
		snprintf(buf + used, len - used, ", ...");
	return want && want[0] ? -ENOENT : -EEXIST;
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
	read_nets(get(get(root, "NetworkSettings"), "Networks"), out);
	if (json_object_is_type(get(root, "Id"), json_type_string))
		snprintf(out->id, sizeof(out->id), "%.*s", (int)sizeof(out->id) - 1,
			 json_object_get_string(get(root, "Id")));
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

/*
 * Connects to the Docker at sock and sends "GET path HTTP/1.0", by deadline;
 * stop_fd readable ends it early. The socket (non-blocking), or -errno
 * (-ETIMEDOUT, -ECANCELED) with *step the step that failed.
 */
static int request(const char *sock, const char *path, int stop_fd, uint64_t deadline,
		   const char **step)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t sent = 0, reqlen;
	char req[1024];
	int fd, err = 0, r;
	socklen_t elen = sizeof(err);

	*step = "connect";
	r = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: docker\r\n"
		     "User-Agent: mctun/" MCTUN_VERSION "\r\n\r\n", path);
	if (r < 0 || (size_t)r >= sizeof(req) || strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	reqlen = (size_t)r;
	memcpy(sa.sun_path, sock, strlen(sock));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
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
	*step = "send";
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
	return fd;
fail:
	close(fd);
	return err;
}

void docker_inspect(const char *sock, const char *name, int timeout_ms, int stop_fd,
		    struct docker_info *out)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	char path[300], *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	const char *step = "connect";
	int fd, err = 0, r;

	memset(out, 0, sizeof(*out));
	r = snprintf(path, sizeof(path), "/containers/%s/json", name);
	if (r < 0 || (size_t)r >= sizeof(path)) {
		set_err(out, "name or socket path too long");
		return;
	}
	fd = request(sock, path, stop_fd, deadline, &step);
	if (fd == -ENAMETOOLONG) {
		set_err(out, "name or socket path too long");
		return;
	}
	if (fd < 0) {
		err = fd;
		fd = -1;
		goto fail;
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
	if (fd >= 0)
		close(fd);
}

/* ---- the events stream ------------------------------------------------------------ */

int docker_events_init(struct docker_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->tok = json_tokener_new();
	if (!ev->tok)
		return -ENOMEM;
	/* Docker writes strict JSON: no comments or quotes to guess at (and the
	 * next object after one is no error) */
	json_tokener_set_flags(ev->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	return 0;
}

void docker_events_free(struct docker_events *ev)
{
	if (ev->tok)
		json_tokener_free(ev->tok);
	ev->tok = NULL;
}

static int ev_fail(struct docker_events *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int ev_fail(struct docker_events *ev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev->err, sizeof(ev->err), fmt, ap);
	va_end(ap);
	ev->failed = true;
	return -EPROTO;
}

static void str_of(json_object *o, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)len - 1,
		 json_object_is_type(o, json_type_string) ? json_object_get_string(o) : "");
}

/* One object of the stream: an event when it has Type and Action. */
static void ev_object(json_object *o, docker_event_fn fn, void *ctx)
{
	json_object *actor = get(o, "Actor"), *attrs = get(actor, "Attributes");
	struct docker_event e;

	memset(&e, 0, sizeof(e));
	str_of(get(o, "Type"), e.type, sizeof(e.type));
	str_of(get(o, "Action"), e.action, sizeof(e.action));
	str_of(get(actor, "ID"), e.id, sizeof(e.id));
	str_of(get(attrs, "name"), e.name, sizeof(e.name));
	str_of(get(attrs, "container"), e.container, sizeof(e.container));
	if (e.type[0] && e.action[0])
		fn(&e, ctx);
}

/* The body: JSON objects one after the other (a newline between them). */
static int ev_body(struct docker_events *ev, const char *p, size_t len, docker_event_fn fn,
		   void *ctx)
{
	while (len) {
		int n = len > INT32_MAX ? INT32_MAX : (int)len;
		json_object *o = json_tokener_parse_ex(ev->tok, p, n);
		enum json_tokener_error jerr = json_tokener_get_error(ev->tok);
		size_t used;

		if (jerr == json_tokener_continue) {
			ev->pending += (size_t)n;
			if (ev->pending > DOCKER_ANSWER_MAX)
				return ev_fail(ev, "an event longer than %d bytes", DOCKER_ANSWER_MAX);
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (jerr != json_tokener_success)
			return ev_fail(ev, "events are not JSON: %s", json_tokener_error_desc(jerr));
		/* 0 when the value ended with the last piece (a number, ended
		 * by this piece's first byte): only after one under way */
		used = json_tokener_get_parse_end(ev->tok);
		if ((!used && !ev->pending) || used > (size_t)n) {
			json_object_put(o);
			return ev_fail(ev, "events are not JSON");
		}
		ev_object(o, fn, ctx);
		json_object_put(o);
		json_tokener_reset(ev->tok);
		ev->pending = 0;
		ev->events++;
		p += used;
		len -= used;
	}
	return 0;
}

int docker_events_feed(struct docker_events *ev, const char *buf, size_t len,
		       docker_event_fn fn, void *ctx)
{
	const char *end, *v;
	char line[64];
	int minor, code;
	size_t take, vlen, n;

	if (ev->failed)
		return -EPROTO;
	if (ev->in_body)
		return ev_body(ev, buf, len, fn, ctx);
	/* the head, kept until its end: at most sizeof(ev->head) */
	take = MIN(len, sizeof(ev->head) - 1 - ev->hlen);
	memcpy(ev->head + ev->hlen, buf, take);
	ev->hlen += take;
	ev->head[ev->hlen] = '\0';
	/* the first blank line, whichever its line ends: in pieces as whole */
	end = memmem(ev->head, ev->hlen, "\r\n\r\n", 4);
	v = memmem(ev->head, ev->hlen, "\n\n", 2);
	if (!end || (v && v < end))
		end = v;
	if (!end) {
		if (ev->hlen == sizeof(ev->head) - 1)
			return ev_fail(ev, "an answer's head longer than %zu bytes",
				       sizeof(ev->head) - 1);
		return 0;
	}
	n = MIN(ev->hlen, sizeof(line) - 1);
	memcpy(line, ev->head, n);
	line[n] = '\0';
	if (sscanf(line, "HTTP/1.%d %3d", &minor, &code) != 2)
		return ev_fail(ev, "not an HTTP answer");
	if (code != 200)
		return ev_fail(ev, "answered %d to GET /events", code);
	if ((v = header(ev->head, end, "Transfer-Encoding", &vlen)) && vlen >= 7 &&
	    !strncasecmp(v + vlen - 7, "chunked", 7))
		return ev_fail(ev, "a chunked events stream (asked with HTTP/1.0)");
	ev->in_body = true;
	/* what came after the head: the body's first bytes */
	n = (size_t)(end - ev->head) + (end[0] == '\r' ? 4 : 2);
	return ev_body(ev, buf + (take - (ev->hlen - n)), ev->hlen - n, fn, ctx) ?:
	       (take < len ? ev_body(ev, buf + take, len - take, fn, ctx) : 0);
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
	bool *dirty;                   /* the thread's own: ask about it again */
};

static bool info_same(const struct docker_info *a, const struct docker_info *b)
{
	return a->state == b->state && a->pid == b->pid && !strcmp(a->status, b->status) &&
	       !strcmp(a->err, b->err) && !strcmp(a->id, b->id) && a->nnets == b->nnets &&
	       a->nets_more == b->nets_more &&
	       !memcmp(a->nets, b->nets, a->nnets * sizeof(a->nets[0]));
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

/* Does event id (a container's full id) name followed container i? */
static bool id_is(const struct docker_watch *w, unsigned int i, const char *id)
{
	return id[0] && ((w->info[i].id[0] && !strcmp(id, w->info[i].id)) ||
			 !strncmp(id, w->names[i], strlen(w->names[i])));
}

/* Events that may change where container i's copies go: it started,
 * stopped, went, was renamed (to or from its name), joined or left a
 * network. (Only this thread writes w->info: it reads it unlocked.) */
static bool event_names(const struct docker_watch *w, unsigned int i,
			const struct docker_event *e)
{
	if (!strcmp(e->type, "container")) {
		if (!strncmp(e->action, "exec_", 5) || !strncmp(e->action, "health_status", 13) ||
		    !strcmp(e->action, "top") || !strcmp(e->action, "attach"))
			return false;
		return !strcmp(e->action, "rename") || !strcmp(e->name, w->names[i]) ||
		       id_is(w, i, e->id);
	}
	return !strcmp(e->type, "network") &&
	       (!strcmp(e->action, "connect") || !strcmp(e->action, "disconnect")) &&
	       id_is(w, i, e->container);
}

static void on_event(const struct docker_event *e, void *ctx)
{
	struct docker_watch *w = ctx;
	unsigned int i;

	for (i = 0; i < w->n; i++)
		if (event_names(w, i, e))
			w->dirty[i] = true;
}

static void all_dirty(struct docker_watch *w)
{
	unsigned int i;

	for (i = 0; i < w->n; i++)
		w->dirty[i] = true;
}

/* GET /events?filters={"type":["container","network"]} */
#define EVENTS_PATH "/events?filters=%7B%22type%22%3A%5B%22container%22%2C%22network%22%5D%7D"

/*
 * Follows Docker's events stream (one long answer to GET /events, read as
 * it comes) and asks about a container again when an event names it; at
 * the stream's (re)start, and every DOCKER_RESYNC_MS in case it stalls
 * unseen, about all of them. The stream is asked for again after a bounded
 * backoff when it ends or when its head does not come within
 * DOCKER_TIMEOUT_MS (a hung Docker). stop_fd ends every wait.
 */
static void *watch_main(void *arg)
{
	struct docker_watch *w = arg;
	struct docker_events ev = { .failed = true };
	uint64_t now, next_connect = 0, next_resync, head_deadline = 0, up_since = 0, wake;
	unsigned int backoff = DOCKER_BACKOFF_MIN_MS, i;
	struct docker_info info;
	const char *step;
	char buf[16384];
	int fd = -1, r;
	bool drop;

	next_resync = now_ns() + (uint64_t)DOCKER_RESYNC_MS * 1000000;
	for (;;) {
		now = now_ns();
		if (fd < 0 && now >= next_connect) {
			fd = request(w->sock, EVENTS_PATH, w->stop_fd,
				     now + (uint64_t)DOCKER_TIMEOUT_MS * 1000000, &step);
			if (fd == -ECANCELED)
				break;
			docker_events_free(&ev);
			if (fd >= 0 && docker_events_init(&ev)) {
				close(fd);
				fd = -1;
			}
			now = now_ns();
			if (fd < 0) {
				next_connect = now + (uint64_t)backoff * 1000000;
				backoff = MIN(2 * backoff, DOCKER_BACKOFF_MAX_MS);
			}
			head_deadline = now + (uint64_t)DOCKER_TIMEOUT_MS * 1000000;
		}
		if (now >= next_resync) {
			all_dirty(w);
			next_resync = now + (uint64_t)DOCKER_RESYNC_MS * 1000000;
		}
		for (i = 0; i < w->n; i++) {
			if (!w->dirty[i])
				continue;
			w->dirty[i] = false;
			docker_inspect(w->sock, w->names[i], DOCKER_TIMEOUT_MS, w->stop_fd, &info);
			if (stopping(w->stop_fd, 0))
				goto out;
			pthread_mutex_lock(&w->lock);
			if (!info_same(&w->info[i], &info)) {
				w->info[i] = info;
				w->seq[i]++;
			}
			pthread_mutex_unlock(&w->lock);
		}

		now = now_ns();
		wake = next_resync;
		if (fd < 0)
			wake = MIN(wake, next_connect);
		else if (!ev.in_body)
			wake = MIN(wake, head_deadline);
		{
			struct pollfd p[2] = { { .fd = w->stop_fd, .events = POLLIN },
					       { .fd = fd, .events = POLLIN } };

			r = poll(p, fd >= 0 ? 2 : 1,
				 wake > now ? (int)MIN((wake - now + 999999) / 1000000, 60000) : 0);
			if (r < 0 && errno != EINTR)
				break;
			if (r > 0 && p[0].revents)
				break;
			drop = false;
			if (r > 0 && fd >= 0 && p[1].revents) {
				ssize_t n = recv(fd, buf, sizeof(buf), 0);
				bool was_body = ev.in_body;

				if (n > 0) {
					drop = docker_events_feed(&ev, buf, (size_t)n, on_event, w) != 0;
					if (!drop && !was_body && ev.in_body) {
						/* the stream is on: whatever happened before it */
						up_since = now_ns();
						all_dirty(w);
					}
				} else {
					drop = n == 0 || (errno != EAGAIN && errno != EINTR);
				}
			}
			now = now_ns();
			if (fd >= 0 && !ev.in_body && now >= head_deadline)
				drop = true;
			if (drop) {
				/* a stream that lasted starts the backoff over */
				if (ev.in_body && now - up_since >=
				    (uint64_t)DOCKER_BACKOFF_MAX_MS * 1000000)
					backoff = DOCKER_BACKOFF_MIN_MS;
				close(fd);
				fd = -1;
				next_connect = now + (uint64_t)backoff * 1000000;
				backoff = MIN(2 * backoff, DOCKER_BACKOFF_MAX_MS);
				/* Docker going away, or back: ask now */
				all_dirty(w);
			}
		}
	}
out:
	if (fd >= 0)
		close(fd);
	docker_events_free(&ev);
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
	w->dirty = calloc(n ? n : 1, sizeof(*w->dirty));
	if (!w->sock || !w->names || !w->info || !w->seq || !w->dirty) {
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
	free(w->dirty);
	free(w->sock);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
