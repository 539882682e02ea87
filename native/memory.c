// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * Tracee memory.
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

#include <inttypes.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* Read len bytes at addr: bytes read (possibly short) or -errno. */
ssize_t tr_peek(struct tr_task *t, void *dst, uint64_t addr, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!len)
		return 0;
	if (!addr)
		return -EFAULT;
	n = process_vm_readv(t->tid, &l, 1, &r, 1, 0);
	if (n >= 0)
		return n;
	if (errno == EFAULT || errno == ESRCH)
		return -errno;
	/* ENOSYS (no CONFIG_CROSS_MEMORY_ATTACH), EPERM: /proc/PID/mem */
	if (t->mem_fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", TR_PROC_ID(t));
		t->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (t->mem_fd < 0)
			return -errno;
	}
	n = pread(t->mem_fd, dst, len, (off_t)addr);
	if (n < 0)
		return errno == EIO ? -EFAULT : -errno;
	if (n == 0)
		return -EFAULT;
	return n;
}

static unsigned char *tr_rdbuf(struct tr_loop *L, size_t n)
{
	if (n > L->rdcap) {
		unsigned char *p = realloc(L->rd, n);

		if (!p)
			return NULL;
		L->rd = p;
		L->rdcap = n;
	}
	return L->rd;
}

#define TR_FIRST_READ 256

/* A C string of at most `limit` characters: bin with its NUL when the NUL
 * was found, without when truncated; -errno when nothing could be read.
 * Reads stop at page ends so a string near unmapped memory still reads. */
static void tr_fetch_cstr(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t limit)
{
	size_t want = limit + 1, off = 0;
	unsigned char *p = tr_rdbuf(L, want);
	ssize_t n;

	if (!p) {
		tr_mp_int(b, -ENOMEM);
		return;
	}
	while (off < want) {
		size_t chunk = TR_PAGE - ((addr + off) & (TR_PAGE - 1));
		unsigned char *z;

		/* most strings are short: a small first read spares copying
		 * the rest of the page */
		if (!off && chunk > TR_FIRST_READ)
			chunk = TR_FIRST_READ;
		if (chunk > want - off)
			chunk = want - off;
		n = tr_peek(t, p + off, addr + off, chunk);
		if (n <= 0) {
			if (!off) {
				tr_mp_int(b, n < 0 ? n : -EFAULT);
				return;
			}
			if (n == -EFAULT || n == -EIO) {
				/* read some, then ran into unreadable memory: what
				 * strace's umovestr says on its stderr */
				char msg[160];

				snprintf(msg, sizeof(msg), "umovestr: short read (%zu < %zu) @0x%llx: %s", off, want,
					 (unsigned long long)addr, strerror(-n));
				tr_rec_error(L, t, -n, msg);
			}
			break;
		}
		z = memchr(p + off, 0, n);
		if (z) {
			tr_mp_bin(b, p, z - p + 1);
			return;
		}
		off += n;
		if ((size_t)n < chunk)
			break;
	}
	tr_mp_bin(b, p, off > limit ? limit : off);
}

/* `len` bytes at addr as bin; `whole`: all or nothing (a struct: a short
 * read is -EFAULT), else what could be read (a buffer may end at the end of
 * a mapping); -errno when nothing could be read. */
static void tr_fetch_mem(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t len, int whole)
{
	unsigned char *p;
	ssize_t n;

	if (!len && !whole) {
		tr_mp_bin(b, "", 0);
		return;
	}
	p = tr_rdbuf(L, len ? len : 1);
	if (!p) {
		tr_mp_int(b, -ENOMEM);
		return;
	}
	n = tr_peek(t, p, addr, len);
	if (n < 0)
		tr_mp_int(b, n);
	else if (whole ? (size_t)n != len : n == 0)
		tr_mp_int(b, -EFAULT);
	else
		tr_mp_bin(b, p, n);
}

static void tr_fetch_buf(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t len)
{
	tr_fetch_mem(L, t, b, addr, len, 0);
}

static void tr_fetch_struct(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t len)
{
	tr_fetch_mem(L, t, b, addr, len, 1);
}

/* Rewrite the header of the array at hp, written for `old` elements, for
 * `n` (fewer); what follows moves down when the header got shorter. */
static void tr_mp_array_fix(struct tr_buf *b, size_t hp, unsigned int old, unsigned int n)
{
	unsigned char oh[8], nh[8];
	struct tr_buf ob = { oh, 0, sizeof(oh), 0 }, nb = { nh, 0, sizeof(nh), 0 };

	tr_mp_array(&ob, old);
	tr_mp_array(&nb, n);
	if (b->overflow || hp + ob.len > b->len)
		return;
	memmove(b->p + hp + nb.len, b->p + hp + ob.len, b->len - hp - ob.len);
	memcpy(b->p + hp, nh, nb.len);
	b->len -= ob.len - nb.len;
}

/* [total, s0, s1, ...]: pointers counted up to the NULL (capped at
 * STRARR_COUNT_MAX), the first `maxel` strings fetched, in `room` bytes at
 * most: past it, the last string is cut and the others left out (fewer
 * strings than total: the decoder prints "..."), as strace cuts what
 * exceeds -s. */
