// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TLS 1.3 for tunnel connections; see tls.h for the interface.
 *
 * Non-blocking OpenSSL over the daemon's own sockets: SSL_ERROR_WANT_READ
 * and WANT_WRITE are turned into -EAGAIN plus tls_want_write(), which the
 * daemon maps onto its epoll interest. Writes go straight from the peer's
 * output queue (partial writes on, the buffer may move between retries:
 * a retry always passes the same unsent bytes, possibly more of them).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "proto.h"
#include "tls.h"
#include "util.h"

#define REC_ALERT        0x15     /* TLS record content types */
#define REC_HANDSHAKE    0x16
#define PSK_FILE_MAX     4096
#define WHY_LEN          224
#define NAME_LEN         96
#define EXPIRY_WARN_DAYS 30
#define FLUSH_RECORDS    64       /* SSL_write calls per flush: 1 MiB of 16 KiB records */
#define READ_BUF_LEN     (64 * 1024)   /* read-ahead buffer: several records per read() */
/*
 * AES-GCM keys should protect at most 2^24.5 records (RFC 8446, 5.5), and
 * a busy tunnel of small records reaches that in hours: each side renews
 * its sending key after this many records. MCTUN_TLS_REKEY_RECORDS
 * overrides it (the tests make it small to exercise the renewal).
 */
#define REKEY_RECORDS    (1u << 22)

/* TLS_AES_128_GCM_SHA256: the PSK's hash (SHA-256) must match the suite's. */
static const unsigned char psk_suite[2] = { 0x13, 0x01 };

struct tls_ctx {
	SSL_CTX *ssl;
	bool psk;
	uint64_t rekey_records;       /* renew the sending key after this many */
	SSL_SESSION *psk_sess;        /* the external PSK: copied, dated now, per handshake */
	unsigned char psk_id[PSK_ID_MAX];
	size_t psk_id_len;
	char desc[PATH_MAX + 160];
};

struct tls_conn {
	SSL *ssl;
	const struct tls_ctx *t;
	int fd;
	bool server;
	bool first_seen;              /* the peer's first record header arrived */
	unsigned char first_byte;     /* ... its first byte: the record type */
	bool fatal;                   /* broken: no close_notify */
	bool hs_out, rd_out, wr_out;  /* the last handshake/read/write waits for EPOLLOUT */
	uint64_t records;             /* records sent with the current key */
	unsigned long rekeys;
	char why[WHY_LEN];
	char verify_why[WHY_LEN - 16];/* from the verify callback: names the certificate */
	char desc[WHY_LEN];
};

/* ---- small helpers ----------------------------------------------------- */

/* Text that came from a peer, made safe for a log line. */
static void clean_copy(char *dst, size_t len, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < len && src[i]; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

/* "CN=gw1", or the whole subject when it has no common name. */
static const char *cert_name(X509 *x, char *buf, size_t len)
{
	X509_NAME *n = x ? X509_get_subject_name(x) : NULL;
	char raw[NAME_LEN];
	int r;

	if (!n) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	r = X509_NAME_get_text_by_NID(n, NID_commonName, raw, sizeof(raw));
	if (r > 0) {
		char c[NAME_LEN - 8];

		clean_copy(c, sizeof(c), raw, (size_t)r);
		snprintf(buf, len, "CN=%s", c);
	} else {
		X509_NAME_oneline(n, raw, sizeof(raw));
		clean_copy(buf, len, raw, sizeof(raw));
	}
	return buf;
}

static const char *asn1_time_str(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "(unreadable date)");
	return buf;
}

/* The oldest error OpenSSL queued, as text; clears the queue. */
static const char *ssl_err(char *buf, size_t len)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r)
		snprintf(buf, len, "%s", r);
	else if (e)
		snprintf(buf, len, "OpenSSL error %lx", e);
	else
		snprintf(buf, len, "unknown OpenSSL error");
	ERR_clear_error();
	return buf;
}

/* A file we are about to read: there, a regular file, and, for a secret,
 * closed to group and others. */
