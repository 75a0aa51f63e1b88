/* config.h — the configuration: one key table, INI files, .env and BROTR_<SECTION>_<KEY> overrides. */
#ifndef BROTR_CORE_CONFIG_H
#define BROTR_CORE_CONFIG_H

#include <stddef.h>

#include "core/util.h"

/* Limits and timeouts of one network, clearnet or tor: [network] <network>_* keys. */
struct config_net_limits {
	long long max_connections;
	long long connect_timeout_ms;
	long long tls_timeout_ms;
	long long upgrade_timeout_ms;
	long long response_timeout_ms;
	long long idle_timeout_ms;
	int allow_insecure;
};

/*
 * The effective configuration. Every field is described by one row of the key table in
 * config.c (section, name, type, default, range, flags); add a key there and here together.
 * Strings are owned by the config and never NULL (empty means unset). Durations are in
 * milliseconds, sizes in bytes. Enumerations hold the index of the value in the key's list.
 */
/* The keys shared by [synchronizer] and [priority_synchronizer]. */
struct config_sync {
	long long interval_ms;
	char *filter;              /* a NIP-01 filter as JSON, without since/until/limit */
	long long since;           /* oldest created_at archived (Unix seconds) */
	long long page_limit;      /* limit asked in every REQ */
	long long overlap_ms;      /* re-read this far below a relay's progress for late arrivals */
	long long max_relays;      /* relays at once */
	long long max_windows;     /* windows of one relay walked at once (subscriptions) */
	long long relay_budget_ms; /* time per relay per pass */
	long long pass_budget_ms;  /* time per pass */
	long long max_event_tags;  /* an event with more tags is refused */
	int verify_stored;         /* check the signatures of events already stored with the same one */
	char *relay_file;          /* priority synchronizer only (NULL in [synchronizer]) */
	int tail;                  /* priority synchronizer only: live subscriptions between passes */
};

struct config {
	char *path;      /* the main INI file, as given */
	char *impl_dir;  /* the implementation directory: relative paths and config/postgres/init */
	char *env_dir;   /* the directory holding the implementation's .env */

	struct {
		int sync_service; /* 0 synchronizer, 1 priority_synchronizer */
		int finder;       /* this implementation runs the finder */
		int validator;    /* ... and the validator */
	} brotr;
	struct {
		int level;       /* enum log_level */
		int format;      /* enum log_format */
		char *file;
		long long rate_limit_burst;
		long long rate_limit_interval_ms;
	} log;
	struct {
		char *dir;
		char *listen;
		int allow_remote; /* listen may be a non-loopback address */
	} metrics;
	struct {
		char *host;
		long long port;
		char *name;
		char *user;
		char *password;
		long long connect_timeout_ms;
		long long connect_wait_ms;
		long long retry_max_ms;
		long long batch_size;
		char *admin_host;      /* brotr db init only; empty: host */
		long long admin_port;  /* 0: port */
		char *admin_user;
		char *admin_password;
		char *reader_user;     /* brotr export only; empty: user */
		char *reader_password;
	} database;
	struct {
		int allow_local;
		struct config_net_limits clearnet, tor; /* <network>_* keys */
		long long max_message_size;
		long long nip11_max_size;
		long long max_tunnels;
		char *ca_file;        /* extra trusted CA certificates (PEM); empty: the system's only */
	} network;
	struct {
		char *socks_proxy;
		int isolation;   /* 0 relay, 1 connection, 2 none */
	} tor;
	struct {
		int enabled;
		char *private_key;         /* hex or nsec; empty: AUTH challenges are not answered */
	} auth;
	struct {
		char *seed_file;
	} initializer;
	struct {
		long long interval_ms;
		long long max_relays;      /* 0: every relay due */
		int write_test;
		long long write_kind;
		long long max_pow;         /* NIP-13 difficulty the write test will mine, at most */
		char *private_key;         /* hex or nsec; empty: an ephemeral key per pass */
		int nip77_test;
		long long tls_expiry_warning_ms; /* a certificate expiring within this is counted as expiring */
	} monitor;
	struct {
		int enabled;
		char *relays;              /* comma-separated publish relay URLs */
		long long expiration_intervals; /* NIP-40 expiration, in [monitor] intervals ahead */
		char *profile;             /* kind 0 content (a JSON object); empty: none */
		int relay_list;            /* publish kind 10002 naming the publish relays */
	} publisher;
	struct config_sync synchronizer, priority_synchronizer;
	struct {
		long long interval_ms;
		long long pass_budget_ms;  /* time per pass; the queue keeps the rest */
		char *sources;             /* "URL [PATH], ..." (finder_http.h) */
		long long source_interval_ms;
		long long source_max_size;
	} finder;
	struct {
		long long interval_ms;
		long long max_candidates;  /* per pass */
		long long retry_base_ms;   /* first retry delay, doubling per failure */
		long long retry_max_ms;
		long long max_failures;
		long long max_age_ms;
	} validator;

	/* Where each value came from, indexed like the key table. */
	struct config_origin *origins;
	/* Warnings found while loading (for example a world-readable .env), to log once logging is up. */
	char **warnings;
	size_t n_warnings;

	char **files_; /* private: the file names origins point into */
	size_t n_files_;
};

enum config_source { CONFIG_SRC_DEFAULT, CONFIG_SRC_FILE, CONFIG_SRC_DOTENV, CONFIG_SRC_ENV };

struct config_origin {
	enum config_source source;
	const char *file; /* file name for FILE and DOTENV; points into config-owned memory */
	int line;
};

/*
 * Finds the installed data directory, <prefix>/share/brotr, <prefix> being the directory above the
 * bin/ of the running executable (so an install under DESTDIR finds its own tree). Writes it to out
 * and returns 0, or returns -1 when brotr does not run from an installed tree (a checkout's build/).
 */
int config_installed_datadir(char *out, size_t len) __attribute__((warn_unused_result));

/*
 * The two layouts of an implementation, told apart by the name of the INI file's directory:
 * - a checkout, <impl>/config/brotr.ini: impl_dir and env_dir are <impl>;
 * - flat, as installed, /etc/brotr/<impl>/brotr.ini: env_dir is /etc/brotr/<impl>; impl_dir is
 *   <prefix>/share/brotr/implementations/<impl> when brotr is installed and has it, else env_dir.
 *
 * Loads the configuration for the INI file at path: defaults, then the file, then
 * <dir>/services/<service>.ini for every service section, then <env_dir>/.env, then the
 * BROTR_* environment. Every problem is reported (file:line or variable, section, key, value,
 * what is allowed), one per line, into errors (which the caller owns and frees with buf_free).
 * Returns 0 on success, or -1 when any error was found (cfg is then freed and zeroed).
 */
int config_load(struct config *cfg, const char *path, char *const *environ_, struct buf *errors);

void config_free(struct config *cfg);

/* Writes the effective configuration, secrets masked, each value with its origin. */
void config_show(const struct config *cfg, struct buf *out);

/* Writes the key table as a Markdown reference (for the README). */
void config_reference(struct buf *out);

/*
 * Splits "host:port" or "[v6]:port" into host (NUL-terminated, at most hostlen bytes) and port.
 * Returns 0, or -1 when malformed.
 */
int config_split_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
