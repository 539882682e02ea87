/* The cffi cdef of the exec catcher (tracerd.native._catcher).
 * Kept free of preprocessor directives: cffi parses it as is.
 * See catcher.c and docs/rules.md. */

#define TC_COMM_LEN 16
#define TC_CGROUP_LEN 512
#define TC_PATH_MAX 1024
#define TC_PENDING_MAX 1024

/* mark kinds for tc_mark() */
enum tc_mark_kind { TC_MARK_INODE = 0, TC_MARK_FILESYSTEM = 1 };
/* answers from the daemon on ctl_fd (struct tc_answer) */
enum tc_op { TC_OP_ALLOW = 1 };
/* note flags */
enum tc_note_flag { TC_NOTE_ADMIN = 1 };

/* One rule's match, as the catcher checks it at each exec event. An empty
 * (or negative) field matches anything; every non-empty one must match. */
struct tc_rule {
	int id;
	int has_exe; /* dev/ino of the rule's exe */
	unsigned long long dev;
	unsigned long long ino;
	int uid; /* real uid, -1: any */
	char comm[16]; /* the new image's comm: basename of the execve path */
	char cgroup[512]; /* prefix of the cgroup v2 path */
	char unit[256]; /* one path component of the cgroup v2 path */
};

/* catcher -> daemon, one datagram per held exec: the header then the path
 * passed to execve (not NUL-terminated; the rest of the datagram) */
struct tc_note {
	unsigned int token;
	int pid;
	int rule;
	int uid;
	unsigned int flags;
};

/* daemon -> catcher */
struct tc_answer {
	unsigned int op;
	unsigned int token;
};

struct tc_config {
	int fan_fd; /* from tc_init() */
	int ctl_fd; /* SOCK_SEQPACKET to the daemon; EOF ends tc_run */
	int daemon_pid; /* its execs and its children's are never held */
	int hold_ms; /* a held exec is allowed after this long, answered or not */
	const struct tc_rule *rules;
	int nrules;
};

struct tc_stats {
	unsigned long long events; /* exec permission events seen */
	unsigned long long own; /* the daemon's and its children's */
	unsigned long long traced; /* already traced: allowed at once */
	unsigned long long interp; /* an interpreter's event (ld.so, #!): allowed */
	unsigned long long matched; /* held for the daemon */
	unsigned long long answered; /* ... and answered by it */
	unsigned long long timeouts; /* ... and allowed on the timeout */
	unsigned long long refused_notes; /* daemon's queue full / table full: allowed */
};

/* fanotify_init for exec permission events; returns the fd or -errno */
int tc_init(void);
/* mark a path: its inode (exe rules) or its whole filesystem; 0 or -errno */
int tc_mark(int fan_fd, const char *path, int kind);
/* Answer exec events until ctl_fd reaches EOF. Returns 0 or -errno (err). */
int tc_run(const struct tc_config *cfg, struct tc_stats *st, char *err, size_t errlen);
