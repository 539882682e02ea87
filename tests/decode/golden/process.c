#include "common.h"
#include <sys/resource.h>
#include <sys/wait.h>
int main(int argc, char **argv) {
	open_out(argc, argv);
	long pid = syscall(SYS_getpid);
	EXPECT("getpid() = %ld", pid);
	syscall(SYS_kill, G | pid, G | 0);
	EXPECT("kill(%ld, 0) = 0", pid);
	syscall(SYS_kill, 0x7ffffff0L, SIGTERM);
	EXPECT("kill(2147483632, SIGTERM) = -1 ESRCH (No such process)");
	struct rlimit rl = {1024, 2048};
	syscall(SYS_prlimit64, 0, G | RLIMIT_NOFILE, &rl, NULL);
	EXPECT("prlimit64(0, RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=2*1024}, NULL) = 0");
	int st;
	long c = fork();
	if (c == 0) _exit(3);
	syscall(SYS_wait4, G | c, &st, G | 0, NULL);
	EXPECT("wait4(%ld, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = %ld", c, c);
	long c2 = fork();
	if (c2 == 0) _exit(5);
	siginfo_t si;
	syscall(SYS_waitid, G | P_PID, G | c2, &si, G | WEXITED, NULL);
	EXPECT("waitid(P_PID, %ld, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=%ld, si_uid=%d, si_status=5, si_utime=0, si_stime=0}, WEXITED, NULL) = 0", c2, c2, getuid());
	syscall(SYS_wait4, -1, &st, WNOHANG | __WALL, NULL);
	EXPECT("wait4(-1, %p, WNOHANG|__WALL, NULL) = -1 ECHILD (No child processes)", &st);
	return 0;
}
