/* main.c — the brotr command line: global options, the command table, configuration and logging set-up. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/event_verify.h"
#include "cli/export.h"
#include "cli/import.h"
#include "cli/relay_check.h"
#include "core/config.h"
#include "core/log.h"
#include "core/process.h"
#include "core/service.h"
#include "core/util.h"
#include "db.h"
#include "net/net.h"
#include "services/services.h"

#define DEFAULT_CONFIG "implementations/bigbrotr/config/brotr.ini" /* in a checkout */
#define INSTALLED_CONFIG "/etc/brotr/bigbrotr/brotr.ini"            /* for an installed brotr */

extern char **environ;

struct app {
	const char *config_path;
	const char *log_level;  /* command-line override, or NULL */
	const char *log_format; /* likewise */
	struct config cfg;
	struct log_sink *sink;
};

struct command {
	const char *name;  /* one or two words: "version", "config show" */
	const char *usage; /* arguments after the name */
	const char *summary;
	const char *help;  /* what it does, its options, its exit status */
	int needs_config;
	int (*run)(struct app *app, int argc, char **argv);
	const struct service_def *service; /* set for service commands, which run through service_run */
};

static int cmd_version(struct app *app, int argc, char **argv);
static int cmd_config_show(struct app *app, int argc, char **argv);
static int cmd_config_reference(struct app *app, int argc, char **argv);
static int cmd_event_verify(struct app *app, int argc, char **argv);
static int cmd_relay_check(struct app *app, int argc, char **argv);
static int cmd_db_init(struct app *app, int argc, char **argv);
static int cmd_db_check(struct app *app, int argc, char **argv);
static int cmd_export(struct app *app, int argc, char **argv);
static int cmd_import(struct app *app, int argc, char **argv);