static void tr_fetch_strarr(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr,
			    size_t maxel, size_t strsize, size_t room, int psize)
{
	uint64_t *keep = NULL, cut_at = 0;
	unsigned char chunk[TR_PAGE];
	size_t total = 0, nkeep = 0, hp, i;
	int done = 0, first = 1, cut = 0;

	/* a string takes 3 bytes at least (an empty one) */
	if (maxel > room / 3)
		maxel = room / 3;
	keep = malloc(sizeof(*keep) * (maxel ? maxel : 1));
	if (!keep) {
		tr_mp_int(b, -ENOMEM);
		return;
	}
	while (!done && total < TR_STRARR_COUNT_MAX) {
		size_t chunk_len = TR_PAGE - (addr & (TR_PAGE - 1));
		ssize_t n;

		if (first && chunk_len > 2 * TR_FIRST_READ)
			chunk_len = 2 * TR_FIRST_READ;
		if (chunk_len < (size_t)psize)
			chunk_len = psize;
		chunk_len -= chunk_len % psize;
		n = tr_peek(t, chunk, addr, chunk_len);
		if (n < psize) {
			if (first) {
				free(keep);
				tr_mp_int(b, n < 0 ? n : -EFAULT);
				return;
			}
			/* the array runs into unreadable memory before its NULL:
			 * a last [address] element says where (strace's
			 * `... ADDR-comment`, an environment's `unterminated`) */
			cut = 1;
			cut_at = addr;
			break;
		}
		first = 0;
		for (ssize_t j = 0; j + psize <= n; j += psize) {
			uint64_t v = 0;

			memcpy(&v, chunk + j, psize);
			if (!v) {
				done = 1;
				break;
			}
			if (nkeep < maxel)
				keep[nkeep++] = v;
			if (++total >= TR_STRARR_COUNT_MAX)
				break;
		}
		addr += n;
	}
	hp = b->len;
	tr_mp_array(b, 1 + nkeep + cut);
	tr_mp_uint(b, total);
	for (i = 0; i < nkeep; i++) {
		size_t used = b->len - hp, lim = strsize, at = b->len;
		unsigned char m;

		/* a string's value: bin header (5 at most), bytes, NUL */
		if (used + 16 > room)
			break;
		if (lim > room - used - 6)
			lim = room - used - 6;
		tr_fetch_cstr(L, t, b, keep[i], lim);
		/* a string that cannot be read: its pointer instead of -errno
		 * (strace prints the pointer) */
		m = b->len > at && !b->overflow ? b->p[at] : 0;
		if (m >= 0xe0 || (m >= 0xd0 && m <= 0xd3)) {
			b->len = at;
			tr_mp_uint(b, keep[i]);
		}
	}
	if (i < nkeep) {
		tr_mp_array_fix(b, hp, 1 + nkeep + cut, 1 + i);
	} else if (cut) {
		tr_mp_array(b, 1);
		tr_mp_uint(b, cut_at);
	}
	free(keep);
}

/* `cnt` elements of `esz` bytes at addr, in a buffer to free; NULL when
 * they cannot all be read, after writing the failure (-errno) as the value */
static unsigned char *tr_peek_array(struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t cnt, size_t esz)
{
	unsigned char *v = malloc(cnt * esz + 1);
	ssize_t r;

	if (!v) {
		tr_mp_int(b, -ENOMEM);
		return NULL;
	}
	r = cnt ? tr_peek(t, v, addr, cnt * esz) : 0;
	if (r < 0 || (size_t)r < cnt * esz) {
		free(v);
		tr_mp_int(b, r < 0 ? r : -EFAULT);
		return NULL;
	}
	return v;
}

/* One [base, len, data] per iovec, as strace prints them: each element's
 * data up to the string size, out of `remaining` bytes in all (the return
 * value at exit; unbounded at entry), at most `cap` bytes in all. */
static void tr_fetch_iovec(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t cnt,
			   size_t remaining, size_t strsize, size_t cap, int psize)
{
	size_t isz = 2 * psize, n, got;
	unsigned char *v = malloc(cnt * isz + 1);
	ssize_t r;

	if (!v) {
		tr_mp_int(b, -ENOMEM);
		return;
	}
	/* the elements that can be read; where the array runs into unreadable
	 * memory, an -EFAULT element ends it (strace's `... ADDR-comment`) */
	r = cnt ? tr_peek(t, v, addr, cnt * isz) : 0;
	got = r > 0 ? (size_t)r / isz : 0;
	if (r < 0 || (cnt && !got)) {
		free(v);
		tr_mp_int(b, r < 0 ? r : -EFAULT);
		return;
	}
	tr_mp_array(b, got + (got < cnt));
	for (size_t i = 0; i < got; i++) {
		uint64_t base = 0, len = 0;

		memcpy(&base, v + i * isz, psize);
		memcpy(&len, v + i * isz + psize, psize);
		tr_mp_array(b, 3);
		tr_mp_uint(b, base);
		tr_mp_uint(b, len);
		n = len < remaining ? len : remaining;
		remaining -= n;
		if (n > strsize) /* one byte more, as strace reads it: unreadable, the address */
			n = strsize + 1;
		if (n > cap)
			n = cap;
		cap -= n;
		tr_fetch_buf(L, t, b, base, n);
	}
	if (got < cnt)
		tr_mp_int(b, -EFAULT);
	free(v);
}

#define TR_AF_NETLINK 16
#define TR_NETLINK_DATA_MAX 4096 /* bytes of each iovec's data for an AF_NETLINK msg_name */

/* [hdr, name, iov, control] for a struct msghdr whose `hsz` header bytes
 * (TR_MSGHDR_SIZE, or TR_MSGHDR_COMPAT_SIZE for i386 and x32; an mmsghdr's
 * TR_MMSGHDR_SIZE / TR_MMSGHDR_COMPAT_SIZE with msg_len) are in h: the
 * header, then what its pointers point to (DEREF, below, follows one
 * pointer of any struct the table describes). `maxel`
 * iovecs at most, their data as for IOVEC, `cap` bytes of it in all. */
/* What the kernel takes of a control buffer at most (net.core.optmem_max),
 * read once, within [TR_MSG_CONTROL_MAX, TR_MSG_CONTROL_VMAX]: -v reads
 * that much of msg_control, as strace does */
