"""--tips: a tip about tracectl printed on stderr when the trace ends, as
strace prints its "tips, tricks and tweaks" (the tips are tracectl's own;
strace's picture beside the box is not drawn)."""

from __future__ import annotations

import random
import sys

WIDTH = 46  # the text's width inside the box

TIPS = (
    ("tracectl runs every traced call through a",
     "seccomp-BPF filter: calls you did not ask for",
     "never stop the program. -e trace=%file costs",
     "little more than running it untraced."),
    ("A standing trace of a service, without a",
     "terminal: `tracerd` (the daemon) with a rule,",
     "then `tracectl watch SESSION` from anywhere."),
    ("--format=jsonl gives one JSON object per call,",
     "with the arguments by name:",
     "",
     "  tracectl run --format=jsonl -o t.jsonl CMD",
     "  jq 'select(.args.pathname == \"/etc/shadow\")'"),
    ("--format=msgpack -o FILE records a trace",
     "once; `tracectl replay FILE` shows it again",
     "with other options (-c, -e trace=, -y, -tt)."),
    ("`tracectl top CMD` shows the calls of a",
     "command live, sorted by time, like top(1)."),
    ("-c prints strace's table. The times behind it",
     "are nanoseconds: -U p50_time,p99_time adds",
     "latency percentiles (ours, strace has none)."),
    ("--in-kernel puts -e fault= errors that need no",
     "per-call decision into the seccomp filter: the",
     "call fails without a stop (not strace's",
     "semantics: such calls are neither printed nor",
     "counted)."),
)


def render(tip: int | None, fmt: str) -> str:
    """The box for tip number `tip` (taken modulo the number of tips; None:
    a random one). fmt "full" adds a blank line after it, where strace's
    picture ends."""
    n = random.randrange(len(TIPS)) if tip is None else tip % len(TIPS)
    lines = [" " + "_" * (WIDTH + 2), "/" + " " * (WIDTH + 2) + "\\"]
    lines += [f"| {text:<{WIDTH}.{WIDTH}} |" for text in TIPS[n]]
    lines.append("\\" + "_" * (WIDTH + 2) + "/")
    if fmt == "full":
        lines.append("")
    return "\n".join(lines) + "\n"


def print_tip(opts, fp=None) -> None:
    if opts.tips is None:
        return
    fp = fp or sys.stderr
    try:
        fp.write(render(*opts.tips))
        fp.flush()
    except (OSError, ValueError):
        pass
