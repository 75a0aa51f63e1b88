/* monitor_store.c — the monitor's snapshots written in batches on a thread of their own, so the event loop never waits for the database. */
#include "services/monitor_store.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/jobq.h"

#define SNAPSHOTS_HELP "Monitor snapshots by outcome: stored, duplicate (already there), rejected, lost."

struct batch {
	struct jobq_job job;
	size_t n;
	struct monitor_snapshot rows[]; /* batch_size of them */
};

struct monitor_store {
	struct db *db;
	size_t batch_size;
	struct logger log;
	struct metrics *metrics;
	struct batch *filling;          /* owned by the caller's thread */
	size_t lost_unqueued;           /* owned by the caller's thread */
	struct jobq *q;
	struct monitor_store_stats stats; /* the writer thread's; read once it has stopped */
	/* the writer's scratch, reused between batches */
	struct db_relay_metadata *meta;
	struct db_doc *docs;            /* 3 per row: nip11, nip66, tls */
};

void monitor_snapshot_clear(struct monitor_snapshot *s)
{
	free(s->nip11_json);
	free(s->nip66_json);
	free(s->tls_json);
	s->nip11_json = s->nip66_json = s->tls_json = NULL;
	s->nip11_len = s->nip66_len = s->tls_len = 0;
}

static void free_batch(struct batch *b)
{
	for (size_t i = 0; b && i < b->n; i++)
		monitor_snapshot_clear(&b->rows[i]);
	free(b);
}

static void count(struct monitor_store *s, const char *name, const char *help, const char *k1, const char *v1,
		  const char *k2, const char *v2, size_t n)
{
	char labels[96];
	if (n && s->metrics)
		metric_add(metrics_get(s->metrics, METRIC_COUNTER, name, help,
				       metrics_labels(labels, sizeof(labels), k1, v1, k2, v2, NULL)),
			   (double)n);
}

static void account(struct monitor_store *s, const struct db_metadata_result *r, size_t n11, size_t n66,
		    size_t ntls)
{
	size_t rejected = 0;
	for (int i = 0; i < DB_REJECT__COUNT; i++)
		rejected += r->rejected[i];
	static const char docs[] = "NIP-11, NIP-66 and TLS documents sent with snapshots: new rows, or shared with an "
				   "identical one.";
	count(s, "monitor_snapshots_total", SNAPSHOTS_HELP, "result", "stored", NULL, NULL, r->inserted);
	count(s, "monitor_snapshots_total", SNAPSHOTS_HELP, "result", "duplicate", NULL, NULL, r->duplicates);
	count(s, "monitor_snapshots_total", SNAPSHOTS_HELP, "result", "rejected", NULL, NULL, rejected);
	count(s, "monitor_documents_total", docs, "doc", "nip11", "result", "new", r->nip11_inserted);
	count(s, "monitor_documents_total", docs, "doc", "nip11", "result", "shared", n11 - r->nip11_inserted);
	count(s, "monitor_documents_total", docs, "doc", "nip66", "result", "new", r->nip66_inserted);
	count(s, "monitor_documents_total", docs, "doc", "nip66", "result", "shared", n66 - r->nip66_inserted);
	count(s, "monitor_documents_total", docs, "doc", "tls", "result", "new", r->tls_inserted);
	count(s, "monitor_documents_total", docs, "doc", "tls", "result", "shared", ntls - r->tls_inserted);
	count(s, "monitor_documents_refused_total",
	      "Snapshots stored without a document the database refused (the document is not kept).", NULL, NULL,
	      NULL, NULL, r->docs_refused);
	if (r->docs_refused)
		log_warn(&s->log, "snapshots stored without a document the database refused",
			 LOG_U("snapshots", r->docs_refused));
	s->stats.stored += r->inserted;
	s->stats.duplicates += r->duplicates;
	s->stats.rejected += rejected;
	s->stats.nip11_sent += n11;
	s->stats.nip11_new += r->nip11_inserted;
	s->stats.nip66_sent += n66;
	s->stats.nip66_new += r->nip66_inserted;
	s->stats.tls_sent += ntls;
	s->stats.tls_new += r->tls_inserted;
	s->stats.batches++;
}

static const struct db_doc *doc(struct db_doc *d, const char *json, size_t len, const unsigned char id[32])
{
	if (!json)
		return NULL;
	memcpy(d->id, id, 32);
	d->json = json;
	d->len = len;
	return d;
}