static size_t tr_optmem_max(void)
{
	static size_t v;

	if (!v) {
		FILE *f = fopen("/proc/sys/net/core/optmem_max", "re");
		long n = 0;

		if (f) {
			if (fscanf(f, "%ld", &n) != 1)
				n = 0;
			fclose(f);
		}
		v = n < TR_MSG_CONTROL_MAX ? TR_MSG_CONTROL_MAX : n > TR_MSG_CONTROL_VMAX ? TR_MSG_CONTROL_VMAX : (size_t)n;
	}
	return v;
}

static void tr_emit_msghdr(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, const unsigned char *h,
			   size_t hsz, size_t maxel, size_t remaining, size_t strsize, size_t cap, int psize,
			   size_t ctlmax)
{
	uint64_t name = 0, iov = 0, iovlen = 0, ctl = 0, ctllen = 0;
	uint32_t namelen = 0, w[6];

	if (psize == 8) {
		memcpy(&name, h, 8);
		memcpy(&namelen, h + 8, 4);
		memcpy(&iov, h + 16, 8);
		memcpy(&iovlen, h + 24, 8);
		memcpy(&ctl, h + 32, 8);
		memcpy(&ctllen, h + 40, 8);
	} else {
		memcpy(w, h, sizeof(w));
		name = w[0];
		namelen = w[1];
		iov = w[2];
		iovlen = w[3];
		ctl = w[4];
		ctllen = w[5];
	}
	/* strace's rule: the data of a message addressed to or from an
	 * AF_NETLINK name are netlink messages, printed whole, not cut at -s */
	if (name && namelen >= 2 && strsize < TR_NETLINK_DATA_MAX) {
		uint16_t fam = 0;

		if (tr_peek(t, &fam, name, 2) == 2 && fam == TR_AF_NETLINK)
			strsize = TR_NETLINK_DATA_MAX;
	}
	tr_mp_array(b, 4);
	tr_mp_bin(b, h, hsz);
	if (name && namelen)
		tr_fetch_buf(L, t, b, name, namelen < TR_MSG_NAME_MAX ? namelen : TR_MSG_NAME_MAX);
	else
		tr_mp_nil(b);
	if (iov)
		tr_fetch_iovec(L, t, b, iov, iovlen < maxel ? iovlen : maxel, remaining, strsize, cap, psize);
	else
		tr_mp_nil(b);
	if (ctl && ctllen)
		tr_fetch_buf(L, t, b, ctl, ctllen < ctlmax ? ctllen : ctlmax);
	else
		tr_mp_nil(b);
}

static void tr_fetch_msghdr(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr,
			    size_t maxel, size_t remaining, size_t strsize, size_t cap, int psize, size_t ctlmax)
{
	size_t hsz = psize == 8 ? TR_MSGHDR_SIZE : TR_MSGHDR_COMPAT_SIZE;
	unsigned char h[TR_MSGHDR_SIZE];
	ssize_t n = tr_peek(t, h, addr, hsz);

	if (n < 0 || (size_t)n != hsz) {
		tr_mp_int(b, n < 0 ? n : -EFAULT);
		return;
	}
	tr_emit_msghdr(L, t, b, h, hsz, maxel, remaining, strsize, cap, psize, ctlmax);
}

/* An array of `cnt` struct mmsghdr (sendmmsg, recvmmsg at exit: the first
 * `ret` were sent or filled): one [hdr, name, iov, control] each, the
 * header with its msg_len, which bounds that message's iovec data; the
 * messages share TR_IOV_DATA_MAX of data. */
static void tr_fetch_mmsghdr(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr,
			     size_t cnt, size_t maxel, size_t strsize, int psize)
{
	size_t esz = psize == 8 ? TR_MMSGHDR_SIZE : TR_MMSGHDR_COMPAT_SIZE;
	size_t hsz = psize == 8 ? TR_MSGHDR_SIZE : TR_MSGHDR_COMPAT_SIZE;
	unsigned char *v = tr_peek_array(t, b, addr, cnt, esz);

	if (!v)
		return;
	tr_mp_array(b, cnt);
	for (size_t i = 0; i < cnt; i++) {
		uint32_t len;

		memcpy(&len, v + i * esz + hsz, 4);
		tr_emit_msghdr(L, t, b, v + i * esz, esz, maxel, len, strsize, TR_IOV_DATA_MAX / cnt, psize,
			       TR_MSG_CONTROL_MAX);
	}
	free(v);
}

/* What one fd names, as -y/-yy print it (strace's printfd), read while
 * the task is stopped: bin, the /proc/TID/fd/N link (/proc/TID/cwd for
 * AT_FDCWD); [link, detail, deleted] when the plan asks for more and there
 * is more; -errno when the fd is not open. The detail replaces the link
 * (a socket's protocol and addresses, a pidfd's pid) or follows it (a
 * device's type and numbers); the decoder knows which by its text. */
#define TR_AT_FDCWD (-100)
#define TR_FD_VALUE_MAX (TR_PATH_MAX + 1200) /* the most one fd's value takes */

