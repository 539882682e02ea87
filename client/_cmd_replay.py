"""`tracectl replay [OPTIONS] FILE`: show a `--format=msgpack` recording again,
with any output option (-c/-C/-w, -y, -T, -t/-tt/-ttt, -r, -s, -f, -o,
--format=strace|jsonl|perfetto) and -e trace=/status=/signal=, -z/-Z and -P as
display filters. What the recording cannot serve is refused in one line that
names what to record with (docs/seeing.md)."""

from __future__ import annotations

import sys

import msgpack

from tracerd import UsageError

from ._options import add_strace_options, resolve, strict_parser, warnings

# options that change how a command runs: nothing runs here
RUN_ONLY = (("env", "-E"), ("user", "-u"), ("colocate", "--colocate"), ("seccomp_bpf", "--seccomp-bpf"))
FLUSH_EVERY = 256  # records per printer flush (a frame's worth)


def add_parser(subparsers, name, help):
    p = subparsers.add_parser(
        name,
        help=help,
        usage="tracectl replay [-cCwfTtryzZ] [-e trace=|status=|signal=EXPR]... [-P PATH]... [-s STRSIZE] [-o FILE] [--format=strace|jsonl|perfetto] FILE",
        description="Show a recording made with --format=msgpack -o FILE, with strace's output options.",
    )
    add_strace_options(p)
    p.add_argument("argv", nargs=1, metavar="FILE", help="the recording")
    strict_parser(p)
    return p


def run(args) -> int:
    from ._cmd_run import open_output
    from ._printers import make_printer
    from ._recording import explicit_trace, open_recording, refusals, replay_decoder

    for attr, opt in RUN_ONLY:
        if getattr(args, attr, None):
            raise UsageError(f"{opt} changes how a command runs: replay shows a recording")
    path = args.argv[0]
    opts = resolve(args)
    if opts.fmt == "msgpack":
        raise UsageError("replay --format=msgpack: the recording already is one (strace, jsonl or perfetto)")
    header, unpacker, fp = open_recording(path)
    try:
        why = refusals(header, args, opts)
        if why:
            raise UsageError(f"{path}: {why}")
        for w in warnings(args, opts):
            print(f"tracectl: {w}", file=sys.stderr)
        decoder = replay_decoder(opts.decode)
        out, owned = open_output(opts)
        roots = [int(r) for r in header["roots"]] or None
        try:
            printer = make_printer("replay", opts, decoder, out, recording=header, notes=sys.stderr, roots=roots, launched=header["kind"] == "run", batch=True)
            wanted = frozenset((int(p), int(n)) for p, n in opts.trace) if explicit_trace(args) else None
            observe = getattr(decoder, "observe", None)
            n = 0
            try:
                for obj in unpacker:
                    if isinstance(obj, list):
                        if wanted is not None and obj[0] in (1, 2, 3) and (obj[5], obj[6]) not in wanted:
                            if observe is not None:  # not shown: the fd table still follows it
                                try:
                                    observe(obj)
                                except Exception:
                                    pass
                            continue
                        printer.feed(obj)
                        n += 1
                        if n % FLUSH_EVERY == 0:
                            printer.flush()
                    elif isinstance(obj, dict) and obj.get("tracerd") == "fds":
                        decoder.snapshots[int(obj["tgid"])] = obj.get("fds") or {}
                    elif isinstance(obj, dict) and obj.get("tracerd") == "recording":
                        # appended (-A) to an earlier recording: the same rules apply
                        from ._recording import check_header

                        check_header(path, obj)
                        if printer.roots is not None:
                            printer.roots.update(int(r) for r in obj["roots"])
            except (ValueError, msgpack.UnpackException) as exc:
                printer.note(f"{path}: damaged after {n} records ({exc}); the rest is skipped")
            except BrokenPipeError:
                return 0
            printer.finish()
        finally:
            if owned:
                out.close()
    finally:
        fp.close()
    return 0
