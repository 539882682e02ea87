"""`Decoder`: records -> strace's text (the API the CLI and the sinks use)."""

from __future__ import annotations

import errno
import operator
import os
import stat
import struct

from tracerd._wire import FD_AT_SLOT, FD_RET, FD_SLOT, IDX, Rec, field, is_fd_slot

_FD_LAST, _FD_AT_FIRST, _FD_AT_END = FD_SLOT + FD_RET, FD_AT_SLOT, FD_AT_SLOT + 6 * 256

from . import _sockets, _table
from ._core import AT_FDCWD, C, Changed, DecodeOptions, REGISTRY, compile_halves, compile_table, generic_args, generic_entry_count, pid_text, proc_pid, table_args, readlink_fd, ret_formatter, ret_text
from ._fmt import error_text_memo as _error_text, hexa, quote
from ._signals import siginfo_text  # also registers the siginfo struct

# the family modules register their decoders when imported
from . import _bpf, _caps, _keyctl, _perf, _fsconfig, _ldt, _desc, _file, _ioctl, _ipc, _memory, _misc, _network, _poll, _prctl, _process, _ptrace, _resource, _signal, _sockaddr, _stat, _time  # noqa: F401,E402,I001


def _getter(rtype: Rec):
    """Field access by name for one record type, the indexes looked up once
    (the hot path: tracerd._wire.field builds an enum per call)."""
    idx = IDX[rtype]

    def get(rec: list, name: str):
        i = idx[name]
        return rec[i] if i < len(rec) else None

    return get


_SYS, _ENTRY, _EXIT = _getter(Rec.SYSCALL), _getter(Rec.SYSCALL_ENTRY), _getter(Rec.SYSCALL_EXIT)
_SYS_FIELDS = tuple(IDX[Rec.SYSCALL][n] for n in ("pers", "nr", "args", "ret", "is_error", "mem", "tid", "tgid"))
_SYS_GET = operator.itemgetter(*_SYS_FIELDS)
_ENTRY_GET = operator.itemgetter(*(IDX[Rec.SYSCALL_ENTRY][n] for n in ("pers", "nr", "args", "mem", "tid", "tgid")))
_EXIT_GET = operator.itemgetter(*(IDX[Rec.SYSCALL_EXIT][n] for n in ("pers", "nr", "ret", "is_error", "mem", "tid", "tgid")))
_ENTRY_T = int(Rec.SYSCALL_ENTRY)
_SIGNAL_T = int(Rec.SIGNAL)
_SIG_NO, _SIG_INFO = IDX[Rec.SIGNAL]["signo"], IDX[Rec.SIGNAL]["siginfo"]
_E_ARGS, _E_MEM = IDX[Rec.SYSCALL_ENTRY]["args"], IDX[Rec.SYSCALL_ENTRY]["mem"]
_EBADF = -errno.EBADF
_INFOS_MAX = 4096  # (pers, nr) pairs remembered; a tracee can make up numbers
_NOMEM: dict = {}  # the memory of a call that fetched none (never written to)
# argument kinds that print from the record's values and memory alone (with
# no fd table: see _plan); a call of only these is remembered by call_split
_MEMO_KINDS = frozenset({"fd", "dirfd", "path", "str", "int", "uint", "xint", "hex", "ptr", "pid", "uid", "gid", "off",
                         "long", "size", "sig", "mode", "sigset", "buf", "flags", "lflags", "xval", "enum", "dev"})
_MEMO_MAX = 256  # texts remembered per call: one whose values fill it is given up
# kinds printed from the memory a pointer argument points to: the address
# itself shows only when that memory cannot be shown (then it is not remembered)
_MEM_KINDS = frozenset({"path", "str", "buf", "sigset"})
_KEYS: dict = {}


def _memo_key(n: int, ptrs: tuple) -> tuple:
    """(a function of a record's arguments giving the memo key's part: the n
    arguments a call reads, those in `ptrs` as NULL or not; ptrs)."""
    fn = _KEYS.get((n, ptrs))
    if fn is None:
        parts = [f"a[{i}] == 0" if i in ptrs else f"a[{i}]" for i in range(n)]
        fn = _KEYS[(n, ptrs)] = eval(f"lambda a: ({', '.join(parts)}{',' if n == 1 else ''})")  # noqa: S307
    return fn, ptrs


def _raw6(c) -> list[str]:
    return [hexa(c.a(i)) for i in range(6)]


# argument kinds -e verbose= leaves undereferenced (strace prints their address)
_DEREF_KINDS = ("struct", "strarr", "msghdr", "mmsghdr")  # strace's verbose() checks (msghdr.c, mmsghdr.c)


def _addresses_for_structs(fn, sc):
    """A call outside -e verbose=: its structure and string-array arguments
    print as addresses (NULL stays NULL), the rest as decoded."""
    which = tuple(i for i, a in enumerate(sc.args) if a.kind in _DEREF_KINDS)
    if not which:
        return fn

    def plain(c):
        args = fn(c)
        if len(args) == len(sc.args):
            for i in which:
                v = c.args[i]
                args[i] = "NULL" if v == 0 else hexa(v)
        return args

    return plain


def _memdict(*mems) -> dict:
    out = {}
    for mem in mems:
        for e in mem or ():
            out[(e[0], e[1])] = e[2]
    return out


# what /proc/PID/fd/N reads as for an fd each call makes
_MAKES = {"socket": "socket:[", "accept": "socket:[", "accept4": "socket:[", "socketpair": "socket:[",
          "pipe": "pipe:[", "pipe2": "pipe:[", "eventfd": "anon_inode:", "eventfd2": "anon_inode:",
          "epoll_create": "anon_inode:", "epoll_create1": "anon_inode:", "signalfd4": "anon_inode:",
          "timerfd_create": "anon_inode:", "inotify_init1": "anon_inode:", "pidfd_open": "anon_inode:",
          "memfd_create": "/memfd:"}


