// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * -yy: what a socket is, asked of the kernel (NETLINK_SOCK_DIAG) while its
 * tracee is stopped, in the tracee's own network namespace.
 *
 * The text is strace's: PROTO:[SRC:PORT->DST:PORT] (PROTO:[SRC:PORT]
 * before it is connected), UNIX-STREAM:[INODE->PEER,"PATH"],
 * NETLINK:[ROUTE:PORTID], and PROTO:[INODE] when the kernel does not
 * know the socket (not bound yet). As strace does, a socket's details
 * are kept once found (a cache by inode), so the same socket prints the
 * same way all along.
 *
 * Namespaces: a socket is known only to the sock_diag of its own network
 * namespace. For a tracee in another one (unshare -n, a container), a
 * helper thread joins that namespace (setns, root only) and opens the
 * NETLINK_SOCK_DIAG socket there; the socket stays in that namespace for
 * good, so the loop asks through it like through its own. strace asks in
 * its own namespace only, and shows such sockets as TCP:[INODE].
 * A failure (no AF_NETLINK, no setns) is said once, by an ERROR record.
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/unix_diag.h>
#include <linux/netlink_diag.h>

#ifndef IPPROTO_L2TP
#define IPPROTO_L2TP 115
#endif

#define TR_SD_CACHE 1024 /* strace's: details by inode, one slot per inode & mask */
#define TR_SD_NS 8 /* diag sockets kept, one per network namespace */
#define TR_SD_ROUNDS 4096 /* recvmsg calls for one answer, at most */

enum { SD_UNIX, SD_INET, SD_NETLINK };

static const struct {
	const char *name;
	int kind, family, proto;
} tr_protos[] = {
	{ "UNIX", SD_UNIX, AF_UNIX, 0 },
	{ "UNIX-STREAM", SD_UNIX, AF_UNIX, 0 },
	{ "TCP", SD_INET, AF_INET, IPPROTO_TCP },
	{ "UDP", SD_INET, AF_INET, IPPROTO_UDP },
	{ "UDPLITE", SD_INET, AF_INET, IPPROTO_UDPLITE },
	{ "DCCP", SD_INET, AF_INET, IPPROTO_DCCP },
	{ "SCTP", SD_INET, AF_INET, IPPROTO_SCTP },
	{ "L2TP/IP", SD_INET, AF_INET, IPPROTO_L2TP },
	{ "PING", SD_INET, AF_INET, IPPROTO_ICMP },
	{ "RAW", SD_INET, AF_INET, IPPROTO_RAW },
	{ "TCPv6", SD_INET, AF_INET6, IPPROTO_TCP },
	{ "UDPv6", SD_INET, AF_INET6, IPPROTO_UDP },
	{ "UDPLITEv6", SD_INET, AF_INET6, IPPROTO_UDPLITE },
	{ "DCCPv6", SD_INET, AF_INET6, IPPROTO_DCCP },
	{ "SCTPv6", SD_INET, AF_INET6, IPPROTO_SCTP },
	{ "L2TP/IPv6", SD_INET, AF_INET6, IPPROTO_L2TP },
	{ "PINGv6", SD_INET, AF_INET6, IPPROTO_ICMP },
	{ "RAWv6", SD_INET, AF_INET6, IPPROTO_RAW },
	{ "NETLINK", SD_NETLINK, AF_NETLINK, 0 },
};
#define TR_NPROTOS ((int)(sizeof(tr_protos) / sizeof(tr_protos[0])))

/* strace's netlink protocol names, by number (NETLINK_ stripped) */
static const char *const tr_nl_names[] = {
	"ROUTE", "UNUSED", "USERSOCK", "FIREWALL", "SOCK_DIAG", "NFLOG", "XFRM", "SELINUX",
	"ISCSI", "AUDIT", "FIB_LOOKUP", "CONNECTOR", "NETFILTER", "IP6_FW", "DNRTMSG",
	"KOBJECT_UEVENT", "GENERIC", NULL, "SCSITRANSPORT", "ECRYPTFS", "RDMA", "CRYPTO", "SMC",
};

