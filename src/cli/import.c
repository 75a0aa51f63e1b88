/* import.c — `brotr import`: JSON lines read with a bounded line length, verified and stored through the synchronizer's batch path. */
#include "cli/import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "core/workpool.h"
#include "db.h"
#include "nostr/event.h"
#include "nostr/json.h"
#include "nostr/relay_url.h"
#include "nostr/verify.h"
#include "services/sync_batch.h"

const char cli_import_help[] =
	"Reads events, one JSON object per line, from FILE (standard input for -): a strfry export,\n"
	"another archive's `brotr export`, any NIP-01 JSON lines. Each line is checked as the\n"
	"synchronizer checks what relays send (strict NIP-01 structure, id = sha256 of the canonical\n"
	"serialisation, BIP-340 signature; verified on every CPU) and the valid events are stored\n"
	"[database] batch_size at a time through the synchronizer's procedure (one statement per\n"
	"batch), as [database] user. A blank line is rejected (not JSON), as event verify does.\n"
	"\n"
	"Each event is attributed to a relay, as everything in the archive is (events_relays):\n"
	"  --relay URL  to URL for every line (normalised as the services do; registered in relays\n"
	"               when unknown, so the monitor will check it); a line's own relays are ignored\n"
	"  without it   to the relays of the line's \"relays\" field, an array of relay URLs as\n"
	"               `brotr export --with-relays` writes it; a line without one is rejected\n"
	"               (no relay) and a line with an unusable URL too (bad relay)\n"
	"\n"
	"A bad line never stops the import and is never stored: it is counted and reported on standard\n"
	"error as `brotr import: FILE:LINE: rejected: id=ID|- reason=\"...\"`. Lines longer than [network] max_message_size (at most 1 MiB, the\n"
	"event cap) are rejected as too large. Events already archived are counted as duplicates and\n"
	"only gain the relay: running the same import again stores nothing twice, so an interrupted\n"
	"import is resumed by running it again. Ends with one line on standard output:\n"
	"  lines=N stored=N duplicate=N rejected=N [rejected.REASON=N ...]   (reasons in name order)\n"
	"REASON: too_large, not_JSON, bad_field, missing_field, bad_id, bad_pubkey, bad_signature, ...;\n"
	"nul and utf8 (what PostgreSQL cannot hold), invalid (the server refused the row), no_relay,\n"
	"bad_relay.\n"
	"\n"
	"Exit status: 0 the input was read to its end and every batch committed (rejected lines do not\n"
	"change it), 1 the database failed (the batches committed stay), 2 usage, configuration or\n"
	"I/O error.\n";

/* ---------------------------------------------------------------- lines */

struct line_reader {
	int fd;
	const char *name;
	char *buf;
	size_t cap, max;   /* buffer size; longest line accepted */
	size_t start, scan, len;
	int eof, skipping; /* skipping: the current line passed max; its bytes are dropped */
};

/* The next line (without its newline) into *line and *len, *too_long set when it passed max. Returns 1,
 * 0 at the end of the input, or -1 on a read error (errno set). */
static int next_line(struct line_reader *r, const char **line, size_t *len, int *too_long)
{
	for (;;) {
		char *nl = memchr(r->buf + r->scan, '\n', r->len - r->scan);
		if (nl || (r->eof && (r->len > r->start || r->skipping))) {
			size_t end = nl ? (size_t)(nl - r->buf) : r->len;
			*line = r->buf + r->start;
			*len = end - r->start;
			*too_long = r->skipping || *len > r->max;
			r->skipping = 0;
			r->start = r->scan = nl ? end + 1 : end;
			return 1;
		}
		if (r->eof)
			return 0;
		r->scan = r->len;
		if (r->skipping || r->len - r->start > r->max) {
			r->skipping = 1;
			r->start = r->scan = r->len = 0;
		} else if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->len - r->start);
			r->len -= r->start;
			r->scan -= r->start;
			r->start = 0;
		}
		ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		r->eof = n == 0;
		r->len += (size_t)n;
	}
}

/* ---------------------------------------------------------------- the import */

struct pair {
	const char *url;
	size_t row;
};

struct reason {
	const char *name;
	size_t n;
};

/* A batch and what the import knows of its events. */
struct part {
	struct sync_batch *b;
	size_t *line_no;         /* per slot: its input line */
	size_t *rel_off, *rel_n; /* per slot, without --relay: its relays in rels */
	struct buf rels;         /* canonical URLs, each NUL-terminated */
	struct sync_verify v;
	int verifying;           /* v was started and not finished */
};

