#include "common.h"
#include <time.h>
#include <sys/mman.h>
struct ksa { unsigned long handler, flags, restorer, mask; };
static void h(int s) { (void)s; }
/* a protection-key fault carries the key (si_pkey after si_addr) */
static void pku(int s, siginfo_t *i, void *u) {
	(void)s; (void)u;
	if (i->si_code == 4 /* SEGV_PKUERR */)
		EXPECT("--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_PKUERR, si_addr=%p, si_pkey=%u} ---", i->si_addr, i->si_pkey);
	_exit(0);
}
int main(int argc, char **argv) {
	open_out(argc, argv);
	struct ksa sa = {1 /* SIG_IGN */, 0x10000000 /* SA_RESTART */, 0, 1UL << (SIGINT - 1)};
	syscall(SYS_rt_sigaction, G | SIGUSR2, &sa, NULL, 8UL);
	EXPECT("rt_sigaction(SIGUSR2, {sa_handler=SIG_IGN, sa_mask=[INT], sa_flags=SA_RESTART}, NULL, 8) = 0");
	struct ksa old;
	syscall(SYS_rt_sigaction, SIGUSR2, NULL, &old, 8UL);
	EXPECT("rt_sigaction(SIGUSR2, NULL, {sa_handler=SIG_IGN, sa_mask=[INT], sa_flags=SA_RESTART}, 8) = 0");
	unsigned long set = (1UL << (SIGCHLD - 1)) | (1UL << (SIGTERM - 1)), oset;
	syscall(SYS_rt_sigprocmask, G | SIG_BLOCK, &set, &oset, 8UL);
	EXPECT("rt_sigprocmask(SIG_BLOCK, [TERM CHLD], [], 8) = 0");
	set = ~0UL;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8UL);
	EXPECT("rt_sigprocmask(SIG_SETMASK, ~[], NULL, 8) = 0");
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &oset, NULL, 8UL);
	EXPECT("rt_sigprocmask(SIG_SETMASK, [], NULL, 8) = 0");
	unsigned long u1 = 1UL << (SIGUSR1 - 1);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &u1, NULL, 8UL);
	EXPECT("rt_sigprocmask(SIG_BLOCK, [USR1], NULL, 8) = 0");
	long me = getpid();
	syscall(SYS_kill, me, SIGUSR1);
	EXPECT("kill(%ld, SIGUSR1) = 0", me);
	siginfo_t si;
	struct timespec ts = {1, 0};
	syscall(SYS_rt_sigtimedwait, &u1, &si, &ts, 8UL);
	EXPECT("rt_sigtimedwait([USR1], {si_signo=SIGUSR1, si_code=SI_USER, si_pid=%ld, si_uid=%d}, {tv_sec=1, tv_nsec=0}, 8) = 10 (SIGUSR1)", me, getuid());
	syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &u1, NULL, 8UL);
	EXPECT("rt_sigprocmask(SIG_UNBLOCK, [USR1], NULL, 8) = 0");
	signal(SIGUSR1, h);
	long pid = getpid();
	syscall(SYS_kill, pid, SIGUSR1);
	EXPECT("kill(%ld, SIGUSR1) = 0", pid);
	EXPECT("--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=%ld, si_uid=%d} ---", pid, getuid());
	/* the handler returns through rt_sigreturn, which restores the mask
	 * saved in the frame (read off the stack) and kill's return value */
	EXPECT("rt_sigreturn({mask=[]}) = 0");
	unsigned long u2 = 1UL << (SIGUSR2 - 1) | 1UL << (SIGHUP - 1);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &u2, NULL, 8UL);
	EXPECT("rt_sigprocmask(SIG_BLOCK, [HUP USR2], NULL, 8) = 0");
	syscall(SYS_kill, pid, SIGUSR1);
	EXPECT("kill(%ld, SIGUSR1) = 0", pid);
	EXPECT("--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=%ld, si_uid=%d} ---", pid, getuid());
	EXPECT("rt_sigreturn({mask=[HUP USR2]}) = 0");
	/* an execute-only page is one the kernel guards with a protection key
	 * (where the CPU has them): reading it faults with SEGV_PKUERR */
	int *xo = mmap(NULL, 4096, PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sigaction act = {.sa_sigaction = pku, .sa_flags = SA_SIGINFO | SA_RESETHAND};
	sigaction(SIGSEGV, &act, NULL);
	__asm__ volatile("" :: "r"(*xo));
	return 0;
}
