// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mctun genpsk: a new pre-shared key, in the format --psk-file reads (one
 * line "IDENTITY HEXKEY", see tls.h), from OpenSSL's RAND_bytes. To stdout,
 * like `wg genkey`, or into a new file of mode 0600: made with O_EXCL, so
 * an existing key is never overwritten unless --force says so, and then
 * replaced whole (a temporary file renamed over it).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cmds.h"
#include "log.h"
#include "tls.h"
#include "util.h"

#define DEFAULT_IDENTITY "mctun"
#define DEFAULT_BITS     256
#define LINE_MAX_LEN     (PSK_ID_MAX + 1 + 2 * PSK_MAX + 2)

struct genpsk_opts {
	const char *identity;
	uint32_t bits;
	bool force;
	const char *path;         /* NULL: stdout */
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: mctun genpsk [--identity NAME] [--bits N] [--force] [FILE]\n"
"\n"
"Make a new pre-shared key for `mctun run --psk-file`: one line\n"
"'IDENTITY HEXKEY', the key from OpenSSL's random generator. Without FILE it\n"
"goes to stdout (and a note on keeping it secret to stderr); with FILE it is\n"
"written there with mode 0600, and an existing FILE is left alone.\n"
"Every gateway of a tunnel needs the same file; copy it over a channel you\n"
"trust (scp, your configuration management), never in the clear.\n"
"\n"
"Options:\n"
"      --identity NAME  the key's name, sent in the clear in each handshake\n"
"                       (default " DEFAULT_IDENTITY "; 1 to %d printable characters,\n"
"                       no blanks, not starting with '#')\n"
"      --bits N         key length, %d to %d, a multiple of 8 (default %d)\n"
"  -f, --force          replace FILE if it exists (whole, never half-written)\n"
"  -h, --help           this text\n"
"\n"
"EXAMPLES\n"
"  mctun genpsk /etc/mctun/psk          # then on every gateway:\n"
"  mctun run -i eth1 -g 239.1.2.3:5000 --listen 0.0.0.0:7000 --psk-file /etc/mctun/psk\n"
"  (umask 077; mctun genpsk > site.psk)\n",
		PSK_ID_MAX, 8 * PSK_MIN, 8 * PSK_MAX, DEFAULT_BITS);
}

static int genpsk_parse(int argc, char **argv, struct genpsk_opts *o)
{
	enum { OPT_IDENTITY = 256, OPT_BITS };
	static const struct option longopts[] = {
		{ "identity", required_argument, NULL, OPT_IDENTITY },
		{ "bits",     required_argument, NULL, OPT_BITS },
		{ "force",    no_argument,       NULL, 'f' },
		{ "help",     no_argument,       NULL, 'h' },
		{}
	};
	size_t i, n;
	int c, err;

	memset(o, 0, sizeof(*o));
	o->identity = DEFAULT_IDENTITY;
	o->bits = DEFAULT_BITS;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_IDENTITY:
			o->identity = optarg;
			break;
		case OPT_BITS:
			err = parse_u32("--bits", optarg, 8 * PSK_MIN, 8 * PSK_MAX, &o->bits);
			if (err)
				return err;
			if (o->bits % 8) {
				pr_warn("--bits: %s is not a multiple of 8\n", optarg);
				return -EINVAL;
			}
			break;
		case 'f':
			o->force = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			return opt_error("genpsk", c, argv);
		}
	}
	if (optind < argc)
		o->path = argv[optind++];
	if (optind < argc) {
		pr_warn("genpsk: unexpected argument '%s' (see mctun genpsk --help)\n", argv[optind]);
		return -EINVAL;
	}
	if (o->path && !*o->path) {
		pr_warn("genpsk: empty file name\n");
		return -EINVAL;
	}
	if (o->force && !o->path) {
		pr_warn("genpsk: --force needs a FILE to replace\n");
		return -EINVAL;
	}
	n = strlen(o->identity);
	for (i = 0; i < n; i++)
		if (o->identity[i] < 0x21 || o->identity[i] > 0x7e)
			break;
	/* a line starting with '#' is a comment to --psk-file */
	if (!n || n > PSK_ID_MAX || i < n || o->identity[0] == '#') {
		pr_warn("--identity: '%s' is not 1 to %d printable characters without blanks, "
			"not starting with '#'\n", o->identity, PSK_ID_MAX);
		return -EINVAL;
	}
	return 0;
}

