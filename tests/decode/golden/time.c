#include "common.h"
#include <time.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/resource.h>
/* a rlim_t as strace prints it */
static const char *rlim(char *b, unsigned long v) {
	if (v == (unsigned long)-1)
		return "RLIM64_INFINITY";
	if (v > 1024 && v % 1024 == 0)
		sprintf(b, "%lu*1024", v / 1024);
	else
		sprintf(b, "%lu", v);
	return b;
}
int main(int argc, char **argv) {
	open_out(argc, argv);
	struct timespec ts = {0, 1000};
	syscall(SYS_nanosleep, &ts, NULL);
	EXPECT("nanosleep({tv_sec=0, tv_nsec=1000}, NULL) = 0");
	syscall(SYS_clock_nanosleep, G | CLOCK_MONOTONIC, G | 0, &ts, NULL);
	EXPECT("clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=0, tv_nsec=1000}, NULL) = 0");
	struct timespec r;
	syscall(SYS_clock_getres, G | CLOCK_REALTIME, &r);
	EXPECT("clock_getres(CLOCK_REALTIME, {tv_sec=%ld, tv_nsec=%ld}) = 0", (long)r.tv_sec, r.tv_nsec);
	syscall(SYS_clock_gettime, 99, &r);
	EXPECT("clock_gettime(0x63 /* CLOCK_??? */, %p) = -1 EINVAL (Invalid argument)", &r);
	/* structs described in the table (fields =), printed from that alone */
	timer_t tid;
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &tid);
	struct itimerspec its = { {0, 0}, {100, 5} }, old;
	syscall(SYS_timer_settime, G | (int)(long)tid, G | 0, &its, &old);
	EXPECT("timer_settime(%d, 0, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=100, tv_nsec=5}}, "
	       "{it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=0, tv_nsec=0}}) = 0", (int)(long)tid);
	syscall(SYS_timer_gettime, G | (int)(long)tid, NULL);
	EXPECT("timer_gettime(%d, NULL) = -1 EFAULT (Bad address)", (int)(long)tid);
	struct itimerval itv = { {0, 0}, {0, 0} };
	syscall(SYS_setitimer, ITIMER_REAL, &itv, NULL);
	EXPECT("setitimer(ITIMER_REAL, {it_interval={tv_sec=0, tv_usec=0}, it_value={tv_sec=0, tv_usec=0}}, NULL) = 0");
	struct rlimit rl;
	char cur[32], max[32];
	syscall(SYS_getrlimit, G | RLIMIT_STACK, &rl);
	EXPECT("getrlimit(RLIMIT_STACK, {rlim_cur=%s, rlim_max=%s}) = 0", rlim(cur, rl.rlim_cur), rlim(max, rl.rlim_max));
	return 0;
}
