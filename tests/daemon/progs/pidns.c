/* Run from a pid namespace of its own (`unshare -pf`, as strace's
 * --pidns-translation tests run): the command forks A, which unshares its pid
 * namespace and forks B, the init of a namespace below; B makes the calls
 * whose pids --pidns-translation comments on, and a thread. Each prints the
 * numbers it knows as the client's namespace numbers them: A prints B's (a
 * fork returns the child's pid in the parent's namespace), the command its
 * own and A's; tests/daemon/test_pidns.py compares them with the trace. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void *thread(void *arg)
{
	(void)arg;
	syscall(SYS_gettid);
	return NULL;
}

static void inner(void)
{
	siginfo_t si;
	pthread_t th;
	int me = (int)syscall(SYS_getpid);

	fcntl(0, F_SETOWN, me);
	fcntl(0, F_GETOWN); /* glibc: F_GETOWN_EX */
	syscall(SYS_fcntl, 0, F_GETOWN);
	signal(SIGUSR1, SIG_IGN);
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_pid = me;
	si.si_uid = getuid();
	syscall(SYS_rt_sigqueueinfo, me, SIGUSR1, &si);
	/* kcmp of B's own fds, by the number B knows itself by (1) */
	int nul = open("/dev/null", O_RDONLY);
	syscall(SYS_kcmp, me, me, 0 /* KCMP_FILE */, nul, nul);
	close(nul);
	pthread_create(&th, NULL, thread, NULL);
	pthread_join(th, NULL);
}

int main(void)
{
	int me = (int)syscall(SYS_getpid);
	pid_t a = fork();

	if (a == 0) {
		pid_t b;

		if (unshare(CLONE_NEWPID))
			_exit(2);
		b = fork();
		if (b == 0) {
			inner();
			_exit(0);
		}
		waitpid(b, NULL, 0);
		printf("B %d\n", b);
		fflush(stdout);
		_exit(0);
	}
	waitpid(a, NULL, 0);
	printf("ME %d A %d\n", me, a);
	return 0;
}