struct tr_sd_entry {
	unsigned long inode;
	char *text;
};

struct tr_sd_ns {
	uint64_t ino; /* the namespace's inode; 0: free slot */
	int fd; /* its NETLINK_SOCK_DIAG socket, -1: cannot be had */
	unsigned int used;
};

struct tr_sockdiag {
	struct tr_sd_entry cache[TR_SD_CACHE];
	struct tr_sd_ns ns[TR_SD_NS];
	unsigned int tick;
	uint64_t own_ns;
	int said; /* a failure was reported */
	uint32_t said_proto; /* protocols whose dump the kernel refused, reported (bit per tr_protos) */
	int err; /* the last answer's NLMSG_ERROR, 0: none */
	union {
		struct nlmsghdr h;
		long buf[8192 / sizeof(long)];
	} rx;
};

void tr_sockdiag_free(struct tr_loop *L)
{
	struct tr_sockdiag *s = L->sockdiag;

	if (!s)
		return;
	for (int i = 0; i < TR_SD_CACHE; i++)
		free(s->cache[i].text);
	for (int i = 0; i < TR_SD_NS; i++)
		if (s->ns[i].ino && s->ns[i].fd >= 0)
			close(s->ns[i].fd);
	free(s);
	L->sockdiag = NULL;
}

static int tr_sd_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	struct timeval tv = { 1, 0 }; /* an answer never takes long: never hang the loop */

	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

struct tr_sd_join {
	int nsfd, fd, err;
};

/* The helper thread: joins the namespace, opens the socket, ends. Only this
 * thread changes namespace; the loop's thread never does. */
static void *tr_sd_join_thread(void *arg)
{
	struct tr_sd_join *j = arg;

	if (setns(j->nsfd, CLONE_NEWNET) < 0) {
		j->err = errno;
		return NULL;
	}
	j->fd = tr_sd_open();
	if (j->fd < 0)
		j->err = errno;
	return NULL;
}

static void tr_sd_fail(struct tr_loop *L, struct tr_sockdiag *s, const char *what, int err, int tid)
{
	char msg[256];

	if (s->said)
		return;
	s->said = 1;
	snprintf(msg, sizeof(msg),
		 "-yy: cannot ask the kernel about sockets (%s for pid %d: %s): sockets show as PROTO:[INODE]",
		 what, tid, strerror(err));
	tr_rec_error(L, NULL, err, msg);
}

/* The NETLINK_SOCK_DIAG socket of tid's network namespace, or -1. */
static int tr_sd_socket(struct tr_loop *L, struct tr_sockdiag *s, int tid)
{
	char path[64];
	struct stat st;
	struct tr_sd_ns *slot = NULL;
	struct tr_sd_join j = { -1, -1, 0 };
	pthread_t th;
	int own, r;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", tid);
	if (stat(path, &st) < 0)
		return -1; /* gone: nothing to say */
	for (int i = 0; i < TR_SD_NS; i++) {
		if (s->ns[i].ino == (uint64_t)st.st_ino) {
			s->ns[i].used = ++s->tick;
			return s->ns[i].fd;
		}
		if (!slot || s->ns[i].used < slot->used)
			slot = &s->ns[i];
	}
	if (slot->ino && slot->fd >= 0)
		close(slot->fd);
	slot->ino = st.st_ino;
	slot->used = ++s->tick;
	own = (uint64_t)st.st_ino == s->own_ns;
	if (own) {
		slot->fd = tr_sd_open();
		if (slot->fd < 0)
			tr_sd_fail(L, s, "socket(AF_NETLINK, NETLINK_SOCK_DIAG)", errno, tid);
		return slot->fd;
	}
	slot->fd = -1;
	j.nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (j.nsfd < 0) {
		tr_sd_fail(L, s, "open /proc/PID/ns/net", errno, tid);
		return -1;
	}
	r = pthread_create(&th, NULL, tr_sd_join_thread, &j);
	if (r) {
		close(j.nsfd);
		tr_sd_fail(L, s, "a thread to join its network namespace", r, tid);
		return -1;
	}
	pthread_join(th, NULL);
	close(j.nsfd);
	if (j.fd < 0)
		tr_sd_fail(L, s, j.err == ENOENT || j.err == EAFNOSUPPORT || j.err == EPROTONOSUPPORT
			   ? "socket(AF_NETLINK, NETLINK_SOCK_DIAG) in its network namespace"
			   : "setns into its network namespace", j.err, tid);
	slot->fd = j.fd;
	return slot->fd;
}

