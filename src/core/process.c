/* process.c — process-wide set-up of commands that hold secrets or talk to relays: no core dumps, enough descriptors. */
#include "core/process.h"

#include <sys/prctl.h>
#include <sys/resource.h>

int process_no_core_dumps(void)
{
	struct rlimit none = { 0, 0 };
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return -1;
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ? -1 : 0;
}

int process_fd_limit(unsigned long need, unsigned long *hard)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) < 0)
		return -1;
	*hard = r.rlim_max == RLIM_INFINITY ? (unsigned long)-1 : (unsigned long)r.rlim_max;
	if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur >= need)
		return 0;
	if (*hard < need)
		return -1;
	r.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &r);
}
