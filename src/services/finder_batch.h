/* finder_batch.h — the finder's URL sets: one commit's candidates with their queue rows, and what the pass already committed. */
#ifndef BROTR_SERVICES_FINDER_BATCH_H
#define BROTR_SERVICES_FINDER_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "nostr/relay_url.h"
#include "services/finder_scan.h"

struct finder_cand {
	char url[RELAY_URL_MAX + 1];
	enum db_network network;
	enum finder_source source;
	char event_id[65];
};

/* Zero-initialised is empty. Not thread-safe; moved whole between threads. */
struct finder_batch {
	struct finder_cand *cands;
	size_t n, cap;
	uint32_t *slot_; /* open addressing over cands: index + 1, 0 empty; hcap_ slots */
	size_t hcap_;
	int64_t *seqs;   /* the queue rows the batch consumes */
	size_t n_seqs, seq_cap_;
};

/* Adds u (found in event_id, hex) unless the batch has its URL. Returns 1 added, 0 already there,
 * -1 out of memory. */
int finder_batch_add(struct finder_batch *b, const struct relay_url *u, enum finder_source src, const char *event_id)
	__attribute__((warn_unused_result));

/* Records a consumed queue row. Returns 0, or -1 out of memory. */
int finder_batch_seq(struct finder_batch *b, int64_t seq) __attribute__((warn_unused_result));

void finder_batch_free(struct finder_batch *b);

/* URLs a pass already committed (as candidates, or found known): not sent again. At most
 * FINDER_MEMO_MAX, exact strings, so a popular relay costs the database one probe per pass. */
#define FINDER_MEMO_MAX 65536
struct finder_memo {
	char **keys_; /* FINDER_MEMO_MAX * 2 slots, allocated on the first add */
	size_t n;
};

int finder_memo_has(const struct finder_memo *m, const char *url);
/* Remembers url while there is room (out of memory: it is simply not remembered). */
void finder_memo_add(struct finder_memo *m, const char *url);
void finder_memo_free(struct finder_memo *m);

#endif
