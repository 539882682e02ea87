"""The decoder core: DecodeOptions, the per-call context `C`, the registry the
family modules fill, and the generic table-driven argument kinds."""

from __future__ import annotations

import os
from functools import lru_cache
from dataclasses import dataclass, field as dfield
from collections.abc import Callable  # not typing: ~3 ms of every start

from . import _flags
from ._fmt import FlagSet, hexa, ptr, quote, quote_buf, quote_cstr, s32, s64, u32
from tracerd._wire import FD_RET, FD_SLOT, PATH_MAX, deref_slot, fd_at_slot

AT_FDCWD = -100
_SETS: dict = {}  # flag-set name -> FlagSet (_flags.get without its lru_cache call)


@dataclass(frozen=True)
class DecodeOptions:
    """The options that change how a record is decoded."""

    strsize: int = 32
    xflag: int = 0
    yflag: int = 0
    verbose: frozenset = frozenset()  # (pers, nr) printed unabbreviated (-v, -e verbose=)
    raw: frozenset = frozenset()  # (pers, nr) printed raw (-e raw=)
    abbrev: frozenset | None = None  # (pers, nr) abbreviated; None = all
    xstyle: str = "abbrev"  # -X raw|abbrev|verbose
    decode_fds: frozenset = dfield(default_factory=frozenset)  # path, socket, dev, pidfd
    # -e verbose=SET: (pers, nr) whose structures are dereferenced; None: all.
    # The others print a structure or string-array argument as its address.
    deref: frozenset | None = None
    # -Y/--decode-pids=comm: pid arguments and returns as `N<comm>`
    pid_comm: bool = False


@dataclass
class Spec:
    """A syscall's decoder, as registered by @syscall."""

    fn: Callable  # (C) -> list[str]: every argument's text
    entry: int | None = None  # arguments printed at entry (None: all)
    ret: Callable | str | None = None  # return formatter or kind
    # a call split into entry and exit formats each part once: (the
    # arguments the entry prints, the rest), each a (C) -> list[str]; None
    # when the decoder did not say (its whole text is made at both stops)
    halves: tuple | None = None


def _nothing(c) -> list:
    return []


REGISTRY: dict[str, Spec] = {}
STRUCTS: dict[str, Callable] = {}
# table argument kinds a family module prints (msghdr...): (C, index, Arg) -> str
KINDS: dict[str, Callable] = {}
# array[NAME, ...] element printers: NAME -> (element size, (C, bytes) -> str, most elements shown)
ARRAYS: dict[str, tuple[int, Callable, int | None]] = {}
# structs whose layout is the same for i386 callers (no longs or pointers)
I386_SAME = frozenset({"utsname", "pollfd", "epoll_event", "winsize", "termios", "rlimit64", "clone_args", "statx", "sigset_argpack"})  # struct name -> (C, bytes, arg index) -> str


class Changed(str):
    """An argument's text that the call may change: strace prints what the
    call wrote into it after it at the exit (` => {pidfd=[3]}`, clone3).
    `after` is that part (empty at the entry, or when the call wrote
    nothing); the text is the whole. A split call's entry ends at this
    argument (no `, `) and its resumed part starts with `after`."""

    __slots__ = ("after",)

    def __new__(cls, text: str, after: str = ""):
        s = super().__new__(cls, text + after)
        s.after = after
        return s


def syscall(*names: str, ret=None, head: Callable | None = None):
    """Register a family decoder for these syscall names.

    How many arguments print at entry (before `<unfinished ...>`) is the
    table's (`Syscall.entry_count`): all of them, none, or N. A decoder of
    an N-at-entry call (0 < N < all) that gives `head`, the N arguments the
    entry prints, is the rest alone: the whole call is ``head(c) + fn(c)``.
    A split call then formats each argument once: the entry `head` (or all),
    the exit `fn` (or nothing, when all print at entry); without `head` such
    a decoder runs whole at both stops."""

    def deco(fn):
        for n in names:
            entry = _table_entry(n)
            whole, halves = fn, None
            if head is not None:
                if not entry:
                    raise ValueError(f"{n}: head= needs a call printing some but not all arguments at entry")
                whole, halves = (lambda c, fn=fn: head(c) + fn(c)), (head, fn)
            elif entry is None:
                halves = (fn, _nothing)
            elif entry == 0:
                halves = (_nothing, fn)
            _once(REGISTRY, n, "decoder")
            REGISTRY[n] = Spec(whole, entry, ret, halves)
        return fn if head is None else whole

    return deco


def _table_entry(name: str) -> int | None:
    """The table's count of arguments printed at entry for a decoder:
    None for all of them (or a call the table does not describe)."""
    from ._table import table

    t = table()
    sc = t.syscalls.get(name) if t is not None else None
    if sc is None or not sc.described:
        return None
    n = sc.entry_count
    return None if n == len(sc.args) else n


def kind(*names: str):
    """Register the printer of a table argument kind whose layout a family
    module knows (the generic decoder calls it with (C, index, Arg))."""

    def deco(fn):
        for n in names:
            _once(KINDS, n, "kind printer")
            KINDS[n] = fn
        return fn

    return deco


