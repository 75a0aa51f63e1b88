/* export.c — `brotr export`: a NIP-01 filter turned into the archive's one export query, each row written as a JSON line. */
#include "cli/export.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "core/util.h"
#include "db.h"
#include "nostr/event.h"
#include "nostr/filter.h"
#include "nostr/json.h"

const char cli_export_help[] =
	"Writes the archived events matching a NIP-01 filter as JSON lines, one event per line, in\n"
	"no particular order, from one consistent snapshot of the database. Each line is the event as\n"
	"brotr serialises it: {\"id\",\"pubkey\",\"created_at\",\"kind\",\"tags\",\"content\",\"sig\"}, no\n"
	"whitespace, NIP-01's canonical escapes; `brotr event verify` accepts every line. Memory stays\n"
	"constant whatever the number of events (the rows stream from the server one at a time).\n"
	"\n"
	"Connects as [database] reader_user (a login member of brotr_reader; password from\n"
	"BROTR_DATABASE_READER_PASSWORD) or, when that is empty, as [database] user. A lilbrotr archive\n"
	"keeps no tags, content or signatures: export refuses it (exit status 1) rather than write events\n"
	"nobody could verify.\n"
	"\n"
	"Options:\n"
	"  --filter JSON   a NIP-01 filter: ids, authors, kinds, #x tag lists, since, until (limit is\n"
	"                  refused: an export writes every match); default {} (everything)\n"
	"  --since T       created_at >= T (Unix seconds); with the filter's since, the later one counts\n"
	"  --until T       created_at <= T; with the filter's until, the earlier one counts\n"
	"  --with-relays   add \"relays\":[URL,...] (sorted) to each line: where the archive saw the event.\n"
	"                  The line is then NIP-01 plus one field (verifiers ignore it); `brotr import`\n"
	"                  reads it back as the events' relays\n"
	"  -o, --output FILE  write to FILE (through FILE.partial, renamed when complete) instead of\n"
	"                  standard output\n"
	"\n"
	"Ends with a log line: msg=\"export summary\" events=N ms=N.\n"
	"Exit status: 0 done, 1 the database failed or refused, 2 usage, configuration or I/O error.\n";

struct out {
	FILE *f;
	struct buf line;
	int with_relays;
	int io_error;
};

/* Appends JSON text as PostgreSQL prints it (", " and ": " between elements) without the whitespace
 * outside strings: the canonical, compact form (jsonb keeps strings with NIP-01's escapes). */
static void put_compact(struct buf *b, const char *s, size_t n)
{
	int in_str = 0;
	size_t run = 0; /* start of the bytes not yet copied */
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
			buf_append(b, s + run, i - run);
			run = i + 1;
		}
	}
	buf_append(b, s + run, n - run);
}

/* Appends "<hex of p[0..n)>", encoded in place. */
static void put_hex(struct buf *b, const unsigned char *p, size_t n)
{
	if (buf_reserve(b, 2 * n + 3) < 0)
		return;
	b->data[b->len] = '"';
	hex_encode(p, n, b->data + b->len + 1);
	b->len += 2 * n + 2;
	b->data[b->len - 1] = '"';
	b->data[b->len] = '\0';
}

static int write_row(void *arg, const struct db_export_row *r)
{
	struct out *o = arg;
	struct buf *b = &o->line;
	buf_reset(b);
	buf_puts(b, "{\"id\":");
	put_hex(b, r->id, 32);
	buf_puts(b, ",\"pubkey\":");
	put_hex(b, r->pubkey, 32);
	buf_printf(b, ",\"created_at\":%lld,\"kind\":%ld,\"tags\":", (long long)r->created_at, (long)r->kind);
	put_compact(b, r->tags, r->tags_len);
	buf_puts(b, ",\"content\":");
	json_write_str(b, r->content, r->content_len);
	buf_puts(b, ",\"sig\":");
	put_hex(b, r->sig, 64);
	if (o->with_relays) {
		buf_puts(b, ",\"relays\":");
		if (r->relays)
			put_compact(b, r->relays, r->relays_len);
		else
			buf_puts(b, "[]");
	}
	buf_puts(b, "}\n");
	if (b->failed || fwrite(b->data, 1, b->len, o->f) != b->len) {
		o->io_error = b->failed ? ENOMEM : errno;
		return -1;
	}
	return 0;
}

