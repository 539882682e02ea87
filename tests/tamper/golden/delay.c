/* Delay isolation: thread A makes one getppid (held by delay_enter= or
 * delay_exit=), thread B makes N chdir calls meanwhile. A prints how many of
 * B's calls had returned when its own getppid returned (into argv[2]). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_int going, done_b;
static int n = 300;

static void *thread_b(void *arg)
{
	while (!atomic_load(&going))
		;
	for (int i = 0; i < n; i++) {
		syscall(SYS_chdir, "/");
		atomic_fetch_add(&done_b, 1);
	}
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t b;
	int seen;

	if (argc > 1)
		n = atoi(argv[1]);
	pthread_create(&b, NULL, thread_b, NULL);
	atomic_store(&going, 1);
	syscall(SYS_getppid);
	seen = atomic_load(&done_b);
	pthread_join(b, NULL);
	if (argc > 2) {
		FILE *f = fopen(argv[2], "w");

		if (!f)
			return 1;
		fprintf(f, "%d %d\n", seen, n);
		fclose(f);
	}
	return 0;
}