def _once(registry: dict, name: str, what: str) -> None:
    # two modules registering one name: which wins would hang on import
    # order (a merge once left sched_param with two printers)
    if name in registry:
        raise ValueError(f"{what} {name!r} is registered twice")


def struct(*names: str):
    def deco(fn):
        for n in names:
            _once(STRUCTS, n, "struct printer")
            STRUCTS[n] = fn
        return fn

    return deco


def array(name: str, size: int, most: int | None = None):
    """Register the printer of one element of array[NAME, ...] (its size in
    bytes, x86_64 layout; `most`: the elements strace shows at most, then
    `...`, whatever -s says)."""

    def deco(fn):
        ARRAYS[name] = (size, fn, most)
        return fn

    return deco


class C:
    """One call being decoded: raw values, fetched memory, options."""

    __slots__ = ("dec", "opts", "pers", "nr", "name", "args", "ret", "is_error", "mem", "tid", "exiting", "sc")

    def __init__(self, dec, pers, nr, name, args, ret, is_error, mem, tid, exiting, sc):
        self.dec = dec
        self.opts: DecodeOptions = dec.opts
        self.pers = pers
        self.nr = nr
        self.name = name
        if args is not None and len(args) == 6:  # what every record carries (never written to)
            self.args = args
        else:
            self.args = list(args or ()) + [0] * (6 - len(args or ()))
        self.ret = ret
        self.is_error = is_error
        self.mem = mem
        self.tid = tid
        self.exiting = exiting
        self.sc = sc

    @property
    def key(self) -> tuple:
        """(pers, nr): what -e raw=/abbrev=/verbose= sets hold."""
        return (self.pers, self.nr)

    # --- raw values ---
    def a(self, i: int) -> int:
        return self.args[i] & 0xFFFFFFFFFFFFFFFF

    def int(self, i: int) -> int:
        return s32(self.args[i])

    def uint(self, i: int) -> int:
        return u32(self.args[i])

    def long(self, i: int) -> int:
        return s64(self.args[i]) if self.pers == 0 else s32(self.args[i])

    def ulong(self, i: int) -> int:
        return self.args[i] & (0xFFFFFFFFFFFFFFFF if self.pers == 0 else 0xFFFFFFFF)

    # the helpers below are on every line: ulong/int inlined

    @property
    def ok(self) -> bool:
        """The call returned without error (exit seen)."""
        return self.exiting and self.ret is not None and not self.is_error

    @property
    def rval(self) -> int:
        return self.ret if self.ret is not None else 0

    @property
    def verbose(self) -> bool:
        """strace's verbose(): the call is in -e verbose= (every call by default)."""
        d = self.opts.deref
        return d is None or self.key in d

    @property
    def abbrev(self) -> bool:
        opts = self.opts
        if opts.verbose and self.key in opts.verbose:
            return False
        return opts.abbrev is None or self.key in opts.abbrev

    @property
    def style(self) -> str:
        return self.opts.xstyle

    def m(self, i: int, phase: int | None = None):
        """The fetched memory of argument i (exit value preferred), or None."""
        mem = self.mem
        if not mem:  # most calls fetch nothing
            return None
        if phase is None:
            v = mem.get((1, i))
            return v if v is not None else mem.get((0, i))
        return mem.get((phase, i))

    def deref(self, i: int, off: int, phase: int | None = None):
        """What a DEREF op read behind the pointer at byte `off` of
        argument i's memory (the table's [layouts]; exit value preferred):
        bytes, an int (-errno: unreadable, or the pointer NULL), or None
        (not fetched: an older record, or a call the rule did not apply to)."""
        mem = self.mem
        if not mem:
            return None
        k = deref_slot(i, off)
        if phase is None:
            v = mem.get((1, k))
            return v if v is not None else mem.get((0, k))
        return mem.get((phase, k))

    def fd_in(self, i: int, off: int, fd: int) -> str:
        """The fd `fd` found at byte `off` of argument i's memory, as -y
        prints it: named at the stop (an FD_AT op) when the plan asked, else
        as the decoder can name it now."""
        if not self.dec._anyfd:
            return str(fd)
        named = self.mem.get((0, fd_at_slot(i, off))) if self.mem else None
        if named is None and self.mem:
            named = self.mem.get((1, fd_at_slot(i, off)))
        if named is not None and not (isinstance(named, int) and named == -14):
            return self.dec.fd_named(fd, named, False)
        return self.dec.fd_text(fd, self.tid, False)

    # --- argument kinds ---
    def ptr(self, i: int) -> str:
        v = self.args[i] & (0xFFFFFFFFFFFFFFFF if self.pers == 0 else 0xFFFFFFFF)
        return f"{v:#x}" if v else "NULL"

    def hex(self, i: int) -> str:
        v = self.args[i] & (0xFFFFFFFFFFFFFFFF if self.pers == 0 else 0xFFFFFFFF)
        return f"{v:#x}" if v else "0"

    def x(self, i: int) -> str:
        """An unsigned int in hex (the upper half of the register ignored)."""
        v = self.args[i] & 0xFFFFFFFF
        return f"{v:#x}" if v else "0"

    def d(self, i: int) -> str:
        return str(self.int(i))

    def pid(self, i: int) -> str:
        """A pid argument: its number (with -Y, `N<comm>`); with
        --pidns-translation, as our namespace numbers it too
        (`2 /* 23418 in strace's PID NS */`)."""
        v = self.int(i)
        text = pid_text(v) if self.opts.pid_comm else str(v)
        t = self.dec.pidns
        return text if t is None else f"{text}{t.comment(self.tid, v)}"

    def u(self, i: int) -> str:
        return str(self.uint(i))

    def ld(self, i: int) -> str:
        return str(self.long(i))

    def id(self, i: int) -> str:
        """A uid/gid (uid_t): unsigned, except (uid_t)-1, which strace prints as -1."""
        v = self.args[i] & 0xFFFFFFFF
        return "-1" if v == 0xFFFFFFFF else str(v)

    def lu(self, i: int) -> str:
        return str(self.args[i] & (0xFFFFFFFFFFFFFFFF if self.pers == 0 else 0xFFFFFFFF))

    def named(self, i: int):
        """What the tracer named argument i's fd (i = FD_RET: the returned
        fd) with at the stop, or None (not named: an older record)."""
        m = self.mem
        v = m.get((0, FD_SLOT + i))
        return m.get((1, FD_SLOT + i)) if v is None else v

    def fd(self, i: int, dirfd: bool = False) -> str:
        v = self.args[i] & 0xFFFFFFFF
        if v >> 31:
            v -= 1 << 32
        if not self.dec._anyfd:  # fd_text without -y: the number
            return "AT_FDCWD" if dirfd and v == AT_FDCWD else str(v)
        named = self.mem.get((0, FD_SLOT + i))
        if named is not None:
            return self.dec.fd_named(v, named, dirfd)
        return self.dec.fd_text(v, self.tid, dirfd)

    def dirfd(self, i: int) -> str:
        if self.int(i) == AT_FDCWD and self.style != "abbrev":
            # -X raw/verbose: the number (and its name), then what -y names it
            base = styled(str(AT_FDCWD), "AT_FDCWD", self.style)
            named = self.fd(i, True)
            return base + named[8:] if named.startswith("AT_FDCWD<") else base
        return self.fd(i, True)

    def cstr(self, i: int, limit: int | None = None, fetched: int | None = None, reads: int | None = None) -> str:
        """A C string shown up to `limit` characters (default -s), of which
        the fetch read up to `fetched` bytes (default -s, what `str`
        fetches). strace reads `reads` bytes (default limit + 1, to see
        whether the string goes on; printstr_ex with a length reads that
        many): a NUL within them ends the string, else `...` follows; memory
        unreadable before either is printed as the address."""
        v = self.mem.get((0, i))
        if self.ulong(i) == 0:
            return "NULL"
        if not isinstance(v, (bytes, bytearray)):
            return self.ptr(i)
        if limit is None:
            limit = self.opts.strsize
        if reads is None:
            if v.endswith(b"\0"):  # the common case: the string ended within the fetch
                return quote_cstr(bytes(v), limit, self.opts.xflag)
            reads = limit + 1
        b = bytes(v)
        p = b.find(b"\0")
        if p != -1 and p < reads:
            return quote(b[:min(p, limit)], self.opts.xflag) + ("..." if p > limit else "")
        if len(b) < min(reads, self.opts.strsize if fetched is None else fetched):
            return self.ptr(i)
        return quote(b[:limit], self.opts.xflag) + "..."

    def strn(self, i: int, n: int) -> str:
        """strace's printstr_ex(addr, n, QUOTE_0_TERMINATED): a C string of
        which at most n bytes are read (and -s + 1)."""
        reads = min(self.opts.strsize + 1, n)
        return self.cstr(i, min(reads, self.opts.strsize), reads=reads)

    def path(self, i: int) -> str:
        # strace shows at most PATH_MAX - 1 characters of a path (then `...`);
        # the fetch reads PATH_MAX of them
        return self.cstr(i, PATH_MAX - 1, PATH_MAX)

    def buf(self, i: int, length: int, force_hex: bool = False, phase: int | None = None) -> str:
        v = self.m(i, phase)
        if self.ulong(i) == 0:
            return "NULL"
        if not isinstance(v, (bytes, bytearray)):
            return self.ptr(i)
        # strace reads what it shows and one byte more (printstr_ex): any of
        # it unreadable, the address
        want = min(max(length, 0), self.opts.strsize + 1)
        if len(v) < want <= 65536:  # (a larger read may have been cut to the record's budget)
            return self.ptr(i)
        return quote_buf(bytes(v), max(length, 0), self.opts.strsize, self.opts.xflag, force_hex)

    def outbuf(self, i: int, force_hex: bool = False) -> str:
        """An output buffer whose length is the return value."""
        if not self.ok:
            return self.ptr(i)
        return self.buf(i, self.rval, force_hex, 1)

    def flags(self, i: int, setname: str, width: int = 32) -> str:
        v = self.args[i] & 0xFFFFFFFF if width == 32 else self.ulong(i)
        fs = _SETS.get(setname)
        if fs is None:
            fs = _SETS[setname] = _flags.get(setname)
        return fs.flags(v, self.opts.xstyle)

    def xval(self, i: int, setname: str, signed: bool = False) -> str:
        v = self.int(i) if signed else self.args[i] & 0xFFFFFFFF
        fs = _SETS.get(setname)
        if fs is None:
            fs = _SETS[setname] = _flags.get(setname)
        return fs.xval(v, self.opts.xstyle)

    def fs(self, setname: str) -> FlagSet:
        fs = _SETS.get(setname)
        if fs is None:
            fs = _SETS[setname] = _flags.get(setname)
        return fs

    def sig(self, i: int) -> str:
        return sigtext(self.int(i), self.style)

    def mode(self, i: int) -> str:
        return modetext(self.uint(i))

    def struct(self, i: int, sname: str, phase: int | None = None, need_ok: bool = False) -> str:
        if self.ulong(i) == 0:
            return "NULL"
        if need_ok and not self.ok:
            return self.ptr(i)
        v = self.m(i, phase)
        fn = STRUCTS.get(sname)
        if self.pers == 1 and sname not in I386_SAME:
            return self.ptr(i)  # i386 layouts are not decoded: the address
        if fn is None or not isinstance(v, (bytes, bytearray)):
            return self.ptr(i)
        try:
            return fn(self, bytes(v), i)
        except Exception:  # short or odd bytes: the address, as strace does for unreadable memory
            return self.ptr(i)

    def array(self, i: int, count: int, size: int, fn: Callable, phase: int | None = None, most: int | None = None) -> str:
        """An array of `count` elements of `size` bytes, as strace's
        print_array: `[]` for none, at most -s elements then `...` when
        abbreviated, and an element that cannot be read ends it with
        `... /* ADDR */` (the first one: the address alone)."""
        addr = self.ulong(i)
        if addr == 0:
            return "NULL"
        if count == 0:
            return "[]"
        mask = 0xFFFFFFFFFFFFFFFF if self.pers == 0 else 0xFFFFFFFF
        if addr + count * size > mask:
            return self.ptr(i)  # the array wraps around the address space
        v = self.m(i, phase)
        b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""
        limit = self.opts.strsize if self.abbrev and self.opts.strsize < count else count
        out = []
        for n in range(count):
            off = n * size
            if off + size > len(b):
                if n == 0:
                    return self.ptr(i)
                out.append(f"... /* {addr + off:#x} */")
                break
            if n >= limit or (most is not None and n >= most):
                out.append("...")
                break
            out.append(fn(self, b[off:off + size]))
        return "[" + ", ".join(out) + "]"

    def outstruct(self, i: int, sname: str) -> str:
        """A struct the call fills: printed only when it succeeded."""
        return self.struct(i, sname, 1, need_ok=True)

    def strarr(self, i: int) -> str:
        if self.ulong(i) == 0:
            return "NULL"
        v = self.m(i, 0)
        if not isinstance(v, list) or not v or not isinstance(v[0], int):
            return self.ptr(i)
        total, items = v[0], v[1:]
        cut = None
        if items and isinstance(items[-1], list):  # the array ran into unreadable memory there
            cut, items = items[-1][0] if items[-1] else None, items[:-1]
        out = []
        for n, s in enumerate(items):
            if self.abbrev and n >= self.opts.strsize:
                break
            if isinstance(s, int):
                # a string that cannot be read: its pointer (older records: -errno)
                out.append(ptr(0) if s == 0 else hexa(s) if s > 0 else "?")
            else:
                out.append(quote_cstr(bytes(s), self.opts.strsize, self.opts.xflag))
        text = "[" + ", ".join(out)
        if total > len(out):
            text += ", ..." if out else "..."
        elif cut is not None:
            text += (", " if out else "") + f"... /* {cut:#x} */"
        return text + "]"

    def env(self, i: int) -> str:
        """An environment (strarr[env]): abbreviated, its address and size."""
        if self.ulong(i) == 0:
            return "NULL"
        v = self.m(i, 0)
        if self.abbrev and isinstance(v, list) and v:
            cut = ", unterminated" if isinstance(v[-1], list) else ""
            return f"{self.ptr(i)} /* {v[0]} var{'s' if v[0] != 1 else ''}{cut} */"
        return self.strarr(i) if isinstance(v, list) else self.ptr(i)

    def iovec(self, i: int, count: int, total: int | None = None) -> str:
        """An iovec array; `total` caps the data shown (read-side: the return value)."""
        if self.ulong(i) == 0:
            return "NULL"
        v = self.m(i)
        if not isinstance(v, list) or not all(isinstance(e, list) and len(e) == 3 for e in v[:-1] or v[:1]):
            return self.ptr(i)
        return self.iovec_list(v, count, total, self.ulong(i))

    def iovec_list(self, v: list, count: int, total: int | None = None, addr: int | None = None) -> str:
        """The fetched [base, len, data] elements of an iovec array of `count`;
        a last element -errno says the array became unreadable there (`...
        /* ADDR */`, the address of the element; addr: the array's)."""
        cut = None
        if v and isinstance(v[-1], int):
            cut, v = len(v) - 1, v[:-1]
            if not v:
                return ptr(addr) if addr is not None else "..."
        out = []
        left = total
        for n, (base, ln, data) in enumerate(v[: max(count, 0)]):
            if self.abbrev and n >= self.opts.strsize:
                out.append("...")
                break
            shown = ln if left is None else min(ln, max(left, 0))
            # strace reads -s + 1 bytes of each (the C loop too): fewer is the address
            if isinstance(data, (bytes, bytearray)) and (left is None or left >= 0) and len(data) >= min(shown, self.opts.strsize + 1, _IOV_DATA_MAX):
                b = quote_buf(bytes(data), shown, self.opts.strsize, self.opts.xflag)
                if left is not None:
                    left -= shown
            else:
                b = ptr(base)
            out.append(f"{{iov_base={b}, iov_len={ln}}}")
        if cut is not None and not (out and out[-1] == "..."):
            isz = 16 if self.pers == 0 else 8
            out.append(f"... /* {addr + cut * isz:#x} */" if addr is not None else "...")
        elif len(v) < count and not (out and out[-1] == "..."):
            out.append("...")
        return "[" + ", ".join(out) + "]"

    def sigset(self, i: int, size: int = 8, min_len: int | None = None) -> str:
        """A sigset of `size` bytes (its bytes past `size` are not the
        set's); strace reads none whose size argument is below `min_len`
        (the word size unless given) or above 8: the address."""
        if self.ulong(i) == 0:
            return "NULL"
        n = _sigsetsize(self)
        if n is not None and not ((4 if self.pers else 8) if min_len is None else min_len) <= n <= 8:
            return self.ptr(i)  # strace reads no set of an invalid size: the address
        v = self.m(i)
        size = min(size, 8)
        if not isinstance(v, (bytes, bytearray)) or len(v) < size:
            return self.ptr(i)
        return sigset_text(int.from_bytes(bytes(v)[:size].ljust(8, b"\0"), "little"), style=self.style)


