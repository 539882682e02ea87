"""The syscall table: `syscalls.toml` (data) plus this small loader.

Everything about a syscall that tracerd needs — argument kinds, return kind,
strace classes, struct sizes — is data in syscalls.toml (vocabulary:
docs/syscall-table.md). The numbers are never typed by hand: they come from
libseccomp for each personality (x86_64, i386, x32).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from tracerd._errors import LibseccompMissing
from tracerd._wire import X32_SYSCALL_BIT, Pers

# Every argument kind the table may use (docs/syscall-table.md). Kinds that
# take parameters are written KIND[...] in the data.
ARG_KINDS = frozenset(
    {
        "fd", "dirfd", "path", "str", "buf", "flags", "enum", "struct", "array",
        "int", "uint", "hex", "ptr", "pid", "sig", "mode", "size", "off",
        "uid", "gid", "dev", "strarr", "iovec", "sigset", "msghdr", "mmsghdr", "long",
        "ioctlarg", "polyptr", "xint", "lflags", "layout",
    }
)
RET_KINDS = frozenset({"int", "fd", "pid", "hex", "addr", "size", "off", "uid", "gid", "mode", "sig", "none"})
DIRS = frozenset({"in", "out", "inout"})
# strace's class names (man strace, -e trace=) without the leading '%'.
CLASSES = (
    "desc", "file", "network", "process", "signal", "ipc", "memory", "creds",
    "clock", "stat", "lstat", "fstat", "%stat", "statfs", "fstatfs", "%statfs", "pure",
)
PERS_NAMES = {Pers.X86_64: "x86_64", Pers.I386: "i386", Pers.X32: "x32"}


@dataclass(frozen=True, slots=True)
class Arg:
    """One syscall argument: kind from ARG_KINDS; dir "in"|"out"|"inout"|None;
    len None | 0..5 (the argument holding the length/count) | "ret";
    ref the flag set, enum, struct or buffer-content name, or None;
    when None | (N, MASK): the argument is passed (and printed) only when
    argument N has a bit of MASK set (open's mode: O_CREAT or __O_TMPFILE)."""

    name: str
    kind: str
    dir: str | None = None
    len: int | str | None = None
    ref: str | None = None
    when: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class LField:
    """A field of a struct's layout that the fetch follows (`[layouts]`):
    kind "ptr" (memory behind the pointer at `off`: a DEREF op) or "fd"
    (the int fd at `off`, named at the stop under -y: an FD_AT op); `off`
    per personality ({Pers: bytes}); for ptr: `ptr64` (64 bits in every
    personality, else a long), `elem` (an element's size: 1, 2, 4 or 8),
    `len` ("field", width per pers, offset per pers) | ("arg", N) |
    ("fixed", N), `max` elements (0: -s + 1) and `vmax` under -v."""

    name: str
    kind: str
    dir: str
    off: dict = field(hash=False, compare=False)
    ptr64: bool = False
    elem: int = 1
    len: tuple = ()
    max: int = 0
    vmax: int = 0
    text: str = ""
    fd: bool = False  # ptr: its one int element is an fd, named at the stop too (FD_AT_PTR)
    strs: bool = False  # ptr: its elements (`cstr`: 64-bit) point to C strings, each read too (DEREF_STRS)


@dataclass(frozen=True, slots=True)
class Syscall:
    """One syscall of the table: its names, classes, arguments, numbers per personality."""

    name: str
    classes: frozenset[str]
    args: tuple[Arg, ...]
    ret: str
    numbers: dict[Pers, int] = field(hash=False, compare=False)
    described: bool = True  # False: only counted (args are `hex`, as strace's printargs)
    noreturn: bool = False  # exit, exit_group: no exit stop ever comes
    # how many arguments print before `<unfinished ...>` where strace's
    # count is not "those before the first out/inout one" (poll prints its
    # inout fds at entry); None: the directions say it
    entry: int | None = None
    pers_args: dict[Pers, tuple[Arg, ...]] = field(default_factory=dict, hash=False, compare=False)
    # i386 multiplexer through which this call can also be made:
    # ("socketcall", 3) for connect, ("ipc", 23) for shmget.
    subcall: tuple[str, int] | None = None
    # memory read at entry relative to the stack pointer, per personality:
    # (offset, size) bytes (rt_sigreturn's saved signal mask)
    stack: dict[Pers, tuple[int, int]] = field(default_factory=dict, hash=False, compare=False)
    # `$` variants (syzkaller's fcntl$F_SETFD): the argument whose value picks
    # one, and (value names, arguments) per variant; the value names are the
    # selector's set's (enum[fcntl_cmds]), resolved by the decoder
    select: int | None = None
    variants: tuple = ()
    # conditional fetches: (conditions ((argument, value), ...), Arg): the
    # Arg's ops run only when every argument's low 32 bits have the value
    # (io_uring_register's iovecs for IORING_REGISTER_BUFFERS, an ioctl
    # request's struct layout)
    fetch: tuple = ()
    fetch_text: tuple = ()

    @property
    def nargs(self) -> int:
        return len(self.args)

    @property
    def entry_count(self) -> int:
        """Arguments printed before `<unfinished ...>` (its `entry`, else
        those before the first out/inout argument)."""
        return dir_entry_count(self.args) if self.entry is None else self.entry

    def args_for(self, pers: Pers) -> tuple[Arg, ...]:
        """The arguments as passed in this personality (i386 mmap and select
        take one pointer to a block of arguments)."""
        return self.pers_args.get(pers, self.args)


@dataclass(frozen=True)
class Table:
    """The resolved syscall table (syscalls.toml and libseccomp's numbers)."""

    syscalls: dict[str, Syscall]
    classes: dict[str, frozenset[str]]
    # struct name -> {Pers: size in bytes}
    structs: dict[str, dict[Pers, int]]
    # multiplexer name -> {subcall number: syscall name}
    multiplexers: dict[str, dict[int, str]]
    _by_nr: dict[Pers, dict[int, Syscall]] = field(repr=False)
    # struct name -> (its fields, x86_64 layout, or "[KIND]" for a struct
    # that is one value; how many print abbreviated, None: all): the struct
    # descriptions the decoder prints from
    # (client/decode/_structs.py; docs/syscall-table.md)
    struct_fields: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    # struct name -> the fields the fetch follows ([layouts])
    layouts: dict[str, tuple[LField, ...]] = field(default_factory=dict)

    def lookup(self, pers: Pers, nr: int) -> Syscall | None:
        return self._by_nr[Pers(pers)].get(nr)

    def numbers(self, pers: Pers) -> dict[int, Syscall]:
        """Every number this personality has, with its syscall."""
        return self._by_nr[Pers(pers)]

    def struct_size(self, name: str, pers: Pers) -> int:
        sizes = self.structs[name]
        return sizes.get(Pers(pers), sizes[Pers.X86_64])

    def subcall(self, mux: str, number: int) -> Syscall | None:
        """The syscall an i386 multiplexer call (socketcall/ipc) stands for."""
        name = self.multiplexers.get(mux, {}).get(number)
        return self.syscalls.get(name) if name else None


class TableError(ValueError):
    """syscalls.toml is malformed (a defect of the package, found by the tests)."""


_ARG_RE = re.compile(r"\s*([A-Za-z_][A-Za-z_0-9]*)\s*:\s*([a-z]+)\s*(?:\[([^\]]*)\])?\s*$")


def _split_args(text: str) -> list[str]:
    """Split "a:fd, b:buf[in, len=arg2]" on the commas outside brackets."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur))
    return [s for s in (p.strip() for p in out) if s]


def _parse_len(value: str, where: str) -> int | str:
    if value == "ret":
        return "ret"
    m = re.fullmatch(r"arg([0-5])", value)
    if not m:
        raise TableError(f"{where}: bad len={value!r} (argN or ret)")
    return int(m.group(1))


def parse_arg(text: str, where: str = "?") -> Arg:
    """Parse one "NAME:KIND[PARAMS]" argument description."""
    m = _ARG_RE.match(text)
    if not m:
        raise TableError(f"{where}: cannot parse argument {text!r}")
    name, kind, params = m.group(1), m.group(2), m.group(3)
    if kind not in ARG_KINDS:
        raise TableError(f"{where}: unknown argument kind {kind!r}")
    plist = [p.strip() for p in params.split(",")] if params is not None else []
    dir_ = ln = ref = when = None
    for p in [p for p in plist if p.startswith("if=")]:
        m = re.fullmatch(r"if=arg([0-5])&(0x[0-9a-fA-F]+|0o[0-7]+|[0-9]+)", p)
        if not m:
            raise TableError(f"{where}: bad condition {p!r} (if=argN&MASK)")
        when = (int(m.group(1)), int(m.group(2), 0))
    plist = [p for p in plist if not p.startswith("if=")]
    for p in plist:
        if p in DIRS:
            dir_ = p
        elif p.startswith("len="):
            ln = _parse_len(p[4:], where)
        elif re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", p):
            ref = p
        else:
            raise TableError(f"{where}: bad parameter {p!r} in {text!r}")
    need = {
        "flags": ("ref",), "enum": ("ref",), "struct": ("ref", "dir"),
        "array": ("ref", "dir", "len"), "buf": ("dir", "len"), "iovec": ("dir", "len"),
        "sigset": ("dir",), "msghdr": ("dir",), "mmsghdr": ("dir", "len"), "polyptr": ("ref",), "lflags": ("ref",), "layout": ("ref",),
    }.get(kind, ())
    have = {"ref": ref, "dir": dir_, "len": ln}
    for what in need:
        if have[what] is None:
            raise TableError(f"{where}: {kind} needs a {what} in {text!r}")
    # strarr[env]: an environment, printed as a count when abbreviated
    if kind == "strarr" and plist:
        if plist != ["env"]:
            raise TableError(f"{where}: strarr takes only [env] in {text!r}")
    elif kind == "ptr" and plist:
        # ptr[out]: an address the call fills, printed (as the address) at exit
        if plist != ["out"]:
            raise TableError(f"{where}: ptr takes only [out] in {text!r}")
        dir_ = "out"
    elif not need and plist:
        raise TableError(f"{where}: {kind} takes no parameters in {text!r}")
    if kind == "sigset":
        ref = "sigset"
    if kind == "msghdr":
        ref = "msghdr"  # its size per personality comes from the structs table
    return Arg(name, kind, dir_, ln, ref, when)


def dir_entry_count(args: tuple[Arg, ...]) -> int:
    """How many arguments print before `<unfinished ...>` by their
    directions: those before the first one the call fills or updates."""
    for n, a in enumerate(args):
        if a.dir == "out" or a.dir == "inout":
            return n
    return len(args)


def parse_args(text: str, where: str = "?") -> tuple[Arg, ...]:
    args = tuple(parse_arg(a, where) for a in _split_args(text))
    if len(args) > 6:
        raise TableError(f"{where}: more than 6 arguments")
    return args


def _seccomp():
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as exc:  # pyseccomp raises RuntimeError when libseccomp is absent
        raise LibseccompMissing(str(exc)) from exc
    return pyseccomp


def libseccomp_arch(pers: Pers) -> int:
    sc = _seccomp()
    return {Pers.X86_64: sc.Arch.X86_64, Pers.I386: sc.Arch.X86, Pers.X32: sc.Arch.X32}[Pers(pers)]


def _resolve_numbers(names, multiplexed: set[str]) -> dict[str, dict[Pers, int]]:
    """Numbers per personality, as libseccomp resolves them. On i386 the
    socket and ipc calls resolve to libseccomp's negative pseudo numbers (the
    multiplexed form); their direct numbers (socket = 359 since Linux 4.3) are
    found by asking libseccomp the other way round."""
    sc = _seccomp()
    out: dict[str, dict[Pers, int]] = {}
    direct_i386: dict[str, int] = {}
    if multiplexed:
        x86 = sc.Arch.X86
        for nr in range(340, 460):  # where i386's direct socket/ipc numbers live
            try:
                nm = sc.resolve_syscall(x86, nr).decode()
            except ValueError:
                continue
            if nm in multiplexed:
                direct_i386[nm] = nr
    for name in names:
        nums = {}
        for pers in Pers:
            nr = sc.resolve_syscall(libseccomp_arch(pers), name)
            if nr >= 0:
                nums[pers] = nr
        if Pers.I386 not in nums and name in direct_i386:
            nums[Pers.I386] = direct_i386[name]
        out[name] = nums
    return out


_LFIELD_RE = re.compile(r"\s*([A-Za-z_]\w*)\s*:\s*(ptr64|ptr|fd)\s*\[([^\]]*)\]\s*@\s*(\d+)(?:/(\d+))?\s*$")
_LWIDTH = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}
_ELEM_SIZES = (1, 2, 4, 8)


def _offsets(native: str, compat: str | None) -> dict:
    """An offset per personality: `8` everywhere, `8/4` x86_64 / i386 and x32."""
    c = int(compat) if compat is not None else int(native)
    return {Pers.X86_64: int(native), Pers.I386: c, Pers.X32: c}


def parse_lfield(text: str, structs: dict, where: str = "?") -> LField:
    """One `[layouts]` field: `NAME:ptr[DIR, ELEM, len=LEN, max=N, vmax=N]@OFF`
    or `NAME:fd[DIR]@OFF` (docs/syscall-table.md)."""
    m = _LFIELD_RE.match(text)
    if not m:
        raise TableError(f"{where}: bad layout field {text!r}")
    name, kind, params, off, coff = m.groups()
    offs = _offsets(off, coff)
    if any(not 0 <= o < 256 for o in offs.values()):
        raise TableError(f"{where}: {name}: offset past 255")
    d, elem, ln, mx, vmx, isfd, strs = None, 1, (), 0, 0, False, False
    for p in (x.strip() for x in params.split(",") if x.strip()):
        if p in DIRS:
            d = p
        elif p.startswith("len="):
            v = p[4:].strip()
            lm = re.fullmatch(r"(u8|u16|u32|u64|ulong)@(\d+)(?:/(\d+))?", v)
            if lm:
                w = lm.group(1)
                widths = {Pers.X86_64: 8, Pers.I386: 4, Pers.X32: 4} if w == "ulong" else dict.fromkeys(Pers, _LWIDTH[w])
                ln = ("field", widths, _offsets(lm.group(2), lm.group(3)))
                if any(not 0 <= o < 256 for o in ln[2].values()):
                    raise TableError(f"{where}: {name}: count offset past 255")
            elif re.fullmatch(r"arg[0-5]", v):
                ln = ("arg", int(v[3]))
            elif v.isdigit() and int(v) < 256:
                ln = ("fixed", int(v))
            else:
                raise TableError(f"{where}: {name}: bad len={v!r}")
        elif p.startswith("max=") or p.startswith("vmax="):
            k, v = p.split("=", 1)
            n = {"strsize": 0, "none": -1}.get(v.strip()) if not v.strip().isdigit() else int(v)
            if n is None or not -1 <= n < 1 << 15 or (n < 0 and k == "vmax"):
                raise TableError(f"{where}: {name}: {k} out of range")
            if k == "max":
                mx = n
            else:
                vmx = n
        elif p == "byte":
            elem = 1
        elif p == "cstr":  # 64-bit pointers to C strings
            elem, strs = 8, True
        elif p == "fd" and kind != "fd":
            isfd = True
        elif p in structs:
            elem = structs[p][Pers.X86_64]
            if elem not in _ELEM_SIZES or any(v != elem for v in structs[p].values()):
                raise TableError(f"{where}: {name}: element {p} is not 1, 2, 4 or 8 bytes in every personality")
        else:
            raise TableError(f"{where}: {name}: unknown parameter {p!r}")
    if d is None:
        raise TableError(f"{where}: {name}: needs a direction")
    if kind == "fd":
        if ln or mx or vmx:
            raise TableError(f"{where}: {name}: an fd field takes a direction only")
    elif not ln:
        raise TableError(f"{where}: {name}: a pointer field needs len=")
    if mx < 0 and not vmx:
        raise TableError(f"{where}: {name}: max=none (fetched under -v only) needs a vmax=")
    if isfd and (elem != 4 or ln != ("fixed", 1)):
        raise TableError(f"{where}: {name}: an fd behind a pointer is one int (int, len=1)")
    return LField(name, "fd" if kind == "fd" else "ptr", d, offs, kind == "ptr64", elem, ln, mx, vmx or mx, text, isfd, strs)


def parse_fetch(text: str, nargs: int, where: str = "?") -> tuple:
    """A conditional fetch: `if argN==V && argM==W: ARG` (ARG in the args
    syntax, its name argK: the argument it reads)."""
    m = re.fullmatch(r"\s*if\s+(.+?):\s*(arg[0-5]\s*:.*)$", text)
    if not m:
        raise TableError(f"{where}: bad fetch {text!r} (want 'if argN==VALUE: argK:KIND[...]')")
    conds = []
    for c in m.group(1).split("&&"):
        cm = re.fullmatch(r"\s*arg([0-5])\s*==\s*(0x[0-9a-fA-F]+|\d+)\s*", c)
        if not cm or int(cm.group(1)) >= nargs:
            raise TableError(f"{where}: bad fetch condition {c!r}")
        conds.append((int(cm.group(1)), int(cm.group(2), 0) & 0xFFFFFFFF))
    a = parse_arg(m.group(2), where)
    if int(a.name[3]) >= nargs:
        raise TableError(f"{where}: fetch {a.name} is past the last argument")
    return tuple(conds), a


def load_table_from(data: dict) -> Table:
    """Build a Table from parsed TOML (load_table() reads the packaged file)."""
    structs: dict[str, dict[Pers, int]] = {}
    struct_fields: dict[str, tuple[str, int | None]] = {}
    for sname, sizes in data.get("structs", {}).items():
        per = {}
        sizes = dict(sizes)
        fields, abbrev, item = sizes.pop("fields", None), sizes.pop("abbrev", None), sizes.pop("item", None)
        if item is not None:  # one value, as strace's printnum: `[42]`
            if fields is not None or abbrev is not None or not isinstance(item, str):
                raise TableError(f"struct {sname}: item goes alone")
            fields, abbrev = f"[{item.strip()}]", None
        if fields is not None:
            if not isinstance(fields, str) or not fields.strip() or not (abbrev is None or isinstance(abbrev, int)):
                raise TableError(f"struct {sname}: bad fields/abbrev")
            struct_fields[sname] = (" ".join(fields.split()), abbrev)
        elif abbrev is not None:
            raise TableError(f"struct {sname}: abbrev without fields")
        for key, size in sizes.items():
            pers = {v: k for k, v in PERS_NAMES.items()}.get(key)
            if pers is None or not isinstance(size, int) or size <= 0:
                raise TableError(f"struct {sname}: bad size entry {key}={size!r}")
            per[pers] = size
        if Pers.X86_64 not in per:
            raise TableError(f"struct {sname}: needs an x86_64 size")
        structs[sname] = per
    multiplexers: dict[str, dict[int, str]] = {
        mux: {int(k): v for k, v in subs.items()} for mux, subs in data.get("multiplexers", {}).items()
    }
    layouts = _layouts(data.get("layouts", {}), structs)
    subcall_of = {name: (mux, n) for mux, subs in multiplexers.items() for n, name in subs.items()}

    raw = {n: s for n, s in data["syscalls"].items() if "$" not in n}
    variant_specs = {n: s for n, s in data["syscalls"].items() if "$" in n}
    numbers = _resolve_numbers(raw, set(subcall_of))
    syscalls: dict[str, Syscall] = {}
    known_classes = frozenset(CLASSES)
    for name, spec in raw.items():
        where = f"syscall {name}"
        unknown = set(spec) - {"args", "args_i386", "ret", "classes", "nargs", "noreturn", "stack", "select", "variants_of", "fetch", "entry"}
        if unknown:
            raise TableError(f"{where}: unknown keys {sorted(unknown)}")
        cls = set()
        for c in spec.get("classes", "").split():
            if not c.startswith("%") or c[1:] not in known_classes:
                raise TableError(f"{where}: unknown class {c!r}")
            cls.add(c[1:])
        if "args" in spec:
            if "nargs" in spec:
                raise TableError(f"{where}: give args or nargs, not both")
            args = parse_args(spec["args"], where)
            described = True
            ret = spec.get("ret", "int")
        else:
            n = spec.get("nargs")
            if not isinstance(n, int) or not 0 <= n <= 6:
                raise TableError(f"{where}: needs args or nargs (0..6)")
            args = tuple(Arg(f"arg{i}", "hex") for i in range(n))
            described = False
            ret = spec.get("ret", "hex")
        if ret not in RET_KINDS:
            raise TableError(f"{where}: unknown return kind {ret!r}")
        pers_args = {}
        if "args_i386" in spec:
            pers_args[Pers.I386] = parse_args(spec["args_i386"], where)
        vargs = tuple(a for vn, vs in variant_specs.items() if vn.split("$", 1)[0] == name for a in parse_args(vs.get("args", ""), f"syscall {vn}"))
        fetch_text = tuple(spec.get("fetch", ()))
        fetch = tuple(parse_fetch(f, len(args), where) for f in fetch_text)
        for a in args + tuple(a for v in pers_args.values() for a in v) + vargs + tuple(a for _, a in fetch):
            if a.kind == "layout" and a.ref not in layouts:
                raise TableError(f"{where}: layout[{a.ref}] names no [layouts] entry")
            if a.kind in ("struct", "array") and a.ref not in structs:
                raise TableError(f"{where}: unknown struct {a.ref!r}")
            if a.when is not None and a.when[0] >= len(args):
                raise TableError(f"{where}: {a.name}: if=arg{a.when[0]} is past the last argument")
            if isinstance(a.len, int) and a.len >= len(args):
                raise TableError(f"{where}: len=arg{a.len} is past the last argument")
            if a.len == "ret" and a.dir != "out":
                raise TableError(f"{where}: {a.name}: len=ret is known only at exit (dir must be out)")
            if a.kind in ("iovec", "mmsghdr") and not isinstance(a.len, int):
                raise TableError(f"{where}: {a.name}: an iovec count comes from an argument")
        entry = spec.get("entry")
        if entry is not None:
            if not isinstance(entry, int) or isinstance(entry, bool) or not 0 <= entry <= len(args):
                raise TableError(f"{where}: entry={entry!r} (want 0..{len(args)})")
            if entry == dir_entry_count(args):
                raise TableError(f"{where}: entry={entry} says what the directions say: drop it")
        stack = {}
        for key, val in spec.get("stack", {}).items():
            pers = {v: k for k, v in PERS_NAMES.items()}.get(key)
            ok = isinstance(val, list) and len(val) == 2 and all(isinstance(v, int) for v in val)
            if pers is None or not ok or val[0] % 8 or not 0 <= val[0] < 256 * 8 or not 0 < val[1] <= 4096:
                raise TableError(f"{where}: bad stack entry {key}={val!r} (want [offset, size]: offset a multiple of 8 below 2048)")
            stack[pers] = (val[0], val[1])
        sc = Syscall(
            name=name,
            classes=frozenset(cls),
            args=args,
            ret=ret,
            numbers=numbers[name],
            described=described,
            noreturn=bool(spec.get("noreturn", False)),
            entry=entry,
            pers_args=pers_args,
            subcall=subcall_of.get(name),
            stack=stack,
            fetch=fetch,
            fetch_text=fetch_text,
            **_variants(name, spec, args, data["syscalls"], variant_specs),
        )
        syscalls[name] = sc
    for mux, subs in multiplexers.items():
        if mux not in syscalls:
            raise TableError(f"multiplexer {mux} is not a syscall of the table")
        for n, sub in subs.items():
            if sub not in syscalls:
                raise TableError(f"multiplexer {mux}: subcall {n} names unknown syscall {sub!r}")
    return _assemble(syscalls, structs, multiplexers, struct_fields, layouts)


def _layouts(spec: dict, structs: dict) -> dict[str, tuple[LField, ...]]:
    out = {}
    for sname, fields in spec.items():
        if sname not in structs or not isinstance(fields, list):
            raise TableError(f"layout {sname}: needs a [structs] size and a list of fields")
        out[sname] = tuple(parse_lfield(f, structs, f"layout {sname}") for f in fields)
    return out


def _variants(name: str, spec: dict, args, every: dict, variant_specs: dict) -> dict:
    """select= and the `NAME$VARIANT` entries of one syscall (variants_of=
    borrows another's: fcntl64 has fcntl's)."""
    base = spec.get("variants_of", name)
    where = f"syscall {name}"
    if base != name and (base not in every or "select" not in every[base]):
        raise TableError(f"{where}: variants_of={base!r} names no syscall with select=")
    sel = every.get(base, {}).get("select")
    out = []
    for vname, vspec in variant_specs.items():
        if vname.split("$", 1)[0] != base:
            continue
        if set(vspec) - {"args", "values"} or not isinstance(vspec.get("values"), str):
            raise TableError(f"syscall {vname}: a variant has args and values = \"NAME NAME...\" only")
        out.append((tuple(vspec["values"].split()), parse_args(vspec["args"], f"syscall {vname}")))
    if sel is None:
        if out:
            raise TableError(f"{where}: variants without select=")
        return {}
    m = re.fullmatch(r"arg([0-5])", sel)
    if not m or int(m.group(1)) >= len(args) or args[int(m.group(1))].kind != "enum":
        raise TableError(f"{where}: select={sel!r} must name an enum argument (argN)")
    return {"select": int(m.group(1)), "variants": tuple(out)}


def _assemble(syscalls: dict[str, Syscall], structs, multiplexers, struct_fields=None, layouts=None) -> Table:
    """The Table with its derived indexes (classes, numbers)."""
    classes: dict[str, set[str]] = {c: set() for c in CLASSES}
    for sc_ in syscalls.values():
        for c in sc_.classes:
            classes[c].add(sc_.name)
    by_nr: dict[Pers, dict[int, Syscall]] = {p: {} for p in Pers}
    for sc_ in syscalls.values():
        for pers, nr in sc_.numbers.items():
            if pers == Pers.X32 and not nr & X32_SYSCALL_BIT:
                raise TableError(f"syscall {sc_.name}: x32 number {nr:#x} lacks bit 30")
            by_nr[pers].setdefault(nr, sc_)
    return Table(
        syscalls=syscalls,
        classes={c: frozenset(v) for c, v in classes.items()},
        structs=structs,
        multiplexers=multiplexers,
        _by_nr=by_nr,
        struct_fields=dict(struct_fields or {}),
        layouts=layouts or {},
    )


def _dump_args(args: tuple[Arg, ...]) -> list:
    return [[a.name, a.kind, a.dir, a.len, a.ref, list(a.when) if a.when else None] for a in args]


def dump_table(t: Table) -> dict:
    """The table as plain msgpack-able data (for the on-disk cache)."""
    return {
        "structs": [[n, [[int(p), size] for p, size in sizes.items()]] for n, sizes in t.structs.items()],
        "multiplexers": [[m, [[k, v] for k, v in subs.items()]] for m, subs in t.multiplexers.items()],
        "struct_fields": [[n, f, a] for n, (f, a) in t.struct_fields.items()],
        "layouts": [[n, [f.text for f in fields]] for n, fields in t.layouts.items()],
        "syscalls": [
            [
                s.name, sorted(s.classes), _dump_args(s.args), s.ret,
                [[int(p), nr] for p, nr in s.numbers.items()], s.described, s.noreturn,
                [[int(p), _dump_args(a)] for p, a in s.pers_args.items()],
                list(s.subcall) if s.subcall else None,
                [[int(p), off, size] for p, (off, size) in s.stack.items()],
                s.select, [[list(names), _dump_args(a)] for names, a in s.variants],
                list(s.fetch_text), s.entry,
            ]
            for s in t.syscalls.values()
        ],
    }


def undump_table(obj: dict) -> Table:
    """The inverse of dump_table (raises on data of the wrong shape)."""
    pers_of = {int(p): p for p in Pers}
    interned: dict[tuple, Arg] = {}

    def args(lst) -> tuple[Arg, ...]:
        out = []
        for a in lst:
            key = (*a[:5], tuple(a[5]) if a[5] else None)
            arg = interned.get(key)
            if arg is None:
                name, kind, dir_, ln, ref, when = a
                if kind not in ARG_KINDS:
                    raise TableError(f"cached table: unknown argument kind {kind!r}")
                arg = interned[key] = Arg(name, kind, dir_, ln, ref, tuple(when) if when else None)
            out.append(arg)
        return tuple(out)

    structs = {n: {pers_of[p]: size for p, size in sizes} for n, sizes in obj["structs"]}
    multiplexers = {m: {int(k): v for k, v in subs} for m, subs in obj["multiplexers"]}
    layouts = _layouts(dict(obj["layouts"]), structs)
    syscalls: dict[str, Syscall] = {}
    for name, cls, a, ret, nums, described, noreturn, pers_args, subcall, stack, select, variants, fetch_text, entry in obj["syscalls"]:
        syscalls[name] = Syscall(
            name=name,
            classes=frozenset(cls),
            args=args(a),
            ret=ret,
            numbers={pers_of[p]: nr for p, nr in nums},
            described=bool(described),
            noreturn=bool(noreturn),
            entry=entry,
            pers_args={pers_of[p]: args(pa) for p, pa in pers_args},
            subcall=(subcall[0], subcall[1]) if subcall else None,
            stack={pers_of[p]: (off, size) for p, off, size in stack},
            select=select,
            variants=tuple((tuple(names), args(va)) for names, va in variants),
            fetch=tuple(parse_fetch(f, len(a), f"syscall {name}") for f in fetch_text),
            fetch_text=tuple(fetch_text),
        )
    return _assemble(syscalls, structs, multiplexers, {n: (f, a) for n, f, a in obj["struct_fields"]}, layouts)


def load_table_uncached() -> Table:
    """The packaged syscall table, parsed and resolved now (no cache)."""
    import tomllib  # only here: a cached table needs no TOML parser
    from importlib import resources

    with resources.files(__package__).joinpath("syscalls.toml").open("rb") as f:
        data = tomllib.load(f)
    return load_table_from(data)


def load_table_cached() -> Table:
    """The packaged syscall table from the on-disk cache (bpfgen/_cache.py)
    when it holds this very table, else parsed and resolved (and the cache
    written)."""
    from . import _cache

    return _cache.cached("table-", _cache.derived_key("table"), load_table_uncached, dump_table, undump_table, keep=4)


@functools.cache
def load_table() -> Table:
    """The packaged syscall table, loaded once per process (cached on disk:
    ~10 ms instead of ~30 ms for TOML and libseccomp's numbers)."""
    return load_table_cached()
