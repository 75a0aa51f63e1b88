/* import.h — `brotr import`: JSON lines of events from any source, verified and stored in batches. */
#ifndef BROTR_CLI_IMPORT_H
#define BROTR_CLI_IMPORT_H

#include "core/config.h"
#include "core/log.h"

/* The command's help text (for the command table). */
extern const char cli_import_help[];

/* Runs the command with its arguments (after "import"). Returns the exit status: 0 the input was
 * read to its end and every batch committed (rejected lines are counted, not failures), 1 the
 * database failed (what was committed stays; running again resumes), 2 usage or I/O error. */
int cli_import(const struct config *cfg, const struct logger *lg, int argc, char **argv);

#endif