struct importer {
	const struct logger *lg;
	const char *name;
	struct db *db;
	int has_relay;
	struct relay_url relay_url;
	struct db_relay relay;
	unsigned url_flags;
	size_t line_max;
	int64_t seen_at;
	struct json_doc doc;
	struct nostr_event ev;
	struct part part[2];   /* one fills while the other is verified, then stored */
	int cur;               /* the one filling */
	struct workpool *pool;
	struct nostr_ctx *ctx;
	struct nostr_verifier **ver;
	struct buf *scratch;
	unsigned n_ver;
	size_t *row_ev;        /* row -> batch slot */
	struct pair *pairs;
	size_t n_pairs, cap_pairs;
	struct db_event *sub;
	unsigned char *sub_status;
	size_t sub_cap, status_cap;
	size_t lines, stored, duplicates, rejected;
	struct reason reasons[32];
	size_t n_reasons;
};

static void count_reason(struct importer *im, const char *name)
{
	im->rejected++;
	for (size_t i = 0; i < im->n_reasons; i++)
		if (strcmp(im->reasons[i].name, name) == 0) {
			im->reasons[i].n++;
			return;
		}
	if (im->n_reasons < ARRAY_LEN(im->reasons))
		im->reasons[im->n_reasons++] = (struct reason){ name, 1 };
}

/* Counts and logs a rejected line. name: the counter; why: the reason for people. */
static void reject(struct importer *im, size_t line, const unsigned char *id, const char *name, const char *why)
{
	char hex[65] = "-";
	if (id)
		hex_encode(id, 32, hex);
	count_reason(im, name);
	/* Every rejected line, unthrottled (the log limits repeated messages): linear in the input. */
	fprintf(stderr, "brotr import: %s:%zu: rejected: id=%s reason=\"%s\"\n", im->name, line, hex, why);
}

static void reject_err(struct importer *im, size_t line, const unsigned char *id, const struct nostr_err *err)
{
	char why[256];
	reject(im, line, id, nostr_errc_name(err->code), nostr_err_str(err, why, sizeof(why)));
}

/* Appends the canonical URLs of the line's "relays" field to p->rels. Returns 0, or -1 with the
 * counter name in *name and the reason in why. */
static int line_relays(struct importer *im, struct part *p, size_t slot, const char **name, char *why, size_t n)
{
	const struct json_doc *d = &im->doc;
	size_t t = json_member(d, 0, "relays");
	p->rel_off[slot] = p->rels.len;
	p->rel_n[slot] = 0;
	if (!t || (d->tok[t].type == JSON_ARRAY && d->tok[t].size == 0)) {
		*name = "no relay";
		snprintf(why, n, "no relay: give --relay URL, or a \"relays\" array in the line");
		return -1;
	}
	*name = "bad relay";
	if (d->tok[t].type != JSON_ARRAY) {
		snprintf(why, n, "bad relay: \"relays\" is not an array of relay URLs");
		return -1;
	}
	char text[RELAY_URL_INPUT_MAX];
	for (size_t i = t + 1, k = 0; k < d->tok[t].size; k++, i = d->tok[i].next) {
		const struct json_tok *e = &d->tok[i];
		const char *bad = NULL;
		struct relay_url u;
		if (e->type != JSON_STRING || e->end - e->start > sizeof(text))
			bad = "not a relay URL string";
		else if (relay_url_parse(text, json_str_decode(d, e, text), im->url_flags, &u, &bad) == 0)
			buf_append(&p->rels, u.url, strlen(u.url) + 1);
		if (bad) {
			p->rels.len = p->rel_off[slot];
			snprintf(why, n, "bad relay: element %zu: %s", k, bad);
			return -1;
		}
		p->rel_n[slot]++;
	}
	return 0;
}

static int hand_off(struct importer *im);

/* One input line: parsed, attributed, added to the batch (flushed when full). Returns 0, or -1 when
 * the database failed or memory ran out (reported). */
static int take_line(struct importer *im, const char *s, size_t len, int too_long)
{
	struct nostr_err err = { 0 };
	size_t line = ++im->lines;
	if (too_long) {
		char why[64];
		snprintf(why, sizeof(why), "too large: more than %zu bytes", im->line_max);
		reject(im, line, NULL, nostr_errc_name(NOSTR_E_TOO_LARGE), why);
		return 0;
	}
	if (nostr_event_parse(&im->ev, &im->doc, s, len, &err) < 0) {
		reject_err(im, line, im->ev.have_id ? im->ev.id : NULL, &err);
		return 0;
	}
	struct part *p = &im->part[im->cur];
	size_t slot = p->b->n;
	const char *name;
	char why[256];
	if (!im->has_relay && line_relays(im, p, slot, &name, why, sizeof(why)) < 0) {
		reject(im, line, im->ev.id, name, why);
		return 0;
	}
	if (sync_batch_add(p->b, &im->ev) != 0 || p->rels.failed) {
		log_error(im->lg, "import: out of memory");
		return -1;
	}
	p->line_no[slot] = line;
	return sync_batch_full(p->b) ? hand_off(im) : 0;
}

