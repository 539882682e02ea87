#include "common.h"
#include <sys/prctl.h>
#include <asm/prctl.h>
/* prctl and arch_prctl by option: the option unsigned, strings read as
 * strace reads them, values the call fills printed at exit, annotated
 * returns. */
int main(int argc, char **argv) {
	open_out(argc, argv);
	/* strace's test-suite marker: an unknown option, printed unsigned */
	long r = syscall(SYS_prctl, 0xffffffffUL, 0xfffffffeUL, 0xfffffffdUL, 0xfffffffcUL, 0xfffffffbUL);
	EXPECT("prctl(0xffffffff /* PR_??? */, 0xfffffffe, 0xfffffffd, 0xfffffffc, 0xfffffffb) = -1 EINVAL (Invalid argument)");
	r = syscall(SYS_prctl, G | PR_GET_DUMPABLE, 0, 0, 0, 0);
	EXPECT("prctl(PR_GET_DUMPABLE) = %ld (SUID_DUMP_USER)", r);
	syscall(SYS_prctl, PR_SET_DUMPABLE, 3UL, 0, 0, 0);
	EXPECT("prctl(PR_SET_DUMPABLE, 0x3 /* SUID_DUMP_??? */) = -1 EINVAL (Invalid argument)");
	/* a name of 15 characters is cut there (TASK_COMM_LEN - 1), with the ellipsis */
	syscall(SYS_prctl, PR_SET_NAME, "golden-prctl-15", 0, 0, 0);
	EXPECT("prctl(PR_SET_NAME, \"golden-prctl-15\"...) = 0");
	syscall(SYS_prctl, PR_SET_NAME, "short", 0, 0, 0);
	EXPECT("prctl(PR_SET_NAME, \"short\") = 0");
	char name[16];
	syscall(SYS_prctl, PR_GET_NAME, name, 0, 0, 0);
	EXPECT("prctl(PR_GET_NAME, \"short\") = 0");
	syscall(SYS_prctl, PR_SET_PDEATHSIG, (unsigned long)SIGUSR1, 0, 0, 0);
	EXPECT("prctl(PR_SET_PDEATHSIG, SIGUSR1) = 0");
	int sig = -1;
	syscall(SYS_prctl, PR_GET_PDEATHSIG, &sig, 0, 0, 0);
	EXPECT("prctl(PR_GET_PDEATHSIG, [SIGUSR1]) = 0");
	syscall(SYS_prctl, PR_GET_PDEATHSIG, NULL, 0, 0, 0);
	EXPECT("prctl(PR_GET_PDEATHSIG, NULL) = -1 EFAULT (Bad address)");
	r = syscall(SYS_prctl, PR_CAPBSET_READ, 0x100UL, 0, 0, 0);
	EXPECT("prctl(PR_CAPBSET_READ, 0x100 /* CAP_??? */) = -1 EINVAL (Invalid argument)");
	r = syscall(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0);
	EXPECT("prctl(PR_GET_TIMERSLACK) = %ld", r);
	r = syscall(SYS_prctl, PR_SET_PTRACER, -1L, 0, 0, 0);  /* EINVAL without Yama */
	EXPECT("prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY) = %s", r == 0 ? "0" : "-1 EINVAL (Invalid argument)");
	/* arch_prctl: the word ARCH_GET_FS fills, at exit */
	unsigned long fs = 0;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	EXPECT("arch_prctl(ARCH_GET_FS, [%#lx]) = 0", fs);
	syscall(SYS_arch_prctl, 0x1fffUL, 0UL);
	EXPECT("arch_prctl(0x1fff /* ARCH_??? */, 0) = -1 EINVAL (Invalid argument)");
	return 0;
}