static const struct command commands[] = {
	{ "config show", "", "print the effective configuration and where each value came from",
	  "Prints every key of every section with its effective value (secrets masked) and its\n"
	  "origin: default, file:line, .env:line, or the environment variable.\n"
	  "Exit status: 0, or 2 when the configuration is invalid.\n",
	  1, cmd_config_show, NULL },
	{ "config reference", "", "print the configuration reference (Markdown) from the key table",
	  "Prints every section and key with its type, default, allowed values and environment\n"
	  "variable, as Markdown; the README's reference is this output.\n",
	  0, cmd_config_reference, NULL },
	{ "event verify", "[-j N] [FILE]", "verify Nostr events (one JSON object per line): id and signature",
	  cli_event_verify_help, 0, cmd_event_verify, NULL },
	{ "export", "[--filter JSON] [--since T] [--until T] [--with-relays] [--output FILE]",
	  "write the archived events matching a NIP-01 filter as JSON lines", cli_export_help, 1, cmd_export, NULL },
	{ "import", "[--relay URL] FILE|-", "verify events from JSON lines and store them in batches",
	  cli_import_help, 1, cmd_import, NULL },
	{ "relay check", "URL...", "connect to relays through the configured path and report how each answers",
	  "Normalises each ws:// or wss:// URL as the services do (a URL that is not a relay URL, or a\n"
	  "local address while [network] allow_local is off, is reported with the reason), then,\n"
	  "concurrently and through the configured SOCKS5 proxy ([tor] socks_proxy; empty: direct),\n"
	  "with the [network] limits and timeouts: opens the websocket, sends a REQ with limit 1 and\n"
	  "waits for EVENT or EOSE, and fetches the NIP-11 document. A v3 .onion host is reached over\n"
	  "the tor network, anything else over clearnet. No database.\n"
	  "\n"
	  "Prints one line per URL, in the order given, with the URL in its canonical form:\n"
	  "  URL network=clearnet open_ms=N read_ms=N nip11_ms=N name=\"...\"\n"
	  "  URL network=tor failed=open error=socks reason=\"SOCKS: ... (0xF0)\" nip11_error=... nip11_reason=...\n"
	  "  URL failed=url error=url reason=\"scheme must be ws or wss\"\n"
	  "error is one of url, limit, dns, local, proxy, socks, connect, tls, http, timeout,\n"
	  "protocol, closed (nip11_error also document: not a JSON object); reason says exactly what\n"
	  "happened. Quoted values escape \" and \\; what a relay sent is printed with control\n"
	  "characters and invalid UTF-8 as \\xNN, C1 and bidirectional controls as \\uNNNN.\n"
	  "\n"
	  "Exit status: 0 when every relay opened and answered the REQ (NIP-11 does not count),\n"
	  "1 otherwise, 2 on bad usage or configuration (also: a hard RLIMIT_NOFILE below what the\n"
	  "[network] limits need).\n",
	  1, cmd_relay_check, NULL },
	{ "db init", "", "create the roles, the database and the schema; idempotent",
	  "Connects as [database] admin_user (a superuser; password from BROTR_DATABASE_ADMIN_PASSWORD)\n"
	  "to admin_host:admin_port (default: host:port; use the server itself, not PgBouncer) and:\n"
	  "  - creates the database [database] name if missing (UTF8, collation C);\n"
	  "  - applies the implementation's config/postgres/init/*.sql in name order, in one\n"
	  "    transaction, expanding psql-style \\ir includes of the common sql/ files; skipped when\n"
	  "    the database already records this schema version and the same SQL checksum;\n"
	  "  - creates the roles brotr_owner (owns everything), brotr_writer (the services: procedures\n"
	  "    only) and brotr_reader (analysts: read-only) if missing;\n"
	  "  - makes [database] user a login member of brotr_writer, setting its password to\n"
	  "    [database] password when the stored one differs.\n"
	  "A second run changes nothing. Prints one line per action.\n"
	  "Exit status: 0 done, 1 failed (nothing half-applied), 2 configuration error.\n",
	  1, cmd_db_init, NULL },
	{ "db check", "", "verify that the database has everything the services need",
	  "Connects as the services do ([database] host, port, user, password; PgBouncer is fine) and\n"
	  "checks the schema version against this brotr, the schema checksum against the\n"
	  "implementation's init SQL, that every table, view and procedure the services use exists\n"
	  "with the privileges they need, and that the role cannot write tables directly, call\n"
	  "delete_orphan_events (maintenance, for the administrator) or create objects. Names every\n"
	  "problem.\n"
	  "Exit status: 0 all present, 1 something missing or the database unreachable, 2 configuration\n"
	  "error.\n",
	  1, cmd_db_check, NULL },
	{ "initializer", "", "seed the relay registry from the implementation's seed file",
	  "Reads [initializer] seed_file (one relay URL per line; blank lines and # comments allowed),\n"
	  "normalises every URL (lower-case scheme and host, default port and trailing slash dropped;\n"
	  "local addresses only with [network] allow_local; .onion v3 with a valid checksum), and\n"
	  "inserts the new ones [database] batch_size at a time. Waits for the database first\n"
	  "(retrying with backoff for up to [database] connect_wait).\n"
	  "\n"
	  "Logs every rejected line with file:line, the reason and the text, and ends with one line:\n"
	  "  msg=\"initializer summary\" file=... relays=N inserted=N known=N rejected=N duplicates=N\n"
	  "known: already registered; duplicates: lines naming a relay listed earlier in the file.\n"
	  "Runs once (no --loop); running it again inserts nothing new.\n"
	  "\n"
	  "Exit status: 0 when every usable URL is registered (rejected lines do not change it: they\n"
	  "are logged and counted), 1 when the seed file cannot be read, the database stays\n"
	  "unreachable or a stop signal came first, 2 on a configuration error.\n",
	  1, NULL, &initializer_service },
	{ "monitor", "[--loop]", "check the relays due: NIP-11 document and NIP-66 open, read and write tests",
	  "Checks every relay whose latest snapshot is at least [monitor] interval old (less a tenth,\n"
	  "for timer jitter), at most [monitor] max_relays (0: all), concurrently within the [network]\n"
	  "limits and through [tor] socks_proxy. For each relay, at once:\n"
	  "  - NIP-11: GET with Accept: application/nostr+json; kept as canonical JSON and its hash;\n"
	  "  - open: the websocket (rtt_open);\n"
	  "  - read: [\"REQ\",sub,{\"limit\":1}] answered by EVENT or EOSE (rtt_read); CLOSED (e.g.\n"
	  "    auth-required) or silence means not readable, with the reason kept;\n"
	  "  - write, with [monitor] write_test: an event of [monitor] write_kind (ephemeral), signed\n"
	  "    with [monitor] private_key or a key made for the pass, with NIP-13 proof of work when the\n"
	  "    NIP-11 document asks for a difficulty up to [monitor] max_pow (above it: not tested);\n"
	  "    OK true means writable (rtt_write); OK false keeps the relay's message;\n"
	  "  - NIP-42 AUTH answered with [auth] private_key, NIP-77 probed ([monitor] nip77_test), and\n"
	  "    for wss the TLS handshake's facts (certificate, validity, verdict).\n"
	  "Read and write each wait at most the network's response_timeout after their message.\n"
	  "\n"
	  "Stores one relay_metadata snapshot per relay per pass, failures included (reasons in the\n"
	  "NIP-66 document's extra keys), stamped with the pass's start time. NIP-11, NIP-66 and TLS\n"
	  "documents are stored once per distinct content (sha256 of the canonical JSON) and shared.\n"
	  "With [publisher] enabled, each relay that opened gets a kind 30166 event of what was\n"
	  "observed (NIP-40 expiration [publisher] expiration_intervals ahead), and the monitor a\n"
	  "10166 announcement, signed with [monitor] private_key and sent to [publisher] relays only\n"
	  "when the facts changed or the last event is about to expire.\n"
	  "Snapshots are written [database] batch_size at a time as the pass goes. Ends each pass\n"
	  "with one line: msg=\"monitor pass summary\" checked=N open=N readable=N writable=N ...\n"
	  "SIGTERM: no new checks start, checks in flight are abandoned (those relays stay due),\n"
	  "finished snapshots are committed, and the command exits.\n"
	  "\n"
	  "Options:\n"
	  "  --loop   run a pass every [monitor] interval until SIGTERM\n"
	  "\n"
	  "Exit status: 0 when the pass completed (--loop: stopped by a signal), 1 when it failed\n"
	  "(database unreachable, snapshots not stored) or was interrupted, 2 on a configuration error\n"
	  "(for example a malformed BROTR_MONITOR_PRIVATE_KEY, or [publisher] enabled without a key).\n",
	  1, NULL, &monitor_service },
	{ "synchronizer", "[--loop]", "archive every event of every relay the monitor found readable",
	  "For each readable relay (fastest first), at most [synchronizer] max_relays at once, pages\n"
	  "backwards with REQ from the pass's start down to the relay's progress (less [synchronizer]\n"
	  "overlap), never taking a short page for the end: relays cap `limit` silently. Every event\n"
	  "is verified (structure, id, signature) and must match [synchronizer] filter and the page's\n"
	  "window; the rest is dropped and counted by reason. Events are committed in batches of\n"
	  "[database] batch_size, each page's last batch together with the relay's progress, so an\n"
	  "interrupted pass resumes without a gap and redoes at most one page. A second that fills the\n"
	  "relay's cap (it may hold more events than the relay returns) is logged and counted.\n"
	  "Budgets: [synchronizer] relay_budget per relay, pass_budget per pass.\n"
	  "Runs only when [brotr] sync_service = synchronizer.\n"
	  "\n"
	  "Options:\n"
	  "  --loop   run a pass every [synchronizer] interval until SIGTERM\n"
	  "\n"
	  "Exit status: 0 pass completed (relays that failed are counted, not fatal), 1 the pass\n"
	  "failed (database) or was interrupted, 2 usage or configuration error.\n",
	  1, NULL, &synchronizer_service },
	{ "priority-synchronizer", "[--loop]", "archive the priority list's relays (--loop: live between passes)",
	  "The synchronizer's engine over the relays listed in [priority_synchronizer] relay_file\n"
	  "(one URL per line; # comments), whether or not the monitor found them readable, with its\n"
	  "own section ([priority_synchronizer]: interval, filter, max_relays, budgets, ...).\n"
	  "Runs only when [brotr] sync_service = priority_synchronizer.\n"
	  "\n"
	  "Options:\n"
	  "  --loop   run a pass every [priority_synchronizer] interval until SIGTERM\n"
	  "\n"
	  "Exit status: 0 pass completed, 1 the pass failed or was interrupted, 2 usage or\n"
	  "configuration error.\n",
	  1, NULL, &priority_synchronizer_service },
	{ "finder", "[--loop]", "read relay URLs out of newly archived events into relay candidates",
	  "Reads every event archived since the last pass exactly once (finder_queue, filled in the\n"
	  "transaction that stores each event that can name a relay) and takes the relay URLs it names:\n"
	  "kind 10002 r tags; relay tags of NIP-51 relay lists (10006, 10007, 10012, 10050, 30002); the\n"
	  "keys of kind 3 content; kind 2 content; relay hints (third element of e, p, a and q tags);\n"
	  "d tags of kind 30166 (NIP-66). lilbrotr keeps no tags or content: there it reads the values\n"
	  "of kind 10002 r tags and kind 30166 d tags out of tagvalues. Every URL is normalised; local,\n"
	  "private and reserved hosts are dropped unless [network] allow_local; relays and candidates\n"
	  "already known are counted, not stored again. Each page of [database] batch_size events is\n"
	  "committed with the candidates it produced, so SIGTERM or [finder] pass_budget leaves the\n"
	  "rest queued for the next pass. With [finder] sources (\"URL [PATH], ...\"), also reads\n"
	  "the relay lists those HTTP(S) JSON documents publish, through the helper, each at most once\n"
	  "per [finder] source_interval. Ends with one line:\n"
	  "  msg=\"finder pass summary\" events=N urls=N candidates_new=N known=N dropped=N ...\n"
	  "Runs only when [brotr] finder = true.\n"
	  "\n"
	  "Options:\n"
	  "  --loop   run a pass every [finder] interval until SIGTERM\n"
	  "\n"
	  "Exit status: 0 pass completed, 1 the pass failed (database) or was interrupted, 2 usage or\n"
	  "configuration error.\n",
	  1, NULL, &finder_service },
	{ "validator", "[--loop]", "test relay candidates; promote those that answer like Nostr relays",
	  "Takes the candidates due (at most [validator] max_candidates, the longest waiting first) and\n"
	  "opens each one's websocket through [tor] socks_proxy (.onion over Tor), within the [network]\n"
	  "limits and timeouts, then sends [\"REQ\",sub,{\"limit\":1}]. A candidate is a relay when it\n"
	  "answers with EVENT, EOSE, CLOSED, NOTICE or AUTH within the network's response_timeout:\n"
	  "it is then inserted into relays and removed from the candidates in one transaction, and\n"
	  "the monitor and the synchronizer take it from there. Otherwise (no websocket, an HTML page,\n"
	  "silence, an echo, anything not Nostr) the reason is kept, and the candidate is tried again\n"
	  "after [validator] retry_base, doubling up to retry_max; it is dropped after max_failures\n"
	  "failures or once first found more than max_age ago. Ends with one line:\n"
	  "  msg=\"validator pass summary\" tested=N promoted=N failed=N dropped=N ...\n"
	  "Runs only when [brotr] validator = true.\n"
	  "\n"
	  "Options:\n"
	  "  --loop   run a pass every [validator] interval until SIGTERM\n"
	  "\n"
	  "Exit status: 0 pass completed, 1 the pass failed (database) or was interrupted, 2 usage or\n"
	  "configuration error.\n",
	  1, NULL, &validator_service },
	{ "version", "", "print the version of brotr and of the libraries it uses",
	  "Prints brotr's version, the library versions it was built against, and the versions\n"
	  "of the libraries loaded at run time where they can tell (libwebsockets, libpq, OpenSSL);\n"
	  "libsecp256k1, inih and libecpg have no run-time version call.\n",
	  0, cmd_version, NULL },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: brotr [--config FILE] [--log-level LEVEL] [--log-format text|json] COMMAND [ARGS]\n"
		"\n"
		"Archives the Nostr network into PostgreSQL.\n"
		"\n"
		"Options:\n"
		"  --config FILE        the implementation's brotr.ini (default: $BROTR_CONFIG, else\n"
		"                       " INSTALLED_CONFIG " for an installed brotr, else\n"
		"                       " DEFAULT_CONFIG ")\n"
		"  --log-level LEVEL    debug, info, warn or error (overrides [log] level)\n"
		"  --log-format FORMAT  text (logfmt) or json (overrides [log] format)\n"
		"  -h, --help           this help; COMMAND --help describes a command\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		char left[160];
		snprintf(left, sizeof(left), "%s%s%s", commands[i].name, *commands[i].usage ? " " : "",
			 commands[i].usage);
		if (strlen(left) > 30) /* a long synopsis gets its own line */
			fprintf(out, "  %s\n  %-30s %s\n", left, "", commands[i].summary);
		else
			fprintf(out, "  %-30s %s\n", left, commands[i].summary);
	}
	fprintf(out, "\nExit status: 0 success, 1 failure, 2 usage or configuration error.\n");
}

