"""The fetch plan: which memory the native loop reads, at entry or exit, for
each selected (personality, number), derived from the table's argument kinds.
The binary format is tracerd._wire's (docs/fetch-plan.md)."""

from __future__ import annotations

from collections.abc import Iterable

from tracerd._errors import UsageError
from tracerd._wire import (
    LEN_FIXED,
    LEN_IOC,
    LEN_NONE,
    LEN_RET,
    MEM_PHASE_ENTRY,
    MEM_PHASE_EXIT,
    PATH_MAX,
    PLAN_ENTRY,
    PLAN_HEADER,
    PLAN_MAGIC,
    PLAN_OP,
    PLAN_VERSION,
    COND_MAX,
    DEREF_ELEM_SHIFT,
    DEREF_LEN_SHIFT,
    DEREF_PTR64,
    DEREF_STRS,
    FD_ARRAY_MAX,
    FD_AT_OFF_MAX,
    FD_AT_PTR,
    FD_AT_PTR64,
    FD_RET,
    LEN_FIELD,
    MSGHDR_CTL_FULL,
    FD_SCM_RIGHTS,
    FD_STRIDE_MAX,
    EntryFlag,
    Op,
    Pers,
    PlanFlag,
)

from ._table import Syscall, Table, load_table

# An array (pollfd[], epoll_event[], ...) is read as a BUF of at most this many
# elements times the element size: strace prints at most -s elements.
ARRAY_MAX_BYTES = 1 << 16
# an inout array (poll's) is read at exit as at least this many elements
INOUT_ARRAY_EXIT_MIN = 64
# buf[..., REF] read up to their own bound instead of -s: a path (getcwd)
# and a socket address are printed whole; a dirent buffer whole, to count
# its entries (strace's `/* 7 entries */`)
# (clone_args, open_how: what strace reads of a versioned struct, its own
# size and the bytes past it it checks for zeros)
BUF_BOUNDS = {"path": PATH_MAX, "sockaddr": 128, "linux_dirent": ARRAY_MAX_BYTES, "linux_dirent64": ARRAY_MAX_BYTES,
              "clone_args": 256, "open_how": 256, "mount_attr": 256,
              "bpf_attr": 4096}  # bpf's attr: its size argument's bytes, a page at most (strace's limit)
# a socket call's data (send, sendto, recv, recvfrom): on a netlink socket
# it is decoded as messages, whose -s limit counts messages and attributes,
# not bytes; which socket it is is known only when the call is decoded
SOCKBUF_MAX = 4096
# setsockopt's value: the bytes (-s of them) or a struct the option names,
# whole whatever -s is (group_req's 136 bytes, the largest strace prints)
SOCKOPT_MAX = 256
# structs read as a BUF of their size (a short read at the end of a mapping kept)
PARTIAL_STRUCTS = frozenset({"sockaddr_storage", "sigset", "fd_set", "sched_attr", "quota_data", "ipc_ctl_buf", "msgbuf", "seccomp_arg", "ptrace_data", "perf_event_attr", "fsconfig_value", "user_desc", "cap_data", "kbsentry", "kbdiacrs", "kbdiacrsuc", "console_font", "kvm_cpuid2"})  # sigset: rt_sigpending(set, 4) reads 4
# structs read as more bytes than their size: select's fd_set is a bitmap of
# nfds bits (strace reads that many, rounded to a long, up to 1M fds); 1024
# bytes cover 8192 fds, and a short read at the end of a mapping is kept
FETCH_SIZES = {"fd_set": 1024}
# ioctl's third argument: a value or a pointer, by request; read at both stops
# (a short read at the end of a mapping is kept) as the size its request
# encodes and 256 bytes more for a flexible array after it (LEN_IOC:
# TCGETS2's 44 bytes, EVIOCGBIT(ev, len)'s len; 512 for an old request that
# encodes none, LOOP_CONFIGURE's 304), at most the largest argument struct the
# ioctl decoder prints (UBI_IOCRNVOL's 4,368 bytes; ioctls.toml's printers
# are held to it by tests/decode/test_ioctl_table.py). Only a request that
# encodes a large size reads that much: a fixed maximum at both stops would
# carry 8.7 KB in every ioctl record.
IOCTL_ARG_MAX = 4368