/* Counts the outcome of the batch's rows: stored, duplicates, and the rows the database could not
 * hold (row_status), each logged with its line. */
static void count_rows(struct importer *im, const struct part *p, size_t inserted)
{
	struct sync_batch *b = p->b;
	size_t refused = 0;
	for (size_t k = 0; k < b->n_rows; k++) {
		if (b->row_status[k] == DB_ROW_OK)
			continue;
		const char *name = db_reject_name((enum db_reject)b->row_status[k]);
		char why[96];
		snprintf(why, sizeof(why), "%s: the database cannot hold this event", name);
		reject(im, p->line_no[im->row_ev[k]], b->rows[k].id, name, why);
		refused++;
	}
	im->stored += inserted;
	im->duplicates += b->n_rows - refused - inserted;
}

/* The store for one relay and a set of rows (status gets each row's enum db_reject). Returns DB_OK
 * or an error code (logged). */
static int store(struct importer *im, const struct db_relay *relay, const struct db_event *rows, size_t n,
		 unsigned char *status, size_t *inserted)
{
	struct db_event_result res = { 0 };
	int rc = db_insert_event_batch(im->db, relay, rows, n, im->seen_at, NULL, NULL, &res, status);
	if (rc != DB_OK)
		log_error(im->lg, "import: storing a batch failed", LOG_S("relay", relay->url),
			  LOG_S("error", db_error(im->db)), LOG_U("stored_before", im->stored));
	*inserted += res.inserted;
	return rc;
}

static int by_url(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->url, y->url);
	return c ? c : (x->row > y->row) - (x->row < y->row);
}

static int out_of_memory(struct importer *im)
{
	log_error(im->lg, "import: out of memory");
	return DB_ERR;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t n = need > 2 * *cap ? need : 2 * *cap;
	void *q = realloc(p, n * size);
	if (q)
		*cap = n;
	return q;
}

/* Without --relay: the rows grouped by relay, one statement per relay of the batch. */
static int store_by_relay(struct importer *im, const struct part *p, size_t *inserted)
{
	struct sync_batch *b = p->b;
	im->n_pairs = 0;
	for (size_t k = 0; k < b->n_rows; k++) {
		size_t slot = im->row_ev[k], off = p->rel_off[slot];
		struct pair *pr = grow(im->pairs, &im->cap_pairs, im->n_pairs + p->rel_n[slot], sizeof(*pr));
		if (!pr)
			return out_of_memory(im);
		im->pairs = pr;
		for (size_t j = 0; j < p->rel_n[slot]; j++, off += strlen(p->rels.data + off) + 1)
			pr[im->n_pairs++] = (struct pair){ p->rels.data + off, k };
	}
	qsort(im->pairs, im->n_pairs, sizeof(*im->pairs), by_url);
	struct db_event *sub = grow(im->sub, &im->sub_cap, im->n_pairs, sizeof(*sub));
	if (!sub)
		return out_of_memory(im);
	im->sub = sub;
	unsigned char *st = grow(im->sub_status, &im->status_cap, im->n_pairs, 1);
	if (!st)
		return out_of_memory(im);
	im->sub_status = st;
	for (size_t i = 0, j; i < im->n_pairs; i = j) {
		struct relay_url u;
		const char *why;
		if (relay_url_parse(im->pairs[i].url, strlen(im->pairs[i].url), im->url_flags, &u, &why) < 0)
			return DB_ERR; /* canonical already: cannot fail */
		struct db_relay relay = { im->pairs[i].url, u.network == RELAY_NET_TOR ? DB_TOR : DB_CLEARNET };
		for (j = i; j < im->n_pairs && strcmp(im->pairs[j].url, im->pairs[i].url) == 0; j++)
			sub[j - i] = b->rows[im->pairs[j].row];
		int rc = store(im, &relay, sub, j - i, st, inserted);
		if (rc != DB_OK)
			return rc;
		for (size_t k = i; k < j; k++)
			if (st[k - i] != DB_ROW_OK)
				b->row_status[im->pairs[k].row] = st[k - i];
	}
	return DB_OK;
}

/* After its verification: stores the part's valid events, counts everything, empties it. Returns 0,
 * or -1 when the database failed or memory ran out (reported). */