_SIGSETSIZE = ("sigsetsize", "sizemask", "sigsz")
_IOV_DATA_MAX = 65536  # the data the C loop reads of one vector at most (TR_IOV_DATA_MAX)


def _sigsetsize(c: C) -> int | None:
    """The call's sigset size argument, when its table entry names one."""
    sc = c.sc
    if sc is None:
        return None
    for k, a in enumerate(sc.args):
        if a.name in _SIGSETSIZE:
            return c.ulong(k)
    return None


def styled(raw: str, text: str | None, style: str) -> str:
    """-X: raw value, decoded text, or both (`raw /* text */`)."""
    if style == "raw" or not text:
        return raw
    if style == "verbose":
        return raw if text == raw else f"{raw} /* {text} */"
    return text


def sigtext(n: int, style: str = "abbrev") -> str:
    return styled(str(n), _flags.signame(n), style)


@lru_cache(maxsize=1024)  # pure, and the same few masks recur (rt_sigprocmask)
def sigset_text(mask: int, nsig: int = 64, style: str = "abbrev") -> str:
    mask &= (1 << nsig) - 1
    inv = bin(mask).count("1") >= nsig // 2
    if inv:
        mask = ~mask & ((1 << nsig) - 1)
    names = []
    for s in range(1, nsig + 1):
        if mask >> (s - 1) & 1:
            n = _flags.signame(s)
            names.append(styled(str(s), n[3:] if n else None, style))
    return ("~" if inv else "") + "[" + " ".join(names) + "]"


