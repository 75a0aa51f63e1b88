/* config.c — the key table and the loader: defaults < INI files < .env < BROTR_* environment. */
#include "core/config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

enum key_type { T_STR, T_INT, T_BOOL, T_DURATION, T_SIZE, T_ENUM, T_PATH, T_ADDR };

#define F_SECRET 1u   /* only from .env or the environment; masked when shown */
#define F_REQUIRED 2u /* must be non-empty after loading */
#define F_LOOPBACK 4u /* T_ADDR: the host must be a loopback address unless [metrics] allow_remote */

struct key_def {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def;       /* default, parsed like any other value */
	long long min, max;    /* T_INT, T_DURATION (ms), T_SIZE (bytes) */
	const char *values;    /* T_ENUM: "a|b|c" */
	unsigned flags;
	const char *help;
};

struct section_def {
	const char *name;
	int service; /* keys live in services/<name>.ini rather than brotr.ini */
	const char *help;
};

#define OFF(field) offsetof(struct config, field)
#define NOLIM 0, 0

static const struct section_def sections[] = {
	{ "brotr", 0, "What this implementation runs." },
	{ "log", 0, "Logging to stderr (journald-friendly) or a file." },
	{ "metrics", 0, "Prometheus metrics: a textfile-collector file per pass, and an HTTP endpoint in --loop mode." },
	{ "database", 0, "The PostgreSQL server the services write to (directly or through PgBouncer)." },
	{ "network", 0, "Which relay URLs are acceptable, whatever the network." },
	{ "tor", 0, "The SOCKS5 proxy every relay connection goes through." },
	{ "auth", 0, "NIP-42: the identity the monitor and the synchronizers answer AUTH challenges with." },
	{ "initializer", 1, "Seeds the relay registry from a file of relay URLs." },
	{ "monitor", 1, "Checks relays: NIP-11 document, NIP-66 open, read and write tests." },
	{ "publisher", 1, "NIP-66 publishing, inside brotr monitor: kind 30166 per relay that opened, the 10166 "
			  "announcement, kinds 0 and 10002." },
	{ "synchronizer", 1, "Archives every event of every readable relay." },
	{ "priority_synchronizer", 1, "Archives every event of the relays listed in relay_file." },
	{ "finder", 1, "Finds relay URLs in the archived events: relay candidates for the validator." },
	{ "validator", 1, "Tests relay candidates; those that answer like Nostr relays become relays." },
};

