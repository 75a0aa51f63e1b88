/* metrics.h — a registry of counters and gauges rendered in the Prometheus text format. */
#ifndef BROTR_CORE_METRICS_H
#define BROTR_CORE_METRICS_H

#include "core/util.h"

enum metric_kind { METRIC_COUNTER, METRIC_GAUGE };

struct metrics;
struct metric;

/* Creates an empty registry; every series gets the label service="<service>". NULL on OOM. */
struct metrics *metrics_new(const char *service);
void metrics_free(struct metrics *m);

/*
 * Returns the series name{labels}, creating it at 0 on first use. name is a constant
 * (brotr_ prefix added when rendering); help is its HELP text; labels is NULL or a list of
 * k="v" pairs built with metrics_labels(). The returned pointer lives as long as the registry.
 * Returns NULL only on allocation failure; metric_add and metric_set accept NULL.
 */
struct metric *metrics_get(struct metrics *m, enum metric_kind kind, const char *name, const char *help,
			   const char *labels);

/* Formats label pairs, escaping values: metrics_labels(out, len, "reason", "bad_sig", NULL). */
const char *metrics_labels(char *out, size_t len, ...);

/* Adds n to counter name{k1="v1",k2="v2"}; k1 and k2 may be NULL (fewer labels). */
void metrics_count(struct metrics *m, const char *name, const char *help, const char *k1, const char *v1,
		   const char *k2, const char *v2, double n);

/* Thread-safe updates. */
void metric_add(struct metric *s, double v);
void metric_set(struct metric *s, double v);
double metric_value(const struct metric *s);

/* Records the outcome of a pass: ok (1/0), start and end wall-clock times in ms. Thread-safe. */
void metrics_pass_done(struct metrics *m, int ok, int64_t start_ms, int64_t end_ms);
/* 1 ok, 0 failed, -1 no pass finished yet. */
int metrics_last_pass_ok(struct metrics *m);

/* Renders every series in the text exposition format (version 0.0.4). */
void metrics_render(struct metrics *m, struct buf *out);

/* Writes <dir>/brotr_<service>.prom atomically (node_exporter textfile collector). Returns 0 or -1/errno. */
int metrics_write_file(struct metrics *m, const char *dir) __attribute__((warn_unused_result));

/* The largest file metrics_load_file reads. */
#define METRICS_FILE_MAX (64u << 20)

/*
 * Continues the counters of <dir>/brotr_<service>.prom, written by an earlier process: each counter
 * series in it is added to the registry, so counters only grow across the passes of a timer (as
 * Prometheus' rate() and increase() expect) until the file is removed. Gauges are not read: they
 * describe this process's passes. Lines that do not parse, and other services' series, are
 * ignored. Call before the first pass. Returns 0 (also when there is no file), or -1 with errno.
 */
int metrics_load_file(struct metrics *m, const char *dir) __attribute__((warn_unused_result));

#endif