# --decode-fds sets (strace's names) and the plan flags that add to a link
FD_SETS = frozenset({"path", "socket", "dev", "pidfd"})
_FD_FLAGS = {"socket": PlanFlag.FD_SOCKET, "dev": PlanFlag.FD_DEV, "pidfd": PlanFlag.FD_PIDFD}
_FD_KINDS = frozenset({"fd", "dirfd"})


def fd_plan_flags(fds: Iterable[str]) -> int:
    """The PlanFlag bits of a --decode-fds set (path adds none: the FD ops
    themselves name the path)."""
    out = 0
    for f in fds:
        if f not in FD_SETS:
            raise UsageError(f"invalid decode-fds set '{f}'")
        out |= _FD_FLAGS.get(f, 0)
    return int(out)


def table_struct_size(name: str, pers: Pers) -> int:
    return load_table().struct_size(name, pers)


def fd_ops(sc: Syscall, pers: Pers, *, entry_only: bool = False) -> tuple[list, list]:
    """The FD ops of a call, (entry, exit): its fd arguments named at the
    entry stop (strace prints them at entry: `dup2(4<a>, 1<b>) = 1<a>`),
    the fd pair it writes (pipe, pipe2, socketpair) and an fd it returns at
    the exit stop."""
    entry, exit_ = [], []
    for i, a in enumerate(sc.args_for(pers)):
        if a.kind in _FD_KINDS:
            entry.append((Op.FD, i, LEN_NONE, 0))
        elif a.kind == "struct" and a.ref == "int_pair" and a.dir == "out":
            exit_.append((Op.FD, i, LEN_FIXED, 2))
        elif a.kind == "msghdr":
            # the fds its SCM_RIGHTS messages pass: the sender's at entry,
            # the receiver's new ones at exit (`cmsg_data=[4</dev/null>]`)
            (entry if a.dir == "in" else exit_).append((Op.FD, i, LEN_NONE, FD_SCM_RIGHTS))
        elif sc.name == "clone" and a.name == "parent_tid":
            # with CLONE_PIDFD the pidfd is written there: `parent_tid=[3<anon_inode:[pidfd]>]`
            exit_.append((Op.FD, i, LEN_FIXED, 1))
        elif a.kind == "array" and a.ref == "pollfd" and isinstance(a.len, int):
            # poll's fds, printed at entry: `{fd=3</dev/pts/0>, events=...}`
            entry.append((Op.FD, i, a.len, table_struct_size("pollfd", pers)))
        elif a.kind == "ioctlarg":
            # an fd ioctl takes: its argument itself (NBD_SET_SOCK,
            # LOOP_SET_FD), named at entry, or a field among the
            # first four ints of the struct it points to (SECCOMP_IOCTL_NOTIF_ADDFD's
            # srcfd, LOOP_CONFIGURE's fd), named at exit (the fd table is
            # the entry's unless the call changed it); which one applies is
            # known only from the request, so both are asked for every
            # ioctl under -y: a value that is no open fd costs a failed readlink
            entry.append((Op.FD, i, LEN_NONE, 0))
            exit_.append((Op.FD, i, LEN_FIXED, 4))
            # and the fd a request returns (KVM_CREATE_VM: `4<anon_inode:kvm-vm>`)
            exit_.append((Op.FD, FD_RET, LEN_NONE, 0))
        elif a.kind == "struct" and a.ref == "fd_set" and a.dir in ("in", "inout"):
            # select's sets, printed at entry: `[3</dev/null> 4<pipe:[7]>]`;
            # size 0: a bitmap of as many bits as the nfds argument says
            nfds = [k for k, b in enumerate(sc.args_for(pers)) if b.name == "nfds"]
            if nfds:
                entry.append((Op.FD, i, nfds[0], 0))
    if sc.ret == "fd":
        exit_.append((Op.FD, FD_RET, LEN_NONE, 0))
    if entry_only or sc.noreturn:
        exit_ = []
    return entry, exit_