static int check_file(const char *opt, const char *path, bool secret)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		int err = -errno;

		pr_warn("%s: %s: %s\n", opt, path, strerror(-err));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_warn("%s: %s is not a regular file\n", opt, path);
		return -EINVAL;
	}
	if (access(path, R_OK) < 0) {
		int err = -errno;

		pr_warn("%s: %s: %s\n", opt, path, strerror(-err));
		return err;
	}
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		pr_warn("%s: %s is open to group or others (mode %04o): chmod 600 it\n", opt, path,
			(unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* ---- certificates ------------------------------------------------------ */

/* Never prompt for a pass phrase: the daemon runs unattended. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
	char name[NAME_LEN];

	if (!ok && c && !c->verify_why[0])
		snprintf(c->verify_why, sizeof(c->verify_why), "certificate %s: %s",
			 cert_name(X509_STORE_CTX_get_current_cert(x), name, sizeof(name)),
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)));
	return ok;
}

static int check_validity(const char *opt, const char *path, X509 *x)
{
	const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
	char when[48];
	int days = 0, secs = 0, r;

	r = X509_cmp_current_time(nb);
	if (r > 0 || !r) {
		pr_warn("%s: %s is not valid before %s\n", opt, path,
			asn1_time_str(nb, when, sizeof(when)));
		return -EKEYREJECTED;
	}
	r = X509_cmp_current_time(na);
	if (r < 0 || !r) {
		pr_warn("%s: %s expired on %s\n", opt, path, asn1_time_str(na, when, sizeof(when)));
		return -EKEYEXPIRED;
	}
	if (ASN1_TIME_diff(&days, &secs, NULL, na) && days < EXPIRY_WARN_DAYS)
		pr_warn("%s: %s expires on %s, in %d days\n", opt, path,
			asn1_time_str(na, when, sizeof(when)), days);
	return 0;
}

/* Our own certificate should chain to the CA our peers trust; it may not
 * (peers with another CA file), so this only warns. */
static void check_own_chain(struct tls_ctx *t, const struct tls_opts *o, X509 *x)
{
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = NULL;

	SSL_CTX_get0_chain_certs(t->ssl, &chain);
	if (sc && X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(t->ssl), x, chain) &&
	    X509_verify_cert(sc) != 1)
		pr_warn("--tls-cert: %s does not verify against --tls-ca %s (%s): peers that "
			"trust only that CA will refuse it\n", o->cert, o->ca,
			X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)));
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
}