_FD_PATH_ESC = {ord('"'): '\\"', ord("\\"): "\\\\", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}


def _fd_path(link: str) -> str:
    """A path between -y's angle brackets, quoted as strace quotes it:
    C escapes, and octal for what is not printable and for < and >."""
    if link.isprintable() and link.isascii() and not any(ch in link for ch in '"\\<>'):
        return link
    raw = link.encode(errors="surrogateescape")
    out = []
    for i, ch in enumerate(raw):
        esc = _FD_PATH_ESC.get(ch)
        if esc is not None:
            out.append(esc)
        elif 0x20 <= ch < 0x7F and ch not in (0x3C, 0x3E):
            out.append(chr(ch))
        elif i + 1 < len(raw) and 0x30 <= raw[i + 1] <= 0x37:
            out.append(f"\\{ch:03o}")
        else:
            out.append(f"\\{ch:o}")
    return "".join(out)


# processes whose fd tables are followed at once (memory stays bounded)
_MAX_PROCESSES = 4096

# the anonymous inode each call makes, as /proc/PID/fd shows it
_ANON = {"eventfd": "anon_inode:[eventfd]", "eventfd2": "anon_inode:[eventfd]",
         "epoll_create": "anon_inode:[eventpoll]", "epoll_create1": "anon_inode:[eventpoll]",
         "signalfd": "anon_inode:[signalfd]", "signalfd4": "anon_inode:[signalfd]",
         "timerfd_create": "anon_inode:[timerfd]", "inotify_init": "anon_inode:inotify",
         "inotify_init1": "anon_inode:inotify", "userfaultfd": "anon_inode:[userfaultfd]",
         "perf_event_open": "anon_inode:[perf_event]", "io_uring_setup": "anon_inode:[io_uring]"}

# calls whose new fds are printed in their own arguments
_MAKES_IN_ARGS = frozenset({"pipe", "pipe2", "socketpair"})


def _fsconfig_paths(args) -> dict:
    """fsconfig's arguments -P checks, as strace: by command, the value as a
    path and aux as a dirfd (SET_PATH, SET_PATH_EMPTY), aux as an fd
    (SET_FD); never its own fd."""
    cmd = args[1] & 0xFFFFFFFF
    return {3: "path", 4: "dirfd"} if cmd in (3, 4) else {4: "fd"} if cmd == 5 else {}


# calls whose -P arguments depend on another argument: (args) -> {index: kind}
# (kcmp's fds are another process's: strace's -P never matches it)
_PATH_ARGS = {"fsconfig": _fsconfig_paths, "kcmp": lambda args: {}}


