/* The cffi cdef of the native tracer loop (tracerd.native._tracer).
 * Kept free of preprocessor directives: cffi parses it as is. */

/* Wire constants the C side writes; tests/native/test_wire_constants.py checks
 * them against tracerd._wire. */
#define TR_WIRE_VERSION 1
#define TR_FRAME_MAGIC 0x5254
#define TR_FRAME_HEADER_SIZE 24
#define TR_FRAME_MAX_PAYLOAD 1048576
#define TR_PLAN_VERSION 2
#define TR_LEN_RET 6
#define TR_LEN_FIXED 7
#define TR_LEN_IOC 8
#define TR_IOC_UNSIZED 512
#define TR_IOC_TRAILER 256
#define TR_LEN_NONE 255
#define TR_STRARR_COUNT_MAX 1048576
#define TR_MSG_NAME_MAX 128
#define TR_MSG_CONTROL_MAX 1024
#define TR_IOV_DATA_MAX 65536
#define TR_MMSG_MAX 64
#define TR_FD_SLOT 16
#define TR_FD_RET 6
#define TR_KVM_SLOT 32 /* -e kvm=vcpu: KVM_RUN's exit reason, an exit mem entry of its own */
#define TR_FD_ARRAY_MAX 64
#define TR_FD_STRIDE_MAX 64
/* second-level memory and fds inside a struct (docs/fetch-plan.md) */
#define TR_LEN_FIELD 9
#define TR_DEREF_SLOT 256
#define TR_FD_AT_SLOT 2048
#define TR_DEREF_PTR64 8
#define TR_DEREF_LEN_SHIFT 4
#define TR_DEREF_ELEM_SHIFT 6
#define TR_DEREF_MAX_BYTES 65536
#define TR_DEREF_STRS 0x80000000u /* size's top bit: the elements are pointers to C strings */
#define TR_DEREF_STRS_MAX 64 /* the most strings one such DEREF reads */
#define TR_COND_MAX 32
#define TR_FD_AT_PTR 8
#define TR_FD_AT_PTR64 16
#define TR_MSGHDR_CTL_FULL 8 /* MSGHDR's arg flag: msg_control up to net.core.optmem_max (-v) */
#define TR_MSG_CONTROL_VMAX 524288 /* ... and never more than this */
#define TR_FD_AT_OFF_MAX 256
#define TR_FD_SCM_RIGHTS 1
/* struct msghdr / mmsghdr: native and compat (i386, x32) layouts; tested
 * against the syscall table's [structs] (tests/native/test_table_sizes.py) */
#define TR_MSGHDR_SIZE 56
#define TR_MSGHDR_COMPAT_SIZE 28
#define TR_MMSGHDR_SIZE 64
#define TR_MMSGHDR_COMPAT_SIZE 32
/* fetched memory one call may carry (entry and exit together): its record
 * always fits in a frame, and no fetch reserves more */
#define TR_MEM_MAX 1040384
#define TR_X32_SYSCALL_BIT 0x40000000
/* stop-latency histogram (struct tr_stats): bucket i counts the stops that
 * held their tracee at most 2^(TR_LAT_SHIFT + i) ns (256 ns, 512 ns, ...,
 * ~67 ms); the last bucket, everything longer */
#define TR_LAT_SHIFT 8
#define TR_LAT_BUCKETS 20

enum tr_rec {
	TR_REC_SYSCALL = 1,
	TR_REC_SYSCALL_ENTRY = 2,
	TR_REC_SYSCALL_EXIT = 3,
	TR_REC_EXEC = 4,
	TR_REC_NEWTASK = 5,
	TR_REC_SIGNAL = 6,
	TR_REC_EXIT = 7,
	TR_REC_KILLED = 8,
	TR_REC_LOST = 9,
	TR_REC_ERROR = 10,
	TR_REC_ATTACH = 11,
	TR_REC_DETACH = 12,
	TR_REC_STOPPED = 13,
};