static int cert_setup(struct tls_ctx *t, const struct tls_opts *o)
{
	char why[128], name[NAME_LEN], until[48];
	EVP_PKEY *key = NULL;
	FILE *f = NULL;
	X509 *x;
	int err;

	if ((err = check_file("--tls-cert", o->cert, false)) ||
	    (err = check_file("--tls-key", o->key, true)) ||
	    (err = check_file("--tls-ca", o->ca, false)))
		return err;
	if (SSL_CTX_use_certificate_chain_file(t->ssl, o->cert) != 1) {
		pr_warn("--tls-cert: %s: no PEM certificate in it (%s)\n", o->cert,
			ssl_err(why, sizeof(why)));
		return -EBADMSG;
	}
	x = SSL_CTX_get0_certificate(t->ssl);
	err = check_validity("--tls-cert", o->cert, x);
	if (err)
		return err;

	f = fopen(o->key, "re");
	if (f)
		key = PEM_read_PrivateKey(f, NULL, no_password, NULL);
	if (f)
		fclose(f);
	if (!key) {
		pr_warn("--tls-key: %s: no unencrypted PEM private key in it (%s)\n", o->key,
			ssl_err(why, sizeof(why)));
		return -EBADMSG;
	}
	if (X509_check_private_key(x, key) != 1 || SSL_CTX_use_PrivateKey(t->ssl, key) != 1 ||
	    SSL_CTX_check_private_key(t->ssl) != 1) {
		EVP_PKEY_free(key);
		ERR_clear_error();
		pr_warn("--tls-key: %s does not match the certificate in %s\n", o->key, o->cert);
		return -EKEYREJECTED;
	}
	EVP_PKEY_free(key);

	if (SSL_CTX_load_verify_locations(t->ssl, o->ca, NULL) != 1) {
		pr_warn("--tls-ca: %s: no PEM CA certificate in it (%s)\n", o->ca,
			ssl_err(why, sizeof(why)));
		return -EBADMSG;
	}
	check_own_chain(t, o, x);
	SSL_CTX_set_verify(t->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	if (SSL_CTX_set_ciphersuites(t->ssl, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
				     "TLS_CHACHA20_POLY1305_SHA256") != 1)
		return -EINVAL;
	snprintf(t->desc, sizeof(t->desc),
		 "TLS 1.3 certificates (this gateway %s, valid until %s; peers verified "
		 "against %s)", cert_name(x, name, sizeof(name)),
		 asn1_time_str(X509_get0_notAfter(x), until, sizeof(until)), o->ca);
	return 0;
}

/* ---- pre-shared key ---------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One line "IDENTITY HEXKEY"; blank lines and lines starting with # are
 * skipped. Modifies text. */
static int psk_parse(const char *path, char *text, struct tls_ctx *t, unsigned char *key,
		     size_t *klen)
{
	char *line, *save = NULL;
	unsigned int ln = 0;
	bool found = false;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *id, *hex, *rest, *s2 = NULL;
		size_t i, n;

		ln++;
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '#' || *line == '\r')
			continue;
		if (found) {
			pr_warn("--psk-file: %s: line %u: a second key (the file holds one)\n", path,
				ln);
			return -EINVAL;
		}
		id = strtok_r(line, " \t\r", &s2);
		hex = strtok_r(NULL, " \t\r", &s2);
		rest = strtok_r(NULL, " \t\r", &s2);
		if (!id || !hex || rest) {
			pr_warn("--psk-file: %s: line %u: expected 'IDENTITY HEXKEY'\n", path, ln);
			return -EINVAL;
		}
		n = strlen(id);
		for (i = 0; i < n; i++)
			if (id[i] < 0x21 || id[i] > 0x7e)
				break;
		if (n > PSK_ID_MAX || i < n) {
			pr_warn("--psk-file: %s: line %u: the identity must be 1 to %d printable "
				"characters\n", path, ln, PSK_ID_MAX);
			return -EINVAL;
		}
		n = strlen(hex);
		if (n % 2 || n < 2 * PSK_MIN || n > 2 * PSK_MAX) {
			pr_warn("--psk-file: %s: line %u: the key has %zu hex digits; it needs an "
				"even number from %d to %d (%d to %d bits)\n", path, ln, n,
				2 * PSK_MIN, 2 * PSK_MAX, 8 * PSK_MIN, 8 * PSK_MAX);
			return -EINVAL;
		}
		for (i = 0; i < n; i += 2) {
			int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);

			if (hi < 0 || lo < 0) {
				pr_warn("--psk-file: %s: line %u: the key is not hexadecimal\n", path,
					ln);
				return -EINVAL;
			}
			key[i / 2] = (unsigned char)(hi << 4 | lo);
		}
		*klen = n / 2;
		memcpy(t->psk_id, id, strlen(id));
		t->psk_id_len = strlen(id);
		found = true;
	}
	if (!found) {
		pr_warn("--psk-file: %s: no key in it (expected a line 'IDENTITY HEXKEY')\n", path);
		return -EINVAL;
	}
	return 0;
}

/*
 * The PSK for one handshake, as a session made now. A session carries a
 * creation time and a lifetime (OpenSSL's default: 300 s), and a server
 * treats an external PSK whose session has outlived it as expired and falls
 * back to certificates: one session made at start would refuse every peer
 * after the daemon's first five minutes. NULL when out of memory.
 */
static SSL_SESSION *psk_session(const struct tls_ctx *t)
{
	SSL_SESSION *s = SSL_SESSION_dup(t->psk_sess);

	if (s && !SSL_SESSION_set_time(s, (long)time(NULL))) {
		SSL_SESSION_free(s);
		s = NULL;
	}
	return s;
}

static int psk_use_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
		      SSL_SESSION **sess)
{
	const struct tls_ctx *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const SSL_CIPHER *c = SSL_SESSION_get0_cipher(t->psk_sess);

	/* A second call after a HelloRetryRequest names the hash the server
	 * chose; ours works only with SHA-256. */
	if (md && md != SSL_CIPHER_get_handshake_digest(c)) {
		*sess = NULL;
		return 1;
	}
	*sess = psk_session(t);
	if (!*sess)
		return 0;
	*id = t->psk_id;
	*idlen = t->psk_id_len;
	return 1;
}

static int psk_find_cb(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess)
{
	const struct tls_ctx *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	struct tls_conn *c = SSL_get_app_data(ssl);

	if (idlen != t->psk_id_len || memcmp(id, t->psk_id, idlen)) {
		char shown[PSK_ID_MAX + 1];

		clean_copy(shown, sizeof(shown), (const char *)id, MIN(idlen, (size_t)PSK_ID_MAX));
		if (c)
			snprintf(c->verify_why, sizeof(c->verify_why),
				 "unknown pre-shared key identity '%s'", shown);
		*sess = NULL;
		return 0;
	}
	*sess = psk_session(t);
	return *sess ? 1 : 0;
}

