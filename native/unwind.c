/* -k: the call's stack, unwound with elfutils' libdwfl while the tracee is
 * held in its entry stop, and symbolized here (module path, nearest symbol
 * and offset, module-relative address), one line per frame as strace prints
 * it. Only when the plan asks (TR_PF_STACK): nothing here runs otherwise.
 *
 * libdw (and with it libelf, libz, liblzma, libbz2) is loaded with dlopen at
 * the first stack taken, not linked: a worker that is not asked for -k maps
 * none of it (docs/performance.md, "Memory"). The header still gives the
 * prototypes (libdw-dev at build time, libdw1 at run time).
 *
 * The module cache: one Dwfl per task, attached to it (the tracee is already
 * ptrace-stopped: libdwfl does not attach on its own), its module list read
 * from /proc/PID/maps again when the mappings may have changed since
 * (L->uw_gen, bumped at every call that changes mappings: with -k the filter
 * stops them all, see bpfgen) and dropped at exec. */
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr_internal.h"

/* The libdwfl functions this file calls, through pointers filled by
 * tr_dw_load(); each name below is then a macro for its pointer, so the
 * calls read as plain libdwfl calls. */
#define TR_DW_FUNCS(X)                                                                                            \
	X(dwfl_addrmodule) X(dwfl_begin) X(dwfl_end) X(dwfl_errmsg) X(dwfl_frame_pc) X(dwfl_frame_thread)          \
	X(dwfl_getthread_frames) X(dwfl_linux_proc_attach) X(dwfl_linux_proc_find_elf) X(dwfl_linux_proc_report)    \
	X(dwfl_module_getsym_info) X(dwfl_module_getsymtab) X(dwfl_module_info) X(dwfl_report_begin)               \
	X(dwfl_report_end) X(dwfl_thread_dwfl)

static struct {
#define X(f) __typeof__(f) *f;
	TR_DW_FUNCS(X)
#undef X
} tr_dw;

/* 1: loaded; -1: cannot be (tr_dw_error says why); 0: not tried yet */
static int tr_dw_state;
static char tr_dw_error[256];

#define LIBDW "libdw.so.1"

static int tr_dw_load(void)
{
	void *h;

	if (tr_dw_state)
		return tr_dw_state;
	tr_dw_state = -1;
	h = dlopen(LIBDW, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(tr_dw_error, sizeof(tr_dw_error), "cannot load %s: %s", LIBDW, dlerror());
		return -1;
	}
#define X(f)                                                                                        \
	if (!(tr_dw.f = (__typeof__(f) *)dlsym(h, #f))) {                                            \
		snprintf(tr_dw_error, sizeof(tr_dw_error), "%s has no %s", LIBDW, #f);                \
		dlclose(h);                                                                         \
		return -1;                                                                          \
	}
	TR_DW_FUNCS(X)
#undef X
	tr_dw_state = 1;
	return 1;
}

#define dwfl_addrmodule tr_dw.dwfl_addrmodule
#define dwfl_begin tr_dw.dwfl_begin
#define dwfl_end tr_dw.dwfl_end
#define dwfl_errmsg tr_dw.dwfl_errmsg
#define dwfl_frame_pc tr_dw.dwfl_frame_pc
#define dwfl_frame_thread tr_dw.dwfl_frame_thread
#define dwfl_getthread_frames tr_dw.dwfl_getthread_frames
#define dwfl_linux_proc_attach tr_dw.dwfl_linux_proc_attach
#define dwfl_linux_proc_find_elf tr_dw.dwfl_linux_proc_find_elf
#define dwfl_linux_proc_report tr_dw.dwfl_linux_proc_report
#define dwfl_module_getsym_info tr_dw.dwfl_module_getsym_info
#define dwfl_module_getsymtab tr_dw.dwfl_module_getsymtab
#define dwfl_module_info tr_dw.dwfl_module_info
#define dwfl_report_begin tr_dw.dwfl_report_begin
#define dwfl_report_end tr_dw.dwfl_report_end
#define dwfl_thread_dwfl tr_dw.dwfl_thread_dwfl

#define TR_UW_DEPTH 256

#define TR_UW_CACHE 256

struct tr_uw_ce {
	Dwarf_Addr pc;
	char *line;
	size_t len;
	int on_enter;
};

struct tr_uw {
	Dwfl *dwfl;
	uint64_t gen; /* L->uw_gen when its modules were read */
	struct tr_uw_ce cache[TR_UW_CACHE];
};

struct tr_uw_walk {
	struct tr_task *t;
	struct tr_uw *u;
	int on_enter; /* strace's capture at entry (exit, execve): "(+0x0)" when the symbol is "" */
	int left;
};

/* No separate debug files: the symbols are the module's own, as strace's */
static int tr_uw_no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			      const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			      char **debuginfo_file_name)
{
	return -1;
}

/* The tracee being unwound (the loop is one thread; libdwfl calls
 * tr_uw_find_elf only from inside tr_unwind). */
static int tr_uw_pid;

/* A module's file, opened through /proc/PID/root: the path /proc/PID/maps
 * shows is the tracee's, and the worker may not share its mount namespace
 * (the daemon's unit has PrivateTmp=; a container's tracee). libdwfl's own
 * lookup (the path as it is here, the vDSO from memory) otherwise. */
static int tr_uw_find_elf(Dwfl_Module *mod, void **userdata, const char *module_name, Dwarf_Addr base,
			  char **file_name, Elf **elfp)
{
	if (module_name[0] == '/' && tr_uw_pid > 0) {
		char path[4200];
		int n = snprintf(path, sizeof(path), "/proc/%d/root%s", tr_uw_pid, module_name);

		if (n > 0 && n < (int)sizeof(path)) {
			int fd = open(path, O_RDONLY | O_CLOEXEC);

			if (fd >= 0) {
				*file_name = strdup(path);
				*elfp = NULL;
				return fd;
			}
		}
	}
	return dwfl_linux_proc_find_elf(mod, userdata, module_name, base, file_name, elfp);
}

static const Dwfl_Callbacks tr_uw_callbacks = {
	.find_elf = tr_uw_find_elf,
	.find_debuginfo = tr_uw_no_debuginfo,
};

static void tr_stk_add(struct tr_task *t, const char *s, size_t n)
{
	size_t need = t->stk_len + n + 5;

	if (need > t->stk_cap) {
		size_t cap = t->stk_cap ? t->stk_cap * 2 : 1024;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(t->stk, cap);
		if (!p)
			return;
		t->stk = p;
		t->stk_cap = cap;
	}
	/* a msgpack str */
	unsigned char *q = (unsigned char *)t->stk + t->stk_len;
	if (n < 32) {
		*q++ = (unsigned char)(0xa0 | n);
	} else if (n < 256) {
		*q++ = 0xd9;
		*q++ = (unsigned char)n;
	} else {
		*q++ = 0xda;
		*q++ = (unsigned char)(n >> 8);
		*q++ = (unsigned char)n;
	}
	memcpy(q, s, n);
	t->stk_len = (size_t)((char *)q + n - t->stk);
	t->stk_n++;
}

/* The nearest function symbol at or below `pc` in the module's own symbol
 * table (.symtab, else .dynsym; no separate debug file), whatever its size:
 * the name and offset strace 6.1 prints (Debian builds it with libunwind,
 * whose lookup is this one). NULL when there is none. */
static const char *tr_uw_sym(Dwfl_Module *mod, Dwarf_Addr pc, GElf_Off *off)
{
	int n = dwfl_module_getsymtab(mod);
	const char *best = NULL;
	GElf_Addr best_addr = 0;

	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);

		if (!name || GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF || addr > pc)
			continue;
		if (!best || addr > best_addr) {
			best = name;
			best_addr = addr;
		}
	}
	if (best)
		*off = pc - best_addr;
	return best;
}