_S_IFMT = {0o140000: "S_IFSOCK", 0o120000: "S_IFLNK", 0o100000: "S_IFREG", 0o60000: "S_IFBLK",
           0o40000: "S_IFDIR", 0o20000: "S_IFCHR", 0o10000: "S_IFIFO"}


def modetext(m: int) -> str:
    """A permission mode as strace prints it: 0644, 000."""
    m &= 0xFFFF  # strace prints a mode as the unsigned short it passes
    return ("0" + format(m, "o") if m else "0").rjust(3, "0")  # C's %#03o


@lru_cache(maxsize=1024)  # pure, and a trace shows the same few modes
def filemode(m: int, style: str = "abbrev") -> str:
    """st_mode: `S_IFREG|0644`, `S_IFDIR|S_ISVTX|0777`."""
    if style != "abbrev":
        return styled(f"{m:#o}".replace("0o", "0"), filemode(m), style)
    parts = []
    t = _S_IFMT.get(m & 0o170000)
    if t:
        parts.append(t)
    elif m & 0o170000:
        parts.append(f"{m & 0o170000:#o}")
    for bit, n in ((0o4000, "S_ISUID"), (0o2000, "S_ISGID"), (0o1000, "S_ISVTX")):
        if m & bit:
            parts.append(n)
    parts.append(o03(m & 0o777))
    return "|".join(parts)