static int psk_setup(struct tls_ctx *t, const char *path)
{
	unsigned char key[PSK_MAX];
	char text[PSK_FILE_MAX + 1], why[128], id[PSK_ID_MAX + 1];
	const SSL_CIPHER *suite;
	size_t klen = 0;
	ssize_t n;
	SSL *tmp;
	int fd, err;

	err = check_file("--psk-file", path, true);
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("--psk-file: %s: %s\n", path, strerror(-err));
		return err;
	}
	n = read(fd, text, sizeof(text));
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err) {
		pr_warn("--psk-file: %s: %s\n", path, strerror(-err));
		return err;
	}
	if ((size_t)n > PSK_FILE_MAX) {
		pr_warn("--psk-file: %s: larger than %d bytes\n", path, PSK_FILE_MAX);
		return -EINVAL;
	}
	text[n] = '\0';
	err = psk_parse(path, text, t, key, &klen);
	OPENSSL_cleanse(text, sizeof(text));
	if (err) {
		OPENSSL_cleanse(key, sizeof(key));
		return err;
	}

	tmp = SSL_new(t->ssl);
	suite = tmp ? SSL_CIPHER_find(tmp, psk_suite) : NULL;
	SSL_free(tmp);
	t->psk_sess = SSL_SESSION_new();
	if (!suite || !t->psk_sess || !SSL_SESSION_set1_master_key(t->psk_sess, key, klen) ||
	    !SSL_SESSION_set_cipher(t->psk_sess, suite) ||
	    !SSL_SESSION_set_protocol_version(t->psk_sess, TLS1_3_VERSION) ||
	    SSL_CTX_set_ciphersuites(t->ssl, "TLS_AES_128_GCM_SHA256") != 1) {
		OPENSSL_cleanse(key, sizeof(key));
		pr_warn("--psk-file: %s: cannot set up the key (%s)\n", path, ssl_err(why, sizeof(why)));
		return -EINVAL;
	}
	OPENSSL_cleanse(key, sizeof(key));
	SSL_CTX_set_psk_use_session_callback(t->ssl, psk_use_cb);
	SSL_CTX_set_psk_find_session_callback(t->ssl, psk_find_cb);
	/* A client must not fall back to a certificate: with an empty trust
	 * store any server certificate fails verification. */
	SSL_CTX_set_verify(t->ssl, SSL_VERIFY_PEER, verify_cb);
	t->psk = true;
	memcpy(id, t->psk_id, t->psk_id_len);
	id[t->psk_id_len] = '\0';
	snprintf(t->desc, sizeof(t->desc), "a TLS 1.3 pre-shared key (identity '%s', %zu bits, "
		 "from %s)", id, 8 * klen, path);
	return 0;
}

/* ---- the context ------------------------------------------------------- */

bool tls_opts_on(const struct tls_opts *o)
{
	return o->cert || o->key || o->ca || o->psk_file;
}