def effective_set(trace: Iterable, table: Table | None = None) -> dict[tuple[Pers, int], Syscall]:
    """The (pers, nr) -> Syscall map the filter and the plan are built from:
    `trace` plus, on i386, the multiplexer (socketcall/ipc) of every direct
    socket/ipc number in it — libseccomp would otherwise add argument checks
    on the multiplexer, which the kernel's action cache cannot handle."""
    table = table or load_table()
    out: dict[tuple[Pers, int], Syscall] = {}
    for pers, nr in trace:
        pers = Pers(pers)
        sc = table.lookup(pers, nr)
        if sc is None:
            raise UsageError(f"invalid system call number {nr} for personality {pers.name.lower()}")
        out[(pers, nr)] = sc
        if pers == Pers.I386 and sc.subcall is not None:
            mux = table.syscalls[sc.subcall[0]]
            out[(pers, mux.numbers[Pers.I386])] = mux
    return out


def layout_ops(fields, i: int, pers: Pers, strsize: int, abbreviated: bool, fds: bool) -> tuple[list, list]:
    """The ops that follow a struct's layout fields (`[layouts]`) in the
    memory argument i points to: a DEREF per pointer field (its elements:
    at most `max`, `vmax` when the call is printed unabbreviated, -v), an
    FD_AT per fd field when fds are named. (entry, exit)."""
    entry, exit_ = [], []
    for f in fields:
        off = f.off[pers]
        if f.kind == "fd":
            if not fds:
                continue
            op = (Op.FD_AT, i, LEN_NONE, off)
        else:
            argb = i | (DEREF_PTR64 if f.ptr64 else 0) | ((f.elem.bit_length() - 1) << DEREF_ELEM_SHIFT)
            how = f.len[0]
            if how == "field":
                argb |= (f.len[1][pers].bit_length() - 1) << DEREF_LEN_SHIFT
                src, b1 = LEN_FIELD, f.len[2][pers]
            elif how == "fixed":
                src, b1 = LEN_FIXED, f.len[1]
            else:
                src, b1 = f.len[1], 0
            if abbreviated and f.max < 0:  # printed as its address unless -v
                continue
            mx = f.max if abbreviated else f.vmax
            op = (Op.DEREF, argb, src, off | b1 << 8 | mx << 16 | (DEREF_STRS if f.strs else 0))
            if f.fd and fds:  # the int behind the pointer is an fd: named too
                fop = (Op.FD_AT, i | FD_AT_PTR | (FD_AT_PTR64 if f.ptr64 else 0), LEN_NONE, off)
                op = [op, fop]
        for o in op if isinstance(op, list) else [op]:
            if f.dir in ("in", "inout"):
                entry.append(o)
            if f.dir in ("out", "inout"):
                exit_.append(o)
    return entry, exit_