/* A C++ name as strace prints it (`n::f(int)`): libstdc++'s demangler,
 * loaded the first time a mangled name shows up (a C program never loads
 * it). NULL: keep the name as it is. The caller frees the result. */
static char *tr_uw_demangle(const char *name)
{
	static char *(*demangle)(const char *, char *, size_t *, int *);
	static int tried;
	int status = -1;
	char *out;

	if (name[0] != '_' || name[1] != 'Z')
		return NULL;
	if (!tried) {
		void *h = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);

		tried = 1;
		if (h)
			demangle = (char *(*)(const char *, char *, size_t *, int *))dlsym(h, "__cxa_demangle");
	}
	if (!demangle)
		return NULL;
	out = demangle(name, NULL, NULL, &status);
	if (status != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* A small cache of symbolized frames per task, emptied when the modules are
 * read again: a call's frames repeat from one call to the next. */
static struct tr_uw_ce *tr_uw_cached(struct tr_uw *u, Dwarf_Addr pc)
{
	return &u->cache[(pc ^ (pc >> 12)) & (TR_UW_CACHE - 1)];
}

static int tr_uw_frame(Dwfl_Frame *state, void *arg)
{
	struct tr_uw_walk *w = arg;
	Dwarf_Addr pc;
	bool activation;
	char line[1024];
	int n = 0;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return -1;
	/* strace prints the return address itself, and names the function
	 * that holds it */
	struct tr_uw_ce *ce = tr_uw_cached(w->u, pc);
	if (ce->pc == pc && ce->line && ce->on_enter == w->on_enter) {
		tr_stk_add(w->t, ce->line, ce->len);
	} else {
		Dwfl *dwfl = dwfl_thread_dwfl(dwfl_frame_thread(state));
		Dwfl_Module *mod = dwfl_addrmodule(dwfl, pc);

		if (mod) {
			GElf_Off off = 0;
			Dwarf_Addr start = 0;
			const char *modname = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
			const char *symname = tr_uw_sym(mod, pc, &off);
			unsigned long rel = (unsigned long)(pc - start); /* from the module's first mapping */

			if (modname && !strncmp(modname, "[vdso", 5))
				modname = "[vdso]"; /* libdwfl's "[vdso: PID]": /proc/PID/maps's name */

			if (!symname && w->on_enter) {
				symname = ""; /* strace's queued frames: `(+0x0)` */
				off = 0;
			}

			char *plain = symname ? tr_uw_demangle(symname) : NULL;

			if (symname && (symname[0] || w->on_enter))
				n = snprintf(line, sizeof(line), " > %s(%s+0x%lx) [0x%lx]", modname ? modname : "",
					     plain ? plain : symname, (unsigned long)off, rel);
			else
				n = snprintf(line, sizeof(line), " > %s() [0x%lx]", modname ? modname : "", rel);
			free(plain);
		} else {
			n = snprintf(line, sizeof(line), " > backtracing_error [0x%lx]", (unsigned long)pc);
		}
		if (n >= (int)sizeof(line))
			n = sizeof(line) - 1;
		if (n > 0) {
			tr_stk_add(w->t, line, (size_t)n);
			char *copy = malloc((size_t)n);

			if (copy) {
				memcpy(copy, line, (size_t)n);
				free(ce->line);
				ce->line = copy;
				ce->len = (size_t)n;
				ce->pc = pc;
				ce->on_enter = w->on_enter;
			}
		}
	}
	if (w->left-- == 0)
		return DWARF_CB_ABORT;
	return DWARF_CB_OK;
}

static void tr_uw_cache_clear(struct tr_uw *u)
{
	for (int i = 0; i < TR_UW_CACHE; i++) {
		free(u->cache[i].line);
		u->cache[i].line = NULL;
		u->cache[i].pc = 0;
	}
}

void tr_unwind_drop(struct tr_task *t)
{
	struct tr_uw *u = t->uw;

	if (u) {
		tr_uw_cache_clear(u);
		dwfl_end(u->dwfl);
		free(u);
		t->uw = NULL;
	}
}

void tr_unwind_free(struct tr_task *t)
{
	tr_unwind_drop(t);
	free(t->stk);
	t->stk = NULL;
	t->stk_len = t->stk_cap = 0;
	t->stk_n = 0;
}

/* Unwind task `t` (stopped) into t->stk. 0, or -1 (no frames: an error line
 * is put there instead, as strace prints one). */
int tr_unwind(struct tr_loop *L, struct tr_task *t, int on_enter)
{
	struct tr_uw *u = t->uw;
	struct tr_uw_walk w = { t, u, on_enter, TR_UW_DEPTH };
	char line[512];
	int r, n;

	t->stk_len = 0;
	t->stk_n = 0;
	tr_uw_pid = t->tid;
	if (tr_dw_load() < 0) {
		n = snprintf(line, sizeof(line), " > unwind: %s", tr_dw_error);
		tr_stk_add(t, line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1));
		return -1;
	}
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return -1;
		u->dwfl = dwfl_begin(&tr_uw_callbacks);
		if (!u->dwfl || dwfl_linux_proc_attach(u->dwfl, t->tid, true) != 0) {
			if (u->dwfl)
				dwfl_end(u->dwfl);
			free(u);
			n = snprintf(line, sizeof(line), " > unwind: cannot attach: %s", dwfl_errmsg(-1));
			tr_stk_add(t, line, (size_t)n);
			return -1;
		}
		u->gen = L->uw_gen - 1;
		t->uw = u;
		w.u = u;
	}
	if (u->gen != L->uw_gen) {
		dwfl_report_begin(u->dwfl);
		if (dwfl_linux_proc_report(u->dwfl, t->tid) == 0)
			dwfl_report_end(u->dwfl, NULL, NULL);
		u->gen = L->uw_gen;
		tr_uw_cache_clear(u);
	}
	r = dwfl_getthread_frames(u->dwfl, t->tid, tr_uw_frame, &w);
	if (r && !t->stk_n) {
		n = snprintf(line, sizeof(line), " > %s", r < 0 ? dwfl_errmsg(-1) : "too many stack frames");
		tr_stk_add(t, line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1));
		return -1;
	}
	return 0;
}

/* The calls that change a process's mappings (strace's TRACE_MEMORY and
 * exec): with -k the filter stops them all, so the module cache is read
 * again after one of them. */
int tr_unwind_maps_call(int pers, uint32_t nr)
{
	if (pers == TR_PERS_X86_64)
		switch (nr) {
		case 9: case 10: case 11: case 12: case 25: case 30: case 67:
		case 216: case 329: case 59: case 322:
			return 1;
		}
	else if (pers == TR_PERS_I386)
		switch (nr) {
		case 90: case 91: case 125: case 163: case 192: case 45: case 257:
		case 380: case 117: case 397: case 398: case 11: case 358:
			return 1;
		}
	return 0;
}

/* The calls whose stack strace takes at their entry (they do not return:
 * exit, exit_group, execve, execveat); a frame with an empty symbol then
 * prints as `(+0x0)`, as strace's queued frames do. */
int tr_unwind_on_enter(int pers, uint32_t nr)
{
	if (pers == TR_PERS_X86_64)
		return nr == 60 || nr == 231 || nr == 59 || nr == 322;
	if (pers == TR_PERS_I386)
		return nr == 1 || nr == 252 || nr == 11 || nr == 358;
	return 0;
}