def o03(v: int) -> str:
    """C's %#03o: 0644, 007, 000."""
    return ("0" + format(v, "o")).rjust(3, "0") if v else "000"


def symbolic_mode(m: int, style: str = "abbrev") -> str:
    """strace's print_symbolic_mode_t (mknod): `S_IFCHR|0600`, a mode of no
    known type as its number."""
    t = m & 0o170000
    ifmt = _S_IFMT.get(t) if t else ""
    raw = o03(m)
    if ifmt is None or style == "raw":
        return raw
    text = (ifmt + "|" if ifmt else "") + "".join(n + "|" for bit, n in ((0o4000, "S_ISUID"), (0o2000, "S_ISGID"), (0o1000, "S_ISVTX")) if m & bit)
    text += o03(m & ~0o177000)
    return raw + f" /* {text} */" if style == "verbose" else text


# --- the generic, table-driven decoder ------------------------------------------

def _arg_len(c: C, a) -> int | None:
    if a.len is None:
        return None
    if a.len == "ret":
        return c.rval if c.ok else None
    return c.ulong(int(a.len))


# kinds printed from the argument's value alone: kind -> the method of C
_BY_INDEX = {"fd": "fd", "dirfd": "dirfd", "path": "path", "str": "cstr", "int": "d", "pid": "pid", "uid": "id",
             "gid": "id", "off": "ld", "long": "ld", "size": "lu", "uint": "u", "xint": "x", "hex": "hex", "ptr": "ptr",
             "sig": "sig", "mode": "mode", "sigset": "sigset"}