static void command_help(const struct command *c)
{
	printf("usage: brotr [OPTIONS] %s%s%s\n\n%s.\n\n%s", c->name, *c->usage ? " " : "", c->usage, c->summary,
	       c->help);
}

static int cmd_version(struct app *app, int argc, char **argv)
{
	(void)app, (void)argc, (void)argv;
	int pq = db_libpq_version(); /* 150010 is 15.10; before 10, 90624 is 9.6.24 */
	char pqv[32];
	if (pq >= 100000)
		snprintf(pqv, sizeof(pqv), "%d.%d", pq / 10000, pq % 10000);
	else
		snprintf(pqv, sizeof(pqv), "%d.%d.%d", pq / 10000, pq / 100 % 100, pq % 100);
	printf("brotr %s\n", BROTR_VERSION);
	printf("built with: %s\n", BROTR_LIBVERSIONS);
	printf("running with: libwebsockets %s, libpq %s, %s\n", net_library_version(), pqv,
	       OpenSSL_version(OPENSSL_VERSION));
	printf("no run-time version: libsecp256k1, inih, libecpg (see built with); jsmn is compiled in\n");
	return 0;
}

static int cmd_config_show(struct app *app, int argc, char **argv)
{
	(void)argc, (void)argv;
	struct buf out;
	buf_init(&out);
	config_show(&app->cfg, &out);
	fputs(out.failed ? "out of memory\n" : out.data, stdout);
	buf_free(&out);
	return 0;
}