static int tr_sd_send(int fd, void *req, size_t len)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

	for (int i = 0; i < 16; i++) {
		if (sendto(fd, req, len, 0, (struct sockaddr *)&nl, sizeof(nl)) >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
	return -1;
}

typedef char *(*tr_sd_parse)(const void *data, int len, unsigned long inode, const char *name);

/* Read the answers to one request to their end (the socket is kept, so
 * nothing may be left unread): the parser's text for `inode`, or NULL. */
static char *tr_sd_receive(struct tr_sockdiag *s, int fd, unsigned long inode, const char *name, tr_sd_parse parse)
{
	char *found = NULL;

	s->err = 0;
	for (int round = 0; round < TR_SD_ROUNDS; round++) {
		ssize_t n = recv(fd, s->rx.buf, sizeof(s->rx.buf), 0);
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len = (int)n;
		for (struct nlmsghdr *h = &s->rx.h; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
				s->err = -*(int *)NLMSG_DATA(h);
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
				return found;
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				return found;
			if (!found)
				found = parse(NLMSG_DATA(h), (int)h->nlmsg_len, inode, name);
			if (!(h->nlmsg_flags & NLM_F_MULTI))
				return found;
		}
	}
	return found;
}

static char *tr_sd_inet_parse(const void *data, int len, unsigned long inode, const char *name)
{
	const struct inet_diag_msg *m = data;
	static const unsigned char zero[16];
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], *out = NULL;
	int v6, asz;

	if (len < (int)NLMSG_LENGTH(sizeof(*m)) || m->idiag_inode != inode)
		return NULL;
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return NULL;
	v6 = m->idiag_family == AF_INET6;
	asz = v6 ? 16 : 4;
	if (!inet_ntop(m->idiag_family, m->id.idiag_src, src, sizeof(src)))
		return NULL;
	if (m->id.idiag_dport || memcmp(zero, m->id.idiag_dst, asz)) {
		if (!inet_ntop(m->idiag_family, m->id.idiag_dst, dst, sizeof(dst)))
			return NULL;
		if (asprintf(&out, "%s:[%s%s%s:%u->%s%s%s:%u]", name, v6 ? "[" : "", src, v6 ? "]" : "",
			     ntohs(m->id.idiag_sport), v6 ? "[" : "", dst, v6 ? "]" : "", ntohs(m->id.idiag_dport)) < 0)
			return NULL;
	} else if (asprintf(&out, "%s:[%s%s%s:%u]", name, v6 ? "[" : "", src, v6 ? "]" : "", ntohs(m->id.idiag_sport)) < 0) {
		return NULL;
	}
	return out;
}

/* A UNIX socket's path as strace quotes it ("..." with C escapes). */
static void tr_sd_quote(char *out, const unsigned char *p, size_t n)
{
	char *o = out;

	*o++ = '"';
	for (size_t i = 0; i < n && p[i]; i++) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = c;
		} else if (c >= 0x20 && c < 0x7f) {
			*o++ = c;
		} else {
			const char *e = c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\v' ? "\\v" : c == '\f' ? "\\f" : c == '\r' ? "\\r" : NULL;

			if (e) {
				memcpy(o, e, 2);
				o += 2;
			} else {
				o += sprintf(o, "\\%o", c);
			}
		}
	}
	*o++ = '"';
	*o = 0;
}