def generic_arg(c: C, i: int, a) -> str:
    """One argument by its table kind (tracerd.bpfgen's vocabulary)."""
    k = a.kind
    m = _BY_INDEX.get(k)
    if m is not None:
        return getattr(c, m)(i)
    if k == "buf" and a.ref in STRUCTS:  # a versioned struct the call reads (its length an argument)
        return c.struct(i, a.ref, 1 if a.dir == "out" else 0, need_ok=a.dir == "out")
    if k == "buf":
        if a.dir == "out":
            n = _arg_len(c, a)
            if not c.ok or n is None:
                return c.ptr(i)
            if a.len != "ret":
                n = min(n, c.rval)
            return c.buf(i, n, phase=1)
        n = _arg_len(c, a)
        return c.buf(i, n if n is not None else c.opts.strsize, phase=0)
    if k == "flags":
        return c.flags(i, a.ref) if a.ref and _flags.has(a.ref) else c.hex(i)
    if k == "lflags":  # a flag word of unsigned long
        return c.flags(i, a.ref, 64) if a.ref and _flags.has(a.ref) else c.hex(i)
    if k == "xval" or k == "enum":
        return c.xval(i, a.ref) if a.ref and _flags.has(a.ref) else c.d(i)
    if k == "struct":
        if a.dir == "out":
            return c.outstruct(i, a.ref or "")
        # an input struct is what the call was given (the entry value)
        return c.struct(i, a.ref or "", 0 if a.dir == "in" else None)
    if k == "dev":
        from ._stat import makedev

        return makedev(c.uint(i))  # the kernel's unsigned int
    if k == "array":
        el = ARRAYS.get(a.ref)
        if el is None or c.pers == 1:
            return c.ptr(i)
        n = _arg_len(c, a)
        if isinstance(a.len, int) and c.sc is not None and c.sc.args[a.len].kind in ("int", "uint"):
            n = c.uint(a.len)  # a count the kernel takes as an (unsigned) int
        if a.dir == "out" and not c.ok and not (n == 0 and isinstance(a.len, int) and c.ulong(i)):
            return c.ptr(i)  # (an empty array prints `[]` whatever the call did, as strace's print_array)
        return c.array(i, n or 0, el[0], el[1], 1 if a.dir == "out" else 0, el[2])
    if k == "strarr":
        return c.env(i) if a.ref == "env" else c.strarr(i)
    if k == "iovec":
        n = _arg_len(c, a)
        return c.iovec(i, n or 0, c.rval if a.dir == "out" and c.ok else None) if a.dir != "out" or c.ok else c.ptr(i)
    fn = KINDS.get(k)
    if fn is not None:
        return fn(c, i, a)
    return c.ptr(i)  # ptr and any kind we do not know: the address


def generic_entry_count(sc) -> int:
    """Arguments printed before `<unfinished ...>`: the table's
    (`Syscall.entry_count`: those before the first one the call fills or
    updates, unless its `entry` says otherwise, as poll's)."""
    return sc.entry_count


# --- return values --------------------------------------------------------------

