/* bpf's attr by command from client/decode/bpf.toml, traced with -y -v:
 * BPF_MAP_CREATE's fields as far as the size reaches (numa_node only with
 * BPF_F_NUMA_NODE, map_name cut at the size), its fds named at the stop,
 * the fd it returns; BPF_PROG_LOAD's license string; BPF_OBJ_GET_INFO_BY_FD
 * wrapped in info={...}; an attr the size argument runs past the end of
 * memory (its address, even beyond the struct strace knows). */
#include "common.h"
#include <stdint.h>
#include <sys/mman.h>

static const char *rc(long r) {
	static char b[256];
	if (r >= 0) { snprintf(b, sizeof b, "%ld<anon_inode:bpf-map>", r); return b; }
	const char *n = errno == E2BIG ? "E2BIG" : errno == EINVAL ? "EINVAL" : errno == EPERM ? "EPERM"
		: errno == EFAULT ? "EFAULT" : errno == EBADF ? "EBADF" : errno == EBADFD ? "EBADFD"
		: errno == ENOENT ? "ENOENT" : "E???";
	snprintf(b, sizeof b, "-1 %s (%s)", n, strerror(errno));
	return b;
}

int main(int argc, char **argv) {
	open_out(argc, argv);
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	char *end = page + 4096;
	int nul = open("/dev/null", O_RDONLY);

	/* the first group only: 4 bytes at the end of a page */
	uint32_t *a = (uint32_t *) (end - 4);
	a[0] = 2;
	long r = syscall(SYS_bpf, G | 0, a, G | 4);
	EXPECT("bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_ARRAY, key_size=0, value_size=0, max_entries=0}, 4) = %s", rc(r));

	/* numa_node with BPF_F_NUMA_NODE, a name cut at the size */
	uint32_t *m = (uint32_t *) (end - 36);
	memset(m, 0, 36);
	m[0] = 1; m[1] = 4; m[2] = 8; m[3] = 16; m[4] = 4; m[5] = nul; m[6] = 0xffffffff;
	memcpy(m + 7, "abcdefgh", 8);
	r = syscall(SYS_bpf, 0, m, 36);
	EXPECT("bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_HASH, key_size=4, value_size=8, max_entries=16, "
	       "map_flags=BPF_F_NUMA_NODE, inner_map_fd=%d</dev/null>, numa_node=4294967295 /* NUMA_NO_NODE */, "
	       "map_name=\"abcdefg\"...}, 36) = %s", nul, rc(r));

	/* the whole struct strace knows: a real array map, its fd named */
	uint32_t *f = (uint32_t *) (page + 1024);
	memset(f, 0, 72);
	f[0] = 2; f[1] = 4; f[2] = 8; f[3] = 1; f[5] = nul; f[12] = nul;
	memcpy(f + 7, "golden", 7);
	r = syscall(SYS_bpf, 0, f, 72);
	EXPECT("bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_ARRAY, key_size=4, value_size=8, max_entries=1, map_flags=0, "
	       "inner_map_fd=%d</dev/null>, map_name=\"golden\", map_ifindex=0, btf_fd=%d</dev/null>, btf_key_type_id=0, "
	       "btf_value_type_id=0, btf_vmlinux_value_type_id=0, map_extra=0}, 72) = %s", nul, nul, rc(r));
	if (r >= 0)
		close(r);

	/* BPF_PROG_LOAD's license, a string behind a pointer */
	uint32_t *p = (uint32_t *) (page + 2048);
	memset(p, 0, 24);
	p[0] = 0x20;
	*(uint64_t *) (p + 4) = (uintptr_t) "GPL";
	r = syscall(SYS_bpf, 5, p, 24);
	EXPECT("bpf(BPF_PROG_LOAD, {prog_type=0x20 /* BPF_PROG_TYPE_??? */, insn_cnt=0, insns=NULL, license=\"GPL\"}, 24) = %s", rc(r));

	/* under -v, BPF_PROG_LOAD's instructions */
	uint64_t insns[2] = { 0xfffffffc0000b207ULL /* ALU64|K|ADD r2 (src 11), -4 */, 0x95 /* JMP|K|EXIT */ };
	p[0] = 1; p[1] = 2;
	*(uint64_t *) (p + 2) = (uintptr_t) insns;
	r = syscall(SYS_bpf, 5, p, 24);
	EXPECT("bpf(BPF_PROG_LOAD, {prog_type=BPF_PROG_TYPE_SOCKET_FILTER, insn_cnt=2, insns=[{code=BPF_ALU64|BPF_K|BPF_ADD, "
	       "dst_reg=BPF_REG_2, src_reg=0xb /* BPF_REG_??? */, off=0, imm=0xfffffffc}, {code=BPF_JMP|BPF_K|BPF_EXIT, "
	       "dst_reg=BPF_REG_0, src_reg=BPF_REG_0, off=0, imm=0}], license=\"GPL\"}, 24) = %s", rc(r));

	/* BPF_OBJ_GET_INFO_BY_FD of no fd */
	uint32_t *i = (uint32_t *) (page + 3072);
	i[0] = 0xffffffff; i[1] = 88; *(uint64_t *) (i + 2) = 0;
	r = syscall(SYS_bpf, 15, i, 16);
	EXPECT("bpf(BPF_OBJ_GET_INFO_BY_FD, {info={bpf_fd=-1, info_len=88, info=NULL}}, 16) = %s", rc(r));

	/* the element commands: flags by command, groups cut at the size */
	uint64_t *e = (uint64_t *) (page + 3584);
	memset(e, 0, 32);
	e[0] = 0xffffffff; e[1] = 0xdeadbeef; e[2] = 0xbadc0ded; e[3] = 4;
	r = syscall(SYS_bpf, 1, e, 32);
	EXPECT("bpf(BPF_MAP_LOOKUP_ELEM, {map_fd=-1, key=0xdeadbeef, value=0xbadc0ded, flags=BPF_F_LOCK}, 32) = %s", rc(r));
	e[3] = 2;
	r = syscall(SYS_bpf, 2, e, 32);
	EXPECT("bpf(BPF_MAP_UPDATE_ELEM, {map_fd=-1, key=0xdeadbeef, value=0xbadc0ded, flags=BPF_EXIST}, 32) = %s", rc(r));
	r = syscall(SYS_bpf, 3, e, 16);
	EXPECT("bpf(BPF_MAP_DELETE_ELEM, {map_fd=-1, key=0xdeadbeef}, 16) = %s", rc(r));

	/* BPF_OBJ_PIN's path name, read behind the attr */
	uint32_t *o = (uint32_t *) (page + 3200);
	memset(o, 0, 16);
	*(uint64_t *) o = (uintptr_t) "/sys/fs/bpf/nosuch";
	o[2] = 0xffffffff; o[3] = 0x18;
	r = syscall(SYS_bpf, 6, o, 16);
	EXPECT("bpf(BPF_OBJ_PIN, {pathname=\"/sys/fs/bpf/nosuch\", bpf_fd=-1, file_flags=BPF_F_RDONLY|BPF_F_WRONLY}, 16) = %s", rc(r));

	/* BPF_PROG_QUERY that fails: prog_ids as its address, [] for none */
	uint32_t *q = (uint32_t *) (page + 3300);
	memset(q, 0, 28);
	q[0] = 0xffffffff; q[1] = 0; q[2] = 1;
	*(uint64_t *) (q + 4) = (uintptr_t) (page + 3400); q[6] = 2;
	r = syscall(SYS_bpf, 16, q, 28);
	EXPECT("bpf(BPF_PROG_QUERY, {query={target_fd=-1, attach_type=BPF_CGROUP_INET_INGRESS, query_flags=BPF_F_QUERY_EFFECTIVE, "
	       "attach_flags=0, prog_ids=%p, prog_cnt=2}}, 28) = %s", (void *) (page + 3400), rc(r));
	q[6] = 0;
	r = syscall(SYS_bpf, 16, q, 28);
	EXPECT("bpf(BPF_PROG_QUERY, {query={target_fd=-1, attach_type=BPF_CGROUP_INET_INGRESS, query_flags=BPF_F_QUERY_EFFECTIVE, "
	       "attach_flags=0, prog_ids=[], prog_cnt=0}}, 28) = %s", rc(r));

	/* BPF_BTF_LOAD's btf: btf_size bytes, a NUL among them */
	uint32_t *t = (uint32_t *) (page + 3700);
	memset(t, 0, 28);
	*(uint64_t *) t = (uintptr_t) "bPf\0daTum"; t[4] = 9; t[6] = 1;
	r = syscall(SYS_bpf, 18, t, 28);
	EXPECT("bpf(BPF_BTF_LOAD, {btf=\"bPf\\0daTum\", btf_log_buf=NULL, btf_size=9, btf_log_size=0, btf_log_level=1}, 28) = %s", rc(r));

	/* BPF_LINK_UPDATE: old_prog_fd only with BPF_F_REPLACE */
	uint32_t *l = (uint32_t *) (page + 3800);
	l[0] = 0xffffffff; l[1] = 0xfffffffe; l[2] = 0; l[3] = 0xfffffffd;
	r = syscall(SYS_bpf, 29, l, 16);
	EXPECT("bpf(BPF_LINK_UPDATE, {link_update={link_fd=-1, new_prog_fd=-2, flags=0}}, 16) = %s", rc(r));
	l[2] = 4;
	r = syscall(SYS_bpf, 29, l, 16);
	EXPECT("bpf(BPF_LINK_UPDATE, {link_update={link_fd=-1, new_prog_fd=-2, flags=BPF_F_REPLACE, old_prog_fd=-3}}, 16) = %s", rc(r));

	/* BPF_LINK_CREATE: the union by attach type; kprobe_multi's syms are
	 * strings behind an array of pointers (a DEREF of strings) */
	static const char *syms[] = { "foo", NULL, "bar" };
	static uint64_t addrs[] = { 1, 2, 0xfacefeed };
	uint32_t *k = (uint32_t *) (page + 1536);
	memset(k, 0, 48);
	k[0] = 0xffffffff; k[1] = 0xffffffff; k[2] = 42; k[4] = 1; k[5] = 3;
	*(uint64_t *) (k + 6) = (uintptr_t) syms;
	*(uint64_t *) (k + 8) = (uintptr_t) addrs;
	r = syscall(SYS_bpf, 28, k, 48);
	EXPECT("bpf(BPF_LINK_CREATE, {link_create={prog_fd=-1, target_fd=-1, attach_type=BPF_TRACE_KPROBE_MULTI, flags=0, "
	       "kprobe_multi={flags=BPF_F_KPROBE_MULTI_RETURN, cnt=3, syms=[\"foo\", NULL, \"bar\"], addrs=[0x1, 0x2, 0xfacefeed], "
	       "cookies=NULL}}}, 48) = %s", rc(r));
	k[2] = 0x29; *(uint64_t *) (k + 4) = 0xdeadc0defacecafeULL;
	r = syscall(SYS_bpf, 28, k, 24);
	EXPECT("bpf(BPF_LINK_CREATE, {link_create={prog_fd=-1, target_fd=-1, attach_type=BPF_PERF_EVENT, flags=0, "
	       "perf_event={bpf_cookie=0xdeadc0defacecafe}}}, 24) = %s", rc(r));

	/* a page of attr of which the last byte cannot be read: its address */
	r = syscall(SYS_bpf, 0, page + 1, 4096);
	EXPECT("bpf(BPF_MAP_CREATE, %p, 4096) = %s", (void *) (page + 1), rc(r));
	return 0;
}