static char *tr_sd_unix_parse(const void *data, int len, unsigned long inode, const char *name)
{
	const struct unix_diag_msg *m = data;
	int rlen = len - (int)NLMSG_LENGTH(sizeof(*m));
	uint32_t peer = 0;
	size_t plen = 0;
	unsigned char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	char q[4 * sizeof(path) + 8], *out = NULL;

	if (rlen < 0 || m->udiag_ino != inode || m->udiag_family != AF_UNIX)
		return NULL;
	for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, rlen); a = RTA_NEXT(a, rlen)) {
		if (a->rta_type == UNIX_DIAG_NAME && !plen) {
			plen = RTA_PAYLOAD(a);
			if (plen > sizeof(path) - 1)
				plen = sizeof(path) - 1;
			memcpy(path, RTA_DATA(a), plen);
			path[plen] = 0;
		} else if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= 4) {
			memcpy(&peer, RTA_DATA(a), 4);
		}
	}
	if (!peer && !plen)
		return NULL;
	q[0] = 0;
	if (plen) {
		/* an abstract name (leading NUL) prints as @"name" */
		q[0] = ',';
		if (path[0] == 0) {
			q[1] = '@';
			tr_sd_quote(q + 2, path + 1, plen - 1);
		} else {
			tr_sd_quote(q + 1, path, plen);
		}
	}
	if ((peer ? asprintf(&out, "%s:[%lu->%u%s]", name, inode, peer, q) : asprintf(&out, "%s:[%lu%s]", name, inode, q)) < 0)
		return NULL;
	return out;
}

static char *tr_sd_netlink_parse(const void *data, int len, unsigned long inode, const char *name)
{
	const struct netlink_diag_msg *m = data;
	char *out = NULL;
	unsigned int pr;

	if (len < (int)NLMSG_LENGTH(sizeof(*m)) || m->ndiag_ino != inode || m->ndiag_family != AF_NETLINK)
		return NULL;
	pr = m->ndiag_protocol;
	if (pr < sizeof(tr_nl_names) / sizeof(tr_nl_names[0]) && tr_nl_names[pr]) {
		if (asprintf(&out, "%s:[%s:%u]", name, tr_nl_names[pr], m->ndiag_portid) < 0)
			return NULL;
	} else if (asprintf(&out, "%s:[%u]", name, pr) < 0) {
		return NULL;
	}
	return out;
}

/* One protocol's question: the text, or NULL (not found, or no answer). */
static char *tr_sd_ask1(struct tr_sockdiag *s, int fd, int p, unsigned long inode);

/* One protocol's question; a dump the kernel refuses (no inet_diag or
 * udp_diag module, say) is said once per protocol: never silently less. */
static char *tr_sd_ask(struct tr_loop *L, struct tr_sockdiag *s, int fd, int p, unsigned long inode, int tid)
{
	char *text = tr_sd_ask1(s, fd, p, inode);

	if (!text && s->err && tr_protos[p].kind != SD_UNIX && !(s->said_proto & (1u << p))) {
		char msg[256];

		s->said_proto |= 1u << p;
		snprintf(msg, sizeof(msg), "-yy: the kernel cannot list %s sockets (pid %d: %s): they show as %s:[INODE]",
			 tr_protos[p].name, tid, strerror(s->err), tr_protos[p].name);
		tr_rec_error(L, NULL, s->err, msg);
	}
	return text;
}