enum tr_pers { TR_PERS_X86_64 = 0, TR_PERS_I386 = 1, TR_PERS_X32 = 2 };
enum tr_newtask { TR_NEW_FORK = 1, TR_NEW_VFORK = 2, TR_NEW_CLONE = 3 };
enum tr_sysflag { TR_SF_NO_EXIT = 1, TR_SF_VANISHED = 2, TR_SF_SECCOMP = 4, TR_SF_INJECTED = 8, TR_SF_POKED = 16, TR_SF_DELAYED = 32, TR_SF_SIGNALED = 64 };
enum tr_tamper_action { TR_TA_ERROR = 1, TR_TA_RETVAL = 2, TR_TA_SIGNAL = 4, TR_TA_SYSCALL = 8, TR_TA_DELAY_ENTER = 16, TR_TA_DELAY_EXIT = 32, TR_TA_POKE_ENTER = 64, TR_TA_POKE_EXIT = 128 };
enum tr_op_kind { TR_OP_CSTR = 1, TR_OP_BUF = 2, TR_OP_STRUCT = 3, TR_OP_STRARR = 4, TR_OP_IOVEC = 5, TR_OP_MSGHDR = 6, TR_OP_STACK = 7, TR_OP_MMSGHDR = 8, TR_OP_FD = 9, TR_OP_DEREF = 10, TR_OP_FD_AT = 11, TR_OP_COND = 12 };
enum tr_eflag { TR_EF_EXIT = 1, TR_EF_FETCH_ENTRY = 2, TR_EF_FETCH_EXIT = 4 };
enum tr_pflag { TR_PF_CPU_TIME = 1, TR_PF_TAMPER = 2, TR_PF_FD_SOCKET = 4, TR_PF_FD_DEV = 8, TR_PF_FD_PIDFD = 16, TR_PF_IP = 32, TR_PF_STACK = 64, TR_PF_KVM = 128 };
enum tr_ctl { TR_CTL_DETACH = 1, TR_CTL_KILL = 2, TR_CTL_FLUSH = 3 };
/* struct tr_config (the worker config: mode, pids, plan, fds, ...) and its
 * enums (TR_MODE_*, TR_WAIT_*) are generated from native/_config.py's FIELDS
 * into tr_config.h, which precedes this file in the cdef and in every C file. */

struct tr_stats {
	unsigned long long stops;
	unsigned long long seccomp_stops;
	unsigned long long syscall_stops;
	unsigned long long records;
	unsigned long long frames;
	unsigned long long bytes;
	unsigned long long lost;
	unsigned long long splits;
	unsigned long long tasks_max;
	unsigned long long tasks_total;
	/* launch: the launched process's wait status once it is gone (exit or
	 * killed), else -1 (attach, or not seen) */
	long long root_status;
	/* -e inject=/fault=: calls tampered with; register writes made with
	 * PTRACE_SETREGS because the kernel lacks PTRACE_SET_SYSCALL_INFO */
	unsigned long long tampered;
	unsigned long long tamper_setregs;
	/* how long each stop held its tracee: from wait returning the stop
	 * to the resume call (or the end of its handling when there is no
	 * resume: an exit, a held or delayed thread), CLOCK_MONOTONIC.
	 * One observation per stop counted in `stops`. */
	unsigned long long stop_ns_hist[20];
	unsigned long long stop_ns_sum;
};

/* Run the loop until every task is gone (launch) or detached (attach).
 * Returns 0, or -errno with a one-line message in err. */
int tr_run(const struct tr_config *cfg, struct tr_stats *st, char *err, size_t errlen);

/* The msgpack writer, exposed for the round-trip tests. */
struct tr_buf {
	unsigned char *p;
	size_t len;
	size_t cap;
	int overflow;
};
void tr_mp_array(struct tr_buf *b, unsigned int n);
void tr_mp_map(struct tr_buf *b, unsigned int n);
void tr_mp_uint(struct tr_buf *b, unsigned long long v);
void tr_mp_int(struct tr_buf *b, long long v);
void tr_mp_nil(struct tr_buf *b);
void tr_mp_bool(struct tr_buf *b, int v);
void tr_mp_bin(struct tr_buf *b, const void *p, size_t n);
void tr_mp_str(struct tr_buf *b, const char *p, size_t n);
/* One frame holding every record type, written by the loop's emitters with
 * fixed times (the golden vector tests/vectors/records_all.bin). */
long tr_selftest_frame(unsigned char *dst, size_t cap);
/* Parse a fetch plan; returns the number of entries or -errno. */
int tr_plan_check(const unsigned char *plan, size_t len);

/* The launched command's steps between fork and exec (launch.c,
 * client/_launch.py): PR_SET_PTRACER, a signal to SIG_DFL or SIG_IGN, the
 * seccomp filter (`len` bytes of sock_filter). 0 or -errno. */
int tr_launch_ptracer(int tracer);
int tr_launch_signal(int sig, int ignore);
int tr_launch_filter(const void *bpf, size_t len);