/* The [network] rows of one network's limits: <net>_max_connections, _connect_timeout, ... */
#define NET_LIMIT_KEYS(net, conns, connect, tls, upgrade, response, idle)                                     \
	{ "network", #net "_max_connections", T_INT, OFF(network.net.max_connections), conns, 1, 4096, NULL, 0,  \
	  "Connections to " #net " relays at once (websocket and NIP-11); more wait their turn." },              \
	{ "network", #net "_connect_timeout", T_DURATION, OFF(network.net.connect_timeout_ms), connect, 1000,     \
	  3600000, NULL, 0, "Time for a " #net " relay's tunnel: SOCKS CONNECT answered, or TCP connected." },     \
	{ "network", #net "_tls_timeout", T_DURATION, OFF(network.net.tls_timeout_ms), tls, 1000, 3600000, NULL, \
	  0, "Time for the TLS handshake with a " #net " relay." },                                             \
	{ "network", #net "_upgrade_timeout", T_DURATION, OFF(network.net.upgrade_timeout_ms), upgrade, 1000,    \
	  3600000, NULL, 0, "Time for the websocket upgrade (or NIP-11 response headers) of a " #net " relay." }, \
	{ "network", #net "_response_timeout", T_DURATION, OFF(network.net.response_timeout_ms), response, 1000, \
	  3600000, NULL, 0, "Time for a " #net " relay's first answer to a request, or a NIP-11 body." },        \
	{ "network", #net "_idle_timeout", T_DURATION, OFF(network.net.idle_timeout_ms), idle, 0, 86400000LL,    \
	  NULL, 0, "Close a " #net " connection after this long without a message; 0: never." },                \
	{ "network", #net "_allow_insecure", T_BOOL, OFF(network.net.allow_insecure), "false", NOLIM, NULL, 0,   \
	  "Accept invalid TLS certificates (self-signed, expired, wrong name) from " #net " relays." }

/* The rows of one synchronizer section (the two differ only in defaults and relay_file). */
#define SYNC_KEYS(sec, interval, relays)                                                                           \
	{ #sec, "interval", T_DURATION, OFF(sec.interval_ms), interval, 60000, 86400000LL * 30, NULL, 0,           \
	  "Time between pass starts with --loop." },                                                              \
	{ #sec, "filter", T_STR, OFF(sec.filter), "{}", NOLIM, NULL, 0,                                           \
	  "NIP-01 filter (JSON, no since/until/limit) of the events to archive; {} is every event." },           \
	{ #sec, "since", T_INT, OFF(sec.since), "0", 0, 4102444800LL, NULL, 0,                                    \
	  "Oldest created_at archived (Unix seconds) for a relay without progress." },                           \
	{ #sec, "page_limit", T_INT, OFF(sec.page_limit), "500", 1, 100000, NULL, 0,                              \
	  "limit asked in every REQ; relays may return fewer, which the paging never takes as the end." },       \
	{ #sec, "overlap", T_DURATION, OFF(sec.overlap_ms), "1h", 0, 86400000LL * 30, NULL, 0,                    \
	  "Read again this far below a relay's progress, for events that reached it late." },                    \
	{ #sec, "max_relays", T_INT, OFF(sec.max_relays), relays, 1, 10000, NULL, 0,                              \
	  "Relays synchronized at once (each holds one connection and one batch in memory)." },                  \
	{ #sec, "max_windows", T_INT, OFF(sec.max_windows), "8", 1, 16, NULL, 0,                                  \
	  "Windows of one relay's range walked at once, each a subscription on its one connection; fewer "      \
	  "when the relay refuses more." },                                                                        \
	{ #sec, "relay_budget", T_DURATION, OFF(sec.relay_budget_ms), "10m", 1000, 86400000LL, NULL, 0,           \
	  "Time one relay may take in a pass; its progress is kept and the next pass goes on." },               \
	{ #sec, "pass_budget", T_DURATION, OFF(sec.pass_budget_ms), "50m", 1000, 86400000LL * 7, NULL, 0,         \
	  "Time a pass may take; relays not finished keep their progress." },                                     \
	{ #sec, "max_event_tags", T_INT, OFF(sec.max_event_tags), "20000", 1, 1000000, NULL, 0,                    \
	  "Events with more tags are refused and counted (a 1 MiB event of 52-byte tags has 20000)." },          \
	{ #sec, "verify_stored", T_BOOL, OFF(sec.verify_stored), "false", NOLIM, NULL, 0,                          \
	  "Check the signature of an event the archive already holds with the same signature too (false: its " \
	  "id only, which binds the content; the stored signature was checked on the way in)." }

/* The single table of configuration keys. Keep rows grouped by section, sections in the order above. */
static const struct key_def keys[] = {
	{ "brotr", "sync_service", T_ENUM, OFF(brotr.sync_service), "synchronizer", NOLIM,
	  "synchronizer|priority_synchronizer", 0,
	  "Which archiving service this implementation runs; running the other one exits 2." },
	{ "brotr", "finder", T_BOOL, OFF(brotr.finder), "true", NOLIM, NULL, 0,
	  "Whether this implementation runs the finder; when false, brotr finder exits 2." },
	{ "brotr", "validator", T_BOOL, OFF(brotr.validator), "true", NOLIM, NULL, 0,
	  "Whether this implementation runs the validator; when false, brotr validator exits 2." },

	{ "log", "level", T_ENUM, OFF(log.level), "info", NOLIM, "debug|info|warn|error", 0,
	  "Least severe level written (--log-level overrides)." },
	{ "log", "format", T_ENUM, OFF(log.format), "text", NOLIM, "text|json", 0,
	  "text: logfmt lines; json: one JSON object per line (--log-format overrides)." },
	{ "log", "file", T_PATH, OFF(log.file), "", NOLIM, NULL, 0,
	  "Append to this file instead of stderr; reopened on SIGHUP for logrotate." },
	{ "log", "rate_limit_burst", T_INT, OFF(log.rate_limit_burst), "20", 0, 1000000, NULL, 0,
	  "Events allowed per (logger, message, subject) per interval; 0 turns rate limiting off." },
	{ "log", "rate_limit_interval", T_DURATION, OFF(log.rate_limit_interval_ms), "60s", 1000, 86400000LL, NULL, 0,
	  "Window of the rate limit; suppressed events are counted and reported." },

	{ "metrics", "dir", T_PATH, OFF(metrics.dir), "", NOLIM, NULL, 0,
	  "Write brotr_<service>.prom here after each pass (node_exporter textfile collector); empty: off." },
	{ "metrics", "listen", T_ADDR, OFF(metrics.listen), "", NOLIM, NULL, F_LOOPBACK,
	  "In --loop mode, serve /metrics and /health on this host:port (127.0.0.0/8, [::1] or localhost); empty: off." },
	{ "metrics", "allow_remote", T_BOOL, OFF(metrics.allow_remote), "false", NOLIM, NULL, 0,
	  "Let listen be any address (a container, a private network); the endpoint has no authentication." },

	{ "database", "host", T_STR, OFF(database.host), "127.0.0.1", NOLIM, NULL, F_REQUIRED,
	  "Server host name, IPv4 address, or Unix socket directory (starting with /)." },
	{ "database", "port", T_INT, OFF(database.port), "5432", 1, 65535, NULL, 0, "Server TCP port." },
	{ "database", "name", T_STR, OFF(database.name), "brotr", NOLIM, NULL, F_REQUIRED, "Database name." },
	{ "database", "user", T_STR, OFF(database.user), "brotr_writer", NOLIM, NULL, F_REQUIRED,
	  "Role the services connect as." },
	{ "database", "password", T_STR, OFF(database.password), "", NOLIM, NULL, F_SECRET,
	  "Password of that role (secret: .env or environment only)." },
	{ "database", "connect_timeout", T_DURATION, OFF(database.connect_timeout_ms), "10s", 2000, 600000, NULL, 0,
	  "Give up one connection attempt after this long (whole seconds)." },
	{ "database", "connect_wait", T_DURATION, OFF(database.connect_wait_ms), "60s", 0, 86400000LL, NULL, 0,
	  "Keep retrying an unreachable server this long before a call fails; 0: one attempt." },
	{ "database", "retry_max", T_DURATION, OFF(database.retry_max_ms), "30s", 250, 600000, NULL, 0,
	  "Longest pause between attempts (the backoff starts at 250ms and doubles)." },
	{ "database", "batch_size", T_INT, OFF(database.batch_size), "1000", 1, 100000, NULL, 0,
	  "Rows per batch: one statement, one round trip, one transaction." },
	{ "database", "admin_host", T_STR, OFF(database.admin_host), "", NOLIM, NULL, 0,
	  "brotr db init: server to reach as administrator, directly rather than through PgBouncer; empty: host." },
	{ "database", "admin_port", T_INT, OFF(database.admin_port), "0", 0, 65535, NULL, 0,
	  "brotr db init: its port; 0: port." },
	{ "database", "admin_user", T_STR, OFF(database.admin_user), "postgres", NOLIM, NULL, F_REQUIRED,
	  "brotr db init: a superuser; it creates the roles, the database and the schema." },
	{ "database", "admin_password", T_STR, OFF(database.admin_password), "", NOLIM, NULL, F_SECRET,
	  "Its password (secret: .env or environment only)." },
	{ "database", "reader_user", T_STR, OFF(database.reader_user), "", NOLIM, NULL, 0,
	  "brotr export: a login member of brotr_reader (the services' role may not read events); empty: user." },
	{ "database", "reader_password", T_STR, OFF(database.reader_password), "", NOLIM, NULL, F_SECRET,
	  "Its password (secret: .env or environment only)." },

	{ "network", "allow_local", T_BOOL, OFF(network.allow_local), "false", NOLIM, NULL, 0,
	  "Accept relays on loopback, private or reserved addresses and localhost (tests, labs)." },
	NET_LIMIT_KEYS(clearnet, "100", "15s", "10s", "10s", "15s", "60s"),
	NET_LIMIT_KEYS(tor, "30", "60s", "30s", "30s", "60s", "180s"),
	{ "network", "max_message_size", T_SIZE, OFF(network.max_message_size), "1M", 1024, 64LL << 20, NULL, 0,
	  "Largest websocket message accepted from a relay; larger ones are skipped, logged and counted." },
	{ "network", "nip11_max_size", T_SIZE, OFF(network.nip11_max_size), "64K", 1024, 16LL << 20, NULL, 0,
	  "Largest NIP-11 document accepted." },
	{ "network", "max_tunnels", T_INT, OFF(network.max_tunnels), "256", 1, 16384, NULL, 0,
	  "Connections through the SOCKS5 helper at once, both networks (keep it >= the max_connections sum)." },
	{ "network", "ca_file", T_PATH, OFF(network.ca_file), "", NOLIM, NULL, 0,
	  "CA certificates (PEM) trusted for wss relays besides the system's (a private CA); empty: none." },

	{ "tor", "socks_proxy", T_ADDR, OFF(tor.socks_proxy), "127.0.0.1:9050", NOLIM, NULL, 0,
	  "SOCKS5 proxy host:port for every relay connection; empty: connect directly (no .onion)." },
	{ "tor", "isolation", T_ENUM, OFF(tor.isolation), "relay", NOLIM, "relay|connection|none", 0,
	  "SOCKS username per relay (one Tor circuit each), per connection, or none (IsolateSOCKSAuth)." },

	{ "auth", "enabled", T_BOOL, OFF(auth.enabled), "true", NOLIM, NULL, 0,
	  "Answer AUTH challenges (only when private_key is set); false: note them, never answer." },
	{ "auth", "private_key", T_STR, OFF(auth.private_key), "", NOLIM, NULL, F_SECRET,
	  "Key signing NIP-42 AUTH answers (hex or nsec; secret); empty: challenges are not answered." },

	{ "initializer", "seed_file", T_PATH, OFF(initializer.seed_file), "data/seed_relays.txt", NOLIM, NULL,
	  F_REQUIRED, "Relay URLs, one per line; blank lines and # comments allowed." },

	{ "monitor", "interval", T_DURATION, OFF(monitor.interval_ms), "1h", 60000, 86400000LL * 30, NULL, 0,
	  "A relay is checked again once its last snapshot is this old; also the --loop interval." },
	{ "monitor", "max_relays", T_INT, OFF(monitor.max_relays), "0", 0, 10000000, NULL, 0,
	  "Relays checked per pass at most (the least recently checked first); 0: every relay due." },
	{ "monitor", "write_test", T_BOOL, OFF(monitor.write_test), "true", NOLIM, NULL, 0,
	  "Publish a test event of an ephemeral kind to learn whether the relay accepts writes." },
	{ "monitor", "write_kind", T_INT, OFF(monitor.write_kind), "20166", 20000, 29999, NULL, 0,
	  "Kind of the write test event: ephemeral (20000-29999), so relays keep nothing." },
	{ "monitor", "max_pow", T_INT, OFF(monitor.max_pow), "16", 0, 32, NULL, 0,
	  "Highest NIP-13 difficulty mined for the write test; above it, write is recorded as not tested." },
	{ "monitor", "private_key", T_STR, OFF(monitor.private_key), "", NOLIM, NULL, F_SECRET,
	  "Key signing the write test (hex or nsec; secret); empty: a fresh ephemeral key per pass." },
	{ "monitor", "nip77_test", T_BOOL, OFF(monitor.nip77_test), "true", NOLIM, NULL, 0,
	  "Send a NIP-77 NEG-OPEN for an empty set to learn whether the relay really speaks negentropy." },
	{ "monitor", "tls_expiry_warning", T_DURATION, OFF(monitor.tls_expiry_warning_ms), "14d", 0, 86400000LL * 365,
	  NULL, 0, "A wss relay's certificate that expires within this (or has expired) counts as expiring." },

	{ "publisher", "enabled", T_BOOL, OFF(publisher.enabled), "false", NOLIM, NULL, 0,
	  "Publish what each monitor pass observed as NIP-66 events (needs [monitor] private_key and relays)." },
	{ "publisher", "relays", T_STR, OFF(publisher.relays), "", NOLIM, NULL, 0,
	  "Publish relays (ws:// or wss:// URLs, comma-separated, at most 16), reached like any relay." },
	{ "publisher", "expiration_intervals", T_INT, OFF(publisher.expiration_intervals), "3", 2, 100, NULL, 0,
	  "A 30166 event expires (NIP-40) this many [monitor] intervals after it is published." },
	{ "publisher", "profile", T_STR, OFF(publisher.profile), "", NOLIM, NULL, 0,
	  "The monitor's kind 0 profile, a JSON object ({\"name\":...,\"about\":...}); empty: none published." },
	{ "publisher", "relay_list", T_BOOL, OFF(publisher.relay_list), "false", NOLIM, NULL, 0,
	  "Also publish a kind 10002 relay list naming the publish relays." },

	SYNC_KEYS(synchronizer, "15m", "20"),

	SYNC_KEYS(priority_synchronizer, "5m", "10"),
	{ "priority_synchronizer", "relay_file", T_PATH, OFF(priority_synchronizer.relay_file),
	  "data/priority_relays.txt", NOLIM, NULL, F_REQUIRED,
	  "The relays to archive, one URL per line, whether or not the monitor found them readable." },
	{ "priority_synchronizer", "tail", T_BOOL, OFF(priority_synchronizer.tail), "true", NOLIM, NULL, 0,
	  "With --loop, keep a subscription open on each listed relay between passes and store what arrives "
	  "(seconds behind, not an interval)." },

	{ "finder", "interval", T_DURATION, OFF(finder.interval_ms), "1h", 60000, 86400000LL * 30, NULL, 0,
	  "Time between pass starts with --loop." },
	{ "finder", "pass_budget", T_DURATION, OFF(finder.pass_budget_ms), "10m", 1000, 86400000LL, NULL, 0,
	  "Time a pass may take; the events not read stay queued for the next pass." },
	{ "finder", "sources", T_STR, OFF(finder.sources), "", NOLIM, NULL, 0,
	  "HTTP sources listing relays as JSON: \"URL [PATH], ...\"; PATH like relays.*.url, none: the document." },
	{ "finder", "source_interval", T_DURATION, OFF(finder.source_interval_ms), "1d", 60000, 86400000LL * 365, NULL,
	  0, "A source is fetched again only once this long has passed since its last fetch." },
	{ "finder", "source_max_size", T_SIZE, OFF(finder.source_max_size), "1M", 1024, 64LL << 20, NULL, 0,
	  "Largest source document accepted." },

	{ "validator", "interval", T_DURATION, OFF(validator.interval_ms), "1h", 60000, 86400000LL * 30, NULL, 0,
	  "Time between pass starts with --loop." },
	{ "validator", "max_candidates", T_INT, OFF(validator.max_candidates), "1000", 1, 10000000, NULL, 0,
	  "Candidates tested per pass at most (the longest waiting first)." },
	{ "validator", "retry_base", T_DURATION, OFF(validator.retry_base_ms), "1h", 1000, 86400000LL * 30, NULL, 0,
	  "A failed candidate is tried again after this long, doubled for each further failure." },
	{ "validator", "retry_max", T_DURATION, OFF(validator.retry_max_ms), "7d", 1000, 86400000LL * 365, NULL, 0,
	  "Longest wait between two attempts of a candidate." },
	{ "validator", "max_failures", T_INT, OFF(validator.max_failures), "5", 1, 1000, NULL, 0,
	  "A candidate that failed this many times is dropped." },
	{ "validator", "max_age", T_DURATION, OFF(validator.max_age_ms), "30d", 60000, 86400000LL * 3650, NULL, 0,
	  "A candidate first found longer ago that fails again is dropped." },
};

#define N_KEYS ARRAY_LEN(keys)

/* Private loader state, alive during config_load only. */
struct loader {
	struct config *cfg;
	struct buf *errors;
	const char *file;         /* file being parsed (config-owned copy) */
	const char *only_section; /* services/<x>.ini: the one section allowed */
	int line;
	int line_done;            /* the last chunk read ended a line */
	FILE *fp;
	char **owned;             /* file names referenced by origins */
	size_t n_owned;
	int failed;
};

static void *field(struct config *cfg, const struct key_def *k)
{
	return (char *)cfg + k->offset;
}

static void add_error(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_error(struct loader *ld, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_printf(ld->errors, "%s\n", msg);
	ld->failed = 1;
}

static const struct section_def *find_section(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(sections); i++)
		if (strcmp(sections[i].name, name) == 0)
			return &sections[i];
	return NULL;
}

static const struct key_def *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static void env_name(const struct key_def *k, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "BROTR_%s_%s", k->section, k->name);
	for (size_t i = 6; i < n && i < len; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

static const char *type_name(enum key_type t)
{
	static const char *names[] = { "string", "integer", "boolean", "duration", "size", "enum", "path",
				       "host:port" };
	return names[t];
}

/* Describes what a key accepts, for error messages and the reference. */
static void allowed_text(const struct key_def *k, char *out, size_t len)
{
	switch (k->type) {
	case T_INT:
		snprintf(out, len, "an integer %lld..%lld", k->min, k->max);
		break;
	case T_DURATION:
		snprintf(out, len, "a duration (N, Nms, Ns, Nm, Nh, Nd) from %lldms to %lldms", k->min, k->max);
		break;
	case T_SIZE:
		snprintf(out, len, "a size (N, NK, NM, NG) from %lld to %lld bytes", k->min, k->max);
		break;
	case T_BOOL:
		snprintf(out, len, "true or false");
		break;
	case T_ENUM:
	{
		size_t n = (size_t)snprintf(out, len, "one of ");
		for (const char *p = k->values; *p && n + 3 < len; p++) {
			if (*p == '|') {
				out[n++] = ',';
				out[n++] = ' ';
			} else {
				out[n++] = *p;
			}
		}
		out[n] = '\0';
		break;
	}
	case T_ADDR:
		snprintf(out, len, "host:port%s, or empty", k->flags & F_LOOPBACK ? " on loopback" : "");
		break;
	case T_PATH:
		snprintf(out, len, "a path, relative to the implementation directory");
		break;
	case T_STR:
		snprintf(out, len, "any text");
		break;
	}
}

static int enum_index(const char *values, const char *v)
{
	size_t vl = strlen(v);
	int idx = 0;
	for (const char *p = values; *p; idx++) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);
		if (l == vl && strncmp(p, v, l) == 0)
			return idx;
		if (!bar)
			break;
		p = bar + 1;
	}
	return -1;
}

static const char *enum_name(const char *values, int idx, char *out, size_t len)
{
	const char *p = values;
	for (int i = 0; i < idx && p; i++) {
		p = strchr(p, '|');
		if (p)
			p++;
	}
	if (!p)
		return "?";
	const char *bar = strchr(p, '|');
	size_t l = bar ? (size_t)(bar - p) : strlen(p);
	snprintf(out, len, "%.*s", (int)l, p);
	return out;
}

int config_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon;
	const char *h = s;
	size_t hl;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -1;
		hl = (size_t)(colon - s);
	}
	long long p;
	if (hl == 0 || hl >= hostlen || parse_ll(colon + 1, &p) < 0 || p < 1 || p > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

/* 1 for "localhost" and for the literal addresses 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104; never a lookup. */
static int is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return 0;
	return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

static int parse_size(const char *s, long long *out)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	long long mult = 1;
	if (errno)
		return -1;
	if (strcmp(end, "K") == 0)
		mult = 1024;
	else if (strcmp(end, "M") == 0)
		mult = 1024 * 1024;
	else if (strcmp(end, "G") == 0)
		mult = 1024LL * 1024 * 1024;
	else if (*end)
		return -1;
	if (v > LLONG_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

static char *join_path(const char *dir, const char *rel)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s/%s", dir, rel);
	return b.failed ? NULL : b.data;
}

/*
 * Parses value v for key k and stores it. Returns NULL on success, or a static description of
 * the problem.
 */
/* Frees a string value; a secret's bytes are wiped first. */
static void free_string(char *s, const struct key_def *k)
{
	if (s && (k->flags & F_SECRET))
		explicit_bzero(s, strlen(s));
	free(s);
}

static const char *set_value(struct config *cfg, const struct key_def *k, const char *v)
{
	void *f = field(cfg, k);
	long long n;
	int b;
	char *s = NULL;
	switch (k->type) {
	case T_INT:
		if (parse_ll(v, &n) < 0)
			return "not an integer";
		if (n < k->min || n > k->max)
			return "out of range";
		*(long long *)f = n;
		return NULL;
	case T_DURATION:
		if (parse_duration_ms(v, &n) < 0)
			return "not a duration";
		if (n < k->min || n > k->max)
			return "out of range";
		*(long long *)f = n;
		return NULL;
	case T_SIZE:
		if (parse_size(v, &n) < 0)
			return "not a size";
		if (n < k->min || n > k->max)
			return "out of range";
		*(long long *)f = n;
		return NULL;
	case T_BOOL:
		if (parse_bool(v, &b) < 0)
			return "not a boolean";
		*(int *)f = b;
		return NULL;
	case T_ENUM:
		if ((b = enum_index(k->values, v)) < 0)
			return "not an allowed value";
		*(int *)f = b;
		return NULL;
	case T_ADDR:
		if (*v) {
			char host[256];
			int port;
			if (config_split_hostport(v, host, sizeof(host), &port) < 0)
				return "not host:port";
		}
		s = strdup(v);
		break;
	case T_PATH:
		s = (*v && *v != '/') ? join_path(cfg->impl_dir, v) : strdup(v);
		break;
	case T_STR:
		s = strdup(v);
		break;
	}
	if (!s)
		return "out of memory";
	free_string(*(char **)f, k);
	*(char **)f = s;
	return NULL;
}

static void report_bad_value(struct loader *ld, const char *where, const struct key_def *k, const char *v,
			     const char *problem)
{
	char allowed[160];
	allowed_text(k, allowed, sizeof(allowed));
	add_error(ld, "%s: [%s] %s = \"%s\": %s; expected %s", where, k->section, k->name,
		  (k->flags & F_SECRET) ? "(secret)" : v, problem, allowed);
}

static const char *own(struct loader *ld, const char *s)
{
	char **p = realloc(ld->owned, (ld->n_owned + 1) * sizeof(*p));
	if (!p)
		return "?";
	ld->owned = p;
	p[ld->n_owned] = strdup(s);
	return p[ld->n_owned] ? p[ld->n_owned++] : "?";
}

/* Reads one chunk for inih and counts lines, so the handler knows where a key is. */
static char *ini_read(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	if (!fgets(str, num, ld->fp))
		return NULL;
	if (ld->line_done)
		ld->line++;
	size_t l = strlen(str);
	ld->line_done = l > 0 && str[l - 1] == '\n';
	return str;
}

static int on_ini_key(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	char where[PATH_MAX + 32];
	snprintf(where, sizeof(where), "%s:%d", ld->file, ld->line);
	const struct section_def *sec = find_section(section);
	if (!*section) {
		add_error(ld, "%s: key '%s' is outside any [section]", where, name);
		return 1;
	}
	if (!sec) {
		add_error(ld, "%s: unknown section [%s]", where, section);
		return 1;
	}
	if (ld->only_section && strcmp(section, ld->only_section) != 0) {
		add_error(ld, "%s: section [%s] does not belong in this file; only [%s] does", where, section,
			  ld->only_section);
		return 1;
	}
	if (!ld->only_section && sec->service) {
		add_error(ld, "%s: section [%s] belongs in services/%s.ini", where, section, section);
		return 1;
	}
	const struct key_def *k = find_key(section, name);
	if (!k) {
		add_error(ld, "%s: unknown key '%s' in section [%s]", where, name, section);
		return 1;
	}
	if (k->flags & F_SECRET) {
		char env[128];
		env_name(k, env, sizeof(env));
		add_error(ld, "%s: [%s] %s is a secret and must not be in a configuration file; set %s in the "
			      "implementation's .env or the environment",
			  where, section, name, env);
		return 1;
	}
	struct config_origin *o = &ld->cfg->origins[k - keys];
	if (o->source == CONFIG_SRC_FILE && o->file == ld->file) {
		add_error(ld, "%s: [%s] %s is set twice (first at line %d)", where, section, name, o->line);
		return 1;
	}
	const char *problem = set_value(ld->cfg, k, value);
	if (problem) {
		report_bad_value(ld, where, k, value, problem);
		return 1;
	}
	o->source = CONFIG_SRC_FILE;
	o->file = ld->file;
	o->line = ld->line;
	return 1;
}

/* Parses one INI file. Returns 0, or -1 when it does not exist (nothing reported). */
static int parse_ini(struct loader *ld, const char *path, const char *only_section)
{
	ld->fp = fopen(path, "re");
	if (!ld->fp) {
		if (errno != ENOENT)
			add_error(ld, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	ld->file = own(ld, path);
	ld->only_section = only_section;
	ld->line = 0;
	ld->line_done = 1;
	int rc = ini_parse_stream(ini_read, ld, on_ini_key, ld);
	fclose(ld->fp);
	ld->fp = NULL;
	if (rc > 0)
		add_error(ld, "%s:%d: syntax error (expected [section], key = value, or a # comment)", ld->file, rc);
	return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Every services/<x>.ini must name a service section: a misspelt file must not be skipped silently. */
static void parse_service_files(struct loader *ld, const char *conf_dir)
{
	char dir[PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s/services", conf_dir) >= (int)sizeof(dir))
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!has_suffix(e->d_name, ".ini"))
			continue;
		char section[128];
		snprintf(section, sizeof(section), "%.*s", (int)(strlen(e->d_name) - 4), e->d_name);
		const struct section_def *sec = find_section(section);
		char path[PATH_MAX + 256];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!sec || !sec->service) {
			add_error(ld, "%s: no service is named '%s'", path, section);
			continue;
		}
		parse_ini(ld, path, section);
	}
	closedir(d);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static const struct key_def *key_by_env(const char *name, size_t len)
{
	char env[128];
	for (size_t i = 0; i < N_KEYS; i++) {
		env_name(&keys[i], env, sizeof(env));
		if (strlen(env) == len && strncmp(env, name, len) == 0)
			return &keys[i];
	}
	return NULL;
}

static void apply_override(struct loader *ld, const char *where, const char *name, size_t nlen, const char *v,
			   enum config_source src, const char *file, int line)
{
	const struct key_def *k = key_by_env(name, nlen);
	if (!k) {
		add_error(ld, "%s: unknown variable %.*s (no such configuration key)", where, (int)nlen, name);
		return;
	}
	const char *problem = set_value(ld->cfg, k, v);
	if (problem) {
		report_bad_value(ld, where, k, v, problem);
		return;
	}
	struct config_origin *o = &ld->cfg->origins[k - keys];
	o->source = src;
	o->file = file;
	o->line = line;
}

/* .env: KEY=VALUE lines, optional "export ", # comments, values optionally in '' or "" (no expansion). */
static void parse_dotenv(struct loader *ld)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/.env", ld->cfg->env_dir);
	FILE *fp = fopen(path, "re");
	if (!fp) {
		if (errno != ENOENT)
			add_error(ld, "%s: cannot read: %s", path, strerror(errno));
		return;
	}
	/* It holds secrets: one that others could read is refused, not merely warned about (the
	 * secret may already be out; better the service stops than keeps using it unnoticed). */
	struct stat st;
	if (fstat(fileno(fp), &st) < 0) {
		add_error(ld, "%s: cannot stat: %s", path, strerror(errno));
		fclose(fp);
		return;
	}
	if (st.st_mode & 077) {
		add_error(ld, "%s: mode %04o lets group or others read its secrets; refused (chmod 600 %s)", path,
			  (unsigned)(st.st_mode & 07777), path);
		fclose(fp);
		return;
	}
	const char *file = own(ld, path);
	char line[4096];
	for (int lineno = 1; fgets(line, sizeof(line), fp); lineno++) {
		char where[PATH_MAX + 32];
		snprintf(where, sizeof(where), "%s:%d", file, lineno);
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		if (strncmp(s, "export ", 7) == 0)
			s = trim(s + 7);
		char *eq = strchr(s, '=');
		if (!eq) {
			add_error(ld, "%s: expected NAME=value", where);
			continue;
		}
		*eq = '\0';
		char *name = trim(s), *v = trim(eq + 1);
		size_t vl = strlen(v);
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
			v[vl - 1] = '\0';
			v++;
		}
		if (strncmp(name, "BROTR_", 6) != 0) {
			add_error(ld, "%s: %s is not a brotr variable (names start with BROTR_)", where, name);
			continue;
		}
		apply_override(ld, where, name, strlen(name), v, CONFIG_SRC_DOTENV, file, lineno);
	}
	explicit_bzero(line, sizeof(line)); /* it held secrets */
	fclose(fp);
}

static void parse_environment(struct loader *ld, char *const *env)
{
	for (; env && *env; env++) {
		const char *e = *env;
		const char *eq = strchr(e, '=');
		if (strncmp(e, "BROTR_", 6) != 0 || !eq)
			continue;
		size_t nlen = (size_t)(eq - e);
		if (nlen == 12 && strncmp(e, "BROTR_CONFIG", 12) == 0)
			continue;
		char where[160];
		snprintf(where, sizeof(where), "environment %.*s", (int)(nlen > 120 ? 120 : nlen), e);
		apply_override(ld, where, e, nlen, eq + 1, CONFIG_SRC_ENV, NULL, 0);
	}
}

static int apply_defaults(struct loader *ld)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *problem = set_value(ld->cfg, &keys[i], keys[i].def);
		if (problem) {
			add_error(ld, "internal: default of [%s] %s: %s", keys[i].section, keys[i].name, problem);
			return -1;
		}
	}
	return 0;
}

static void origin_text(const struct config_origin *o, const struct key_def *k, char *out, size_t len);

/* F_LOOPBACK keys, once every source is read (allow_remote may come from any of them). */
static void check_loopback(struct loader *ld)
{
	for (size_t i = 0; i < N_KEYS && !ld->cfg->metrics.allow_remote; i++) {
		const struct key_def *k = &keys[i];
		const char *v = (k->flags & F_LOOPBACK) ? *(char **)field(ld->cfg, k) : "";
		char host[256], where[PATH_MAX + 64];
		int port;
		if (!*v || config_split_hostport(v, host, sizeof(host), &port) < 0 || is_loopback(host))
			continue;
		origin_text(&ld->cfg->origins[i], k, where, sizeof(where));
		add_error(ld, "%s: [%s] %s = \"%s\": not a loopback address; expected 127.0.0.0/8, [::1] or localhost, "
			      "or set [metrics] allow_remote = true",
			  where, k->section, k->name, v);
	}
}

static void check_required(struct loader *ld)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &keys[i];
		int textual = k->type == T_STR || k->type == T_PATH || k->type == T_ADDR;
		if (!(k->flags & F_REQUIRED) || !textual)
			continue;
		if (**(char **)field(ld->cfg, k) == '\0') {
			char env[128];
			env_name(k, env, sizeof(env));
			add_error(ld, "[%s] %s is required but empty (set it in the configuration or %s)", k->section,
				  k->name, env);
		}
	}
}

int config_installed_datadir(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *bin = dirname(exe); /* <prefix>/bin */
	if (strcmp(basename(bin), "bin") != 0)
		return -1;
	struct stat st;
	if (snprintf(out, len, "%s/share/brotr", dirname(bin)) >= (int)len || stat(out, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return -1;
	return 0;
}

/* The implementation directory of an INI file in dir (resolved) that is not a checkout's config/:
 * the installed one of the same name when brotr is installed and has one, else dir itself. */
static char *flat_impl_dir(const char *dir)
{
	char data[PATH_MAX], impl[PATH_MAX + 300], tmp[PATH_MAX];
	struct stat st;
	snprintf(tmp, sizeof(tmp), "%s", dir);
	if (config_installed_datadir(data, sizeof(data)) == 0 &&
	    snprintf(impl, sizeof(impl), "%s/implementations/%s", data, basename(tmp)) < (int)sizeof(impl) &&
	    stat(impl, &st) == 0 && S_ISDIR(st.st_mode))
		return strdup(impl);
	return strdup(dir);
}

/* Sets path, impl_dir and env_dir (the layouts: config.h). Returns 0, or -1 after reporting why the
 * file cannot be used. */
static int locate(struct loader *ld, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		add_error(ld, "%s: cannot read configuration file: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		add_error(ld, "%s: not a regular file", path);
		return -1;
	}
	char tmp[PATH_MAX], real[PATH_MAX], name[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	if (!realpath(dirname(tmp), real)) {
		add_error(ld, "%s: cannot resolve its directory: %s", path, strerror(errno));
		return -1;
	}
	snprintf(name, sizeof(name), "%s", real);
	ld->cfg->path = strdup(path);
	if (strcmp(basename(name), "config") == 0) {
		ld->cfg->impl_dir = strdup(dirname(real));
		ld->cfg->env_dir = ld->cfg->impl_dir ? strdup(ld->cfg->impl_dir) : NULL;
	} else {
		ld->cfg->impl_dir = flat_impl_dir(real);
		ld->cfg->env_dir = strdup(real);
	}
	if (!ld->cfg->path || !ld->cfg->impl_dir || !ld->cfg->env_dir) {
		add_error(ld, "out of memory");
		return -1;
	}
	return 0;
}

int config_load(struct config *cfg, const char *path, char *const *environ_, struct buf *errors)
{
	struct loader ld = { .cfg = cfg, .errors = errors };
	memset(cfg, 0, sizeof(*cfg));
	cfg->origins = calloc(N_KEYS, sizeof(*cfg->origins));
	if (!cfg->origins) {
		add_error(&ld, "out of memory");
		goto out;
	}
	if (locate(&ld, path) < 0 || apply_defaults(&ld) < 0)
		goto out;
	char tmp[PATH_MAX], conf_dir[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(conf_dir, sizeof(conf_dir), "%s", dirname(tmp));
	ini_allow_multiline = false; /* an indented line is an error, not a silent continuation */
	parse_ini(&ld, path, NULL);
	parse_service_files(&ld, conf_dir);
	parse_dotenv(&ld);
	parse_environment(&ld, environ_);
	check_required(&ld);
	check_loopback(&ld);
out:
	/* Origins point at these file names, so the config keeps them. */
	cfg->files_ = ld.owned;
	cfg->n_files_ = ld.n_owned;
	if (ld.failed) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

void config_free(struct config *cfg)
{
	if (cfg->origins) {
		for (size_t i = 0; i < N_KEYS; i++) {
			enum key_type t = keys[i].type;
			if (t == T_STR || t == T_PATH || t == T_ADDR)
				free_string(*(char **)field(cfg, &keys[i]), &keys[i]);
		}
	}
	for (size_t i = 0; i < cfg->n_files_; i++)
		free(cfg->files_[i]);
	for (size_t i = 0; i < cfg->n_warnings; i++)
		free(cfg->warnings[i]);
	free(cfg->files_);
	free(cfg->warnings);
	free(cfg->origins);
	free(cfg->path);
	free(cfg->impl_dir);
	free(cfg->env_dir);
	memset(cfg, 0, sizeof(*cfg));
}

static void value_text(const struct config *cfg, const struct key_def *k, char *out, size_t len)
{
	const void *f = (const char *)cfg + k->offset;
	switch (k->type) {
	case T_INT:
	case T_SIZE:
		snprintf(out, len, "%lld", *(const long long *)f);
		break;
	case T_DURATION: {
		static const struct {
			long long ms;
			const char *unit;
		} units[] = { { 86400000LL, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" } };
		long long ms = *(const long long *)f;
		size_t u = 0;
		while (u + 1 < ARRAY_LEN(units) && (ms == 0 ? units[u].ms != 1000 : ms % units[u].ms != 0))
			u++;
		snprintf(out, len, "%lld%s", ms / units[u].ms, units[u].unit);
		break;
	}
	case T_BOOL:
		snprintf(out, len, "%s", *(const int *)f ? "true" : "false");
		break;
	case T_ENUM:
		enum_name(k->values, *(const int *)f, out, len);
		break;
	default: {
		const char *s = *(char *const *)f;
		snprintf(out, len, "%s", (k->flags & F_SECRET) ? (*s ? "********" : "") : s);
	}
	}
}

static void origin_text(const struct config_origin *o, const struct key_def *k, char *out, size_t len)
{
	char env[128];
	switch (o->source) {
	case CONFIG_SRC_DEFAULT:
		snprintf(out, len, "default");
		break;
	case CONFIG_SRC_FILE:
		snprintf(out, len, "%s:%d", o->file, o->line);
		break;
	case CONFIG_SRC_DOTENV:
		snprintf(out, len, "%s:%d", o->file, o->line);
		break;
	case CONFIG_SRC_ENV:
		env_name(k, env, sizeof(env));
		snprintf(out, len, "environment %s", env);
		break;
	}
}

void config_show(const struct config *cfg, struct buf *out)
{
	const char *section = NULL;
	buf_printf(out, "# configuration %s (implementation %s)\n", cfg->path, cfg->impl_dir);
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &keys[i];
		if (!section || strcmp(section, k->section) != 0) {
			section = k->section;
			buf_printf(out, "\n[%s]\n", section);
		}
		char value[PATH_MAX + 64], origin[PATH_MAX + 64];
		value_text(cfg, k, value, sizeof(value));
		origin_text(&cfg->origins[i], k, origin, sizeof(origin));
		size_t width = strlen(k->name) + 3 + strlen(value);
		buf_printf(out, "%s = %s%*s# %s\n", k->name, value, width < 40 ? (int)(40 - width) : 1, "", origin);
	}
}

void config_reference(struct buf *out)
{
	for (size_t s = 0; s < ARRAY_LEN(sections); s++) {
		const struct section_def *sec = &sections[s];
		buf_printf(out, "\n#### `[%s]` in `config/%s%s.ini`\n\n%s\n\n", sec->name,
			   sec->service ? "services/" : "", sec->service ? sec->name : "brotr", sec->help);
		buf_puts(out, "| key | type | default | allowed | environment | meaning |\n");
		buf_puts(out, "|---|---|---|---|---|---|\n");
		for (size_t i = 0; i < N_KEYS; i++) {
			const struct key_def *k = &keys[i];
			if (strcmp(k->section, sec->name) != 0)
				continue;
			char allowed[160], env[128];
			allowed_text(k, allowed, sizeof(allowed));
			env_name(k, env, sizeof(env));
			char def[160];
			snprintf(def, sizeof(def), *k->def ? "`%s`" : "(empty)", k->def);
			buf_printf(out, "| `%s` | %s%s | %s | %s | `%s` | %s |\n", k->name, type_name(k->type),
				   (k->flags & F_SECRET) ? " (secret)" : "", def, allowed, env, k->help);
		}
	}
}