def ret_text(c: C, kind) -> str:
    if c.ret is None:
        return "?"
    if c.is_error:
        from ._fmt import error_text

        return error_text(-c.ret)
    r = c.ret
    if callable(kind):
        return kind(c)
    if kind == "mode":
        return f"{r:#o}"
    if kind == "sig":
        return sigtext(r) if r else "0"
    if kind == "none":
        return "?"
    if kind in ("hex", "addr", "ptr"):
        return hexa(r & 0xFFFFFFFFFFFFFFFF)
    if kind == "fd":
        return _ret_fd(c, r)
    if kind == "oct":
        return f"{r:#o}"
    if kind == "pid" and c.opts.pid_comm:
        return pid_text(r)
    return str(r)


@lru_cache(maxsize=1)
def _proc_level() -> int:
    """Where our pid namespace is on /proc's NSpid lines: 0 when /proc is
    ours; more in a pid namespace without a /proc of its own (`unshare
    -Urpf`, as strace's test suite runs --pidns-translation), where
    /proc/N is another process than our N."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"NSpid:"):
                    return max(len(line.split()) - 2, 0)
    except OSError:
        pass
    return 0


_PIDFD_THREAD = os.O_EXCL  # linux/pidfd.h (6.9): a pidfd of a thread


# set while a sink process decodes the records of a session whose tasks are
# numbered as a pid namespace below ours numbers them (client/sinks/_event.py)
proc_translate: Callable[[int], int] | None = None


def proc_pid(tid: int) -> int:
    """`tid` (as our pid namespace numbers it: the records' tids, embedded
    and through the daemon alike) as /proc numbers it, for /proc/N paths;
    -1 (no such /proc entry) when it cannot be told."""
    if proc_translate is not None:
        return proc_translate(tid)
    level = _proc_level()
    if not level or tid <= 0:
        return tid
    try:
        try:
            pfd = os.pidfd_open(tid, _PIDFD_THREAD)
        except OSError:
            pfd = os.pidfd_open(tid)  # before 6.9: a thread-group leader only
    except OSError:
        return -1
    try:
        with open(f"/proc/self/fdinfo/{pfd}", "rb") as f:
            for line in f:
                if line.startswith(b"NSpid:"):
                    ids = line.split()[1:]
                    return int(ids[0]) if len(ids) > level and int(ids[level]) == tid else -1
    except (OSError, ValueError):
        pass
    finally:
        os.close(pfd)
    return -1


def task_comm(pid: int) -> str | None:
    """/proc/PID/comm (the task's name) as strace prints it in `<...>`, or
    None when the task is gone."""
    try:
        with open(f"/proc/{proc_pid(pid)}/comm", "rb") as f:
            name = f.read().rstrip(b"\n")
    except OSError:
        return None
    from ._fmt import quote

    text = quote(name)[1:-1]  # strace's escapes, without the quotes
    return text.replace("<", "\\x3c").replace(">", "\\x3e") if ("<" in text or ">" in text) else text


def pid_text(pid: int) -> str:
    """-Y: `N<comm>` for a live task N > 0, else N."""
    if pid > 0:
        comm = task_comm(pid)
        if comm:
            return f"{pid}<{comm}>"
    return str(pid)


def _ret_pid(c, r) -> str:
    return pid_text(r)


def readlink_fd(tid: int, fd: int) -> str | None:
    try:
        tid = proc_pid(tid)
        return os.readlink(f"/proc/{tid}/fd/{fd}" if fd != AT_FDCWD else f"/proc/{tid}/cwd")
    except OSError:
        return None


# --- what the decoder's per-(pers, nr) plan holds ---------------------------------

def _arg_expr(i: int, a) -> str:
    """generic_arg(c, i, a) as a Python expression in c, its kind chosen once."""
    m = _BY_INDEX.get(a.kind)
    if m is not None:
        return f"c.{m}({i})"
    if a.kind == "lflags" and a.ref and _flags.has(a.ref):
        return f"c.flags({i}, {a.ref!r}, 64)"
    if a.kind in ("flags", "xval", "enum") and a.ref and _flags.has(a.ref):
        return f"c.{'flags' if a.kind == 'flags' else 'xval'}({i}, {a.ref!r})"
    if a.kind == "struct" and a.ref:
        if a.dir == "out":
            return f"c.outstruct({i}, {a.ref!r})"
        return f"c.struct({i}, {a.ref!r}, {0 if a.dir == 'in' else None})"
    if a.kind == "buf" and a.ref in STRUCTS:
        return f"_generic(c, {i}, _args[{i}])"
    if a.kind == "buf" and a.dir == "out" and a.len == "ret":
        return f"c.outbuf({i})"
    if a.kind == "buf" and a.dir != "out" and isinstance(a.len, int):
        return f"c.buf({i}, c.ulong({a.len}), phase=0)"
    if a.kind == "strarr":
        return f"c.env({i})" if a.ref == "env" else f"c.strarr({i})"
    return f"_generic(c, {i}, _args[{i}])"


def compile_generic(args) -> Callable:
    """The generic decoder for one table entry's argument list: one function
    whose body calls each argument's printer directly, as a hand-written
    decoder would (generated once per argument list: a closure per argument
    cost ~8% more per record on a fork-heavy trace)."""
    args = tuple(args)
    if any(a.when is not None for a in args):
        return lambda c: generic_args(c, args)
    fn = _COMPILED.get(args)
    if fn is None:
        ns = {"_generic": generic_arg, "_args": args}
        exec(f"def table_decoder(c):\n    return [{', '.join(_arg_expr(i, a) for i, a in enumerate(args))}]\n", ns)  # noqa: S102
        fn = _COMPILED[args] = ns["table_decoder"]
    return fn


_COMPILED: dict = {}  # argument tuple -> its decoder (a few hundred at most: the table's entries)


def compile_halves(args, n: int):
    """A split call's two halves of compile_generic(args): (the arguments
    printed at entry, args[:n]; those printed at the exit, args[n:]), so
    that an entry and its exit each format only their own part (None when
    an argument is conditional: which print depends on the values)."""
    args = tuple(args)
    if any(a.when is not None for a in args):
        return None
    key = (args, n)
    fns = _HALVES.get(key)
    if fns is None:
        fns = []
        for lo, hi in ((0, n), (n, len(args))):
            ns = {"_generic": generic_arg, "_args": args}
            exec(f"def table_half(c):\n    return [{', '.join(_arg_expr(i, args[i]) for i in range(lo, hi))}]\n", ns)  # noqa: S102
            fns.append(ns["table_half"])
        fns = _HALVES[key] = tuple(fns)
    return fns


_HALVES: dict = {}  # (argument tuple, entry count) -> compile_halves' pair


_VARIANTS: dict = {}  # id(entry) -> (entry, its _variant_table): hashing a Syscall hashes all its Args


def _variant_table(sc) -> tuple[int, dict]:
    """(selector index, {selector value: arguments}) of a table entry with `$`
    variants; the value names resolve in the selector's own set."""
    hit = _VARIANTS.get(id(sc))
    if hit is not None and hit[0] is sc:
        return hit[1]
    value = _variant_table_of(sc)
    _VARIANTS[id(sc)] = (sc, value)  # the entry is kept: its id stays its own
    return value


