/* test_config.c — the configuration loader: precedence, origins, and every validation error path. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"

static char root[64];     /* a fresh implementation directory per test */
static char ini[128];
static struct buf errors;
static struct config cfg;

static void write_text(const char *rel, const char *text, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/brotr-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/config", root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/config/services", root);
	mkdir(dir, 0755);
	snprintf(ini, sizeof(ini), "%s/config/brotr.ini", root);
	buf_init(&errors);
	memset(&cfg, 0, sizeof(cfg));
}

static void teardown(void)
{
	config_free(&cfg);
	buf_free(&errors);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
}

static int load(char *const *env)
{
	static char *const none[] = { NULL };
	return config_load(&cfg, ini, env ? env : none, &errors);
}

static const char *errs(void)
{
	return errors.data ? errors.data : "";
}

START_TEST(defaults_apply)
{
	write_text("config/brotr.ini", "# nothing but a comment\n", 0644);
	ck_assert_int_eq(load(NULL), 0);
	ck_assert_int_eq(cfg.database.port, 5432);
	ck_assert_str_eq(cfg.database.host, "127.0.0.1");
	ck_assert_str_eq(cfg.tor.socks_proxy, "127.0.0.1:9050");
	ck_assert_int_eq(cfg.log.rate_limit_interval_ms, 60000);
	ck_assert_int_eq(cfg.network.allow_local, 0);
	ck_assert_int_eq(cfg.origins[0].source, CONFIG_SRC_DEFAULT);
}
END_TEST

/* default < file < .env < environment, and each value remembers where it came from. */
START_TEST(precedence)
{
	write_text("config/brotr.ini", "[database]\nport = 6001\nhost = db.example\nname = fromfile\n", 0644);
	write_text(".env", "# secrets\nBROTR_DATABASE_PORT=6002\nexport BROTR_DATABASE_NAME=\"fromenvfile\"\n"
			   "BROTR_DATABASE_PASSWORD='s3cret'\n",
		   0600);
	char *env[] = { "BROTR_DATABASE_PORT=6003", "HOME=/root", "BROTR_CONFIG=/ignored", NULL };
	ck_assert_msg(load(env) == 0, "%s", errs());
	ck_assert_int_eq(cfg.database.port, 6003);
	ck_assert_str_eq(cfg.database.name, "fromenvfile");
	ck_assert_str_eq(cfg.database.host, "db.example");
	ck_assert_str_eq(cfg.database.password, "s3cret");
	ck_assert_str_eq(cfg.database.user, "brotr_writer");

	struct buf out;
	buf_init(&out);
	config_show(&cfg, &out);
	ck_assert_ptr_nonnull(strstr(out.data, "port = 6003"));
	ck_assert_ptr_nonnull(strstr(out.data, "# environment BROTR_DATABASE_PORT"));
	ck_assert_ptr_nonnull(strstr(out.data, "/.env:3"));       /* name, from the .env line 3 */
	ck_assert_ptr_nonnull(strstr(out.data, "brotr.ini:3"));   /* host, from the file line 3 */
	ck_assert_ptr_nonnull(strstr(out.data, "password = ********"));
	ck_assert_ptr_null(strstr(out.data, "s3cret"));
	ck_assert_ptr_nonnull(strstr(out.data, "user = brotr_writer"));
	buf_free(&out);
	ck_assert_uint_eq(cfg.n_warnings, 0);
}
END_TEST

/* A .env others can read is refused, naming the file and its mode; group-readable too. */
START_TEST(dotenv_readable_by_others_refused)
{
	static const unsigned modes[] = { 0644, 0640, 0604 };
	write_text("config/brotr.ini", "", 0644);
	write_text(".env", "BROTR_DATABASE_PASSWORD=x\n", modes[_i]);
	ck_assert_int_eq(load(NULL), -1);
	char want[32];
	snprintf(want, sizeof(want), "mode %04o", modes[_i]);
	ck_assert_msg(strstr(errs(), "/.env: ") && strstr(errs(), want) && strstr(errs(), "chmod 600"), "%s", errs());
	ck_assert(!cfg.database.password || strcmp(cfg.database.password, "x") != 0);
	/* Made private, it is read. */
	config_free(&cfg);
	memset(&cfg, 0, sizeof(cfg));
	write_text(".env", "BROTR_DATABASE_PASSWORD=x\n", 0600);
	ck_assert_msg(load(NULL) == 0, "%s", errs());
	ck_assert_str_eq(cfg.database.password, "x");
}
END_TEST

