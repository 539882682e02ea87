"""The worker config's one home: every key, its default, and its C form.

`WorkerConfig` (native/_channel.py) takes its keys and defaults from
`FIELDS`; the C loop's `struct tr_config` is generated from the same table
(`c_header()`, written to native/tr_config.h by native/_build.py at build
time: not committed), and `fill()` copies a config into that struct in the
worker, key by key, by the same C forms. A key is added here and nowhere
else (docs/protocol.md, "Worker config", describes each; a test holds that
table to these keys).

C forms:

- ``int``, ``u32``, ``size``: one member of that C type (int, unsigned
  int, size_t) named as the key; a u32 keeps the value's low 32 bits.
- ``bool``: an int member, 0 or 1.
- ``enum:A,B``: an int member, the index of the value among A, B; the header
  defines ``TR_KEY_A`` = 0, ``TR_KEY_B`` = 1 (``TR_MODE_ATTACH``).
- ``bytes``: ``const unsigned char *KEY`` and ``size_t KEY_len``.
- ``int[]``: ``const int *KEY`` and ``int KEY_len``.
- ``pers_nr[]``: pairs (pers, nr) as ``const uint64_t *KEY`` holding
  ``(pers << 32) | nr``, and ``int KEY_len``.
- ``None``: the Python side's alone (not in the struct).

Imports nothing: native/_build.py runs this file before the package exists.
"""

# key: (default, C form, what it is: the C member's comment)
FIELDS = {
    "mode": ("launch", "enum:launch,attach", "launch: the one waiting child; attach: seize every thread of pids"),
    "pids": ((), "int[]", "the processes to trace"),
    "plan": (b"", "bytes", "the fetch plan (docs/fetch-plan.md)"),
    "session": (0, "u32", "copied into every frame header"),
    "flush_ms": (20, "int", "tick: blocked calls announced, the batch flushed"),
    "batch_bytes": (65536, "size", "flush once a batch passes this size"),
    "drop": (False, "bool", "never block on the consumer: drop whole batches, count them"),
    "colocate": (False, "bool", "pin the worker and (launch) the command to the worker's CPU"),
    "linger_us": (
        10000,
        "int",
        "how long a non-empty batch may wait for more records when the loop is about to block (0: flush at once)",
    ),
    "wait": (
        "blocking",
        "enum:poll,blocking",
        "poll: signalfd + ctl fd + timerfd in one poll; blocking: block in wait4, ticks by SIGALRM",
    ),
    "entry_lines": (
        (),
        "pers_nr[]",
        "sync mode: the calls whose entry is a record of its own, sent before the call runs"
        " (a write's head before the data it writes, as strace prints it)",
    ),
    "inject_bpf": (
        b"",
        "bytes",
        "attach mode: a seccomp filter (struct sock_filter array) injected into every seized process;"
        " empty: plain syscall stops",
    ),
    "no_follow": (
        False,
        "bool",
        "launch: trace the command alone, with plain syscall stops (no filter was installed; its"
        " children are not followed), as strace without -f",
    ),
    "daemonized": (
        False,
        "bool",
        "launch with -D: the command is the client's caller, not ours to kill: no PTRACE_O_EXITKILL,"
        " SIGTERM and SIGHUP ignored (the command's process group or session may get them), and the"
        " end (consumer gone, DETACH) turns pass-through until the command exits, as after an injected"
        " filter's detach",
    ),
    "pid_level": (
        0,
        "int",
        "records name tasks as the pid namespace this many levels below the worker's numbers them"
        " (0: the worker's own numbers): the daemon's worker for a client in a pid namespace of its"
        " own numbers tasks as that client does (docs/daemon.md, \"Clients in a pid namespace\")",
    ),
    # the fds, the worker's ends (set by Channel)
    "out_fd": (-1, "int", "frames are written here"),
    "ctl_fd": (-1, "int", "control messages are read here"),
    "ready_fd": (-1, "int", "the ready byte (or E and a message) is written here, then closed"),
    "stats_fd": (-1, None, "the final counters (written by the worker's Python side)"),
    "ack_fd": (
        -1,
        "int",
        "> 0: sync mode: before each resume what is batched is flushed and the loop waits until the"
        " consumer writes here the 8-byte (little-endian) sequence number that follows the last record"
        " it has printed",
    ),
    "passthru_fd": (
        -1,
        "int",
        "with inject_bpf: P is written here (then closed) when the loop turns pass-through; closed"
        " without a byte when it ends",
    ),
}

_SCALAR = {"int": "int", "u32": "unsigned int", "size": "size_t", "bool": "int"}


def choices(key: str) -> tuple:
    """The values an ``enum:`` key takes, in the order of their C numbers."""
    form = FIELDS[key][1]
    return tuple(form[len("enum:"):].split(","))


def c_header() -> str:
    """`struct tr_config` and the enum constants of its ``enum:`` keys, as C
    (the body of native/tr_config.h, also pasted into cffi's cdef)."""
    enums, members = [], []
    for key, (_default, form, doc) in FIELDS.items():
        if form is None:
            continue
        members.append(f"\t/* {key}: {doc} */")
        if form in _SCALAR:
            members.append(f"\t{_SCALAR[form]} {key};")
        elif form.startswith("enum:"):
            names = ", ".join(f"TR_{key.upper()}_{v.upper()} = {i}" for i, v in enumerate(choices(key)))
            enums.append(f"enum tr_{key} {{ {names} }};")
            members.append(f"\tint {key};")
        elif form == "bytes":
            members += [f"\tconst unsigned char *{key};", f"\tsize_t {key}_len;"]
        elif form == "int[]":
            members += [f"\tconst int *{key};", f"\tint {key}_len;"]
        elif form == "pers_nr[]":
            members += [f"\tconst uint64_t *{key};", f"\tint {key}_len;"]
        else:
            raise ValueError(f"worker config key {key}: unknown C form {form!r}")
    return "\n".join(
        ["/* Generated from native/_config.py's FIELDS by native/_build.py: edit that table, not this. */"]
        + enums
        + ["struct tr_config {"]
        + members
        + ["};", ""]
    )


def fill(ffi, cfg):
    """A `struct tr_config` holding `cfg` (a WorkerConfig), and the cffi
    objects its pointers refer to (keep both alive while the loop runs)."""
    c = ffi.new("struct tr_config *")
    keep = [c]
    for key, (_default, form, _doc) in FIELDS.items():
        v = getattr(cfg, key)
        if form is None:
            continue
        if form == "bool":
            setattr(c, key, bool(v))
        elif form == "u32":
            setattr(c, key, int(v) & 0xFFFFFFFF)
        elif form in _SCALAR:
            setattr(c, key, int(v))
        elif form.startswith("enum:"):
            setattr(c, key, choices(key).index(v))
        else:
            if form == "bytes":
                buf, n = ffi.from_buffer(bytes(v)), len(v)
            elif form == "int[]":
                buf, n = ffi.new("int[]", [int(p) for p in v] or [0]), len(v)
            else:  # pers_nr[]
                buf, n = ffi.new("uint64_t[]", [(int(p) << 32) | int(nr) for p, nr in v] or [0]), len(v)
            keep.append(buf)
            setattr(c, key, buf)
            setattr(c, key + "_len", n)
    return c, keep