static int store_part(struct importer *im, struct part *p)
{
	struct sync_batch *b = p->b;
	size_t inserted = 0;
	int rc = DB_OK;
	for (size_t i = 0, k = 0; i < b->n; i++) {
		if (b->valid[i]) {
			im->row_ev[k++] = i;
			continue;
		}
		struct nostr_err err = { .code = b->errc[i] };
		reject_err(im, p->line_no[i], b->ev[i].id, &err);
	}
	if (sync_batch_rows(b) < 0) {
		rc = out_of_memory(im);
	} else if (b->n_rows > 0) {
		memset(b->row_status, 0, b->n_rows);
		rc = im->has_relay ? store(im, &im->relay, b->rows, b->n_rows, b->row_status, &inserted)
				   : store_by_relay(im, p, &inserted);
		if (rc == DB_OK)
			count_rows(im, p, inserted);
	}
	sync_batch_reset(b);
	buf_reset(&p->rels);
	return rc == DB_OK ? 0 : -1;
}

/*
 * The filling part is full (or the input ended): the other part's verification is joined, this
 * one's is started on the worker pool, and the other is stored while the workers verify this one;
 * the other then fills. So verification overlaps storing and parsing, and batches are stored in
 * input order. Returns 0, or -1 when the database failed or memory ran out (reported).
 */
static int hand_off(struct importer *im)
{
	struct part *p = &im->part[im->cur], *q = &im->part[!im->cur];
	if (q->verifying) {
		sync_verify_finish(&q->v);
		q->verifying = 0;
	}
	if (p->b->n > 0) {
		sync_verify_start(&p->v, im->pool, im->ver, im->scratch, NULL, p->b, 0, p->b->n);
		p->verifying = 1;
	}
	im->cur = !im->cur;
	return q->b->n > 0 ? store_part(im, q) : 0;
}

/* At the end of the input: the last two batches. */
static int drain(struct importer *im)
{
	return hand_off(im) < 0 || hand_off(im) < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- set-up */

static int part_init(struct part *p, size_t cap)
{
	buf_init(&p->rels);
	p->b = sync_batch_new(cap, 0);
	p->line_no = calloc(cap, sizeof(*p->line_no));
	p->rel_off = calloc(cap, sizeof(*p->rel_off));
	p->rel_n = calloc(cap, sizeof(*p->rel_n));
	return p->b && p->line_no && p->rel_off && p->rel_n ? 0 : -1;
}

static void part_free(struct part *p)
{
	if (p->verifying)
		sync_verify_finish(&p->v);
	sync_batch_free(p->b);
	free(p->line_no);
	free(p->rel_off);
	free(p->rel_n);
	buf_free(&p->rels);
}

static int start(struct importer *im, const struct config *cfg, size_t cap)
{
	struct db_options opt;
	char err[1024];
	json_doc_init(&im->doc);
	nostr_event_init(&im->ev);
	for (int k = 0; k < 2; k++)
		if (part_init(&im->part[k], cap) < 0)
			goto nomem;
	im->row_ev = calloc(cap, sizeof(*im->row_ev));
	im->pool = workpool_new(0);
	im->ctx = nostr_ctx_new();
	im->n_ver = im->pool ? workpool_size(im->pool) : 0;
	im->ver = calloc(im->n_ver ? im->n_ver : 1, sizeof(*im->ver));
	im->scratch = calloc(im->n_ver ? im->n_ver : 1, sizeof(*im->scratch));
	if (!im->row_ev || !im->pool || !im->ctx || !im->ver || !im->scratch) {
nomem:
		log_error(im->lg, "import: cannot start (out of memory or threads)");
		return -1;
	}
	for (unsigned i = 0; i < im->n_ver; i++) {
		buf_init(&im->scratch[i]);
		if (!(im->ver[i] = nostr_verifier_new(im->ctx))) {
			log_error(im->lg, "import: out of memory");
			return -1;
		}
	}
	db_options_from_config(&opt, cfg);
	opt.log = im->lg;
	opt.application_name = "brotr-import";
	if (db_open(&im->db, &opt, err, sizeof(err)) != DB_OK) {
		log_error(im->lg, "import: cannot connect", LOG_S("error", err));
		return -1;
	}
	return 0;
}

static void finish(struct importer *im)
{
	for (int k = 0; k < 2; k++) /* first: a verification may still run on the pool */
		part_free(&im->part[k]);
	db_close(im->db);
	for (unsigned i = 0; im->ver && i < im->n_ver; i++) {
		nostr_verifier_free(im->ver[i]);
		if (im->scratch)
			buf_free(&im->scratch[i]);
	}
	free(im->ver);
	free(im->scratch);
	nostr_ctx_free(im->ctx);
	workpool_free(im->pool);
	free(im->row_ev);
	free(im->pairs);
	free(im->sub);
	free(im->sub_status);
	nostr_event_free(&im->ev);
	json_doc_free(&im->doc);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct reason *)a)->name, ((const struct reason *)b)->name);
}

