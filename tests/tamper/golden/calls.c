/* Golden program for tampering: a fixed sequence of calls whose results it
 * prints to stdout (so the tests compare what the tracee saw as well as the
 * trace). argv[1] picks the scenario:
 *   seq      chdir("/tmp") x 9, then getppid, read of /dev/zero, close(-1)
 *   threads  two threads, one after the other, each chdir("/tmp") x 4
 *   fork     chdir x 3 in the parent, a child that does chdir x 3, waited for
 *   i386     getpid and chdir through int $0x80 (the i386 personality)
 *   loop     "ready", then chdir("/tmp") every 10 ms until killed
 *   pause    pause(): returns only when a signal= interrupts it
 *   paths    opens /dev/null and argv[2] in turn, and closes what it opened
 *   edge     chdir of a path 1 byte, then 8 bytes, before unmapped memory
 *            (a poke there writes part of its data), then at that memory
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[] = "/tmp"; /* writable: poke_enter may change it */

static void show(const char *what, long r)
{
	printf("%s %ld %d\n", what, r, r < 0 ? errno : 0);
	fflush(stdout);
}

static void chdirs(int n)
{
	for (int i = 0; i < n; i++)
		show("chdir", syscall(SYS_chdir, path));
}

static void *worker(void *arg)
{
	chdirs(4);
	return arg;
}

static void on_usr1(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "seq";

	signal(SIGUSR1, on_usr1);
	if (!strcmp(mode, "seq")) {
		char buf[8] = "zzzzzzz";
		int fd = open("/dev/zero", O_RDONLY);

		chdirs(9);
		show("getppid", syscall(SYS_getppid) == getppid() ? 1 : 0);
		show("read", syscall(SYS_read, fd, buf, 4));
		show("buf", buf[0]);
		show("close", syscall(SYS_close, -1));
	} else if (!strcmp(mode, "threads")) {
		pthread_t a, b;

		pthread_create(&a, NULL, worker, NULL);
		pthread_join(a, NULL);
		pthread_create(&b, NULL, worker, NULL);
		pthread_join(b, NULL);
	} else if (!strcmp(mode, "fork")) {
		pid_t pid;

		chdirs(3);
		pid = fork();
		if (pid == 0) {
			chdirs(3);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	} else if (!strcmp(mode, "paths") && argc > 2) {
		const char *names[] = { "/dev/null", argv[2], "/dev/null", argv[2], argv[2], argv[2] };

		for (int i = 0; i < 6; i++) {
			long fd = syscall(SYS_openat, AT_FDCWD, names[i], O_RDONLY);

			show("openat", fd);
			if (fd >= 0)
				show("close", syscall(SYS_close, fd));
		}
	} else if (!strcmp(mode, "edge")) {
		char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		munmap(page + 4096, 4096);
		memset(page, '/', 4096);
		show("chdir", syscall(SYS_chdir, page + 4095));
		show("chdir", syscall(SYS_chdir, page + 4088));
		show("chdir", syscall(SYS_chdir, page + 4096));
	} else if (!strcmp(mode, "pause")) {
		show("pause", pause());
	} else if (!strcmp(mode, "loop")) {
		puts("ready");
		fflush(stdout);
		for (;;) {
			show("chdir", syscall(SYS_chdir, path));
			usleep(10000);
		}
	} else if (!strcmp(mode, "i386")) {
		long r;

		/* i386 getpid (20) and chdir (12) through int $0x80; the path
		 * must be below 4 GiB: a static buffer of a -no-pie program */
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
		show("getpid32", r);
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(12L), "b"(path) : "memory");
		show("chdir32", r);
	}
	return 0;
}