def _variant_table_of(sc) -> tuple[int, dict]:
    fs = _flags.get(sc.args[sc.select].ref)
    by_name = {n: v for n, v in fs.items}
    out = {}
    for names, args in sc.variants:
        for n in names:
            if n in by_name:  # a command this Python's fcntl lacks stays on the default
                out.setdefault(by_name[n], args)
    return sc.select, out


def table_args(c: C) -> list[str]:
    """The table's arguments of this call: its `$` variant's by the selector's value."""
    sc = c.sc
    if sc.variants:
        sel, variants = _variant_table(sc)
        return generic_args(c, variants.get(c.args[sel] & 0xFFFFFFFF, sc.args))
    return generic_args(c, sc.args)


def compile_table(sc) -> Callable:
    """The generic decoder of one table entry, its variants compiled too."""
    if not sc.variants:
        return compile_generic(sc.args)
    sel, variants = _variant_table(sc)
    fns = {v: compile_generic(a) for v, a in variants.items()}
    dflt = compile_generic(sc.args)
    return lambda c: fns.get(c.args[sel] & 0xFFFFFFFF, dflt)(c)


def generic_args(c: C, args) -> list[str]:
    """Every argument by its table kind; a conditional one (`if=argN&MASK`)
    only when argument N has a bit of MASK."""
    return [generic_arg(c, i, a) for i, a in enumerate(args) if a.when is None or c.args[a.when[0]] & a.when[1]]


def _ret_octal(c: C, r: int) -> str:
    return f"{r:#o}"


def _ret_sig(c: C, r: int) -> str:
    return sigtext(r) if r else "0"


def _ret_none(c: C, r: int) -> str:
    return "?"


def _ret_hex(c: C, r: int) -> str:
    return hexa(r & 0xFFFFFFFFFFFFFFFF)


def _ret_fd(c: C, r: int) -> str:
    if r < 0:
        return str(r)
    named = c.mem.get((1, FD_SLOT + FD_RET))
    if named is not None:
        return c.dec.fd_named(r, named)
    return c.dec.fd_text(r, c.tid, False)


_RET_FORMATTERS = {"mode": _ret_octal, "oct": _ret_octal, "sig": _ret_sig, "none": _ret_none,
                   "hex": _ret_hex, "addr": _ret_hex, "ptr": _ret_hex}


def ret_formatter(kind, fds: bool) -> Callable | None:
    """ret_text(c, kind) for a call that returned without error, as a
    function of (c, ret) chosen once per kind; None: str(ret). `fds`: fds
    print with their paths (-y), else an fd prints as its number."""
    if callable(kind):
        return lambda c, r: kind(c)
    if kind == "fd":
        return _ret_fd if fds else None
    return _RET_FORMATTERS.get(kind)
