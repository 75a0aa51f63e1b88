/* fuzz_config.c — libFuzzer: configuration files and values (INI, services/<x>.ini, .env, BROTR_* variables). Input: the INI text, then optionally a line "%%" and the .env text (whose BROTR_ lines are also passed as the environment). Invariants: no crash; a load either succeeds or names at least one problem. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], ini[96], dotenv[96];

static void put(const char *path, const uint8_t *p, size_t n, mode_t mode)
{
	FILE *f = fopen(path, "we");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0 || chmod(path, mode) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		char cfg[96];
		snprintf(dir, sizeof(dir), "/tmp/brotr-fuzz-config-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(cfg, sizeof(cfg), "%s/config", dir);
		mkdir(cfg, 0700);
		snprintf(ini, sizeof(ini), "%s/brotr.ini", cfg);
		snprintf(dotenv, sizeof(dotenv), "%s/.env", dir);
	}
	const uint8_t *sep = NULL;
	for (size_t i = 0; i + 4 <= size && !sep; i++)
		if (memcmp(data + i, "\n%%\n", 4) == 0)
			sep = data + i;
	size_t n_ini = sep ? (size_t)(sep - data) : size;
	put(ini, data, n_ini, 0600);
	unlink(dotenv);
	char *envtext = NULL, *env[16] = { NULL };
	if (sep) {
		size_t n = size - n_ini - 4;
		put(dotenv, sep + 4, n, 0600);
		envtext = malloc(n + 1);
		memcpy(envtext, sep + 4, n);
		envtext[n] = '\0';
		size_t k = 0;
		for (char *line = strtok(envtext, "\n"); line && k + 1 < 16; line = strtok(NULL, "\n"))
			if (strncmp(line, "BROTR_", 6) == 0 && strchr(line, '='))
				env[k++] = line;
	}
	struct config cfg;
	struct buf errors, shown;
	buf_init(&errors);
	buf_init(&shown);
	if (config_load(&cfg, ini, env, &errors) == 0) {
		config_show(&cfg, &shown);
		config_free(&cfg);
	} else if (errors.len == 0) {
		abort(); /* a refused configuration says why */
	}
	buf_free(&errors);
	buf_free(&shown);
	free(envtext);
	return 0;
}