/* The filter's tag conditions as archive.h takes them. Values holding U+0000 can match nothing
 * stored (PostgreSQL text cannot hold it) and are left out. */
static int tag_conditions(const struct nostr_filter *nf, struct db_export_tag *tags, const char ***vals)
{
	size_t total = 0;
	for (size_t i = 0; i < nf->n_tags; i++)
		total += nf->tags[i].n;
	*vals = calloc(total ? total : 1, sizeof(**vals));
	if (!*vals)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < nf->n_tags; i++) {
		tags[i] = (struct db_export_tag){ .letter = nf->tags[i].letter, .values = *vals + k };
		for (size_t j = 0; j < nf->tags[i].n; j++) {
			const struct nostr_str *v = &nf->tags[i].values[j];
			if (strlen(v->s) == v->len)
				(*vals)[k++] = v->s, tags[i].n++;
		}
	}
	return 0;
}

struct args {
	const char *filter, *output;
	long long since, until;
	int has_since, has_until, with_relays;
};

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "brotr export: %s%s%s\nusage: brotr export [--filter JSON] [--since T] [--until T] "
			"[--with-relays] [--output FILE]\n", msg, arg ? ": " : "", arg ? arg : "");
	return 2;
}

/* The value of option name at argv[*i] ("--name VALUE" or "--name=VALUE"), "" when it is missing,
 * or NULL when argv[*i] is another option. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strcmp(a, name) == 0)
		return ++*i < argc ? argv[*i] : "";
	return strncmp(a, name, n) == 0 && a[n] == '=' ? a + n + 1 : NULL;
}

static int parse_time(const char *v, long long *out, int *has)
{
	*has = 1;
	return parse_ll(v, out) < 0 || *out < 0 ? usage_error("expected Unix seconds (a non-negative integer)", v) : 0;
}

/* Returns 0, or the exit status 2 after a message. */
static int parse_args(struct args *a, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		const char *v;
		int rc = 0;
		if (strcmp(argv[i], "--with-relays") == 0)
			a->with_relays = 1;
		else if ((v = opt_value(argc, argv, &i, "--filter")))
			a->filter = v;
		else if ((v = opt_value(argc, argv, &i, "--output")) || (v = opt_value(argc, argv, &i, "-o")))
			a->output = *v ? v : NULL;
		else if ((v = opt_value(argc, argv, &i, "--since")))
			rc = parse_time(v, &a->since, &a->has_since);
		else if ((v = opt_value(argc, argv, &i, "--until")))
			rc = parse_time(v, &a->until, &a->has_until);
		else
			rc = usage_error(argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Reads the --filter JSON into nf and applies --since/--until. Returns 0, or 2 after a message. */
static int read_filter(const struct args *a, struct nostr_filter *nf)
{
	struct json_doc doc;
	struct nostr_err err = { 0 };
	char why[256];
	const char *text = a->filter ? a->filter : "{}";
	json_doc_init(&doc);
	int rc = json_parse(&doc, text, strlen(text), &err) < 0 || nostr_filter_from_json(nf, &doc, 0, &err) < 0;
	json_doc_free(&doc);
	if (rc)
		return usage_error("--filter", nostr_err_str(&err, why, sizeof(why)));
	if (nf->has_limit)
		return usage_error("--filter", "limit is not supported (an export writes every match)");
	if (a->has_since && (!nf->has_since || a->since > nf->since))
		nf->since = a->since, nf->has_since = 1;
	if (a->has_until && (!nf->has_until || a->until < nf->until))
		nf->until = a->until, nf->has_until = 1;
	return 0;
}

static int open_reader(struct db **db, const struct config *cfg, const struct logger *lg)
{
	struct db_options opt;
	char err[1024];
	db_options_from_config(&opt, cfg);
	if (cfg->database.reader_user && *cfg->database.reader_user) {
		opt.user = cfg->database.reader_user;
		opt.password = cfg->database.reader_password;
	}
	opt.log = lg;
	opt.application_name = "brotr-export";
	if (db_open(db, &opt, err, sizeof(err)) != DB_OK) {
		log_error(lg, "export: cannot connect", LOG_S("error", err));
		return -1;
	}
	return 0;
}

/* Runs the query into o. Returns the exit status. */
static int stream(struct db *db, const struct nostr_filter *nf, struct out *o, const struct logger *lg)
{
	struct db_export_tag tags[52];
	const char **vals = NULL;
	if (nf->n_tags > ARRAY_LEN(tags) || tag_conditions(nf, tags, &vals) < 0) {
		log_error(lg, "export: out of memory");
		return 1;
	}
	struct db_export_filter f = {
		.ids = (const unsigned char(*)[32])nf->ids, .n_ids = nf->n_ids, .has_ids = nf->has_ids,
		.authors = (const unsigned char(*)[32])nf->authors, .n_authors = nf->n_authors,
		.has_authors = nf->has_authors, .kinds = nf->kinds, .n_kinds = nf->n_kinds, .has_kinds = nf->has_kinds,
		.tags = tags, .n_tags = nf->n_tags, .since = nf->since, .until = nf->until,
		.has_since = nf->has_since, .has_until = nf->has_until, .with_relays = o->with_relays,
	};
	uint64_t t0 = mono_ms();
	size_t rows = 0;
	int rc = db_export_events(db, &f, write_row, o, &rows);
	free(vals);
	if (rc == DB_ERR_STOP || (rc == DB_OK && fflush(o->f) != 0)) {
		log_error(lg, "export: writing", LOG_S("error", strerror(o->io_error ? o->io_error : errno)));
		return 2;
	}
	if (rc != DB_OK) {
		log_error(lg, "export failed", LOG_S("error", db_error(db)));
		return 1;
	}
	log_info(lg, "export summary", LOG_U("events", rows), LOG_I("ms", (long long)(mono_ms() - t0)));
	return 0;
}

/* Opens where the events go: standard output, or FILE.partial. Returns 0, or -1 (reported). */
static int open_output(struct out *o, const char *output, char *partial, size_t n, const struct logger *lg)
{
	o->f = stdout;
	if (output) {
		snprintf(partial, n, "%s.partial", output);
		int fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
			log_error(lg, "export: cannot open output", LOG_S("file", partial), LOG_S("error", strerror(errno)));
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	setvbuf(o->f, NULL, _IOFBF, (size_t)1 << 20);
	return 0;
}

/* Closes the output; FILE.partial becomes FILE only when status is 0. Returns the final status. */
static int close_output(struct out *o, const char *output, const char *partial, int status, const struct logger *lg)
{
	if (!output)
		return status == 0 && fflush(stdout) != 0 ? 2 : status;
	int bad = fflush(o->f) != 0 || fsync(fileno(o->f)) != 0;
	bad |= fclose(o->f) != 0;
	if (status == 0 && (bad || rename(partial, output) != 0)) {
		log_error(lg, "export: cannot write output", LOG_S("file", output), LOG_S("error", strerror(errno)));
		status = 2;
	}
	if (status != 0)
		unlink(partial);
	return status;
}

int cli_export(const struct config *cfg, const struct logger *lg, int argc, char **argv)
{
	struct args a;
	struct nostr_filter nf;
	struct out o = { 0 };
	struct db *db = NULL;
	char partial[PATH_MAX];
	int status = parse_args(&a, argc, argv);
	if (status != 0)
		return status;
	nostr_filter_init(&nf);
	buf_init(&o.line);
	o.with_relays = a.with_relays;
	if ((status = read_filter(&a, &nf)) != 0)
		goto out;
	status = 1;
	if (open_reader(&db, cfg, lg) < 0)
		goto out;
	status = 2;
	if (open_output(&o, a.output, partial, sizeof(partial), lg) < 0)
		goto out;
	status = close_output(&o, a.output, partial, stream(db, &nf, &o, lg), lg);
out:
	db_close(db);
	buf_free(&o.line);
	nostr_filter_free(&nf);
	return status;
}
