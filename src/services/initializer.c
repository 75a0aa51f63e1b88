/* initializer.c — brotr initializer: seeds the relay registry from [initializer] seed_file, in batches, and reports what it did. */
#include "services/services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "services/relay_file.h"
#include "services/service_db.h"

struct seed_counts {
	size_t inserted, known, rejected, duplicates;
};

static void count(struct service_ctx *ctx, const char *result, size_t n)
{
	char labels[48];
	if (n)
		metric_add(metrics_get(ctx->metrics, METRIC_COUNTER, "initializer_relays_total",
				       "Seed file entries by outcome: inserted, known (already registered), rejected "
				       "(unusable line or refused row), duplicate (listed twice).",
				       metrics_labels(labels, sizeof(labels), "result", result, NULL)),
			   (double)n);
}

/* Logs every line the file reader rejected, with file:line and the reason. */
static void report_rejects(struct service_ctx *ctx, const char *path, const struct relay_file *f)
{
	for (size_t i = 0; i < f->n_rejects; i++) {
		char where[4200];
		snprintf(where, sizeof(where), "%s:%d", path, f->rejects[i].line);
		log_warn(&ctx->log, "seed line rejected", LOG_S("at", where), LOG_S("reason", f->rejects[i].reason),
			 LOG_S("text", f->rejects[i].text));
	}
}

/* Inserts rows[0..n) in one batch, logging the rows the database refused. Returns 0, or -1 (logged). */
static int insert_batch(struct service_ctx *ctx, struct db *db, const struct db_relay *rows, size_t n,
			unsigned char *status, struct seed_counts *c)
{
	struct db_relay_result res = { 0 };
	if (db_insert_relay_batch(db, rows, n, wall_ms() / 1000, &res, status) != DB_OK) {
		log_error(&ctx->log, "cannot insert relays", LOG_S("error", db_error(db)));
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (status[i] != DB_ROW_OK)
			log_warn(&ctx->log, "seed relay refused by the database", LOG_S("relay", rows[i].url),
				 LOG_S("reason", db_reject_name((enum db_reject)status[i])));
	c->inserted += res.inserted;
	c->known += res.duplicates;
	c->rejected += res.rejected;
	return 0;
}

/* Inserts the relays [database] batch_size at a time. Returns 0, or -1 (logged) on a database
 * failure, a stop between batches, or no memory. */
static int insert_all(struct service_ctx *ctx, struct db *db, const struct relay_file *f, struct seed_counts *c)
{
	size_t batch = (size_t)ctx->cfg->database.batch_size;
	struct db_relay *rows = malloc(batch * sizeof(*rows));
	unsigned char *status = malloc(batch);
	int rc = rows && status ? 0 : -1;
	if (rc < 0)
		log_error(&ctx->log, "out of memory");
	for (size_t off = 0; rc == 0 && off < f->n; off += batch) {
		size_t n = f->n - off < batch ? f->n - off : batch;
		for (size_t i = 0; i < n; i++)
			rows[i] = (struct db_relay){ f->relays[off + i].url,
						     f->relays[off + i].network == RELAY_NET_TOR ? DB_TOR : DB_CLEARNET };
		rc = *ctx->stop ? -1 : insert_batch(ctx, db, rows, n, status, c);
	}
	free(rows);
	free(status);
	return rc;
}

static int initializer_pass(struct service_ctx *ctx)
{
	const struct config *cfg = ctx->cfg;
	const char *path = cfg->initializer.seed_file;
	struct relay_file f;
	struct seed_counts c = { 0 };
	struct db *db = NULL;
	char err[512];
	int rc = -1;
	if (relay_file_read(path, cfg->network.allow_local ? RELAY_URL_ALLOW_LOCAL : 0, &f, err, sizeof(err)) < 0) {
		log_error(&ctx->log, "cannot read the seed file", LOG_S("error", err));
		return -1;
	}
	report_rejects(ctx, path, &f);
	c.rejected = f.n_rejects;
	c.duplicates = f.duplicates;
	if (service_db_open(ctx, "brotr-initializer", &db) < 0 || insert_all(ctx, db, &f, &c) < 0)
		goto out;
	rc = 0;
out:
	count(ctx, "inserted", c.inserted);
	count(ctx, "known", c.known);
	count(ctx, "rejected", c.rejected);
	count(ctx, "duplicate", c.duplicates);
	log_info(&ctx->log, "initializer summary", LOG_S("file", path), LOG_U("relays", f.n),
		 LOG_U("inserted", c.inserted), LOG_U("known", c.known), LOG_U("rejected", c.rejected),
		 LOG_U("duplicates", c.duplicates), LOG_S("result", rc == 0 ? "complete" : "incomplete"));
	db_close(db);
	relay_file_free(&f);
	return rc;
}

const struct service_def initializer_service = {
	.name = "initializer",
	.interval_ms = NULL, /* runs once */
	.pass = initializer_pass,
};
