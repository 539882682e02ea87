/* A bounded fork bomb: a binary tree of processes DEPTH levels deep (63 for
 * 6), each making one chdir and counting itself when it failed with ENOENT;
 * the root prints "<failed> <processes>". Every process waits for its two
 * children, so nothing outlives the root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int tree(int depth, int *procs)
{
	int failed = syscall(SYS_chdir, "/tmp") < 0 && errno == ENOENT;

	*procs = 1;
	if (depth <= 1)
		return failed;
	for (int i = 0; i < 2; i++) {
		int p[2], sub[2];
		pid_t pid;

		if (pipe(p) < 0)
			exit(100);
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			sub[0] = tree(depth - 1, &sub[1]);
			if (write(p[1], sub, sizeof(sub)) != sizeof(sub))
				_exit(1);
			_exit(0);
		}
		close(p[1]);
		if (pid < 0 || read(p[0], sub, sizeof(sub)) != sizeof(sub))
			exit(101);
		close(p[0]);
		waitpid(pid, NULL, 0);
		failed += sub[0];
		*procs += sub[1];
	}
	return failed;
}

int main(int argc, char **argv)
{
	int procs, failed = tree(argc > 1 ? atoi(argv[1]) : 6, &procs);

	printf("%d %d\n", failed, procs);
	return 0;
}