START_TEST(relative_paths_resolve_from_implementation_dir)
{
	write_text("config/brotr.ini", "[log]\nfile = var/brotr.log\n", 0644);
	write_text("config/services/initializer.ini", "[initializer]\nseed_file = /abs/seeds.txt\n", 0644);
	ck_assert_msg(load(NULL) == 0, "%s", errs());
	char want[PATH_MAX + 32];
	char real[PATH_MAX]; /* realpath writes up to PATH_MAX bytes (_FORTIFY_SOURCE aborts on less) */
	ck_assert_ptr_nonnull(realpath(root, real));
	snprintf(want, sizeof(want), "%s/var/brotr.log", real);
	ck_assert_str_eq(cfg.log.file, want);
	ck_assert_str_eq(cfg.initializer.seed_file, "/abs/seeds.txt");
	ck_assert_str_eq(cfg.impl_dir, real);
}
END_TEST

/* The flat (installed) layout, <dir>/brotr.ini with <dir> not named config: .env beside brotr.ini,
 * services/ under it, relative paths from it (this binary is not installed, so there is no share/). */
START_TEST(flat_layout_reads_env_beside_the_ini)
{
	char dir[160], flat[200];
	snprintf(dir, sizeof(dir), "%s/flat", root);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(flat, sizeof(flat), "%s/flat/services", root);
	ck_assert_int_eq(mkdir(flat, 0755), 0);
	write_text("flat/brotr.ini", "[database]\nname = flatdb\n", 0644);
	write_text("flat/services/initializer.ini", "[initializer]\nseed_file = seeds.txt\n", 0644);
	write_text("flat/.env", "BROTR_DATABASE_PASSWORD=beside\n", 0600);
	write_text(".env", "BROTR_DATABASE_PASSWORD=parent\n", 0600);
	snprintf(flat, sizeof(flat), "%s/flat/brotr.ini", root);
	static char *const none[] = { NULL };
	ck_assert_msg(config_load(&cfg, flat, none, &errors) == 0, "%s", errs());
	char real[PATH_MAX], want[PATH_MAX + 32]; /* realpath writes up to PATH_MAX bytes */
	ck_assert_ptr_nonnull(realpath(dir, real));
	ck_assert_str_eq(cfg.database.password, "beside");
	ck_assert_str_eq(cfg.env_dir, real);
	ck_assert_str_eq(cfg.impl_dir, real);
	snprintf(want, sizeof(want), "%s/seeds.txt", real);
	ck_assert_str_eq(cfg.initializer.seed_file, want);
}
END_TEST

START_TEST(values_of_every_type)
{
	write_text("config/brotr.ini",
		   "[log]\nlevel = debug\nrate_limit_interval = 2m\n[network]\nallow_local = yes\n"
		   "[metrics]\nlisten = [::1]:9100\n[tor]\nsocks_proxy =\n",
		   0644);
	ck_assert_msg(load(NULL) == 0, "%s", errs());
	ck_assert_int_eq(cfg.log.level, 0);
	ck_assert_int_eq(cfg.log.rate_limit_interval_ms, 120000);
	ck_assert_int_eq(cfg.network.allow_local, 1);
	ck_assert_str_eq(cfg.metrics.listen, "[::1]:9100");
	ck_assert_str_eq(cfg.tor.socks_proxy, "");
}
END_TEST

