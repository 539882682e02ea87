// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * Seizing.
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

int tr_seize(struct tr_loop *L, int tid, int tgid, int interrupt)
{
	long opts = TR_O_TRACESYSGOOD | TR_O_TRACESECCOMP | TR_O_TRACECLONE | TR_O_TRACEFORK | TR_O_TRACEVFORK |
		    TR_O_TRACEEXEC | TR_O_TRACEEXIT;
	struct tr_task *t;

	if (!L->attach && !L->cfg->daemonized)
		opts |= TR_O_EXITKILL;
	if (!L->attach && L->cfg->no_follow)
		opts &= ~(long)(TR_O_TRACECLONE | TR_O_TRACEFORK | TR_O_TRACEVFORK);
	if (ptrace(TR_PTRACE_SEIZE, tid, 0L, opts) < 0)
		return -errno;
	t = tr_task_new(L, tid, tgid);
	if (!t)
		return -ENOMEM;
	t->flags |= T_ANNOUNCED;
	if (interrupt)
		ptrace(TR_PTRACE_INTERRUPT, tid, 0L, 0L);
	return 0;
}

void tr_fail(struct tr_loop *L, const char *fmt, int a, int err)
{
	snprintf(L->err, L->errlen, fmt, a, strerror(err));
}

int tr_attach_pid(struct tr_loop *L, int pid)
{
	char path[64];
	int added, r, tgid = pid, ptgid;

	/* the first thread decides whether the pid can be traced at all */
	if (!tr_find(L, pid)) {
		r = tr_seize(L, pid, 0, 1);
		if (r < 0) {
			tr_fail(L, "attach: ptrace(PTRACE_SEIZE, %d): %s", pid, -r);
			return r;
		}
		tgid = tr_find(L, pid)->tgid;
	}
	/* the threads as /proc numbers them (unshare -pf: an outer /proc) */
	ptgid = tr_find(L, tgid) ? TR_PROC_ID(tr_find(L, tgid)) : tgid;
	snprintf(path, sizeof(path), "/proc/%d/task", ptgid);
	do {
		DIR *d = opendir(path);
		struct dirent *de;

		added = 0;
		if (!d)
			break;
		while ((de = readdir(d))) {
			int tid = tr_our_tid(atoi(de->d_name));

			if (tid <= 0 || tr_find(L, tid))
				continue;
			if (tr_seize(L, tid, tgid, 1) == 0)
				added++;
		}
		closedir(d);
	} while (added);
	return 0;
}
