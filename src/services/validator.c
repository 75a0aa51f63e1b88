/* validator.c — brotr validator: tests the relay candidates due; promotes those that answer like Nostr relays. */
#include "services/services.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "discovery.h"
#include "services/service_db.h"
#include "services/validator_probe.h"

#define CHUNK_SIZE 5000 /* candidates read at once */
#define SLICE_MS 100    /* event loop slice between deadline checks */

struct outcome {
	char url[RELAY_URL_MAX + 1];
	int valid;
	char reason[VALIDATOR_REASON_MAX + 96]; /* "<category>: <reason>" */
};

struct tally {
	size_t tested, relays, not_relays, skipped;
	struct db_validator_result db;
};

struct pass {
	struct service_ctx *ctx;
	const struct config *cfg;
	struct db *db;
	struct validator_env env;
	struct db_relay_list due;
	size_t next;
	struct validator_probe **slots;
	size_t n_slots, in_flight;
	struct outcome *out;   /* finished tests not yet recorded */
	size_t n_out, cap_out;
	size_t recorded;       /* outcomes recorded in the current chunk */
	int failed;
	struct tally t;
};

static void count(struct pass *ps, const char *name, const char *help, const char *k1, const char *v1,
		  const char *k2, const char *v2, double n)
{
	metrics_count(ps->ctx->metrics, name, help, k1, v1, k2, v2, n);
}