static void tr_fetch_fd(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, int fd)
{
	char lp[64], link[TR_PATH_MAX + 1], det[1024];
	static const char dsfx[] = " (deleted)";
	uint32_t pf = L->plan.flags;
	size_t dn = 0;
	int deleted = 0;
	ssize_t n;

	if (fd < 0 && fd != TR_AT_FDCWD) {
		tr_mp_int(b, -EBADF);
		return;
	}
	if (fd == TR_AT_FDCWD) {
		snprintf(lp, sizeof(lp), "/proc/%d/cwd", TR_PROC_ID(t));
		n = readlink(lp, link, TR_PATH_MAX);
	} else {
		/* relative to the task's /proc/TID/fd, kept open: a quarter less
		 * than the whole path's lookup (~2.2 us against ~2.9 here) */
		char name[16];

		snprintf(lp, sizeof(lp), "/proc/%d/fd/%d", TR_PROC_ID(t), fd);
		if (t->fd_dir < 0) {
			snprintf(link, sizeof(link), "/proc/%d/fd", TR_PROC_ID(t));
			t->fd_dir = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
		}
		snprintf(name, sizeof(name), "%d", fd);
		n = t->fd_dir >= 0 ? readlinkat(t->fd_dir, name, link, TR_PATH_MAX) : readlink(lp, link, TR_PATH_MAX);
	}
	if (n < 0) {
		tr_mp_int(b, -errno);
		return;
	}
	link[n] = 0;
	/* strace's rule: " (deleted)" is the kernel's mark unless a file of
	 * that very name is the one open */
	if ((size_t)n > sizeof(dsfx) - 1 && !memcmp(link + n - (sizeof(dsfx) - 1), dsfx, sizeof(dsfx) - 1)) {
		struct stat sl, sp;

		if (stat(lp, &sl) == 0 && (lstat(link, &sp) || sl.st_ino != sp.st_ino || sl.st_dev != sp.st_dev)) {
			n -= sizeof(dsfx) - 1;
			link[n] = 0;
			deleted = 1;
		}
	}
	if ((pf & TR_PF_FD_SOCKET) && !strncmp(link, "socket:[", 8)) {
		char *end;
		unsigned long ino = strtoul(link + 8, &end, 10);

		if (ino && end[0] == ']' && !end[1])
			dn = tr_sock_detail(L, t, fd, ino, det, sizeof(det));
	} else if ((pf & TR_PF_FD_DEV) && link[0] == '/') {
		struct stat st;

		/* the path, in the tracer's mounts, as strace does: a third of
		 * what a stat through /proc/TID/fd/N costs (~1 us against ~2.8) */
		if (stat(link, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
			dn = (size_t)snprintf(det, sizeof(det), "%s %u:%u", S_ISBLK(st.st_mode) ? "block" : "char",
					      major(st.st_rdev), minor(st.st_rdev));
	} else if ((pf & TR_PF_FD_PIDFD) && !strcmp(link, "anon_inode:[pidfd]")) {
		char fi[4096];
		int ffd;

		snprintf(lp, sizeof(lp), "/proc/%d/fdinfo/%d", TR_PROC_ID(t), fd);
		ffd = open(lp, O_RDONLY | O_CLOEXEC);
		if (ffd >= 0) {
			ssize_t m = read(ffd, fi, sizeof(fi) - 1);
			char *pid;

			close(ffd);
			if (m > 0) {
				fi[m] = 0;
				pid = strstr(fi, "\nPid:\t");
				if (pid && atoi(pid + 6) > 0)
					dn = (size_t)snprintf(det, sizeof(det), "pid:%d", atoi(pid + 6));
			}
		}
	}
	if (dn >= sizeof(det))
		dn = sizeof(det) - 1;
	if (!dn && !deleted) {
		tr_mp_bin(b, link, n);
		return;
	}
	tr_mp_array(b, 3);
	tr_mp_bin(b, link, n);
	if (dn)
		tr_mp_bin(b, det, dn);
	else
		tr_mp_nil(b);
	tr_mp_bool(b, deleted);
}

/* `cnt` fds in an array at addr, one every `stride` bytes (an int pair:
 * 4; struct pollfd: 8), each at the start of its element: one value each,
 * fewer when the array runs into unreadable memory */
static void tr_fetch_fd_array(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t cnt,
			      size_t stride)
{
	unsigned char v[TR_FD_ARRAY_MAX * TR_FD_STRIDE_MAX];
	ssize_t r;

	if (cnt > TR_FD_ARRAY_MAX)
		cnt = TR_FD_ARRAY_MAX;
	if (stride < 4 || stride > TR_FD_STRIDE_MAX)
		stride = 4;
	r = cnt ? tr_peek(t, v, addr, cnt * stride) : 0;
	/* the elements before one that cannot be read are named all the same
	 * (strace's -P matches poll's fds one by one up to an unreadable one) */
	if (r >= 0 && (size_t)r < cnt * stride && (size_t)r >= stride)
		cnt = (size_t)r / stride;
	else if (r < 0 || (size_t)r != cnt * stride) {
		tr_mp_int(b, r < 0 ? r : -EFAULT);
		return;
	}
	tr_mp_array(b, cnt);
	for (size_t i = 0; i < cnt; i++) {
		int32_t fd;

		memcpy(&fd, v + i * stride, 4);
		tr_fetch_fd(L, t, b, fd);
	}
}

/* The fds a msghdr at addr passes in SCM_RIGHTS control messages, `maxn`
 * at most, walking the first TR_MSG_CONTROL_MAX bytes of the control as the
 * decoder does (a length below a header's or past what is left ends it) */
static void tr_fetch_fd_scm(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t maxn,
			    int psize)
{
	size_t hsz = psize == 8 ? TR_MSGHDR_SIZE : TR_MSGHDR_COMPAT_SIZE;
	size_t chdr = psize == 8 ? 16 : 12, align = psize == 8 ? 8 : 4, clen, off = 0, left, n = 0;
	unsigned char h[TR_MSGHDR_SIZE], c[TR_MSG_CONTROL_MAX];
	int32_t fds[TR_FD_ARRAY_MAX];
	uint64_t ctl = 0, ctllen = 0;
	ssize_t r = tr_peek(t, h, addr, hsz);

	if (r < 0 || (size_t)r != hsz) {
		tr_mp_int(b, r < 0 ? r : -EFAULT);
		return;
	}
	if (psize == 8) {
		memcpy(&ctl, h + 32, 8);
		memcpy(&ctllen, h + 40, 8);
	} else {
		uint32_t v;

		memcpy(&v, h + 16, 4);
		ctl = v;
		memcpy(&v, h + 20, 4);
		ctllen = v;
	}
	clen = ctllen < TR_MSG_CONTROL_MAX ? (size_t)ctllen : TR_MSG_CONTROL_MAX;
	r = ctl && clen ? tr_peek(t, c, ctl, clen) : 0;
	if (r < 0 || (size_t)r != clen) {
		tr_mp_int(b, r < 0 ? r : -EFAULT);
		return;
	}
	if (maxn > TR_FD_ARRAY_MAX)
		maxn = TR_FD_ARRAY_MAX;
	left = clen;
	while (left >= chdr && n < maxn) {
		uint64_t ln = 0;
		int32_t level, type;
		size_t m, step;

		if (psize == 8) {
			memcpy(&ln, c + off, 8);
		} else {
			uint32_t v;

			memcpy(&v, c + off, 4);
			ln = v;
		}
		memcpy(&level, c + off + psize, 4);
		memcpy(&type, c + off + psize + 4, 4);
		m = ln < left ? (size_t)ln : left;
		if (level == 1 && type == 1) /* SOL_SOCKET, SCM_RIGHTS */
			for (size_t k = chdr; k + 4 <= m && n < maxn; k += 4)
				memcpy(&fds[n++], c + off + k, 4);
		if (m < chdr)
			break;
		step = (ln + align - 1) / align * align;
		if (step >= left)
			break;
		off += step;
		left -= step;
	}
	tr_mp_array(b, n);
	for (size_t i = 0; i < n; i++)
		tr_fetch_fd(L, t, b, fds[i]);
}

/* An fd_set of `nbits` bits at addr (select's): one value per fd whose bit
 * is set, in ascending order, `maxn` at most */
#define TR_FD_SET_BITS 1024 /* FD_SETSIZE: the sets strace reads are no longer in practice */

static void tr_fetch_fd_set(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, long nbits,
			    size_t maxn)
{
	unsigned char v[TR_FD_SET_BITS / 8];
	size_t n, cnt = 0;
	ssize_t r;

	if (nbits < 0)
		nbits = 0;
	if (nbits > TR_FD_SET_BITS)
		nbits = TR_FD_SET_BITS;
	n = (((size_t)nbits + 63) / 64) * 8; /* whole words, as the kernel reads it */
	r = n ? tr_peek(t, v, addr, n) : 0;
	if (r < 0 || (size_t)r != n) {
		tr_mp_int(b, r < 0 ? r : -EFAULT);
		return;
	}
	for (long k = 0; k < nbits; k++)
		if (v[k / 8] >> (k % 8) & 1)
			cnt++;
	if (cnt > maxn)
		cnt = maxn;
	tr_mp_array(b, cnt);
	for (long k = 0, i = 0; k < nbits && (size_t)i < cnt; k++)
		if (v[k / 8] >> (k % 8) & 1) {
			tr_fetch_fd(L, t, b, (int)k);
			i++;
		}
}

/* DEREF: the elements behind a pointer inside the memory argument `arg &
 * 7` points to (docs/fetch-plan.md): the pointer at byte `size & 0xff` (a
 * long, or 64 bits with TR_DEREF_PTR64), the count from a field at byte
 * `size >> 8 & 0xff` (LEN_FIELD, 1 << bits 4-5 of arg bytes wide), that
 * byte itself (LEN_FIXED) or an argument, at most `size >> 16` elements (0:
 * strsize + 1) of 1 << bits 6-7 of arg bytes, `cap` bytes in all. The
 * argument's memory is read again here, the pointer and the count in one
 * read: the task is stopped, so it is what the other ops saw. */
static void tr_fetch_deref(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, const struct tr_op *op,
			   size_t cap, size_t strsize, int psize)
{
	size_t poff = op->size & 0xff, loff = (op->size >> 8) & 0xff, maxel = op->size >> 16;
	size_t pw = (op->arg & TR_DEREF_PTR64) ? 8 : (size_t)psize, lw = (size_t)1 << ((op->arg >> TR_DEREF_LEN_SHIFT) & 3);
	size_t esz = (size_t)1 << ((op->arg >> TR_DEREF_ELEM_SHIFT) & 3), end = poff + pw;
	unsigned char h[2 * 256 + 16];
	uint64_t ptr = 0, cnt = 0;
	ssize_t n;

	if (op->len_src == TR_LEN_FIELD && loff + lw > end)
		end = loff + lw;
	n = tr_peek(t, h, t->args[op->arg & 7], end);
	if (n < 0 || (size_t)n != end) {
		tr_mp_int(b, n < 0 ? n : -EFAULT);
		return;
	}
	memcpy(&ptr, h + poff, pw);
	if (op->len_src == TR_LEN_FIELD)
		memcpy(&cnt, h + loff, lw);
	else if (op->len_src == TR_LEN_FIXED)
		cnt = loff;
	else
		cnt = t->pers == TR_PERS_X86_64 ? t->args[op->len_src] : t->args[op->len_src] & 0xffffffffu;
	if (!ptr) {
		tr_mp_int(b, -EFAULT);
		return;
	}
	if (op->size & TR_DEREF_STRS)
		maxel &= 0x7fff;
	if (!maxel)
		maxel = strsize + 1;
	if (cnt > maxel)
		cnt = maxel;
	if (op->size & TR_DEREF_STRS) {
		/* an array of pointers to C strings (BPF_TRACE_KPROBE_MULTI's
		 * syms): as many strings as pointers could be read, each as a
		 * CSTR of strsize (0 for NULL); the pointers are copied first,
		 * the strings' reads reuse the read buffer */
		unsigned char pb[TR_DEREF_STRS_MAX * 8];
		size_t got, k;

		if (cnt > TR_DEREF_STRS_MAX)
			cnt = TR_DEREF_STRS_MAX;
		n = cnt ? tr_peek(t, pb, ptr, cnt * esz) : 0;
		if (n < 0 && cnt) {
			tr_mp_int(b, n);
			return;
		}
		got = n > 0 ? (size_t)n / esz : 0;
		tr_mp_array(b, got);
		for (k = 0; k < got; k++) {
			uint64_t sp = 0;

			memcpy(&sp, pb + k * esz, esz);
			if (sp)
				tr_fetch_cstr(L, t, b, sp, strsize);
			else
				tr_mp_int(b, 0);
		}
		return;
	}
	cnt *= esz;
	tr_fetch_buf(L, t, b, ptr, cnt < cap ? cnt : cap);
}

/* FD_AT: the int fd `off` bytes into the memory at addr, named; with
 * TR_FD_AT_PTR (in `flags`), the int behind the pointer there (a long, or
 * 64 bits with TR_FD_AT_PTR64) */
static void tr_fetch_fd_at(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t off,
			   unsigned int flags, int psize)
{
	int32_t fd;
	ssize_t n;

	if (flags & TR_FD_AT_PTR) {
		uint64_t p = 0;
		size_t pw = flags & TR_FD_AT_PTR64 ? 8 : (size_t)psize;

		n = tr_peek(t, &p, addr + off, pw);
		if (n != (ssize_t)pw) {
			tr_mp_int(b, n < 0 ? n : -EFAULT);
			return;
		}
		addr = p;
		off = 0;
	}
	n = tr_peek(t, &fd, addr + off, sizeof(fd));

	if (n != (ssize_t)sizeof(fd)) {
		tr_mp_int(b, n < 0 ? n : -EFAULT);
		return;
	}
	tr_fetch_fd(L, t, b, fd);
}
#define TR_UIO_MAXIOV 1024 /* the most iovecs a call takes */

/* The fixed part of a MSGHDR value: [hdr, name, iov, control] */
#define TR_MSGHDR_FIXED (128 + TR_MSGHDR_SIZE + TR_MSG_NAME_MAX + TR_MSG_CONTROL_MAX)

/* Run the ops of one phase; returns how many mem entries were written.
 * A call's entries take TR_MEM_MAX bytes at most, entry and exit together:
 * what one op may produce is cut to the room left (its writer never
 * overflows what was reserved, and nothing reserves more), so a value's size
 * never grows with -s times a count. An op left no room for its value gets
 * -E2BIG; once the room is gone, no further entries are written. */
unsigned int tr_fetch(struct tr_loop *L, struct tr_task *t, const struct tr_pentry *pe, int phase,
		      struct tr_buf *b, int64_t ret)
{
	size_t strsize = L->plan.strsize, start = b->len, budget = TR_MEM_MAX;
	int psize = t->pers == TR_PERS_X86_64 ? 8 : 4;
	unsigned int cnt = 0;

	/* the exit's entries share the record with the entry's (unless the
	 * entry went out in a record of its own) */
	if (phase == 1 && !(t->flags & T_SPLIT))
		budget = t->mem.len < budget ? budget - t->mem.len : 0;
	for (int i = 0; i < pe->nops; i++) {
		const struct tr_op *op = &pe->ops[i];
		/* MSGHDR's arg byte carries TR_MSGHDR_CTL_FULL above the argument */
		unsigned int argi = op->kind == TR_OP_MSGHDR ? op->arg & 7 : op->arg;
		uint64_t addr = op->kind == TR_OP_STACK ? t->sp + 8 * (uint64_t)op->arg
				: argi < 6 ? t->args[argi] : 0;
		size_t lim = op->size ? op->size : strsize, len = 0, need, room, used = b->len - start;
		size_t cap = TR_IOV_DATA_MAX, ctlmax = TR_MSG_CONTROL_MAX, fixed = TR_MSGHDR_FIXED;
		int toobig = 0;

		/* STRARR with LEN_FIXED: `size` is the exact element count (0:
		 * count the pointers only, as for an abbreviated environment) */
		if (op->kind == TR_OP_STRARR && op->len_src == TR_LEN_FIXED)
			lim = op->size;

		if (op->phase != phase)
			continue;
		/* COND: the next len_src ops only when the argument has the value */
		if (op->kind == TR_OP_COND) {
			if ((uint32_t)t->args[op->arg] != op->size)
				i += op->len_src;
			continue;
		}
		/* room: bytes for the value, after the entry's [phase, arg] */
		if (used + 128 > budget)
			break;
		room = budget - used - 64;
		/* need: the most the value can take, within room */
		switch (op->kind) {
		case TR_OP_CSTR: /* bin header, bytes, NUL */
			if (lim > room - 8)
				lim = room - 8;
			need = lim + 8;
			break;
		case TR_OP_BUF:
			if (op->len_src <= 5)
				len = t->args[op->len_src];
			else if (op->len_src == TR_LEN_RET)
				len = ret > 0 ? (uint64_t)ret : 0;
			else if (op->len_src == TR_LEN_IOC) {
				/* the struct's size the request encodes, and room
				 * for a flexible array after it (fiemap's extents,
				 * RNDADDENTROPY's bytes); old requests encode none */
				len = (t->args[1] >> 16) & 0x3fff;
				len = len ? len + TR_IOC_TRAILER : TR_IOC_UNSIZED;
			} else
				len = op->size;
			if (op->len_src != TR_LEN_FIXED && len > lim)
				len = lim;
			if (t->pers != TR_PERS_X86_64)
				len &= 0xffffffffu;
			if (len > room - 8)
				len = room - 8;
			need = len + 8;
			break;
		case TR_OP_STRARR: /* cuts itself to room */
			need = lim && strsize + 16 > (room - 16) / lim ? room : 16 + lim * (strsize + 16);
			break;
		case TR_OP_IOVEC: /* [base, len, data] each: 32 bytes and the data */
			/* one element more than -s shows: strace reads it to say
			 * `...` or, unreadable, `... ADDR-comment` */
			len = op->len_src <= 5 ? t->args[op->len_src] : lim + 1;
			if (len > lim + 1)
				len = lim + 1;
			if (len > (room - 64) / 32)
				len = (room - 64) / 32;
			if (cap > room - 64 - len * 32)
				cap = room - 64 - len * 32;
			need = 64 + len * 32 + cap;
			break;
		case TR_OP_MSGHDR:
			/* -v: the control as far as the kernel takes it, when
			 * the room allows (else TR_MSG_CONTROL_MAX) */
			if (op->arg & TR_MSGHDR_CTL_FULL) {
				size_t full = tr_optmem_max();

				if (room >= TR_MSGHDR_FIXED - TR_MSG_CONTROL_MAX + full + 64 + 64) {
					ctlmax = full;
					fixed = TR_MSGHDR_FIXED - TR_MSG_CONTROL_MAX + full;
				}
			}
			toobig = room < fixed + 64;
			if (toobig)
				break;
			/* elements: no more than the kernel takes (UIO_MAXIOV) and
			 * one: a large string size (-v, -e read=/write= dumps) must
			 * not leave their data no room */
			if (lim > TR_UIO_MAXIOV + 1)
				lim = TR_UIO_MAXIOV + 1;
			if (lim > (room - fixed) / 32)
				lim = (room - fixed) / 32;
			if (cap > room - fixed - lim * 32)
				cap = room - fixed - lim * 32;
			need = fixed + lim * 32 + cap;
			break;
		case TR_OP_FD: /* one fd, `size` ints, as many elements as an argument says, or the
				* fds of a bitmap: at most as many values as the room takes (the
				* decoder names the others itself) */
			len = op->len_src == TR_LEN_FIXED ? op->size
			      : op->len_src <= 5 ? (op->size ? (size_t)(t->args[op->len_src] & 0xffffffffu) : TR_FD_ARRAY_MAX)
			      : op->size == TR_FD_SCM_RIGHTS ? TR_FD_ARRAY_MAX : 1;
			if (len > TR_FD_ARRAY_MAX)
				len = TR_FD_ARRAY_MAX;
			toobig = len && room < 16 + TR_FD_VALUE_MAX;
			if (len > (room - 16) / TR_FD_VALUE_MAX)
				len = (room - 16) / TR_FD_VALUE_MAX;
			need = 16 + len * TR_FD_VALUE_MAX;
			break;
		case TR_OP_DEREF: /* the elements' bytes, at most their bound */
			if (op->size & TR_DEREF_STRS) { /* strings: each a CSTR of strsize */
				len = (op->size >> 16) & 0x7fff ? (op->size >> 16) & 0x7fff : strsize + 1;
				if (len > TR_DEREF_STRS_MAX)
					len = TR_DEREF_STRS_MAX;
				need = 16 + len * (strsize + 16);
				toobig = need > room;
				break;
			}
			len = op->size >> 16 ? op->size >> 16 : strsize + 1;
			len <<= (op->arg >> TR_DEREF_ELEM_SHIFT) & 3;
			if (len > TR_DEREF_MAX_BYTES)
				len = TR_DEREF_MAX_BYTES;
			if (len > room - 16)
				len = room - 16;
			need = 16 + len;
			break;
		case TR_OP_FD_AT:
			need = 16 + TR_FD_VALUE_MAX;
			toobig = need > room;
			break;
		case TR_OP_MMSGHDR: /* lim messages of lim iovecs each */
			if (lim > TR_MMSG_MAX)
				lim = TR_MMSG_MAX;
			need = 64 + lim * (TR_MSGHDR_FIXED + 64 + lim * 32) + TR_IOV_DATA_MAX;
			toobig = need > room;
			break;
		default: /* STRUCT, STACK: exactly their size */
			need = 8 + (size_t)op->size;
			toobig = need > room;
			break;
		}
		if (tr_buf_reserve(b, 64 + (toobig ? 16 : need)) < 0)
			break;
		tr_mp_array(b, 3);
		tr_put8(b, (uint8_t)phase);
		if (op->kind == TR_OP_DEREF)
			tr_mp_uint(b, TR_DEREF_SLOT + 256 * (op->arg & 7) + (op->size & 0xff));
		else if (op->kind == TR_OP_FD_AT)
			tr_mp_uint(b, TR_FD_AT_SLOT + 256 * (op->arg & 7) + op->size);
		else
			tr_put8(b, op->kind == TR_OP_FD ? TR_FD_SLOT + op->arg : argi);
		if (toobig) {
			tr_mp_int(b, -E2BIG);
			cnt++;
			continue;
		}
		switch (op->kind) {
		case TR_OP_CSTR:
			tr_fetch_cstr(L, t, b, addr, lim);
			break;
		case TR_OP_BUF:
			tr_fetch_buf(L, t, b, addr, len);
			break;
		case TR_OP_STRUCT:
		case TR_OP_STACK:
			tr_fetch_struct(L, t, b, addr, op->size);
			break;
		case TR_OP_STRARR:
			tr_fetch_strarr(L, t, b, addr, lim, strsize, room, psize);
			break;
		case TR_OP_MSGHDR:
			tr_fetch_msghdr(L, t, b, addr, lim, phase == 1 ? (ret > 0 ? (size_t)ret : 0) : SIZE_MAX,
					strsize, cap, psize, ctlmax);
			break;
		case TR_OP_MMSGHDR:
			/* the first `ret` messages (sent or received), at most
			 * vlen (len_src) and lim */
			len = ret > 0 ? (size_t)ret : 0;
			if (op->len_src <= 5 && (t->args[op->len_src] & 0xffffffffu) < len)
				len = t->args[op->len_src] & 0xffffffffu;
			if (len > lim)
				len = lim;
			tr_fetch_mmsghdr(L, t, b, addr, len, lim, strsize, psize);
			break;
		case TR_OP_IOVEC:
			tr_fetch_iovec(L, t, b, addr, len, phase == 1 ? (ret > 0 ? (size_t)ret : 0) : SIZE_MAX,
				       strsize, cap, psize);
			break;
		case TR_OP_DEREF:
			tr_fetch_deref(L, t, b, op, len, strsize, psize);
			break;
		case TR_OP_FD_AT:
			tr_fetch_fd_at(L, t, b, t->args[op->arg & 7], op->size, op->arg, psize);
			break;
		case TR_OP_FD:
			if (op->len_src == TR_LEN_FIXED)
				tr_fetch_fd_array(L, t, b, addr, len, 4);
			else if (op->len_src <= 5 && !op->size)
				tr_fetch_fd_set(L, t, b, addr, (long)(int32_t)t->args[op->len_src], len);
			else if (op->len_src <= 5)
				tr_fetch_fd_array(L, t, b, addr, len, op->size);
			else if (op->size == TR_FD_SCM_RIGHTS && op->arg < 6)
				tr_fetch_fd_scm(L, t, b, addr, len, psize);
			else
				tr_fetch_fd(L, t, b, op->arg == TR_FD_RET ? (int)ret : (int)(int32_t)t->args[op->arg]);
			break;
		}
		cnt++;
	}
	return cnt;
}

int64_t tr_cpu(struct tr_task *t)
{
	char buf[64];
	ssize_t n;

	if (t->sched_fd < 0) {
		snprintf(buf, sizeof(buf), "/proc/%d/schedstat", TR_PROC_ID(t));
		t->sched_fd = open(buf, O_RDONLY | O_CLOEXEC);
		if (t->sched_fd < 0)
			return -1;
	}
	n = pread(t->sched_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtoll(buf, NULL, 10);
}

/* -e kvm=vcpu (PlanFlag.KVM): why a successful ioctl(FD, KVM_RUN) returned.
 * The vcpu's struct kvm_run is a shared mapping of FD in the tracee, which
 * KVM_RUN fills; its exit_reason is the u32 at offset 8 (linux/kvm.h). It is
 * read here, while the task is held in its exit stop: once the task runs
 * on, its next KVM_RUN overwrites it. The mapping is found as strace finds
 * it: the fd's link is "anon_inode:kvm-vcpu:N", and the mapping is the
 * /proc/TID/maps line of that name (all vcpus share one anon inode, so the
 * name is all there is: a process with two VMs having each a vcpu N has two
 * such lines, and the first is taken, as strace's cache does; unlike
 * strace, only a mapping at offset 0 is kvm_run). Nothing is
 * written when any step fails (not a vcpu fd, no mapping, unreadable):
 * the line then has no `(KVM_EXIT_...)`, as strace's. Returns the number
 * of mem entries written: [1, TR_KVM_SLOT, exit_reason], or none. */
unsigned int tr_kvm_exit(struct tr_task *t, struct tr_buf *b, int64_t ret)
{
	static const char pfx[] = "anon_inode:kvm-vcpu:";
	char path[64], link[64], line[TR_PATH_MAX + 128];
	uint64_t start = 0, end = 0, off = 0;
	uint32_t reason;
	size_t kl;
	ssize_t n;
	FILE *f;
	int found = 0, skip = 0;

	/* ioctl: x86_64 16, i386 54, x32 514 (with the x32 bit) */
	if (ret != 0 || (uint32_t)t->args[1] != 0xAE80u /* KVM_RUN, _IO(0xAE, 0x80) */ ||
	    !((t->pers == TR_PERS_X86_64 && t->nr == 16) || (t->pers == TR_PERS_I386 && t->nr == 54) ||
	      (t->pers == TR_PERS_X32 && t->nr == (0x40000000u | 514))))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", TR_PROC_ID(t), (int)t->args[0]);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= (ssize_t)(sizeof(pfx) - 1))
		return 0;
	link[n] = 0;
	if (strncmp(link, pfx, sizeof(pfx) - 1))
		return 0;
	kl = (size_t)n;
	snprintf(path, sizeof(path), "/proc/%d/maps", TR_PROC_ID(t));
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		size_t ll = strlen(line);
		int whole = ll && line[ll - 1] == '\n';

		if (skip) { /* the rest of a line longer than the buffer */
			skip = !whole;
			continue;
		}
		skip = !whole;
		if (whole)
			line[--ll] = 0;
		/* kvm_run is the mapping at offset 0 (a vcpu fd also maps other
		 * pages, e.g. the coalesced MMIO ring, at other offsets) */
		if (ll > kl && line[ll - kl - 1] == ' ' && !strcmp(line + ll - kl, link) &&
		    sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64, &start, &end, &off) == 3 &&
		    off == 0 && end >= start + 12)
			found = 1;
	}
	fclose(f);
	if (!found || tr_peek(t, &reason, start + 8, sizeof(reason)) != (ssize_t)sizeof(reason))
		return 0;
	if (tr_buf_reserve(b, 32) < 0)
		return 0;
	tr_mp_array(b, 3);
	tr_put8(b, 1);
	tr_put8(b, TR_KVM_SLOT);
	tr_mp_uint(b, reason);
	return 1;
}