static void print_summary(struct importer *im)
{
	qsort(im->reasons, im->n_reasons, sizeof(im->reasons[0]), by_name);
	printf("lines=%zu stored=%zu duplicate=%zu rejected=%zu", im->lines, im->stored, im->duplicates, im->rejected);
	for (size_t i = 0; i < im->n_reasons; i++) {
		printf(" rejected.");
		for (const char *c = im->reasons[i].name; *c; c++)
			putchar(*c == ' ' ? '_' : *c);
		printf("=%zu", im->reasons[i].n);
	}
	putchar('\n');
	fflush(stdout);
	log_info(im->lg, "import summary", LOG_S("file", im->name), LOG_U("lines", im->lines),
		 LOG_U("stored", im->stored), LOG_U("duplicate", im->duplicates), LOG_U("rejected", im->rejected));
}

/* Reads every line into the importer. Returns the exit status. */
static int run(struct importer *im, struct line_reader *rd)
{
	const char *line;
	size_t len;
	int too_long, got;
	while ((got = next_line(rd, &line, &len, &too_long)) == 1)
		if (take_line(im, line, len, too_long) < 0)
			return 1;
	if (got < 0) {
		log_error(im->lg, "import: reading", LOG_S("file", im->name), LOG_S("error", strerror(errno)));
		return drain(im) < 0 ? 1 : 2;
	}
	return drain(im) < 0 ? 1 : 0;
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "brotr import: %s%s%s\nusage: brotr import [--relay URL] FILE|-\n", msg, arg ? ": " : "",
		arg ? arg : "");
	return 2;
}

static int parse_args(int argc, char **argv, const char **file, const char **relay)
{
	*file = *relay = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--relay") == 0) {
			if (++i >= argc)
				return usage_error("missing value", a);
			*relay = argv[i];
		} else if (strncmp(a, "--relay=", 8) == 0) {
			*relay = a + 8;
		} else if (a[0] == '-' && a[1] != '\0') {
			return usage_error("unknown option", a);
		} else if (*file) {
			return usage_error("more than one FILE", a);
		} else {
			*file = a;
		}
	}
	return *file ? 0 : usage_error("give FILE, or - for standard input", NULL);
}

int cli_import(const struct config *cfg, const struct logger *lg, int argc, char **argv)
{
	const char *file, *relay, *why;
	if (parse_args(argc, argv, &file, &relay) != 0)
		return 2;
	struct importer *im = calloc(1, sizeof(*im));
	struct line_reader rd = { .fd = 0, .name = "standard input" };
	int status = 2;
	if (!im)
		return 2;
	im->lg = lg;
	im->url_flags = cfg->network.allow_local ? RELAY_URL_ALLOW_LOCAL : 0;
	im->seen_at = (int64_t)time(NULL);
	im->line_max = (size_t)cfg->network.max_message_size < NOSTR_EVENT_MAX_JSON ? (size_t)cfg->network.max_message_size
										   : NOSTR_EVENT_MAX_JSON;
	if (relay) {
		if (relay_url_parse(relay, strlen(relay), im->url_flags, &im->relay_url, &why) < 0) {
			usage_error("--relay", why);
			goto out;
		}
		im->has_relay = 1;
		im->relay = (struct db_relay){ im->relay_url.url,
					       im->relay_url.network == RELAY_NET_TOR ? DB_TOR : DB_CLEARNET };
	}
	if (strcmp(file, "-") != 0 && (rd.fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "brotr import: %s: %s\n", file, strerror(errno));
		goto out;
	}
	rd.name = im->name = strcmp(file, "-") ? file : "standard input";
	rd.max = im->line_max;
	rd.cap = rd.max + ((size_t)1 << 16);
	if (!(rd.buf = malloc(rd.cap))) {
		fprintf(stderr, "brotr import: out of memory\n");
		goto out;
	}
	status = 1;
	if (start(im, cfg, (size_t)cfg->database.batch_size) == 0) {
		status = run(im, &rd);
		print_summary(im);
	}
out:
	finish(im);
	free(rd.buf);
	if (rd.fd > 0)
		close(rd.fd);
	free(im);
	return status;
}