/* "IDENTITY HEXKEY\n" into line; its length, or -errno. */
static int make_line(const struct genpsk_opts *o, char *line, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char key[PSK_MAX];
	size_t nkey = o->bits / 8, i, n;

	if (RAND_bytes(key, (int)nkey) != 1) {
		pr_warn("genpsk: the random generator failed (OpenSSL RAND_bytes)\n");
		return -EIO;
	}
	n = (size_t)snprintf(line, len, "%s ", o->identity);
	for (i = 0; i < nkey && n + 3 < len; i++) {
		line[n++] = hex[key[i] >> 4];
		line[n++] = hex[key[i] & 0xf];
	}
	line[n++] = '\n';
	line[n] = '\0';
	OPENSSL_cleanse(key, sizeof(key));
	return (int)n;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The line into a file just made (fd), mode 0600 whatever the umask. */
static int fill(int fd, const char *path, const char *line, size_t len)
{
	int err = 0;

	if (fchmod(fd, 0600) < 0 || (err = write_all(fd, line, len)) || fsync(fd) < 0) {
		err = err ? err : -errno;
		pr_warn("genpsk: %s: %s\n", path, strerror(-err));
	}
	return err;
}

/* No FILE yet: O_EXCL makes it, or says it exists. */
static int write_new(const char *path, const char *line, size_t len)
{
	int fd, err;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		if (err == -EEXIST)
			pr_warn("genpsk: %s exists: not overwriting a key (--force replaces it)\n",
				path);
		else
			pr_warn("genpsk: %s: %s\n", path, strerror(-err));
		return err;
	}
	err = fill(fd, path, line, len);
	if (close(fd) < 0 && !err) {
		err = -errno;
		pr_warn("genpsk: %s: %s\n", path, strerror(-err));
	}
	if (err)
		unlink(path);
	return err;
}

/* --force: a temporary file beside it, renamed over it. */
static int write_replace(const char *path, const char *line, size_t len)
{
	char tmp[PATH_MAX];
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		pr_warn("genpsk: %s: %s\n", path, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("genpsk: %s: %s\n", tmp, strerror(-err));
		return err;
	}
	err = fill(fd, tmp, line, len);
	if (close(fd) < 0 && !err) {
		err = -errno;
		pr_warn("genpsk: %s: %s\n", tmp, strerror(-err));
	}
	if (!err && rename(tmp, path) < 0) {
		err = -errno;
		pr_warn("genpsk: rename %s to %s: %s\n", tmp, path, strerror(-err));
	}
	if (err)
		unlink(tmp);
	return err;
}

int genpsk_main(int argc, char **argv)
{
	struct genpsk_opts o;
	char line[LINE_MAX_LEN + 1];
	int n, err;

	err = genpsk_parse(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	n = make_line(&o, line, sizeof(line));
	if (n < 0)
		return n;
	if (!o.path) {
		err = write_all(STDOUT_FILENO, line, (size_t)n);
		if (err)
			pr_warn("genpsk: stdout: %s\n", strerror(-err));
		else
			fprintf(stderr, "mctun genpsk: this key lets anyone who has it into the "
				"tunnel: keep it in a file of mode 0600 (umask 077; mctun genpsk "
				"> FILE), the same file on every gateway, for --psk-file\n");
	} else {
		err = o.force ? write_replace(o.path, line, (size_t)n) :
				write_new(o.path, line, (size_t)n);
		if (!err)
			fprintf(stderr, "mctun genpsk: wrote %s (mode 0600, %u bits, identity '%s'): "
				"copy it to every gateway over a channel you trust, and give each "
				"--psk-file %s\n", o.path, o.bits, o.identity, o.path);
	}
	OPENSSL_cleanse(line, sizeof(line));
	return err;
}