/* Writes one batch. Returns 0, or -1 (logged) when it could not be written. */
static int write_batch(struct monitor_store *s, const struct batch *b)
{
	size_t n11 = 0, n66 = 0, ntls = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct monitor_snapshot *r = &b->rows[i];
		s->meta[i] = (struct db_relay_metadata){
			.relay = { .url = r->url, .network = r->network },
			.generated_at = r->generated_at,
			.connection_ok = r->connection_ok,
			.nip11_ok = r->nip11_ok,
			.nip11 = doc(&s->docs[3 * i], r->nip11_json, r->nip11_len, r->nip11_id),
			.nip66 = doc(&s->docs[3 * i + 1], r->nip66_json, r->nip66_len, r->nip66_id),
			.tls = doc(&s->docs[3 * i + 2], r->tls_json, r->tls_len, r->tls_id),
		};
		n11 += r->nip11_json != NULL;
		n66 += r->nip66_json != NULL;
		ntls += r->tls_json != NULL;
	}
	struct db_metadata_result res = { 0 };
	int rc = db_insert_relay_metadata_batch(s->db, s->meta, b->n, &res, NULL);
	if (rc != DB_OK) {
		log_error(&s->log, "cannot store snapshots", LOG_U("snapshots", b->n), LOG_S("error", db_error(s->db)));
		return -1;
	}
	account(s, &res, n11, n66, ntls);
	return 0;
}

/* The writer thread's job: one batch, written or (after a failure) skipped, then freed. */
static int run_batch(void *ctx, struct jobq_job *job, int skip)
{
	struct monitor_store *s = ctx;
	struct batch *b = (struct batch *)((char *)job - offsetof(struct batch, job));
	int rc = skip ? -1 : write_batch(s, b);
	if (rc < 0) {
		s->stats.lost += b->n;
		count(s, "monitor_snapshots_total", SNAPSHOTS_HELP, "result", "lost", NULL, NULL, b->n);
	}
	free_batch(b);
	return rc;
}

static struct batch *new_batch(size_t size)
{
	struct batch *b = calloc(1, sizeof(*b) + size * sizeof(b->rows[0]));
	return b;
}

struct monitor_store *monitor_store_new(struct db *db, size_t batch_size, const struct logger *lg, struct metrics *m)
{
	struct monitor_store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->db = db;
	s->batch_size = batch_size ? batch_size : 1;
	s->log = *lg;
	s->metrics = m;
	s->meta = calloc(s->batch_size, sizeof(*s->meta));
	s->docs = calloc(3 * s->batch_size, sizeof(*s->docs));
	if (!s->meta || !s->docs || !(s->q = jobq_start(run_batch, s, 0))) {
		free(s->meta);
		free(s->docs);
		free(s);
		return NULL;
	}
	return s;
}

void monitor_store_flush(struct monitor_store *s)
{
	struct batch *b = s->filling;
	if (!b || b->n == 0)
		return;
	s->filling = NULL;
	jobq_put(s->q, &b->job);
}

int monitor_store_add(struct monitor_store *s, struct monitor_snapshot *snap)
{
	if (!s->filling && !(s->filling = new_batch(s->batch_size))) {
		monitor_snapshot_clear(snap);
		s->lost_unqueued++;
		return -1;
	}
	s->filling->rows[s->filling->n++] = *snap;
	memset(snap, 0, sizeof(*snap));
	if (s->filling->n == s->batch_size)
		monitor_store_flush(s);
	return 0;
}

int monitor_store_backlogged(struct monitor_store *s)
{
	return jobq_queued(s->q) >= 2;
}

int monitor_store_failed(struct monitor_store *s)
{
	return jobq_failed(s->q);
}

void monitor_store_wait(struct monitor_store *s, long long ms)
{
	jobq_wait(s->q, 2, ms);
}

int monitor_store_finish(struct monitor_store *s, struct monitor_store_stats *stats)
{
	monitor_store_flush(s);
	jobq_stop(s->q); /* runs what is queued: nothing comes back (the jobs free their batches) */
	/* Batches are never empty, so a failed or skipped one shows as lost snapshots. */
	int rc = s->stats.lost > 0 ? -1 : 0;
	s->stats.lost += s->lost_unqueued;
	*stats = s->stats;
	free_batch(s->filling);
	free(s->meta);
	free(s->docs);
	free(s);
	return rc;
}