static char *tr_sd_ask1(struct tr_sockdiag *s, int fd, int p, unsigned long inode)
{
	const char *name = tr_protos[p].name;

	if (tr_protos[p].kind == SD_INET) {
		struct {
			struct nlmsghdr h;
			struct inet_diag_req_v2 r;
		} q;

		memset(&q, 0, sizeof(q));
		q.h.nlmsg_len = sizeof(q);
		q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		q.h.nlmsg_flags = NLM_F_DUMP | NLM_F_REQUEST;
		q.r.sdiag_family = tr_protos[p].family;
		q.r.sdiag_protocol = tr_protos[p].proto;
		q.r.idiag_states = -1;
		return tr_sd_send(fd, &q, sizeof(q)) ? NULL : tr_sd_receive(s, fd, inode, name, tr_sd_inet_parse);
	}
	if (tr_protos[p].kind == SD_UNIX) {
		struct {
			struct nlmsghdr h;
			struct unix_diag_req r;
		} q;

		memset(&q, 0, sizeof(q));
		q.h.nlmsg_len = sizeof(q);
		q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		q.h.nlmsg_flags = NLM_F_REQUEST;
		q.r.sdiag_family = AF_UNIX;
		q.r.udiag_ino = (uint32_t)inode;
		q.r.udiag_states = -1;
		q.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER;
		q.r.udiag_cookie[0] = q.r.udiag_cookie[1] = ~0U;
		return tr_sd_send(fd, &q, sizeof(q)) ? NULL : tr_sd_receive(s, fd, inode, name, tr_sd_unix_parse);
	}
	{
		struct {
			struct nlmsghdr h;
			struct netlink_diag_req r;
		} q;

		memset(&q, 0, sizeof(q));
		q.h.nlmsg_len = sizeof(q);
		q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		q.h.nlmsg_flags = NLM_F_DUMP | NLM_F_REQUEST;
		q.r.sdiag_family = AF_NETLINK;
		q.r.sdiag_protocol = NDIAG_PROTO_ALL;
		return tr_sd_send(fd, &q, sizeof(q)) ? NULL : tr_sd_receive(s, fd, inode, name, tr_sd_netlink_parse);
	}
}

/* What -yy prints for fd of task t whose link is "socket:[INODE]": its
 * details into out (NUL-terminated), or 0 when there is nothing to add to
 * the link (the protocol cannot be told). */
size_t tr_sock_detail(struct tr_loop *L, struct tr_task *t, int fd, unsigned long inode, char *out, size_t outsz)
{
	struct tr_sockdiag *s = L->sockdiag;
	struct tr_sd_entry *e;
	char path[64], pname[256];
	ssize_t n;
	int p = -1, sfd;
	char *text = NULL;

	if (!s) {
		struct stat st;

		s = L->sockdiag = calloc(1, sizeof(*s));
		if (!s)
			return 0;
		if (stat("/proc/self/ns/net", &st) == 0)
			s->own_ns = st.st_ino;
	}
	e = &s->cache[inode & (TR_SD_CACHE - 1)];
	if (e->text && e->inode == inode)
		return (size_t)snprintf(out, outsz, "%s", e->text);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", TR_PROC_ID(t), fd);
	n = getxattr(path, "system.sockprotoname", pname, sizeof(pname) - 1);
	if (n > 0) {
		pname[n] = 0;
		for (int i = 0; i < TR_NPROTOS; i++)
			if (!strcmp(pname, tr_protos[i].name))
				p = i;
	}
	sfd = tr_sd_socket(L, s, TR_PROC_ID(t));
	if (sfd >= 0) {
		if (p >= 0) {
			text = tr_sd_ask(L, s, sfd, p, inode, t->tid);
		} else {
			/* the protocol's name is not one of strace's: ask them all */
			for (int i = 0; i < TR_NPROTOS && !text; i++)
				if (i != 1) /* UNIX-STREAM: the same question as UNIX */
					text = tr_sd_ask1(s, sfd, i, inode);
		}
	}
	if (text) {
		free(e->text);
		e->inode = inode;
		e->text = text;
		return (size_t)snprintf(out, outsz, "%s", text);
	}
	if (p < 0)
		return 0;
	return (size_t)snprintf(out, outsz, "%s:[%lu]", tr_protos[p].name, inode);
}