void tls_ctx_free(struct tls_ctx *t)
{
	if (!t)
		return;
	SSL_SESSION_free(t->psk_sess);
	SSL_CTX_free(t->ssl);
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

int tls_ctx_new(const struct tls_opts *o, struct tls_ctx **out)
{
	bool certs = o->cert || o->key || o->ca;
	struct tls_ctx *t;
	char why[128];
	int err;

	*out = NULL;
	if (certs && o->psk_file) {
		pr_warn("--psk-file: not together with --tls-cert, --tls-key or --tls-ca: choose one\n");
		return -EINVAL;
	}
	if (certs && (!o->cert || !o->key || !o->ca)) {
		pr_warn("%s: missing: --tls-cert, --tls-key and --tls-ca go together\n",
			!o->cert ? "--tls-cert" : !o->key ? "--tls-key" : "--tls-ca");
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ssl = SSL_CTX_new(TLS_method());
	if (!t->ssl) {
		pr_warn("TLS: cannot create a context (%s)\n", ssl_err(why, sizeof(why)));
		free(t);
		return -ENOMEM;
	}
	SSL_CTX_set_app_data(t->ssl, t);
	SSL_CTX_set_min_proto_version(t->ssl, TLS1_3_VERSION);
	/* Long-lived connections: no tickets, no resumption, no cache. A peer
	 * closing without close_notify is a closed peer: frames are
	 * self-delimiting, so truncation cannot pass off a partial frame. */
	SSL_CTX_set_options(t->ssl, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_num_tickets(t->ssl, 0);
	SSL_CTX_set_session_cache_mode(t->ssl, SSL_SESS_CACHE_OFF);
	/* Buffers only while there is something in them: idle peers, and a
	 * flood of connections that never speak, hold no 64 KiB read buffer. */
	SSL_CTX_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(t->ssl, 1);
	SSL_CTX_set_default_read_buffer_len(t->ssl, READ_BUF_LEN);
	SSL_CTX_set_default_passwd_cb(t->ssl, no_password);
	t->rekey_records = REKEY_RECORDS;
	if (getenv("MCTUN_TLS_REKEY_RECORDS") &&
	    parse_u64("MCTUN_TLS_REKEY_RECORDS", getenv("MCTUN_TLS_REKEY_RECORDS"), 1, REKEY_RECORDS,
		      &t->rekey_records)) {
		tls_ctx_free(t);
		return -EINVAL;
	}

	err = o->psk_file ? psk_setup(t, o->psk_file) : cert_setup(t, o);
	if (err) {
		tls_ctx_free(t);
		return err;
	}
	*out = t;
	return 0;
}

const char *tls_ctx_describe(const struct tls_ctx *t)
{
	return t->desc;
}

/* ---- connections ------------------------------------------------------- */

/* The header of every record received during the handshake: the first one
 * tells TLS from plain text when the handshake fails. */
static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
		   SSL *ssl, void *arg)
{
	struct tls_conn *c = arg;

	(void)version; (void)ssl;
	if (!write_p && content_type == SSL3_RT_HEADER && len && !c->first_seen) {
		c->first_seen = true;
		c->first_byte = *(const unsigned char *)buf;
	}
}

/* A failed handshake whose first bytes were no TLS record: plain text. */
static int plain_text(struct tls_conn *c)
{
	unsigned char b = c->first_byte;
	bool print = b >= 0x20 && b < 0x7f;

	if (b == FT_HELLO)
		snprintf(c->why, sizeof(c->why), "speaks plain mctun, not TLS");
	else
		snprintf(c->why, sizeof(c->why), "speaks plain text, not TLS (first byte 0x%02x%s%c%s)",
			 b, print ? " '" : "", print ? b : ' ', print ? "'" : "");
	return -EPROTONOSUPPORT;
}

int tls_conn_new(struct tls_ctx *t, int fd, bool server, struct tls_conn **out)
{
	struct tls_conn *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->t = t;
	c->fd = fd;
	c->server = server;
	c->ssl = SSL_new(t->ssl);
	if (!c->ssl || !SSL_set_fd(c->ssl, fd)) {
		ERR_clear_error();
		SSL_free(c->ssl);
		free(c);
		return -ENOMEM;
	}
	SSL_set_app_data(c->ssl, c);
	SSL_set_msg_callback(c->ssl, msg_cb);
	SSL_set_msg_callback_arg(c->ssl, c);
	if (server) {
		SSL_set_accept_state(c->ssl);
		if (t->psk)     /* the key is the proof; no certificate request */
			SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_set_connect_state(c->ssl);
	}
	*out = c;
	return 0;
}

void tls_conn_free(struct tls_conn *c)
{
	if (!c)
		return;
	/* Best effort and non-blocking: one close_notify if the socket takes it. */
	if (!c->fatal && SSL_is_init_finished(c->ssl))
		SSL_shutdown(c->ssl);
	ERR_clear_error();
	SSL_free(c->ssl);
	free(c);
}

/* Maps a failed SSL_* call of stage "TLS handshake", "read" or "write";
 * sets *want_out for WANT_WRITE. */
static int fail(struct tls_conn *c, int ret, int saved_errno, bool *want_out, const char *stage)
{
	bool handshake = stage[0] == 'T';
	char why[160];

	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		ERR_clear_error();
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		ERR_clear_error();
		*want_out = true;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		if (!handshake)
			return 0;
		snprintf(c->why, sizeof(c->why), "closed by peer during the TLS handshake");
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		c->fatal = true;
		ERR_clear_error();
		if (!saved_errno) {
			if (!handshake)
				return 0;
			snprintf(c->why, sizeof(c->why), "closed by peer during the TLS handshake");
			return -ECONNRESET;
		}
		snprintf(c->why, sizeof(c->why), "%s: %s", stage, strerror(saved_errno));
		return -saved_errno;
	default:
		c->fatal = true;
		ssl_err(why, sizeof(why));
		if (c->verify_why[0])
			snprintf(c->why, sizeof(c->why), "TLS: %s", c->verify_why);
		else if (c->t->psk && !strcmp(why, "binder does not verify"))
			snprintf(c->why, sizeof(c->why), "TLS: wrong pre-shared key (%s)", why);
		else if (strstr(why, "alert"))
			snprintf(c->why, sizeof(c->why), "TLS: %s (from the peer%s)", why,
				 c->t->psk ? "; does it have the same --psk-file?" : "");
		else
			snprintf(c->why, sizeof(c->why), "TLS: %s", why);
		return -EPROTO;
	}
}

int tls_handshake(struct tls_conn *c)
{
	int r, saved;

	c->hs_out = false;
	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(c->ssl);
	saved = errno;
	if (r != 1) {
		r = fail(c, r, saved, &c->hs_out, "TLS handshake");
		if (r && r != -EAGAIN && c->first_seen && c->first_byte != REC_HANDSHAKE &&
		    c->first_byte != REC_ALERT)
			return plain_text(c);
		return r;
	}
	SSL_set_msg_callback(c->ssl, NULL);
	/* Belt and braces: what the mode promises did happen. */
	if (c->t->psk ? !SSL_session_reused(c->ssl) :
	    !SSL_get0_peer_certificate(c->ssl) || SSL_get_verify_result(c->ssl) != X509_V_OK) {
		c->fatal = true;
		snprintf(c->why, sizeof(c->why), "TLS: the peer was not authenticated");
		return -EPROTO;
	}
	return 0;
}

ssize_t tls_read(struct tls_conn *c, void *buf, size_t len)
{
	int n, saved;

	c->rd_out = false;
	ERR_clear_error();
	errno = 0;
	n = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	saved = errno;
	if (n > 0)
		return n;
	return fail(c, n, saved, &c->rd_out, "read");
}

long tls_flush(struct tls_conn *c, struct obuf *o)
{
	long total = 0;
	int i;

	c->wr_out = false;
	for (i = 0; i < FLUSH_RECORDS && o->len; i++) {
		size_t first = MIN(o->len, o->cap - o->head);
		int n, saved, r;

		ERR_clear_error();
		errno = 0;
		n = SSL_write(c->ssl, o->buf + o->head, (int)MIN(first, (size_t)INT_MAX));
		saved = errno;
		if (n <= 0) {
			r = fail(c, n, saved, &c->wr_out, "write");
			if (r == -EAGAIN)
				break;
			if (!r) {
				snprintf(c->why, sizeof(c->why), "closed by peer");
				r = -EPIPE;
			}
			return r;
		}
		o->head = (o->head + n) % o->cap;
		o->len -= n;
		total += n;
		/* A whole record went out (partial writes: at most one a call);
		 * nothing is pending, as SSL_key_update() wants. */
		if (++c->records >= c->t->rekey_records && SSL_key_update(c->ssl,
		    SSL_KEY_UPDATE_NOT_REQUESTED)) {
			c->records = 0;
			c->rekeys++;
			pr_debug("TLS: new sending key (%lu so far)\n", c->rekeys);
		}
	}
	if (!o->len && total)
		obuf_reset(o);      /* back to the start; a burst's pages returned */
	return total;
}

bool tls_want_write(const struct tls_conn *c)
{
	return c->hs_out || c->rd_out || c->wr_out;
}

bool tls_has_pending(const struct tls_conn *c)
{
	return SSL_has_pending(c->ssl);
}

const char *tls_why(const struct tls_conn *c)
{
	return c->why[0] ? c->why : "TLS failure";
}

const char *tls_peer_desc(struct tls_conn *c)
{
	char name[NAME_LEN];
	X509 *x = SSL_get0_peer_certificate(c->ssl);

	if (x)
		snprintf(c->desc, sizeof(c->desc), "%s, certificate %s", SSL_get_cipher_name(c->ssl),
			 cert_name(x, name, sizeof(name)));
	else
		snprintf(c->desc, sizeof(c->desc), "%s, pre-shared key", SSL_get_cipher_name(c->ssl));
	return c->desc;
}