static int cmd_config_reference(struct app *app, int argc, char **argv)
{
	(void)app, (void)argc, (void)argv;
	struct buf out;
	buf_init(&out);
	config_reference(&out);
	fputs(out.failed ? "out of memory\n" : out.data, stdout);
	buf_free(&out);
	return 0;
}

static int cmd_event_verify(struct app *app, int argc, char **argv)
{
	(void)app;
	return cli_event_verify(argc, argv);
}

/*
 * For every command that holds secrets or talks to relays: no core dumps, and the file
 * descriptors the [network] limits need. Returns 0, or 2 when the hard limit is too low
 * (said on stderr, naming the keys).
 */
static int prepare_process(struct app *app)
{
	struct logger lg = { app->sink, "brotr" };
	struct net_options o;
	unsigned long need, hard = 0;
	if (process_no_core_dumps() < 0)
		log_warn(&lg, "cannot turn core dumps off", LOG_S("error", strerror(errno)));
	net_options_from_config(&o, &app->cfg);
	need = net_descriptors_needed(&o);
	if (process_fd_limit(need, &hard) == 0)
		return 0;
	fprintf(stderr,
		"brotr: [network] max_tunnels = %d, clearnet_max_connections = %d and tor_max_connections = %d need %lu "
		"file descriptors, but their hard limit (RLIMIT_NOFILE: ulimit -Hn, systemd LimitNOFILE=) is %lu; "
		"lower those keys or raise the limit\n",
		o.max_tunnels, o.limits[NET_CLEARNET].max_connections, o.limits[NET_TOR].max_connections, need, hard);
	return 2;
}

