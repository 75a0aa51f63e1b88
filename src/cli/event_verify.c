/* event_verify.c — reads events line by line in batches, verifies each batch on a worker pool, prints in order. */
#include "cli/event_verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "core/workpool.h"
#include "nostr/event.h"
#include "nostr/verify.h"

const char cli_event_verify_help[] =
	"Reads one JSON event per line from FILE (standard input when FILE is absent or -) and\n"
	"checks each: strict NIP-01 structure and types, id = sha256 of the canonical serialisation,\n"
	"BIP-340 signature by pubkey. For every input line it prints one line, in input order:\n"
	"\n"
	"  valid<TAB>ID<TAB>ok\n"
	"  invalid<TAB>ID or -<TAB>REASON      (e.g. bad id, bad signature, bad field kind: ..., not JSON: ...)\n"
	"\n"
	"ID is the event's id field when it is well-formed, even for an invalid event. Lines longer\n"
	"than 1048576 bytes are invalid (too large). Verification runs on every CPU.\n"
	"\n"
	"Options:\n"
	"  -j, --jobs N   use N threads (default: one per CPU this process may use)\n"
	"\n"
	"Exit status: 0 every line valid, 1 at least one invalid, 2 usage or I/O error.\n";

#define BATCH_LINES 4096
#define MAX_LINE NOSTR_EVENT_MAX_JSON
#define BUF_SIZE (MAX_LINE + 1 + ((size_t)4 << 20))

struct line {
	size_t off, len;
	int too_long;
};

/* One output line, formatted by the worker that verified the event. */
struct result {
	int valid;
	size_t len;
	char line[8 + 64 + 2 + 192 + 1];
};

/* A batch of whole lines held in its own buffer, with their results. Two alternate: one is verified
 * while the other is printed and refilled. */
struct batch {
	char *buf;
	size_t len;   /* bytes held */
	size_t start; /* start of the unfinished line after the batch's lines */
	size_t scan;  /* no newline in buf[start..scan) */
	size_t n;
	struct line lines[BATCH_LINES];
	struct result res[BATCH_LINES];
	struct nostr_verifier **ver; /* one per worker, shared by both batches */
};

struct reader {
	int fd;
	const char *name;
	int eof;
	int skipping; /* the current line passed MAX_LINE; its bytes are being dropped */
	int short_read; /* the last read returned less than asked: more may take a while (a pipe) */
};

static void verify_one(void *arg, size_t i, unsigned worker)
{
	struct batch *b = arg;
	const struct line *l = &b->lines[i];
	struct result *r = &b->res[i];
	struct nostr_err err = { 0 };
	char reason[192];
	if (l->too_long) {
		r->valid = 0;
		r->len = (size_t)snprintf(r->line, sizeof(r->line), "invalid\t-\ttoo large: more than %zu bytes\n",
					  (size_t)MAX_LINE);
		return;
	}
	r->valid = nostr_verifier_text(b->ver[worker], b->buf + l->off, l->len, &err) == 0;
	const struct nostr_event *ev = nostr_verifier_event(b->ver[worker]);
	char *p = r->line;
	p = stpcpy(p, r->valid ? "valid\t" : "invalid\t");
	if (ev->have_id) {
		hex_encode(ev->id, 32, p);
		p += 64;
	} else {
		*p++ = '-';
	}
	*p++ = '\t';
	p = stpcpy(p, r->valid ? "ok" : nostr_err_str(&err, reason, sizeof(reason)));
	*p++ = '\n';
	r->len = (size_t)(p - r->line);
}

/* Reads more bytes into b. Returns 0 (maybe at EOF), or -1 on a read error (reported). */
static int fill(struct reader *rd, struct batch *b)
{
	for (;;) {
		ssize_t n = read(rd->fd, b->buf + b->len, BUF_SIZE - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "brotr: event verify: %s: %s\n", rd->name, strerror(errno));
			return -1;
		}
		rd->eof = n == 0;
		rd->short_read = (size_t)n < BUF_SIZE - b->len;
		b->len += (size_t)n;
		return 0;
	}
}

static void add_line(struct reader *rd, struct batch *b, size_t end)
{
	b->lines[b->n++] = (struct line){ .off = b->start, .len = end - b->start, .too_long = rd->skipping };
	rd->skipping = 0;
}

/* Collects up to BATCH_LINES complete lines (the last one may lack its newline at EOF). Returns 0,
 * or -1 on a read error. */
static int gather(struct reader *rd, struct batch *b)
{
	b->n = 0;
	while (b->n < BATCH_LINES) {
		char *nl = memchr(b->buf + b->scan, '\n', b->len - b->scan);
		if (nl) {
			add_line(rd, b, (size_t)(nl - b->buf));
			b->start = b->scan = (size_t)(nl - b->buf) + 1;
			continue;
		}
		b->scan = b->len;
		if (rd->skipping || b->len - b->start > MAX_LINE) {
			rd->skipping = 1; /* drop what is held of this line, keep reading to its end */
			b->len = b->scan = b->start;
		}
		if (rd->eof) {
			if (b->len > b->start || rd->skipping)
				add_line(rd, b, b->len);
			b->start = b->scan = b->len;
			break;
		}
		if (b->n > 0 && (BUF_SIZE - b->len < MAX_LINE + 1 || rd->short_read))
			break; /* the rest goes into the next batch; from a pipe, answer what has arrived */
		if (fill(rd, b) < 0)
			return -1;
	}
	return 0;
}

