/* Structs, arrays and numbers the call fills or reads: printed by value,
 * their address when unreadable or when the call failed. */
#include "common.h"
#include <sched.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/mman.h>
int main(int argc, char **argv) {
	open_out(argc, argv);
	unsigned cpu = 0, node = 0;
	long r = syscall(SYS_getcpu, &cpu, &node, NULL);
	EXPECT("getcpu([%u], [%u], NULL) = %ld", cpu, node, r);
	r = syscall(SYS_getcpu, NULL, NULL, NULL);
	EXPECT("getcpu(NULL, NULL, NULL) = %ld", r);
	gid_t g[64];
	long n = syscall(SYS_getgroups, 0, NULL);
	EXPECT("getgroups(0, NULL) = %ld", n);
	n = syscall(SYS_getgroups, G | 64, g);
	char list[1024] = "";
	for (long i = 0; i < n && i < 32; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%u", i ? ", " : "", (unsigned) g[i]);
	EXPECT("getgroups(64, [%s]) = %ld", list, n);
	/* the last page of a mapping: one gid readable, the second not */
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	gid_t *last = (gid_t *) (page + 4096) - 1;
	*last = (gid_t) -1;
	r = syscall(SYS_setgroups, 2, last);
	EXPECT("setgroups(2, [-1, ... /* %p */]) = %s", (void *) (last + 1), r == -1 && errno == EINVAL ? "-1 EINVAL (Invalid argument)" : "-1 EFAULT (Bad address)");
	r = syscall(SYS_setgroups, 0, last);
	EXPECT("setgroups(0, []) = %s", r == 0 ? "0" : "-1 EPERM (Operation not permitted)");
	struct sched_param sp;
	r = syscall(SYS_sched_getparam, 0, &sp);
	EXPECT("sched_getparam(0, [%d]) = %ld", sp.sched_priority, r);
	struct timezone tz;
	struct timeval tv;
	r = syscall(SYS_gettimeofday, NULL, &tz);
	EXPECT("gettimeofday(NULL, {tz_minuteswest=%d, tz_dsttime=%d}) = %ld", tz.tz_minuteswest, tz.tz_dsttime, r);
	(void) tv;
	unsigned long set = 0;
	r = syscall(SYS_rt_sigpending, &set, 8);
	EXPECT("rt_sigpending([], 8) = %ld", r);
	r = syscall(SYS_rt_sigpending, &set, 0);
	EXPECT("rt_sigpending(%p, 0) = %ld", (void *) &set, r);
	/* rt_sigpending takes a set of 1..8 bytes (strace reads that many,
	 * even at the end of a page); a pending SIGHUP, blocked to the end */
	char *end = page + 4096;
	sigset_t hup;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, NULL);
	kill(getpid(), SIGHUP);
	r = syscall(SYS_rt_sigpending, end - 4, 4);
	EXPECT("rt_sigpending([HUP], 4) = %ld", r);
	r = syscall(SYS_rt_sigpending, end - 1, 1);
	EXPECT("rt_sigpending([HUP], 1) = %ld", r);
	r = syscall(SYS_rt_sigpending, end - 4, 8);
	EXPECT("rt_sigpending(%p, 8) = -1 EFAULT (%s)", end - 4, strerror(errno));
	return 0;
}