/* Each bad input and the words its error must contain. */
static const struct {
	const char *ini;
	const char *service_file; /* "name.ini:content", or NULL */
	const char *dotenv;
	const char *env;
	const char *expect[3];
} bad[] = {
	{ "[database]\nport = abc\n", NULL, NULL, NULL, { "brotr.ini:2", "[database] port", "not an integer" } },
	{ "[database]\nport = 70000\n", NULL, NULL, NULL, { "brotr.ini:2", "out of range", "1..65535" } },
	{ "[databse]\nport = 1\n", NULL, NULL, NULL, { "brotr.ini:2", "unknown section [databse]", NULL } },
	{ "[database]\nprot = 1\n", NULL, NULL, NULL, { "brotr.ini:2", "unknown key 'prot'", "[database]" } },
	{ "port = 1\n", NULL, NULL, NULL, { "brotr.ini:1", "outside any [section]", NULL } },
	{ "[database]\n\nthis line is wrong\n", NULL, NULL, NULL, { "brotr.ini:3", "syntax error", NULL } },
	{ "[database]\nport = 1\nport = 2\n", NULL, NULL, NULL, { "brotr.ini:3", "set twice", "line 2" } },
	{ "[database]\npassword = x\n", NULL, NULL, NULL, { "brotr.ini:2", "secret", "BROTR_DATABASE_PASSWORD" } },
	{ "[log]\nlevel = loud\n", NULL, NULL, NULL, { "[log] level", "one of debug, info, warn, error", "\"loud\"" } },
	{ "[log]\nrate_limit_interval = 5 minutes\n", NULL, NULL, NULL, { "not a duration", NULL, NULL } },
	{ "[log]\nrate_limit_interval = 10ms\n", NULL, NULL, NULL, { "out of range", NULL, NULL } },
	{ "[network]\nallow_local = maybe\n", NULL, NULL, NULL, { "not a boolean", "true or false", NULL } },
	{ "[tor]\nsocks_proxy = 127.0.0.1\n", NULL, NULL, NULL, { "not host:port", NULL, NULL } },
	{ "[metrics]\nlisten = 0.0.0.0:9100\n", NULL, NULL, NULL, { "brotr.ini:2", "not a loopback address", NULL } },
	/* names and addresses that only begin like loopback */
	{ "[metrics]\nlisten = 127.evil.example:9100\n", NULL, NULL, NULL, { "not a loopback address", NULL, NULL } },
	{ "[metrics]\nlisten = 127.0.0.1.nip.io:9100\n", NULL, NULL, NULL, { "not a loopback address", NULL, NULL } },
	{ "[metrics]\nlisten = [::2]:9100\n", NULL, NULL, NULL, { "not a loopback address", NULL, NULL } },
	{ "[metrics]\nlisten = [::ffff:10.0.0.1]:9100\n", NULL, NULL, NULL, { "not a loopback address", NULL, NULL } },
	{ "", NULL, NULL, "BROTR_METRICS_LISTEN=[::]:9100", { "environment BROTR_METRICS_LISTEN", "allow_remote", NULL } },
	{ "[database]\nhost =\n", NULL, NULL, NULL, { "[database] host is required", NULL, NULL } },
	{ "[initializer]\nseed_file = x\n", NULL, NULL, NULL, { "belongs in services/initializer.ini", NULL, NULL } },
	{ "", "initializer.ini:[database]\nport = 1\n", NULL, NULL, { "initializer.ini:2", "only [initializer]", NULL } },
	{ "", "initialiser.ini:[initializer]\n", NULL, NULL, { "initialiser.ini", "no service is named", NULL } },
	{ "", NULL, "BROTR_DATABASE_PROT=1\n", NULL, { ".env:1", "unknown variable BROTR_DATABASE_PROT", NULL } },
	{ "", NULL, "PGPASSWORD=1\n", NULL, { ".env:1", "not a brotr variable", NULL } },
	{ "", NULL, "just words\n", NULL, { ".env:1", "NAME=value", NULL } },
	{ "", NULL, "BROTR_DATABASE_PORT=x\n", NULL, { ".env:1", "not an integer", NULL } },
	{ "", NULL, NULL, "BROTR_DATABASE_PORT=abc", { "environment BROTR_DATABASE_PORT", "not an integer", NULL } },
	{ "", NULL, NULL, "BROTR_NOPE=1", { "environment BROTR_NOPE", "unknown variable", NULL } },
};

START_TEST(each_error_is_reported_with_its_place)
{
	write_text("config/brotr.ini", bad[_i].ini, 0644);
	if (bad[_i].service_file) {
		char name[64];
		const char *colon = strchr(bad[_i].service_file, ':');
		snprintf(name, sizeof(name), "config/services/%.*s", (int)(colon - bad[_i].service_file),
			 bad[_i].service_file);
		write_text(name, colon + 1, 0644);
	}
	if (bad[_i].dotenv)
		write_text(".env", bad[_i].dotenv, 0600);
	char *env[] = { (char *)bad[_i].env, NULL };
	ck_assert_int_eq(load(env), -1);
	for (int j = 0; j < 3 && bad[_i].expect[j]; j++)
		ck_assert_msg(strstr(errs(), bad[_i].expect[j]), "case %d: '%s' not in: %s", _i, bad[_i].expect[j],
			      errs());
	ck_assert_ptr_null(cfg.origins); /* freed on failure */
}
END_TEST

START_TEST(every_error_is_reported_not_just_the_first)
{
	write_text("config/brotr.ini", "[database]\nport = x\nfoo = 1\n[bar]\nbaz = 2\n", 0644);
	ck_assert_int_eq(load(NULL), -1);
	ck_assert_ptr_nonnull(strstr(errs(), ":2:"));
	ck_assert_ptr_nonnull(strstr(errs(), ":3:"));
	ck_assert_ptr_nonnull(strstr(errs(), ":5:"));
}
END_TEST

