/* event_verify.h — `brotr event verify [FILE]`: one verdict line per input line, verified on every core. */
#ifndef BROTR_CLI_EVENT_VERIFY_H
#define BROTR_CLI_EVENT_VERIFY_H

/* The command's help text (for the command table). */
extern const char cli_event_verify_help[];

/* Runs the command with its arguments (after "event verify"). Returns the exit status: 0 every line
 * valid, 1 some line invalid, 2 usage or I/O error. */
int cli_event_verify(int argc, char **argv);

#endif