def _arg_ops(a, i: int, pers: Pers, table: Table, strsize: int, abbreviated: bool) -> tuple[list, list]:
    """The memory ops of argument i of kind a: (entry, exit)."""
    entry, exit_ = [], []
    k = a.kind
    if k == "path":
        entry.append((Op.CSTR, i, LEN_NONE, PATH_MAX))
    elif k == "str":
        entry.append((Op.CSTR, i, LEN_NONE, 0))
    elif k == "polyptr":
        # what it points to depends on another argument (prctl's option):
        # a C string at entry, and at exit the bytes of its largest
        # struct, as far as they can be read
        entry.append((Op.CSTR, i, LEN_NONE, 0))
        exit_.append((Op.BUF, i, LEN_FIXED, table.struct_size(a.ref, pers)))
    elif k == "strarr" and a.ref == "env" and abbreviated:
        entry.append((Op.STRARR, i, LEN_FIXED, 0))  # count only
    elif k == "strarr":
        entry.append((Op.STRARR, i, LEN_NONE, 0))
    elif k == "buf":
        src = LEN_RET if a.len == "ret" else a.len
        # bounded by -s, except what strace prints whole: a path (getcwd)
        # and a socket address (at most a sockaddr_storage)
        # -s bytes and one more: strace reads that many of a buffer it
        # prints (printstr_ex), and one it cannot read is its address
        size = BUF_BOUNDS.get(a.ref, 0) or strsize + 1
        if a.ref == "sockbuf":
            size = max(SOCKBUF_MAX, strsize)
        elif a.ref == "sockopt":
            size = max(SOCKOPT_MAX, strsize)
        if a.dir in ("in", "inout") and src != LEN_RET:
            entry.append((Op.BUF, i, src, size))
        if a.dir in ("out", "inout"):
            exit_.append((Op.BUF, i, src, size))
    elif k in ("struct", "sigset"):
        size = FETCH_SIZES.get(a.ref) or table.struct_size(a.ref, pers)
        # a struct whose useful length is shorter than its size (a socket
        # address in a 110-byte buffer at the end of a mapping): read as
        # much of it as can be, as BUF does
        op = Op.BUF if a.ref in PARTIAL_STRUCTS else Op.STRUCT
        if a.dir in ("in", "inout"):
            entry.append((op, i, LEN_FIXED, size))
        if a.dir in ("out", "inout"):
            exit_.append((op, i, LEN_FIXED, size))
    elif k == "array":
        # one element more than -s: strace reads the element after the
        # last it prints, to say `...` or `... /* ADDR */` (unreadable)
        esize = table.struct_size(a.ref, pers)
        size = min(esize * (max(strsize, 1) + 1), ARRAY_MAX_BYTES)
        if a.dir in ("in", "inout"):
            entry.append((Op.BUF, i, LEN_FIXED, size))
        if a.dir == "inout":
            # what the call wrote back is looked for in every element
            # (poll's returned events): more of them than -s shows
            exit_.append((Op.BUF, i, LEN_FIXED, min(esize * max(strsize + 1, INOUT_ARRAY_EXIT_MIN), ARRAY_MAX_BYTES)))
        elif a.dir == "out":
            exit_.append((Op.BUF, i, LEN_FIXED, size))
    elif k == "ioctlarg":
        entry.append((Op.BUF, i, LEN_IOC, IOCTL_ARG_MAX))
        exit_.append((Op.BUF, i, LEN_IOC, IOCTL_ARG_MAX))
    elif k == "msghdr":
        # the header and what it points to (name, iovecs, control); for
        # inout also the header at entry: strace shows `msg_namelen=110 => 16`
        # unabbreviated (-v): the control as far as the kernel takes it
        full = 0 if abbreviated else MSGHDR_CTL_FULL
        if a.dir == "in":
            entry.append((Op.MSGHDR, i | full, LEN_NONE, 0))
        else:
            entry.append((Op.STRUCT, i, LEN_FIXED, table.struct_size("msghdr", pers)))
            exit_.append((Op.MSGHDR, i | full, LEN_RET, 0))
    elif k == "mmsghdr":
        # at exit: the first `ret` messages, sent or received, each with
        # its msg_len (written by the kernel) and what its header points to
        exit_.append((Op.MMSGHDR, i, a.len, 0))
    elif k == "iovec":
        if a.dir in ("in", "inout"):
            entry.append((Op.IOVEC, i, a.len, 0))
        if a.dir in ("out", "inout"):
            exit_.append((Op.IOVEC, i, a.len, 0))
    return entry, exit_