/* Starts `to` with the unfinished line at the end of `from`. */
static void carry(const struct batch *from, struct batch *to)
{
	to->len = from->len - from->start;
	memcpy(to->buf, from->buf + from->start, to->len);
	to->scan = from->scan - from->start;
	to->start = 0;
	to->n = 0;
}

static int print_results(const struct batch *b, int *any_invalid)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct result *r = &b->res[i];
		*any_invalid |= !r->valid;
		if (fwrite(r->line, 1, r->len, stdout) != r->len) {
			fprintf(stderr, "brotr: event verify: writing: %s\n", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Verifies batch after batch. From a file, while the workers verify one batch this thread prints the
 * previous one and reads the next, then joins in. From a pipe (reads come back short), each batch is
 * answered and flushed before waiting for more input. Returns the exit status. */
static int pipeline(struct reader *rd, struct workpool *pool, struct batch *cur, struct batch *other)
{
	int any_invalid = 0, have_prev = 0;
	if (gather(rd, cur) < 0)
		return 2;
	for (;;) {
		int last = rd->eof && cur->start == cur->len, ahead = !last && !rd->short_read, rc = 0;
		workpool_start(pool, cur->n, 4, verify_one, cur);
		if (have_prev)
			rc = print_results(other, &any_invalid);
		if (rc == 0 && ahead) {
			carry(cur, other);
			rc = gather(rd, other);
		}
		workpool_finish(pool);
		if (rc < 0 || last) {
			int wrc = print_results(cur, &any_invalid);
			return (rc < 0 || wrc < 0) ? 2 : any_invalid;
		}
		have_prev = ahead;
		if (!ahead) {
			if (print_results(cur, &any_invalid) < 0 || fflush(stdout) != 0)
				return 2;
			carry(cur, other);
			if (gather(rd, other) < 0)
				return 2;
		}
		struct batch *t = cur;
		cur = other;
		other = t;
	}
}

static int run(struct reader *rd, unsigned jobs)
{
	int status = 2;
	struct workpool *pool = workpool_new(jobs);
	struct nostr_ctx *ctx = nostr_ctx_new();
	struct batch *b = calloc(2, sizeof(*b));
	unsigned n_ver = pool ? workpool_size(pool) : 0, made = 0;
	struct nostr_verifier **ver = calloc(n_ver ? n_ver : 1, sizeof(*ver));
	int ok = pool && ctx && b && ver && (b[0].buf = malloc(BUF_SIZE)) && (b[1].buf = malloc(BUF_SIZE));
	while (ok && made < n_ver && (ver[made] = nostr_verifier_new(ctx)))
		made++;
	if (!ok || made < n_ver) {
		fprintf(stderr, "brotr: event verify: cannot start (out of memory or threads)\n");
		goto out;
	}
	b[0].ver = b[1].ver = ver;
	status = pipeline(rd, pool, &b[0], &b[1]);
	if (fflush(stdout) != 0 && status != 2) {
		fprintf(stderr, "brotr: event verify: writing: %s\n", strerror(errno));
		status = 2;
	}
out:
	for (unsigned i = 0; i < made; i++)
		nostr_verifier_free(ver[i]);
	free(ver);
	if (b) {
		free(b[0].buf);
		free(b[1].buf);
	}
	free(b);
	nostr_ctx_free(ctx);
	workpool_free(pool);
	return status;
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "brotr: event verify: %s\nusage: brotr event verify [-j N] [FILE]\n", msg);
	return 2;
}

int cli_event_verify(int argc, char **argv)
{
	const char *file = NULL;
	long long jobs = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0)
			val = ++i < argc ? argv[i] : "";
		else if (strncmp(a, "--jobs=", 7) == 0)
			val = a + 7;
		else if (a[0] == '-' && a[1] != '\0')
			return usage_error("unknown option");
		else if (file)
			return usage_error("more than one FILE");
		else
			file = a;
		if (val && (parse_ll(val, &jobs) < 0 || jobs < 1 || jobs > 1024))
			return usage_error("-j expects a number of threads 1..1024");
	}
	struct reader rd = { .fd = 0, .name = "standard input" };
	if (file && strcmp(file, "-") != 0) {
		rd.fd = open(file, O_RDONLY | O_CLOEXEC);
		rd.name = file;
		if (rd.fd < 0) {
			fprintf(stderr, "brotr: event verify: %s: %s\n", file, strerror(errno));
			return 2;
		}
	}
	int status = run(&rd, (unsigned)jobs);
	if (rd.fd > 0)
		close(rd.fd);
	return status;
}
