/* Golden tracees: each makes raw syscalls (garbage in the upper 32 bits of
 * int arguments, as the kernel ignores them) and writes the line strace
 * prints for each call to the file named by argv[1]. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#define G 0xdeadbeef00000000UL
static FILE *out;
#define EXPECT(...) do { fprintf(out, __VA_ARGS__); fputc('\n', out); fflush(out); } while (0)
static const char *err(long r) {
	static char b[256];
	if (r >= 0) { snprintf(b, sizeof b, "%ld", r); return b; }
	return b;
}
/* strace's ` = ...` text of a result: the value, or -1, errno's name and text */
static const char *res(long r) {
	static char rb[256];

	if (r >= 0)
		snprintf(rb, sizeof rb, "%ld", r);
	else
		snprintf(rb, sizeof rb, "-1 %s (%s)", strerrorname_np(errno), strerror(errno));
	return rb;
}
static void open_out(int argc, char **argv) {
	if (argc < 2) exit(2);
	out = fopen(argv[1], "w");
	if (!out) exit(2);
}