/* Records the pending outcomes in one transaction. Returns 0, or -1 (logged; the pass fails). */
static int flush(struct pass *ps)
{
	const struct config *cfg = ps->cfg;
	struct db_validation *v = malloc((ps->n_out ? ps->n_out : 1) * sizeof(*v));
	struct db_validator_result r = { 0 };
	struct db_validator_policy pol = { .now = wall_ms() / 1000, .retry_base_s = cfg->validator.retry_base_ms / 1000,
					   .retry_max_s = cfg->validator.retry_max_ms / 1000,
					   .max_age_s = cfg->validator.max_age_ms / 1000,
					   .max_failures = (int)cfg->validator.max_failures };
	int rc = -1;
	if (!v) {
		log_error(&ps->ctx->log, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ps->n_out; i++)
		v[i] = (struct db_validation){ ps->out[i].url, ps->out[i].valid, ps->out[i].reason };
	if (ps->n_out && db_validator_record(ps->db, v, ps->n_out, &pol, &r) != DB_OK) {
		log_error(&ps->ctx->log, "cannot record validations", LOG_S("error", db_error(ps->db)));
		goto out;
	}
	ps->t.db.promoted += r.promoted, ps->t.db.failed += r.failed, ps->t.db.dropped += r.dropped;
	count(ps, "validator_promoted_total", "Candidates promoted to relays.", NULL, NULL, NULL, NULL, (double)r.promoted);
	count(ps, "validator_dropped_total", "Candidates dropped after max_failures or max_age.", NULL, NULL, NULL, NULL,
	      (double)r.dropped);
	ps->recorded += ps->n_out;
	ps->n_out = 0;
	rc = 0;
out:
	free(v);
	ps->failed |= rc < 0;
	return rc;
}

/* A finished test: counted, logged, queued for recording. */
static void complete(struct pass *ps, size_t i)
{
	struct validator_probe *p = ps->slots[i];
	const char *net = net_network_name(p->nw);
	if (p->verdict == VERDICT_LOCAL) {
		ps->t.skipped++;
		log_warn(&ps->ctx->log, "candidate not tested", LOG_S("relay", p->url), LOG_S("reason", p->reason));
	} else if (ps->n_out < ps->cap_out) {
		struct outcome *o = &ps->out[ps->n_out++];
		memcpy(o->url, p->url, sizeof(o->url));
		o->valid = p->verdict == VERDICT_RELAY;
		snprintf(o->reason, sizeof(o->reason), "%s: %s", p->category, p->reason);
		ps->t.tested++;
		*(o->valid ? &ps->t.relays : &ps->t.not_relays) += 1;
		count(ps, "validator_candidates_tested_total", "Candidates tested, by network and outcome category.",
		      "network", net, "result", p->category, 1);
		log_info(&ps->ctx->log, o->valid ? "candidate is a relay" : "candidate is not a relay",
			 LOG_S("relay", p->url), LOG_S("category", p->category), LOG_S("reason", p->reason));
	}
	free(p);
	ps->slots[i] = NULL;
	ps->in_flight--;
	if (ps->n_out == ps->cap_out)
		flush(ps);
}

static void start_one(struct pass *ps, const struct db_relay_row *r)
{
	enum net_network nw = r->network == DB_TOR ? NET_TOR : NET_CLEARNET;
	size_t i = 0;
	if (nw == NET_TOR && !*ps->cfg->tor.socks_proxy) {
		ps->t.skipped++;
		log_warn(&ps->ctx->log, "candidate not tested", LOG_S("relay", r->url),
			 LOG_S("reason", "a tor candidate needs [tor] socks_proxy"));
		return;
	}
	struct validator_probe *p = malloc(sizeof(*p));
	if (!p) {
		ps->t.skipped++;
		return;
	}
	while (ps->slots[i])
		i++;
	validator_probe_start(p, &ps->env, r->url, nw);
	ps->slots[i] = p;
	ps->in_flight++;
}

/* Tests the chunk's candidates, n_slots at once. */
static void run_chunk(struct pass *ps)
{
	const volatile sig_atomic_t *stop = ps->ctx->stop;
	for (;;) {
		while (ps->in_flight < ps->n_slots && ps->next < ps->due.n && !*stop && !ps->failed)
			start_one(ps, &ps->due.rows[ps->next++]);
		if (ps->in_flight == 0)
			return;
		if (net_run(ps->env.net, stop, SLICE_MS) < 0)
			return;
		uint64_t now = mono_ms();
		for (size_t i = 0; i < ps->n_slots; i++) {
			if (!ps->slots[i])
				continue;
			validator_probe_tick(ps->slots[i], now);
			if (validator_probe_finished(ps->slots[i]))
				complete(ps, i);
		}
	}
}

static int pass_open(struct pass *ps)
{
	const struct config *cfg = ps->cfg;
	struct net_options no;
	char err[512];
	if (service_db_open(ps->ctx, "brotr-validator", &ps->db) < 0)
		return -1;
	net_options_from_config(&no, cfg);
	if (!(ps->env.net = net_new(&no, &ps->ctx->log, ps->ctx->metrics, err, sizeof(err)))) {
		log_error(&ps->ctx->log, "cannot start the network layer", LOG_S("error", err));
		return -1;
	}
	ps->env.response_timeout_ms[NET_CLEARNET] = cfg->network.clearnet.response_timeout_ms;
	ps->env.response_timeout_ms[NET_TOR] = cfg->network.tor.response_timeout_ms;
	ps->n_slots = (size_t)(cfg->network.clearnet.max_connections + cfg->network.tor.max_connections);
	ps->cap_out = (size_t)cfg->database.batch_size;
	ps->slots = calloc(ps->n_slots, sizeof(*ps->slots));
	ps->out = calloc(ps->cap_out, sizeof(*ps->out));
	if (!ps->slots || !ps->out) {
		log_error(&ps->ctx->log, "out of memory");
		return -1;
	}
	return 0;
}

static void pass_close(struct pass *ps)
{
	net_free(ps->env.net); /* no callback follows: the probes can go */
	for (size_t i = 0; ps->slots && i < ps->n_slots; i++)
		free(ps->slots[i]);
	free(ps->slots);
	if (!ps->failed && ps->db)
		flush(ps);
	free(ps->out);
	db_relay_list_free(&ps->due);
	db_close(ps->db);
	validator_env_free(&ps->env);
}

/* Reads the next chunk due. Returns its size, or -1 (logged). */
static long read_chunk(struct pass *ps, size_t budget)
{
	db_relay_list_free(&ps->due);
	ps->next = 0;
	ps->recorded = 0;
	if (db_candidates_due(ps->db, wall_ms() / 1000, budget < CHUNK_SIZE ? budget : CHUNK_SIZE, &ps->due) != DB_OK) {
		log_error(&ps->ctx->log, "cannot read the candidates due", LOG_S("error", db_error(ps->db)));
		return -1;
	}
	return (long)ps->due.n;
}

static void summary(struct pass *ps)
{
	const struct tally *t = &ps->t;
	log_info(&ps->ctx->log, "validator pass summary", LOG_U("tested", t->tested), LOG_U("relays", t->relays),
		 LOG_U("not_relays", t->not_relays), LOG_U("promoted", t->db.promoted), LOG_U("failed", t->db.failed),
		 LOG_U("dropped", t->db.dropped), LOG_U("skipped", t->skipped), LOG_U("abandoned", ps->in_flight));
}

static int validator_pass(struct service_ctx *ctx)
{
	struct pass ps = { .ctx = ctx, .cfg = ctx->cfg };
	size_t budget = (size_t)ctx->cfg->validator.max_candidates;
	long n = 0;
	validator_env_init(&ps.env);
	int rc = pass_open(&ps);
	while (rc == 0 && budget && !*ctx->stop && (n = read_chunk(&ps, budget)) > 0) {
		budget -= (size_t)n;
		run_chunk(&ps);
		if (!ps.failed)
			flush(&ps);
		/* a chunk that recorded nothing (all skipped) would come back unchanged */
		if (ps.failed || ps.recorded == 0 || (size_t)n < CHUNK_SIZE)
			break;
	}
	if (n < 0 || ps.failed)
		rc = -1;
	pass_close(&ps);
	summary(&ps);
	return rc;
}

static long long validator_interval(const struct config *cfg)
{
	return cfg->validator.interval_ms;
}

static int validator_check(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->brotr.validator)
		return 0;
	snprintf(err, errlen, "this implementation does not run the validator ([brotr] validator = false)");
	return -1;
}

const struct service_def validator_service = {
	.name = "validator",
	.interval_ms = validator_interval,
	.check = validator_check,
	.pass = validator_pass,
};