class Decoder:
    def __init__(self, options: DecodeOptions | None = None):
        self.opts = options or DecodeOptions()
        self._paths = self.opts.yflag >= 1 or bool(self.opts.decode_fds & {"path", "all"})
        self._socks = self.opts.yflag >= 2 or bool(self.opts.decode_fds & {"socket", "all"})
        # -y: (tgid, fd) -> what the fd was when the call that made it was
        # decoded. Decoding runs behind the tracee, so /proc/PID/fd/N may
        # already be gone or reused; this remembers what we saw.
        self._fdcache: dict[tuple[int, int], str] = {}
        self._seen: set[int] = set()
        self._cloexec: set[tuple[int, int]] = set()
        self._ebadf = False  # decoding a call that failed with EBADF
        self._prev: dict[int, str] = {}  # tid -> name of its last call (restart_syscall)
        self._want_fds = False  # set by paths_of (-P): follow fds even without -y
        self._sees_close = False  # a close was decoded: the trace follows the fd table
        self._strong: set[tuple[int, int]] = set()  # entries the record stream set (not /proc)
        self._pending = None  # (record, tgid, C) whose after-tracking paths_of deferred
        self._devs = self.opts.yflag >= 2 or bool(self.opts.decode_fds & {"dev", "all"})
        self._pidfds = self.opts.yflag >= 2 or bool(self.opts.decode_fds & {"pidfd", "all"})
        # fds print with more than their number (any --decode-fds set)
        self._anyfd = self._paths or self._socks or self._devs or self._pidfds
        self._tgid = 0
        self.launch_fds: dict[int, str] = {}  # fd -> what the launched command inherited (run)
        self.pidns = None  # --pidns-translation: a PidTranslator (client/decode/_pidns.py)
        self._named = False  # records carry fd names (FD ops, see _named_rec)
        self._infos: dict = {}  # (pers, nr) -> the plan of _plan: worked out once
        self._c = C(self, 0, 0, "", None, None, False, _NOMEM, 0, False, None)  # call_split's context
        t = _table.table()
        if t is not None:  # the table's described structs print as its family modules' do
            from ._structs import install

            install(t)

    # --- names ---
    def name(self, pers: int, nr: int) -> str:
        info = self._infos.get((pers, nr))
        return info[1] if info is not None else _table.name(int(pers), nr)

    # --- fds (-y, -yy) ---
    def _prime(self, tid: int) -> None:
        """First sight of a process: remember its open fds and cwd while it
        is (most likely) still there: the fds it inherited never show an
        open call."""
        key = self._tgid
        first = not self._seen
        if len(self._seen) >= _MAX_PROCESSES:
            # a long session whose exits we did not see: start over rather than grow
            self._fdcache.clear()
            self._cloexec.clear()
            self._strong.clear()
            self._seen.clear()
        self._seen.add(key)
        try:
            fds = os.listdir(f"/proc/{proc_pid(tid)}/fd")
        except OSError:
            fds = []
        for name in fds:
            link = self._readlink(tid, int(name))
            if link is not None:
                self._fdcache.setdefault((key, int(name)), link)
        cwd = readlink_fd(tid, AT_FDCWD)
        if cwd is not None:
            self._fdcache.setdefault((key, AT_FDCWD), cwd)
        elif first:
            # Gone or a zombie already (a short command decoded after it
            # ended). The first process of a `run` is our own child: it
            # started in our cwd with our stdin, stdout and stderr (as they
            # were when it was launched: launch_fds, set by `run`, which
            # gives its own stdin and stdout away once the command runs).
            for fd in (AT_FDCWD, 0, 1, 2):
                link = self.launch_fds[fd] if fd in self.launch_fds else readlink_fd(os.getpid(), fd)
                if link is not None:
                    self._fdcache.setdefault((key, fd), link)

    def _fd_link(self, fd: int, tid: int) -> str | None:
        """What fd (or AT_FDCWD) of the current process refers to."""
        if self._ebadf and fd >= 0:
            # the call said EBADF: whatever we remembered is not open now
            self._fdcache.pop((self._tgid, fd), None)
            return None
        if self._tgid not in self._seen:
            self._prime(tid)
        if not self._sees_close and (self._tgid, fd) not in self._strong:
            # close is not (yet) seen in the trace: an fd the stream did not
            # tell us about is better read from /proc while the process is there
            link = self._readlink(tid, fd)
            if link is not None:
                return link
        link = self._fdcache.get((self._tgid, fd))
        if link is None:
            link = self._readlink(tid, fd)
            if link is not None:
                self._fdcache[(self._tgid, fd)] = link
        return link

    def _readlink(self, tid: int, fd: int) -> str | None:
        """/proc/TID/fd/N, a pidfd as `pid:N` (its fdinfo) when pidfds are decoded."""
        link = readlink_fd(tid, fd)
        if link == "anon_inode:[pidfd]" and self._pidfds:
            try:
                with open(f"/proc/{proc_pid(tid)}/fdinfo/{fd}") as f:
                    for line in f:
                        if line.startswith("Pid:"):
                            return f"pid:{line.split()[1]}"
            except OSError:
                pass
        return link

    def _flush_pending(self, rec) -> None:
        """paths_of() leaves its call's fd-table update to call(), which
        prints the arguments first; if another record comes instead, it is
        done now."""
        if self._pending is not None and self._pending[0] is not rec:
            _, tgid, c = self._pending
            self._pending = None
            cur, self._tgid = self._tgid, tgid
            self._track(c)
            self._tgid = cur

    def fd_named(self, fd: int, v, dirfd: bool = False) -> str:
        """An fd as strace prints it (printfd), from what the tracer named it
        with at the stop (the FD op's value, tracerd._wire's `mem`): the
        link, or a socket's/pidfd's detail instead of it, or a device's
        after it, by the --decode-fds sets."""
        base = "AT_FDCWD" if dirfd and fd == AT_FDCWD else str(fd)
        if fd < 0 and base != "AT_FDCWD":  # -100 in a plain fd argument is no cwd
            return base
        if isinstance(v, (bytes, bytearray)):
            link, detail, deleted = v, None, False
        elif isinstance(v, list) and len(v) == 3 and isinstance(v[0], (bytes, bytearray)):
            link, detail, deleted = v
        else:  # -errno: not open at the stop
            return base
        link = bytes(link).decode(errors="surrogateescape")
        if self._socks and link.startswith("socket:["):
            return f"{base}<{bytes(detail).decode(errors='surrogateescape') if detail else link}>"
        if detail:
            detail = bytes(detail).decode(errors="surrogateescape")
            if self._devs and link.startswith("/") and not detail.startswith("pid:"):
                return f"{base}<{_fd_path(link)}<{detail}>>"
            if self._pidfds and detail.startswith("pid:"):
                return f"{base}<{detail}>"
        if self._paths:
            return f"{base}<{_fd_path(link)}>" + ("(deleted)" if deleted else "")
        return base

    def fd_text(self, fd: int, tid: int, dirfd: bool = False) -> str:
        base = "AT_FDCWD" if dirfd and fd == AT_FDCWD else str(fd)
        if not self._paths or (fd < 0 and not (dirfd and fd == AT_FDCWD)):
            return base
        link = self._fd_link(fd, tid)
        if link is None:
            return base
        return self._link_text(base, link, tid, fd)

    def fd_of(self, fd: int, pid: int) -> str:
        """An fd of another process (kcmp's, pidfd_getfd's target), read
        from /proc/PID/fd now and not remembered: the number alone when it
        cannot be (no -y, the process or the fd gone)."""
        link = readlink_fd(pid, fd) if self._paths and fd >= 0 else None
        return str(fd) if link is None else self._link_text(str(fd), link, pid, fd)

    def _link_text(self, base: str, link: str, tid: int, fd: int) -> str:
        """`N<link>` as the --decode-fds sets show it (a socket's detail, a
        device's type and numbers)."""
        if self._socks and link.startswith("socket:["):
            detail = _sockets.describe(int(link[8:-1]), tid, fd)
            if detail:
                return f"{base}<{detail}>"
        if self._pidfds and link.startswith("pid:"):
            return f"{base}<{link}>"
        if self._devs and link.startswith("/dev/"):
            try:
                st = os.stat(link)
            except OSError:
                st = None
            if st is not None and stat.S_ISCHR(st.st_mode) or st is not None and stat.S_ISBLK(st.st_mode):
                kind = "char" if stat.S_ISCHR(st.st_mode) else "block"
                return f"{base}<{link}<{kind} {os.major(st.st_rdev)}:{os.minor(st.st_rdev)}>>"
        return f"{base}<{link}>"

    def prev_call(self, tid: int) -> str | None:
        """The call this thread made before the one being decoded."""
        return self._prev.get(tid)

    # --- one call ---
    def _info(self, pers, nr) -> tuple:
        info = self._infos.get((pers, nr))
        if info is None:
            info = self._plan(pers, nr)
        return info

    def _plan(self, pers, nr) -> tuple:
        """What decoding (pers, nr) takes, worked out once: (int pers, name,
        table entry, argument formatter, return formatter). The formatter is
        the family decoder, or the generic one compiled for the table's
        argument kinds; None when _parts must decide per call (-e raw=, i386
        argument lists). The return formatter takes (C, ret) for a call that
        returned without error; None prints str(ret). Then the arguments
        printed at entry (None: all) and the return kind, for _parts; then
        `name()` when the call prints no argument and its return is a
        number (its line needs no context), else None; last the generic
        decoder's halves (compile_halves) for a call split into entry and
        exit, else None; last, for a call whose text call_split may
        remember by its record's values (_MEMO_KINDS), [its texts by those
        values (None once given up), the key of the arguments (_memo_key),
        the pointers the key holds as NULL or not], else None."""
        p = int(pers)
        name, sc = self.name(p, nr), _table.lookup(p, nr)
        opts = self.opts
        spec = REGISTRY.get(name)
        fn = rfn = nentry = head = halves = None
        kind = "int"
        if (opts.raw and (pers, nr) in opts.raw) or (sc is not None and p != 0 and p in getattr(sc, "pers_args", {})):
            pass  # rare: _parts decides
        elif spec is not None:
            fn, nentry = spec.fn, spec.entry
            kind = spec.ret if spec.ret is not None else (sc.ret if sc is not None else "int")
            if spec.halves is not None:  # `, ` after the entry's part when both halves print
                halves = (*spec.halves, bool(nentry))
        elif sc is not None:
            fn, nentry = compile_table(sc), generic_entry_count(sc)
            if not sc.variants:
                halves = compile_halves(sc.args, nentry)
                if halves is not None:
                    halves = (*halves, nentry < len(sc.args))
            kind = sc.ret
            if not sc.args:
                head = f"{name}()"
        else:
            fn, nentry = _raw6, 6
        if fn is not None:
            rfn = ret_formatter(kind, self._anyfd)
            if kind == "pid" and opts.pid_comm:
                from ._core import _ret_pid

                rfn = _ret_pid
            if opts.deref is not None and (pers, nr) not in opts.deref and sc is not None:
                plain = _addresses_for_structs(fn, sc)
                if plain is not fn:
                    fn, halves = plain, None
        # a table call whose every argument prints from the record alone
        # (no struct printer, no fd table, no -Y/--pidns-translation lookup)
        memo = None
        if fn is not None and spec is None and sc is not None and not sc.variants and not self._anyfd and not opts.pid_comm \
                and all(a.kind in _MEMO_KINDS for a in sc.args):
            memo = [{}, *_memo_key(len(sc.args), tuple(i for i, a in enumerate(sc.args) if a.kind in _MEM_KINDS) if p == 0 else ())]
        info = (p, name, sc, fn, rfn, nentry, kind, head if rfn is None else None, halves, memo)
        if len(self._infos) >= _INFOS_MAX:
            self._infos.clear()
        self._infos[(pers, nr)] = info
        return info

    def _ctx(self, pers, nr, args, ret, is_error, mem, tid, exiting) -> C:
        p, name, sc = self._info(pers, nr)[:3]
        return C(self, p, nr, name, args, ret, is_error, mem, tid, exiting, sc)

    def _done(self, c: C) -> None:
        self._went(c.tid, c.name)

    def _went(self, tid: int, name: str) -> None:
        """tid's last call was `name` (what prev_call says next)."""
        if name != "restart_syscall":
            prev = self._prev
            if len(prev) > 65536:
                prev.clear()  # bounded: thread ids come and go
            prev[tid] = name

    def _parts(self, c: C) -> tuple[list[str], int, object]:
        """(argument texts, how many print at entry, return kind)."""
        info = self._infos.get(c.key)
        if info is None:
            info = self._plan(c.pers, c.nr)
        fn = info[3]
        if fn is not None:
            args = fn(c)
            nentry = info[5]
            return args, len(args) if nentry is None or nentry > len(args) else nentry, info[6]
        if self.opts.raw and c.key in self.opts.raw:
            n = len(c.sc.args) if c.sc is not None else 6
            return [hexa(c.a(i)) for i in range(n)], n, "hex"
        spec = REGISTRY.get(c.name)
        if c.sc is not None and c.pers != 0 and c.pers in getattr(c.sc, "pers_args", {}):
            # i386 passes another argument list (old_mmap's block of args)
            block = c.m(0, 0)
            if c.name == "mmap" and spec is not None and isinstance(block, (bytes, bytearray)) and len(block) >= 24:
                # the six arguments are in the block: print them as strace does
                c.args = list(struct.unpack_from("<6I", block))
                return spec.fn(c), 6, "hex"
            pargs = c.sc.pers_args[c.pers]
            args = generic_args(c, pargs)
            return args, len(args), c.sc.ret
        if spec is not None:
            args = spec.fn(c)
            entry = len(args) if spec.entry is None else spec.entry
            kind = spec.ret if spec.ret is not None else (c.sc.ret if c.sc is not None else "int")
            return args, min(entry, len(args)), kind
        if c.sc is not None:
            args = table_args(c)
            return args, min(generic_entry_count(c.sc), len(args)), c.sc.ret
        return [hexa(c.a(i)) for i in range(6)], 6, "int"

    def _safe_parts(self, c: C):
        try:
            return self._parts(c)
        except Exception:  # a decoder bug must not stop tracing: raw args
            return self._raw_parts(c)

    def _entry_ended(self, info, nr, eargs, emem, tid) -> bool:
        """Whether entry() printed all it had with no `, ` after it: the
        arguments as formatted at the entry were no more than it shows."""
        c = self._c  # the one context: the exit's, filled again after
        keep = (c.ret, c.is_error, c.mem, c.exiting)
        md = {(e[0], e[1]): e[2] for e in emem} if emem else _NOMEM
        self._refill(info, nr, eargs, None, False, md, tid, False)
        try:
            args, n, _ = self._safe_parts(c)
        finally:
            c.ret, c.is_error, c.mem, c.exiting = keep
        return n >= len(args) and not isinstance(args[n - 1], Changed)

    @staticmethod
    def _raw_parts(c: C):
        n = len(c.sc.args) if c.sc is not None else 6
        return [hexa(c.a(i)) for i in range(n)], n, "int"

    def _ret(self, c: C, kind) -> str:
        try:
            return ret_text(c, kind)
        except Exception:
            return str(c.ret)

    def _track(self, c: C) -> None:
        """Keep the fd table in step with a call that succeeded. Runs after
        the arguments are printed and before the return value, as strace
        reads them: `dup2(4<pipe:[1]>, 1</dev/null>) = 1<pipe:[1]>`."""
        self._track1(c)

    def _set(self, k: tuple[int, int], link: str) -> None:
        """An entry the record stream itself tells (trusted over /proc)."""
        self._fdcache[k] = link
        self._strong.add(k)

    def _track1(self, c: C) -> None:
        key = self._tgid
        cache = self._fdcache
        name = c.name
        if name in ("close", "close_range"):
            self._sees_close = True
        if name == "close":
            cache.pop((key, c.int(0)), None)
            self._cloexec.discard((key, c.int(0)))
        elif name == "close_range":
            lo, hi = c.uint(0), c.uint(1)
            for k in [k for k in cache if k[0] == key and lo <= k[1] <= hi]:
                del cache[k]
        elif name in ("execve", "execveat"):
            for k in [k for k in self._cloexec if k[0] == key]:
                cache.pop(k, None)
                self._cloexec.discard(k)
        elif name in ("clone", "clone3", "fork", "vfork"):
            flags = c.ulong(0) if name == "clone" else 0
            if c.rval > 0 and not flags & 0x10000:  # not CLONE_THREAD: a copy of the fd table
                self._seen.add(c.rval)
                for (k, fd), link in list(cache.items()):
                    if k == key:
                        cache.setdefault((c.rval, fd), link)
                        if (k, fd) in self._strong:
                            self._strong.add((c.rval, fd))
                        if (k, fd) in self._cloexec:
                            self._cloexec.add((c.rval, fd))
        elif name in ("open", "openat", "creat", "openat2"):
            # what was opened is the path argument (resolved against the
            # dirfd or cwd): /proc/PID/fd may already show a later file
            p = c.m(0 if name in ("open", "creat") else 1, 0)
            path = None
            if isinstance(p, (bytes, bytearray)):
                path = bytes(p).rstrip(b"\0").decode(errors="surrogateescape")
                if not path.startswith("/"):
                    base = AT_FDCWD if name in ("open", "creat") else c.int(0)
                    d = cache.get((key, base)) or readlink_fd(c.tid, base)
                    path = os.path.normpath(os.path.join(d, path)) if d else None
            if path:
                # what /proc/PID/fd shows: symlinks resolved (/lib -> /usr/lib)
                self._set((key, c.rval), os.path.realpath(path))
                fl = c.uint(1 if name == "open" else 2) if name != "creat" else 0
                (self._cloexec.add if fl & 0o2000000 else self._cloexec.discard)((key, c.rval))
            else:
                cache.pop((key, c.rval), None)
        elif name in ("dup", "dup2", "dup3") or (name in ("fcntl", "fcntl64") and c.uint(1) in (0, 1030)):
            src = cache.get((key, c.int(0)))
            if src is not None:
                self._set((key, c.rval), src)
            else:
                cache.pop((key, c.rval), None)
            cloexec = name == "dup3" and c.uint(2) & 0o2000000 or name != "dup" and c.uint(1) == 1030
            (self._cloexec.add if cloexec else self._cloexec.discard)((key, c.rval))
        elif name in ("fcntl", "fcntl64") and c.uint(1) == 2:  # F_SETFD
            (self._cloexec.add if c.ulong(2) & 1 else self._cloexec.discard)((key, c.int(0)))
        elif name in ("chdir", "fchdir"):
            if name == "chdir":
                p = c.m(0, 0)
                if isinstance(p, (bytes, bytearray)):
                    new = bytes(p).rstrip(b"\0").decode(errors="surrogateescape")
                    old = cache.get((key, AT_FDCWD)) or "/"
                    self._set((key, AT_FDCWD), os.path.realpath(os.path.join(old, new)))
            elif (key, c.int(0)) in cache:
                self._set((key, AT_FDCWD), cache[(key, c.int(0))])
        elif name in ("pipe", "pipe2", "socketpair"):
            i = 3 if name == "socketpair" else 0
            v = c.m(i, 1)
            if isinstance(v, (bytes, bytearray)) and len(v) >= 8:
                pair = struct.unpack_from("<ii", v)
                for fd in pair:
                    self._learn(c, fd, "socket:[" if name == "socketpair" else "pipe:[")
                if name != "socketpair":  # both ends of a pipe are one inode
                    a, b = cache.get((key, pair[0])), cache.get((key, pair[1]))
                    if a or b:
                        self._set((key, pair[0]), a or b)
                        self._set((key, pair[1]), a or b)
        elif c.sc is not None and c.sc.ret == "fd" or name in ("socket", "accept", "accept4"):
            self._learn(c, c.rval, _MAKES.get(name))
            if (key, c.rval) not in cache:
                known = self._known_link(c)
                if known:
                    self._set((key, c.rval), known)

    def _forget(self, tgid: int) -> None:
        """A process ended: its fd table goes."""
        for k in [k for k in self._fdcache if k[0] == tgid]:
            del self._fdcache[k]
        self._cloexec = {k for k in self._cloexec if k[0] != tgid}
        self._strong = {k for k in self._strong if k[0] != tgid}
        self._seen.discard(tgid)

    def _known_link(self, c: C) -> str | None:
        """What /proc would show for an fd whose call tells it all (the
        process may be gone before its line is decoded)."""
        name = c.name
        if name == "pidfd_open":
            return f"pid:{c.int(0)}" if self._pidfds else "anon_inode:[pidfd]"
        if name == "memfd_create":
            v = c.m(0, 0)
            if isinstance(v, (bytes, bytearray)):
                return "/memfd:" + bytes(v).rstrip(b"\0").decode(errors="surrogateescape") + " (deleted)"
        return _ANON.get(name)

    def _learn(self, c: C, fd: int, want: str | None) -> None:
        """An fd a call made, read from /proc now. When decoding lags, that
        may be a later file: keep it only if it is the kind the call makes."""
        key = (self._tgid, fd)
        self._fdcache.pop(key, None)
        self._cloexec.discard(key)
        link = self._readlink(c.tid, fd)
        if link is not None and (want is None or link.startswith(want) or link.startswith("pid:")):
            self._set(key, link)

    def call(self, rec: list) -> str:
        head, rtext = self.call_split(rec)
        return f"{head} = {rtext}"

    def _refill(self, info, nr, args, ret, is_error, mem, tid, exiting) -> C:
        """The decoder's one context, filled for a call (see call_split)."""
        c = self._c
        c.pers = info[0]
        c.nr = nr
        c.name = info[1]
        c.args = args if args is not None and len(args) == 6 else list(args or ()) + [0] * (6 - len(args or ()))
        c.ret = ret
        c.is_error = is_error
        c.mem = mem
        c.tid = tid
        c.exiting = exiting
        c.sc = info[2]
        return c

    def split_calls(self) -> bool:
        """call_split(rec) gives what call(rec) gives, split at its ` = `
        (False when a subclass changed call alone)."""
        return type(self).call is Decoder.call

    def call_split(self, rec: list) -> tuple[str, str]:
        """`call()` as (`name(args)`, return text), unjoined: the printer
        aligns the return at its column without searching the text."""
        # the hot path (one call per SYSCALL record): helpers inlined
        pers, nr, args, ret, is_error, mem, tid, tgid = _SYS_GET(rec)
        pending = False
        if self._pending is not None:
            pending = self._pending[0] is rec
            self._flush_pending(rec)
            self._pending = None
        self._tgid = tgid
        info = self._infos.get((pers, nr))
        if info is None:
            info = self._plan(pers, nr)
        head = info[7]
        if head is not None and not (self._paths or self._want_fds or pending):
            # a call with no arguments whose return is a number (getpid...):
            # its head was printed once, no context is needed
            self._went(tid, info[1])
            if ret is None:
                return head, "?"
            if not is_error:
                return head, str(ret)
            try:
                return head, _error_text(-ret)
            except Exception:
                return head, str(ret)
        key = memo = None
        if info[9] is not None and not (self._want_fds or pending) and self.pidns is None:
            # the same call with the same values and memory prints the same
            # (a fork-heavy trace repeats its loader's calls in every child:
            # the same files opened, read and closed)
            memo, keyfn, ptrs = info[9]
            if memo is not None:
                try:
                    key = (keyfn(args), ret, is_error, tuple(map(tuple, mem)) if mem else None)
                    hit = memo.get(key)
                except (TypeError, IndexError):  # a fetched array (a list), a short record: not remembered
                    key = hit = None
                if hit is not None:
                    self._went(tid, info[1])
                    return hit
                if len(memo) >= _MEMO_MAX:  # its values rarely repeat (addresses): given up
                    info[9][0] = key = None
        p, name, sc, fn, rfn = info[:5]
        # one C per decoder, refilled per call (building one is a third of
        # a short call's cost): nothing keeps it past the call
        c = self._c
        c.pers = p
        c.nr = nr
        c.name = name
        c.args = args if args is not None and len(args) == 6 else list(args or ()) + [0] * (6 - len(args or ()))
        c.ret = ret
        c.is_error = is_error
        if mem:  # a loop, not a comprehension: no function frame for the usual 1-2 entries
            md = {}
            for e in mem:
                md[(e[0], e[1])] = e[2]
            c.mem = md
        else:
            c.mem = _NOMEM
        c.tid = tid
        c.exiting = ret is not None
        c.sc = sc
        if self._paths or self._want_fds or pending:
            return self._call_tracked(c, rec, info)
        if name != "restart_syscall":  # _went, inlined: the hot path
            prev = self._prev
            if len(prev) > 65536:
                prev.clear()  # bounded: thread ids come and go
            prev[tid] = name
        if fn is None:
            return self._call_slow(c)
        try:
            text = ", ".join(fn(c))
        except Exception:  # a decoder bug must not stop tracing: raw args
            return self._call_slow(c)
        if ret is None:
            out = f"{name}({text})", "?"
        elif rfn is None and not is_error:
            out = f"{name}({text})", str(ret)
        else:
            try:
                out = f"{name}({text})", _error_text(-ret) if is_error else rfn(c, ret)
            except Exception:
                out = f"{name}({text})", str(ret)
        if key is not None:
            for i in ptrs:  # a pointer the key holds as NULL or not must not show
                v = args[i]
                if v and f"{v:#x}" in out[0]:
                    break
            else:
                memo[key] = out
        return out

    def _call_slow(self, c: C) -> tuple[str, str]:
        """call_split for what the plan leaves to _parts (raw=, i386
        argument lists) and for a decoder that failed."""
        try:
            args, _, kind = self._parts(c)
        except Exception:  # a decoder bug must not stop tracing: raw args
            args, _, kind = self._raw_parts(c)
        head = f"{c.name}({', '.join(args)})"
        if c.ret is None:
            return head, "?"
        try:
            return head, ret_text(c, kind)
        except Exception:
            return head, str(c.ret)

    def _call_tracked(self, c: C, rec, info) -> tuple[str, str]:
        """call_split when the fd table is followed (-y, -P). A record whose
        fds the tracer named at the stop needs no table (see _named)."""
        name, ret, is_error, tid = c.name, c.ret, c.is_error, c.tid
        track = not self._named_rec(c)
        self._ebadf = is_error and ret == _EBADF
        if track and c.ok and name in _MAKES_IN_ARGS:
            self._track(c)  # the fds it made are in its own arguments
            track = False
        try:
            args, _, kind = self._parts(c)
        except Exception:  # a decoder bug must not stop tracing: raw args
            args, _, kind = self._raw_parts(c)
        self._ebadf = False
        if track and c.ok:
            self._track(c)
        elif track and name == "exit_group":  # never returns: the process ends
            self._forget(self._tgid)
        self._went(tid, name)
        head = f"{name}({', '.join(args)})"
        if ret is None:
            return head, "?"
        try:
            return head, ret_text(c, kind)
        except Exception:
            return head, str(ret)

    def _named_rec(self, c: C) -> bool:
        """Whether the tracer names this session's fds at the stops: once a
        record carries names (FD ops), the decoder's own fd table, rebuilt
        from the record stream, is no longer kept. Until then (records made
        without them: an older recording) it is."""
        if not self._named:
            for k in c.mem:
                if FD_SLOT <= k[1] <= _FD_LAST or _FD_AT_FIRST <= k[1] < _FD_AT_END:  # is_fd_slot, inline
                    self._named = True
                    break
        return self._named

    def observe(self, rec: list) -> None:
        """A SYSCALL record the printer does not show (-z/-Z, status=):
        keeps the -y/-P fd table in step without formatting anything."""
        if not (self._paths or self._want_fds) or self._named or Rec(rec[0]) != Rec.SYSCALL:
            return
        pers, nr, args, ret, is_error, mem, tid, tgid = (rec[i] for i in _SYS_FIELDS)
        self._flush_pending(rec)
        self._pending = None
        self._tgid = tgid
        c = self._ctx(pers, nr, args, ret, is_error, _memdict(mem), tid, ret is not None)
        if c.ok:
            self._track(c)
        elif c.name == "exit_group":
            self._forget(tgid)

    def entry(self, rec: list) -> str:
        if self._pending is not None:
            self._flush_pending(rec)
        pers, nr, args, mem, tid, tgid = _ENTRY_GET(rec)
        self._tgid = tgid
        info = self._infos.get((pers, nr))
        if info is None:
            info = self._plan(pers, nr)
        md = _NOMEM
        if mem:
            md = {}
            for e in mem:
                md[(e[0], e[1])] = e[2]
        c = self._refill(info, nr, args, None, False, md, tid, False)
        halves = info[8]
        if halves is not None:  # only the arguments printed at entry are formatted
            try:
                shown = halves[0](c)
                return f"{c.name}(" + ", ".join(shown) + (", " if halves[2] and shown else "")
            except Exception:
                pass  # as below: a decoder that fails prints raw
        args, n, _ = self._safe_parts(c)
        head = f"{c.name}(" + ", ".join(args[:n])
        if n and isinstance(args[n - 1], Changed):  # what the call writes into it follows at the exit
            return head
        return head + (", " if n < len(args) and n else "")

    def resumed(self, exit_rec: list, entry_rec: list | None) -> str:
        """An exit's text after its entry's: `"abc", 4096) = 3`."""
        rest, rtext = self.resumed_split(exit_rec, entry_rec)
        return f"{rest} = {rtext}"

    def resumed_split(self, exit_rec: list, entry_rec: list | None) -> tuple[str, str]:
        """`resumed()` as (the arguments after the entry's and `)`, return
        text), unjoined as call_split's."""
        if self._pending is not None:
            self._flush_pending(exit_rec)
        if entry_rec is None:
            f = lambda n: _EXIT(exit_rec, n)  # noqa: E731
            self._tgid = f("tgid")
            c = self._ctx(f("pers"), f("nr"), [0] * 6, f("ret"), f("is_error"), _memdict(f("mem")), f("tid"), f("ret") is not None)
            _, _, kind = self._safe_parts(c)
            return ")", self._ret(c, kind)
        pers, nr, ret, is_error, xmem, tid, self._tgid = _EXIT_GET(exit_rec)
        if entry_rec[0] == _ENTRY_T:
            eargs, emem = entry_rec[_E_ARGS], entry_rec[_E_MEM]
        else:
            eargs, emem = field(entry_rec, "args"), field(entry_rec, "mem")
        mem = {}
        for mm in (emem, xmem):
            if mm:
                for e in mm:
                    mem[(e[0], e[1])] = e[2]
        info = self._infos.get((pers, nr))
        if info is None:
            info = self._plan(pers, nr)
        c = self._refill(info, nr, eargs, ret, is_error, mem, tid, ret is not None)
        track = (self._paths or self._want_fds) and not self._named_rec(c)
        if track and c.ok and c.name in _MAKES_IN_ARGS:
            self._track(c)
            track = False
        halves = info[8]
        rest = None
        if halves is not None:  # the entry printed its part: only the rest is formatted
            try:
                rest = halves[1](c)
                kind = info[6]
            except Exception:
                rest = None
        changed = ""
        if rest is None:
            args, n, kind = self._safe_parts(c)
            rest = args[n:]
            if n and isinstance(args[n - 1], Changed):
                changed = args[n - 1].after + (", " if rest else "")
            elif n and rest and info[1] == "ioctl" and self._entry_ended(info, nr, eargs, emem, tid):
                # the entry printed no `, `: it had no argument after its
                # part (an ioctl argument the call fills prints nothing
                # then): the separator comes now, as strace's
                # `<... ioctl resumed>, {...}) = 0` (asked of ioctl alone:
                # no other call's entry stops short of its arguments)
                changed = ", "
        if track and c.ok:
            self._track(c)
        self._done(c)
        return changed + ", ".join(rest) + ")", self._ret(c, kind)

    # --- signals ---
    def signal(self, rec: list) -> str:
        if rec[0] == _SIGNAL_T and len(rec) > _SIG_INFO:  # what every SIGNAL record is
            signo, info = rec[_SIG_NO], rec[_SIG_INFO]
        else:
            signo, info = field(rec, "signo"), field(rec, "siginfo")
        text = siginfo_text(signo, bytes(info) if info else b"", self.opts.xstyle)
        if self.opts.pid_comm and info and len(info) >= 24 and "si_pid=" in text:
            # -Y: the sender's name too, as strace (a child that exited is a
            # zombie until its parent, held in this stop, reaps it)
            pid = struct.unpack_from("<i", bytes(info), 16)[0]
            text = text.replace(f"si_pid={pid},", f"si_pid={pid_text(pid)},", 1)
        if self.pidns is not None and info and len(info) >= 24 and "si_pid=" in text:
            pid = struct.unpack_from("<i", bytes(info), 16)[0]
            note = self.pidns.comment(rec[3], pid)
            if note:
                text = text.replace(f"si_pid={pid},", f"si_pid={pid}{note},", 1)
        return text

    # --- -P ---
    def paths_of(self, rec: list) -> list[str]:
        """Paths a call names and the paths of the fds it uses (for -P): the
        path strings as the tracee passed them, fds by what the tracer named
        them with at the stop (strace's rule: /proc/TID/fd/N at entry);
        without such names (an older record), as the fd table says."""
        t = Rec(rec[0])
        if t not in (Rec.SYSCALL, Rec.SYSCALL_ENTRY):
            return []
        self._flush_pending(rec)
        pers, nr = field(rec, "pers"), field(rec, "nr")
        sc = _table.lookup(int(pers), nr)
        if sc is None:
            return []
        args = field(rec, "args")
        mem = _memdict(field(rec, "mem"))
        tid = field(rec, "tid")
        self._tgid = field(rec, "tgid")
        named = any(is_fd_slot(k[1]) for k in mem)
        if named:
            self._named = True
        elif not self._named:
            self._want_fds = True
        out = []
        pick = _PATH_ARGS.get(sc.name)
        kinds = pick(args) if pick is not None else None
        for i, a in enumerate(sc.args_for(pers) if hasattr(sc, "args_for") else sc.args):
            kind = a.kind if kinds is None else kinds.get(i)
            if kind == "path":
                v = mem.get((0, i))
                if isinstance(v, (bytes, bytearray)):
                    out.append(bytes(v).split(b"\0", 1)[0].decode(errors="surrogateescape"))
            elif kind in ("fd", "dirfd"):
                fd = args[i] & 0xFFFFFFFF
                fd = fd - (1 << 32) if fd >> 31 else fd
                if named:
                    v = mem.get((0, FD_SLOT + i))
                    if isinstance(v, list) and v:
                        v = v[0]
                    if isinstance(v, (bytes, bytearray)) and fd >= 0:
                        out.append(bytes(v).decode(errors="surrogateescape"))
                elif fd >= 0 and not self._named:
                    link = self._fd_link(fd, tid)
                    if link:
                        out.append(link)
            elif named and a.kind in ("array", "struct"):  # poll's and select's fds (strace checks them too)
                vals = mem.get((0, FD_SLOT + i))
                for v in vals if isinstance(vals, list) else ():
                    v = v[0] if isinstance(v, list) and v else v
                    if isinstance(v, (bytes, bytearray)):
                        out.append(bytes(v).decode(errors="surrogateescape"))
                if not isinstance(vals, list) and a.ref == "pollfd":
                    # not named at the stop (the array runs into unreadable
                    # memory): the fds of the elements that were read
                    b = mem.get((0, i))
                    for k in range(len(b) // 8 if isinstance(b, (bytes, bytearray)) else 0):
                        fd = int.from_bytes(b[8 * k:8 * k + 4], "little", signed=True)
                        link = self._fd_link(fd, tid) if fd >= 0 else None
                        if link:
                            out.append(link)
        if t == Rec.SYSCALL and not self._named:
            ret = field(rec, "ret")
            c = self._ctx(pers, nr, args, ret, field(rec, "is_error"), mem, tid, ret is not None)
            if c.ok:
                self._pending = (rec, self._tgid, c)
        return out


__all__ = ["Decoder", "DecodeOptions", "quote"]
