/* process.h — process-wide set-up of commands that hold secrets or talk to relays: no core dumps, enough descriptors. */
#ifndef BROTR_CORE_PROCESS_H
#define BROTR_CORE_PROCESS_H

#include <stddef.h>

/*
 * Sets RLIMIT_CORE to 0 and clears the dumpable flag (PR_SET_DUMPABLE 0), so that a crash
 * or a same-user ptrace/proc read cannot copy the database password, the monitor's private
 * key or the helper's secret out of memory. Returns 0, or -1 with errno set (the caller
 * says so; a process that cannot drop the flag still runs).
 */
int process_no_core_dumps(void) __attribute__((warn_unused_result));

/*
 * Makes sure at least need file descriptors can be open: raises the soft RLIMIT_NOFILE to
 * need when it is lower (never lowers it, never above the hard limit). Returns 0, or -1 when
 * the hard limit is below need (*hard gets it, so the caller can name the limit and the
 * keys that asked for more).
 */
int process_fd_limit(unsigned long need, unsigned long *hard) __attribute__((warn_unused_result));

#endif