static int cmd_relay_check(struct app *app, int argc, char **argv)
{
	if (argc == 0) {
		fprintf(stderr, "brotr relay check: give at least one relay URL (brotr relay check --help)\n");
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		if (argv[i][0] == '-') {
			fprintf(stderr, "brotr relay check: unknown option %s (brotr relay check --help)\n", argv[i]);
			return 2;
		}
	}
	struct logger lg = { app->sink, "net" };
	if (prepare_process(app) != 0)
		return 2;
	return relay_check_run(&app->cfg, &lg, argc, argv, stdout);
}

static int no_arguments(const char *command, int argc, char **argv)
{
	if (argc == 0)
		return 0;
	fprintf(stderr, "brotr %s: unexpected argument '%s' (brotr %s --help)\n", command, argv[0], command);
	return -1;
}

static int cmd_db_init(struct app *app, int argc, char **argv)
{
	if (no_arguments("db init", argc, argv) < 0)
		return 2;
	struct logger lg = { app->sink, "db" };
	struct db_admin_options opt;
	char dir[PATH_MAX];
	db_admin_options_from_config(&opt, &app->cfg, dir, sizeof(dir));
	opt.conn.log = &lg;
	log_info(&lg, "db init", LOG_S("database", opt.database), LOG_S("init_dir", opt.init_dir),
		 LOG_S("admin", opt.conn.user));
	struct buf out;
	buf_init(&out);
	int rc = db_init(&opt, &out);
	fputs(out.data ? out.data : "", stdout);
	buf_free(&out);
	if (rc != DB_OK)
		log_error(&lg, "db init failed", LOG_S("database", opt.database));
	return rc == DB_OK ? 0 : 1;
}