START_TEST(metrics_listen_loopback_or_allowed)
{
	static const char *const ok[] = { "127.0.0.1:9100", "127.1.2.3:9100", "[::1]:9100", "[::ffff:127.0.0.1]:9100",
					  "localhost:9100" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "[metrics]\nlisten = %s\n", ok[i]);
		write_text("config/brotr.ini", text, 0644);
		ck_assert_msg(load(NULL) == 0, "%s: %s", ok[i], errs());
		config_free(&cfg);
	}
	/* allowed explicitly, from another source than the address (the check runs after every source) */
	write_text("config/brotr.ini", "[metrics]\nlisten = 0.0.0.0:9100\n", 0644);
	char *env[] = { "BROTR_METRICS_ALLOW_REMOTE=true", NULL };
	ck_assert_msg(load(env) == 0, "%s", errs());
	ck_assert_int_eq(cfg.metrics.allow_remote, 1);
}
END_TEST

START_TEST(missing_file_is_named)
{
	ck_assert_int_eq(config_load(&cfg, "/nonexistent/brotr.ini", NULL, &errors), -1);
	ck_assert_ptr_nonnull(strstr(errs(), "/nonexistent/brotr.ini"));
	ck_assert_ptr_nonnull(strstr(errs(), "No such file"));
}
END_TEST

START_TEST(secret_value_never_echoed)
{
	write_text("config/brotr.ini", "", 0644);
	char *env[] = { "BROTR_DATABASE_PASSWORD=hunter2", "BROTR_DATABASE_PORT=hunter2", NULL };
	ck_assert_int_eq(load(env), -1);
	/* the port error shows its value; the password is in no output */
	ck_assert_ptr_nonnull(strstr(errs(), "port = \"hunter2\""));
	buf_reset(&errors);
	char *env2[] = { "BROTR_DATABASE_PASSWORD=hunter2", NULL };
	ck_assert_int_eq(load(env2), 0);
	struct buf out;
	buf_init(&out);
	config_show(&cfg, &out);
	ck_assert_ptr_null(strstr(out.data, "hunter2"));
	buf_free(&out);
}
END_TEST

START_TEST(reference_lists_every_key)
{
	struct buf out;
	buf_init(&out);
	config_reference(&out);
	ck_assert_ptr_nonnull(strstr(out.data, "| `port` | integer | `5432` |"));
	ck_assert_ptr_nonnull(strstr(out.data, "`BROTR_DATABASE_PASSWORD`"));
	ck_assert_ptr_nonnull(strstr(out.data, "`[initializer]` in `config/services/initializer.ini`"));
	ck_assert_ptr_nonnull(strstr(out.data, "string (secret)"));
	buf_free(&out);
}
END_TEST

START_TEST(split_hostport)
{
	char host[64];
	int port;
	ck_assert_int_eq(config_split_hostport("127.0.0.1:9050", host, sizeof(host), &port), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(port, 9050);
	ck_assert_int_eq(config_split_hostport("[::1]:80", host, sizeof(host), &port), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(config_split_hostport("::1:80", host, sizeof(host), &port), -1);
	ck_assert_int_eq(config_split_hostport("host:0", host, sizeof(host), &port), -1);
	ck_assert_int_eq(config_split_hostport(":80", host, sizeof(host), &port), -1);
	ck_assert_int_eq(config_split_hostport("host:", host, sizeof(host), &port), -1);
	ck_assert_int_eq(config_split_hostport("[::1]80", host, sizeof(host), &port), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_apply);
	tcase_add_test(tc, precedence);
	tcase_add_loop_test(tc, dotenv_readable_by_others_refused, 0, 3);
	tcase_add_test(tc, relative_paths_resolve_from_implementation_dir);
	tcase_add_test(tc, flat_layout_reads_env_beside_the_ini);
	tcase_add_test(tc, values_of_every_type);
	tcase_add_loop_test(tc, each_error_is_reported_with_its_place, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, every_error_is_reported_not_just_the_first);
	tcase_add_test(tc, metrics_listen_loopback_or_allowed);
	tcase_add_test(tc, missing_file_is_named);
	tcase_add_test(tc, secret_value_never_echoed);
	tcase_add_test(tc, reference_lists_every_key);
	tcase_add_test(tc, split_hostport);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
