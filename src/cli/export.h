/* export.h — `brotr export`: the archive's events matching a NIP-01 filter, as JSON lines. */
#ifndef BROTR_CLI_EXPORT_H
#define BROTR_CLI_EXPORT_H

#include "core/config.h"
#include "core/log.h"

/* The command's help text (for the command table). */
extern const char cli_export_help[];

/* Runs the command with its arguments (after "export"). Returns the exit status: 0 done, 1 the
 * database failed or refused (nothing or a partial stream written; --output FILE is then left
 * untouched), 2 usage or I/O error. */
int cli_export(const struct config *cfg, const struct logger *lg, int argc, char **argv);

#endif
