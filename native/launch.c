/* What the launched command does between its fork and its exec that Python
 * has no call for (client/_launch.py): name its tracer for Yama, put a
 * signal back to its default or to ignored, install the seccomp filter.
 * Here rather than through ctypes, whose import was ~1.7 ms of every
 * tracectl start. Each returns 0 or -errno. */
#include <linux/filter.h>

#include "tr_internal.h"

int tr_launch_ptracer(int tracer)
{
	return prctl(PR_SET_PTRACER, (unsigned long)(unsigned int)tracer, 0, 0, 0) < 0 ? -errno : 0;
}

int tr_launch_signal(int sig, int ignore)
{
	return signal(sig, ignore ? SIG_IGN : SIG_DFL) == SIG_ERR ? -errno : 0;
}

int tr_launch_filter(const void *bpf, size_t len)
{
	struct sock_fprog prog = { .len = (unsigned short)(len / 8), .filter = (struct sock_filter *)bpf };

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
		return 0;
	if (errno != EACCES) /* EACCES: unprivileged, and no_new_privs not set yet */
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : -errno;
}