static int cmd_db_check(struct app *app, int argc, char **argv)
{
	if (no_arguments("db check", argc, argv) < 0)
		return 2;
	struct logger lg = { app->sink, "db" };
	struct db_options opt;
	db_options_from_config(&opt, &app->cfg);
	opt.log = &lg;
	opt.application_name = "brotr-db-check";
	struct db *db;
	char err[1024];
	int rc = db_open(&db, &opt, err, sizeof(err));
	if (rc != DB_OK) {
		printf("error: %s\n", err);
		return 1;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/config/postgres/init", app->cfg.impl_dir);
	struct buf out;
	buf_init(&out);
	rc = db_check(db, dir, &out);
	fputs(out.data ? out.data : "", stdout);
	buf_free(&out);
	db_close(db);
	return rc == DB_OK ? 0 : 1;
}

static int cmd_export(struct app *app, int argc, char **argv)
{
	struct logger lg = { app->sink, "export" };
	if (process_no_core_dumps() < 0) /* it holds a password */
		log_warn(&lg, "cannot turn core dumps off", LOG_S("error", strerror(errno)));
	return cli_export(&app->cfg, &lg, argc, argv);
}

static int cmd_import(struct app *app, int argc, char **argv)
{
	struct logger lg = { app->sink, "import" };
	if (process_no_core_dumps() < 0) /* it holds a password */
		log_warn(&lg, "cannot turn core dumps off", LOG_S("error", strerror(errno)));
	return cli_import(&app->cfg, &lg, argc, argv);
}

/* Finds the command named by argv[0] (and argv[1] for two-word commands); *used gets the word count. */
static const struct command *find_command(int argc, char **argv, int *used)
{
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		const char *name = commands[i].name;
		const char *space = strchr(name, ' ');
		if (!space && strcmp(argv[0], name) == 0) {
			*used = 1;
			return &commands[i];
		}
		if (space && argc >= 2 && strlen(argv[0]) == (size_t)(space - name) &&
		    strncmp(argv[0], name, (size_t)(space - name)) == 0 && strcmp(argv[1], space + 1) == 0) {
			*used = 2;
			return &commands[i];
		}
	}
	return NULL;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static int load_config(struct app *app)
{
	const char *path = app->config_path;
	if (!path)
		path = getenv("BROTR_CONFIG");
	char datadir[PATH_MAX];
	if (!path || !*path)
		path = config_installed_datadir(datadir, sizeof(datadir)) == 0 ? INSTALLED_CONFIG : DEFAULT_CONFIG;
	struct buf errors;
	buf_init(&errors);
	int rc = config_load(&app->cfg, path, environ, &errors);
	if (rc < 0)
		fprintf(stderr, "brotr: configuration error:\n%s", errors.data ? errors.data : "out of memory\n");
	buf_free(&errors);
	return rc;
}

/* Log settings: command-line options win over the configuration. Returns 0 or -1 (reported). */
static int open_log(struct app *app, int have_config)
{
	struct log_options opt = { .level = LOG_INFO, .format = LOG_FORMAT_TEXT, .burst = 20,
				   .interval_ms = 60000 };
	if (have_config) {
		opt.level = (enum log_level)app->cfg.log.level;
		opt.format = (enum log_format)app->cfg.log.format;
		opt.path = app->cfg.log.file;
		opt.burst = (unsigned)app->cfg.log.rate_limit_burst;
		opt.interval_ms = (unsigned long)app->cfg.log.rate_limit_interval_ms;
	}
	if (app->log_level && log_level_parse(app->log_level, &opt.level) < 0) {
		fprintf(stderr, "brotr: --log-level %s: expected debug, info, warn or error\n", app->log_level);
		return -1;
	}
	if (app->log_format && log_format_parse(app->log_format, &opt.format) < 0) {
		fprintf(stderr, "brotr: --log-format %s: expected text or json\n", app->log_format);
		return -1;
	}
	char err[512];
	app->sink = log_sink_new(&opt, err, sizeof(err));
	if (!app->sink) {
		fprintf(stderr, "brotr: %s\n", err);
		return -1;
	}
	struct logger lg = { app->sink, "config" };
	for (size_t i = 0; have_config && i < app->cfg.n_warnings; i++)
		log_warn(&lg, "configuration warning", LOG_S("detail", app->cfg.warnings[i]));
	return 0;
}

/* Service commands take --loop and nothing else. */
static int run_service(struct app *app, const struct command *c, int argc, char **argv)
{
	int loop = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--loop") != 0) {
			fprintf(stderr, "brotr %s: unexpected argument '%s' (brotr %s --help)\n", c->name, argv[i], c->name);
			return 2;
		}
		loop = 1;
	}
	if (prepare_process(app) != 0)
		return 2;
	return service_run(c->service, &app->cfg, app->sink, loop);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct app app = { 0 };
	int opt;
	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			app.config_path = optarg;
			break;
		case 'l':
			app.log_level = optarg;
			break;
		case 'f':
			app.log_format = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return 2;
	}
	int used;
	const struct command *c = find_command(argc, argv, &used);
	if (!c) {
		fprintf(stderr, "brotr: unknown command '%s%s%s' (brotr --help lists them)\n", argv[0],
			argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
		return 2;
	}
	argc -= used;
	argv += used;
	if (wants_help(argc, argv)) {
		command_help(c);
		return 0;
	}
	if (c->needs_config && load_config(&app) < 0)
		return 2;
	int status = 2;
	if (open_log(&app, c->needs_config) == 0)
		status = c->service ? run_service(&app, c, argc, argv) : c->run(&app, argc, argv);
	log_sink_free(app.sink);
	if (c->needs_config)
		config_free(&app.cfg);
	return status;
}