def syscall_ops(sc: Syscall, pers: Pers, table: Table, *, strsize: int = 32, entry_only: bool = False, abbreviated: bool = False, fds: bool = False) -> list[tuple[int, int, int, int, int]]:
    """The plan ops of one call: (phase, Op, arg, len_src, size), entry ops first.
    `abbreviated`: the call is printed abbreviated, so an environment
    (strarr[env]) is only counted (`/* 23 vars */`), not fetched. `fds`:
    its fds are named at the stops (FD ops, after the memory ops)."""
    entry, exit_ = [], []
    for i, a in enumerate(sc.args_for(pers)):
        e, x = _arg_ops(a, i, pers, table, strsize, abbreviated)
        entry += e
        exit_ += x
        if a.ref in table.layouts and a.kind in ("struct", "buf", "sigset"):
            e, x = layout_ops(table.layouts[a.ref], i, pers, strsize, abbreviated, fds)
            entry += e
            exit_ += x
    # a `$` variant's struct (fcntl$lock's flock, fcntl$owner_ex's
    # f_owner_ex) is read for every call of the syscall (which variant
    # applies is known only from the values), as one BUF of the largest
    # struct at that index (a short read at the end of a mapping kept)
    seen = {(o[1], phase) for phase, ops in ((0, entry), (1, exit_)) for o in ops}
    extra: dict = {}
    for _names, vargs in sc.variants if pers != Pers.I386 else ():
        for i, a in enumerate(vargs):
            if a.kind != "struct" or not a.ref:
                continue
            size = table.struct_size(a.ref, pers)
            for phase, dirs in ((0, ("in", "inout")), (1, ("out", "inout"))):
                if a.dir in dirs and (i, phase) not in seen:
                    extra[(i, phase)] = max(extra.get((i, phase), 0), size)
    for (i, phase), size in sorted(extra.items()):
        (exit_ if phase else entry).append((Op.BUF, i, LEN_FIXED, size))
    if pers in sc.stack:
        off, size = sc.stack[pers]
        entry.append((Op.STACK, off // 8, LEN_FIXED, size))
    # conditional fetches (the table's `fetch`): each one's ops behind as
    # many COND ops as it has conditions, at each stop it reads at
    for conds, a in sc.fetch:
        i = int(a.name[3])
        e, x = _arg_ops(a, i, pers, table, strsize, abbreviated)
        if fds and a.kind in _FD_KINDS:
            e.append((Op.FD, i, LEN_NONE, 0))
        if a.ref in table.layouts:
            le, lx = layout_ops(table.layouts[a.ref], i, pers, strsize, abbreviated, fds)
            e, x = e + le, x + lx
        for ops, out in ((e, entry), (x, exit_)):
            if ops:
                out += [(Op.COND, n, len(ops) + len(conds) - 1 - k, v) for k, (n, v) in enumerate(conds)] + ops
    if entry_only or sc.noreturn:
        exit_ = []
    if fds:
        fe, fx = fd_ops(sc, pers, entry_only=entry_only)
        entry += fe
        exit_ += fx
    elif entry and _netlink_data(sc, pers):
        # no fd naming asked: the socket's fd is named all the same for the
        # calls whose data may be netlink messages, so the decoder knows the
        # protocol (strace asks at the stop too) even when the process is
        # gone by the time the line is printed; the plan's FD_SOCKET flag is
        # set for it (no other FD op exists then). Only where the call has
        # entry ops already, so its filter flags do not change.
        entry.append((Op.FD, 0, LEN_NONE, 0))
    return [(MEM_PHASE_ENTRY, *o) for o in entry] + [(MEM_PHASE_EXIT, *o) for o in exit_]


def _netlink_data(sc: Syscall, pers: Pers) -> bool:
    """The call carries socket data a netlink decoder reads (send/sendto/
    recvfrom's buffer, sendmsg/recvmsg's iovecs) and its fd is argument 0."""
    args = sc.args_for(pers)
    return bool(args) and args[0].kind == "fd" and any(
        (a.kind == "buf" and a.ref == "sockbuf") or a.kind == "msghdr" for a in args)


def entry_flags(sc: Syscall, ops, *, entry_only: bool = False) -> int:
    """EntryFlag bits: the same 16 bits ride in SECCOMP_RET_TRACE's data."""
    flags = 0
    if not entry_only and not sc.noreturn:
        flags |= EntryFlag.EXIT
    if any(o[0] == MEM_PHASE_ENTRY for o in ops):
        flags |= EntryFlag.FETCH_ENTRY
    if any(o[0] == MEM_PHASE_EXIT for o in ops):
        flags |= EntryFlag.FETCH_EXIT
    return int(flags)


def trace_flags(trace: Iterable, *, entry_only: bool = False, table: Table | None = None, fds: bool = False) -> dict[tuple[Pers, int], int]:
    """(pers, nr) -> EntryFlag bits for every entry of the effective set
    (`fds`: the plan names fds, which may add fetches)."""
    table = table or load_table()
    out = {}
    for (pers, nr), sc in effective_set(trace, table).items():
        out[(pers, nr)] = entry_flags(sc, syscall_ops(sc, pers, table, entry_only=entry_only, fds=fds), entry_only=entry_only)
    return out


def build_plan(trace: Iterable, *, strsize: int = 32, cpu_time: bool = False, entry_only: bool = False, abbrev: Iterable | None = None, tamper=None, paths: Iterable[str] = (), fds: Iterable[str] = ()) -> bytes:
    """The fetch plan for a trace set, in tracerd._wire's binary format: one
    entry per selected (pers, nr) (even with no ops), sorted by (pers, nr).
    `abbrev`: the (pers, nr) printed abbreviated (strace's -e abbrev=; None =
    none): their environments are counted, not fetched. `tamper`: the
    -e inject=/fault= rules, (pers, nr) -> Inject (bpfgen.tamper_map): a
    tamper section follows the entries; `paths` (-P) restrict it to calls
    that name one. `fds`: the --decode-fds sets ("path", "socket", "dev",
    "pidfd") to name fds with at the stops (-y: path; -yy: all; -P alone:
    path); empty: no fd is named, and nothing is spent on it."""
    if not 0 <= strsize < 1 << 32:
        raise UsageError(f"invalid -s argument: '{strsize}'")
    from . import _cache
    from ._tamper import build_tamper

    trace = frozenset(trace)
    abbrev = frozenset(abbrev) if abbrev is not None else frozenset()
    section = build_tamper(tamper or {}, paths=tuple(paths))
    fds = frozenset(fds)
    fd_plan_flags(fds)  # a bad set is refused before the cache is asked
    key = _cache.derived_key(
        "plan", sorted((int(p), int(n)) for p, n in trace), strsize, bool(cpu_time), bool(entry_only),
        sorted((int(p), int(n)) for p, n in abbrev), section.hex(), *((sorted(fds),) if fds else ()),
    )
    return _cache.cached_bytes(
        "plan-", key,
        lambda: _build_plan(trace, strsize, cpu_time, entry_only, abbrev, section, fds),
        lambda plan: len(plan) >= PLAN_HEADER.size and PLAN_HEADER.unpack_from(plan)[:2] == (PLAN_MAGIC, PLAN_VERSION),
    )


def _build_plan(trace, strsize: int, cpu_time: bool, entry_only: bool, abbrev: frozenset, section: bytes = b"", fds: frozenset = frozenset()) -> bytes:
    abbrev = frozenset((Pers(p), n) for p, n in abbrev)
    table = load_table()
    eff = effective_set(trace, table)
    if len(eff) > 0xFFFF:
        raise UsageError("too many system calls for one fetch plan")
    flags = (PlanFlag.CPU_TIME if cpu_time else 0) | (PlanFlag.TAMPER if section else 0) | fd_plan_flags(fds)
    parts = [b""]
    any_fd = nl_fd = False
    for (pers, nr) in sorted(eff):
        sc = eff[(pers, nr)]
        ops = syscall_ops(sc, pers, table, strsize=strsize, entry_only=entry_only, abbreviated=(pers, nr) in abbrev, fds=bool(fds))
        any_fd = any_fd or any(o[1] == Op.FD for o in ops)
        nl_fd = nl_fd or (any(o[1] == Op.FD and o[2] == 0 for o in ops) and _netlink_data(sc, pers))
        parts.append(PLAN_ENTRY.pack(int(pers), len(ops), entry_flags(sc, ops, entry_only=entry_only), nr))
        parts.extend(PLAN_OP.pack(phase, int(kind), arg, src, size) for phase, kind, arg, src, size in ops)
    if any_fd and not fds:  # the netlink calls' own FD ops (syscall_ops) want the socket's protocol
        flags |= PlanFlag.FD_SOCKET
    elif nl_fd:  # -y names paths only: a netlink call's socket still needs its protocol (not printed)
        flags |= PlanFlag.FD_SOCKET
    parts[0] = PLAN_HEADER.pack(PLAN_MAGIC, PLAN_VERSION, len(eff), strsize, flags)
    parts.append(section)
    return b"".join(parts)


def parse_plan(buf: bytes) -> dict:
    """Read a fetch plan back into plain data (JSON-able): header fields and
    entries [{pers, nr, flags, ops: [{phase, kind, arg, len, size}]}].
    Raises ValueError on a malformed plan."""
    buf = bytes(buf)
    if len(buf) < PLAN_HEADER.size:
        raise ValueError("fetch plan shorter than its header")
    magic, version, count, strsize, flags = PLAN_HEADER.unpack_from(buf)
    if magic != PLAN_MAGIC:
        raise ValueError(f"bad fetch plan magic {magic!r}")
    if version != PLAN_VERSION:
        raise ValueError(f"unsupported fetch plan version {version}")
    off = PLAN_HEADER.size
    entries = []
    prev = None
    for _ in range(count):
        if off + PLAN_ENTRY.size > len(buf):
            raise ValueError("fetch plan truncated in an entry")
        pers, nops, eflags, nr = PLAN_ENTRY.unpack_from(buf, off)
        off += PLAN_ENTRY.size
        if pers > max(Pers):
            raise ValueError(f"bad personality {pers} in fetch plan")
        if prev is not None and (pers, nr) <= prev:
            raise ValueError("fetch plan entries not sorted by (pers, nr)")
        prev = (pers, nr)
        ops = []
        for _ in range(nops):
            if off + PLAN_OP.size > len(buf):
                raise ValueError("fetch plan truncated in an op")
            phase, kind, arg, src, size = PLAN_OP.unpack_from(buf, off)
            off += PLAN_OP.size
            if kind == Op.MSGHDR and (arg & 7) <= 5 and not arg & ~(7 | MSGHDR_CTL_FULL):
                arg_ok = True
            else:
                arg_ok = arg <= 5 or kind in (Op.STACK, Op.FD, Op.DEREF, Op.FD_AT)
            if phase not in (MEM_PHASE_ENTRY, MEM_PHASE_EXIT) or kind not in set(Op) or not arg_ok:
                raise ValueError(f"bad op ({phase}, {kind}, {arg}) in fetch plan")
            if kind == Op.DEREF:
                if (arg & 7) > 5 or not (src <= 5 or src in (LEN_FIXED, LEN_FIELD)) or (
                        src != LEN_FIELD and arg >> DEREF_LEN_SHIFT & 3):
                    raise ValueError(f"bad deref op ({phase}, {arg}, {src}) in fetch plan")
                ops.append({"phase": phase, "kind": kind, "arg": arg, "len": src, "size": size})
                continue
            if kind == Op.FD_AT and (src != LEN_NONE or size >= FD_AT_OFF_MAX or (arg & 7) > 5
                                     or arg & ~(7 | FD_AT_PTR | FD_AT_PTR64) or (arg & FD_AT_PTR64 and not arg & FD_AT_PTR)):
                raise ValueError(f"bad fd_at op ({phase}, {arg}, {size}) in fetch plan")
            if kind == Op.COND:
                if not 1 <= src <= COND_MAX:
                    raise ValueError(f"bad cond op ({phase}, {arg}, {src}) in fetch plan")
                ops.append({"phase": phase, "kind": kind, "arg": arg, "len": src, "size": size})
                continue
            if kind == Op.FD and (arg > FD_RET or (arg == FD_RET and (phase != MEM_PHASE_EXIT or src != LEN_NONE))
                                  or src in (LEN_RET,) or (src == LEN_FIXED and size > FD_ARRAY_MAX)
                                  or (src <= 5 and size != 0 and not 4 <= size <= FD_STRIDE_MAX)):
                raise ValueError(f"bad fd op ({phase}, {arg}, {src}) in fetch plan")
            if (not (src <= 5 or src in (LEN_RET, LEN_FIXED, LEN_NONE, LEN_IOC)) or (src == LEN_RET and phase != MEM_PHASE_EXIT)
                    or (src == LEN_IOC and kind != Op.BUF)):
                raise ValueError(f"bad length source {src} in fetch plan")
            ops.append({"phase": phase, "kind": kind, "arg": arg, "len": src, "size": size})
        for j, o in enumerate(ops):  # a COND gates ops of its own phase within its entry
            if o["kind"] == Op.COND and (j + o["len"] >= len(ops) or any(p["phase"] != o["phase"] for p in ops[j + 1:j + 1 + o["len"]])):
                raise ValueError(f"bad cond op: gates {o['len']} ops past its entry or phase")
        entries.append({"pers": pers, "nr": nr, "flags": eflags, "ops": ops})
    out = {"version": version, "strsize": strsize, "flags": flags, "entries": entries}
    if flags & PlanFlag.TAMPER:
        from ._tamper import parse_tamper

        out["tamper"], out["tamper_paths"], off = parse_tamper(buf, off)
        known = {(e["pers"], e["nr"]) for e in entries}
        for r in out["tamper"]:
            if (r["pers"], r["nr"]) not in known:
                raise ValueError(f"tamper rule for ({r['pers']}, {r['nr']}) without a plan entry")
    if off != len(buf):
        raise ValueError(f"{len(buf) - off} trailing bytes after the fetch plan")
    return out
