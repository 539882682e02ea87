#include "common.h"
#include <sys/mman.h>
/* Small decoding classes of strace's own test suite: poll's fds as an array
 * (negative fds without events, an unreadable element as `... ADDR-comment`),
 * ppoll's remaining time, a buffer whose byte after the -s shown ones is
 * unreadable (its address), mincore's vector, capset's sets,
 * set_thread_area/get_thread_area's user_desc. */
struct pfd { int fd; short ev, rev; };
int main(int argc, char **argv) {
	open_out(argc, argv);
	long r;
	/* two pages, the second unreadable */
	char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pg == MAP_FAILED || mprotect(pg + 4096, 4096, PROT_NONE))
		return 1;
	char *end = pg + 4096;

	/* poll: a negative fd prints without its events; the element after the
	 * page's end as `...` and its address in a comment */
	struct pfd *p = (struct pfd *) (end - sizeof(struct pfd));
	p->fd = -5; p->ev = 1; p->rev = 0;
	r = syscall(SYS_poll, p, G | 2, G | 0);
	EXPECT("poll([{fd=-5}, ... /* %p */], 2, 0) = %s", end, res(r));

	/* ppoll: the ready fds and the time left */
	int fds[2];
	if (pipe(fds))
		return 1;
	struct pfd pp[2] = {{fds[0], 1, 0}, {fds[1], 4, 0}};
	struct { long s, ns; } ts = {0, 0};
	r = syscall(SYS_ppoll, pp, G | 2, &ts, NULL, 8UL);
	EXPECT("ppoll([{fd=%d, events=POLLIN}, {fd=%d, events=POLLOUT}], 2, {tv_sec=0, tv_nsec=0}, NULL, 8) = 1 "
	       "([{fd=%d, revents=POLLOUT}], left {tv_sec=0, tv_nsec=0})", fds[0], fds[1], fds[1]);

	/* a buffer of 33 bytes whose 33rd is past the page's end: the address
	 * (strace reads -s + 1 bytes) */
	char *b = end - 32;
	memset(b, 'x', 32);
	r = syscall(SYS_write, G | 0xffffffffUL, b, 33UL);
	EXPECT("write(-1, %p, 33) = %s", b, res(r));
	r = syscall(SYS_add_key, NULL, NULL, b, 33UL, -1);
	EXPECT("add_key(NULL, NULL, %p, 33, KEY_SPEC_THREAD_KEYRING) = %s", b, res(r));
	/* ... and 32 of them: the bytes */
	r = syscall(SYS_write, G | 0xffffffffUL, b, 32UL);
	EXPECT("write(-1, \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\", 32) = %s", res(r));

	/* mincore: a byte a page */
	pg[0] = 1;
	unsigned char *vec = (unsigned char *) end - 1;
	r = syscall(SYS_mincore, pg, 4096UL, vec);
	EXPECT("mincore(%p, 4096, [%u]) = %s", pg, vec[0], res(r));
	r = syscall(SYS_mincore, pg, 4097UL, vec);
	EXPECT("mincore(%p, 4097, %p) = %s", pg, vec, res(r));

	/* capset: an unknown version reads one struct; version 3 two, the
	 * second holding capabilities 32..63 */
	unsigned *h = (unsigned *) (end - 8);
	unsigned *d = (unsigned *) (end - 32);
	h[0] = 0xbadc0ded; h[1] = 0;
	d[0] = 1 << 1; d[1] = 1 << 2; d[2] = 0; d[3] = 1 << 3; d[4] = 1 << 4; d[5] = 0;
	r = syscall(SYS_capset, h, d);
	EXPECT("capset({version=0xbadc0ded /* _LINUX_CAPABILITY_VERSION_??? */, pid=0}, "
	       "{effective=1<<CAP_DAC_OVERRIDE, permitted=1<<CAP_DAC_READ_SEARCH, inheritable=0}) = %s", res(r));
	h[0] = 0x20080522; h[1] = 1;
	r = syscall(SYS_capset, h, d);
	EXPECT("capset({version=_LINUX_CAPABILITY_VERSION_3, pid=1}, {effective=1<<CAP_DAC_OVERRIDE|1<<CAP_WAKE_ALARM, "
	       "permitted=1<<CAP_DAC_READ_SEARCH|1<<CAP_BLOCK_SUSPEND, inheritable=0}) = %s", res(r));
	/* the sets past the page's end: the address */
	r = syscall(SYS_capget, h, end - 12);
	EXPECT("capget({version=_LINUX_CAPABILITY_VERSION_3, pid=1}, %p) = %s", end - 12, res(r));

	/* set_thread_area/get_thread_area (ENOSYS on x86_64) */
	unsigned *u = (unsigned *) (end - 16);
	u[0] = 0xffffffff; u[1] = 0; u[2] = 0x10; u[3] = 1 | 1 << 1 | 1 << 7;
	r = syscall(SYS_set_thread_area, u);
	EXPECT("set_thread_area({entry_number=-1, base_addr=00000000, limit=0x000010, seg_32bit=1, contents=1, "
	       "read_exec_only=0, limit_in_pages=0, seg_not_present=0, useable=0, lm=1}) = %s", res(r));
	u = (unsigned *) (end - 4);
	u[0] = 12;
	r = syscall(SYS_get_thread_area, u);
	EXPECT("get_thread_area({entry_number=12, ...}) = %s", res(r));
	return 0;
}
