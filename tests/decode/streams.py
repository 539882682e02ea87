"""Recorded output streams: is the decoder's text byte-identical after a change?

    python tests/decode/streams.py record [DIR]        # trace the set once (root)
    python tests/decode/streams.py render [DIR] OUT     # replay each recording under each option set
    python tests/decode/streams.py diff A B             # compare two renders: exit 1 on a difference

`record` runs the everyday parity set (tests/parity/compare.py COMMANDS) and
the golden programs (tests/decode/golden/*.c) under `tracectl --embedded run
-f -v -s 64 -y --format=msgpack`, so that every display option of GRID can be
replayed from it. `render` shows each recording again with `tracectl replay`
under each option set of GRID and writes one text file per (recording,
options). Render before a change, render after, and diff: only the changes
meant may show. DIR defaults to bench/.bin/streams (not committed: the
recordings hold this machine's paths and pids).
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT = ROOT / "bench" / ".bin" / "streams"
TRACECTL = Path(sys.executable).with_name("tracectl")
RECORD = ["-f", "-v", "-s", "64", "-y"]
# display options replayed from each recording (-yy and -c need a live run)
GRID = {
    "plain": [],
    "v": ["-v"],
    "x": ["-x"],
    "xx": ["-xx"],
    "Xverbose": ["-X", "verbose"],
    "Xraw": ["-X", "raw"],
    "s64": ["-s", "64"],
    "y": ["-y"],
    "T": ["-T"],
    "v_Xverbose_s64": ["-v", "-X", "verbose", "-s", "64"],
    "raw_all": ["-e", "raw=all"],
}


def _commands() -> dict[str, list[str]]:
    sys.path.insert(0, str(ROOT / "tests" / "parity"))
    from compare import COMMANDS  # noqa: E402

    return {f"cmd{i}": ["sh", "-c", c] for i, c in enumerate(COMMANDS)}


def record(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="streams-"))
    progs = _commands()
    golden = HERE / "golden"
    for src in sorted(golden.glob("*.c")):
        exe = work / src.stem
        extra = ["-no-pie"] if src.stem == "i386" else []
        subprocess.run(["gcc", "-O0", "-w", "-I", str(golden), "-o", str(exe), str(src), *extra], check=True)
        progs[f"golden_{src.stem}"] = [str(exe), str(work / (src.stem + ".expect"))]
    for name, argv in progs.items():
        out = d / f"{name}.mp"
        subprocess.run([str(TRACECTL), "--embedded", "run", *RECORD, "--format=msgpack", "-o", str(out), "--", *argv],
                       cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        print(f"recorded {out.name}: {out.stat().st_size} bytes")


def render(d: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for mp in sorted(d.glob("*.mp")):
        for gname, opts in GRID.items():
            dst = out / f"{mp.stem}.{gname}.txt"
            res = subprocess.run([str(TRACECTL), "replay", "-f", *opts, "-o", str(dst), str(mp)],
                                 capture_output=True, text=True, timeout=120)
            if res.returncode != 0:
                dst.write_text(f"REPLAY FAILED ({res.returncode}): {res.stderr}")
    synth(out)
    print(f"rendered {len(list(out.glob('*.txt')))} files into {out}")


# argument values of the synthetic calls: flags, fds, AT_FDCWD, garbage in
# the upper half, addresses
_VALUES = [0, 1, 2, 3, 0x40, 0x241, 0x80000, 0o644, -1, -100, 0xDEADBEEF00000003, 0x7FFD1000, 0x1FF, 0x4000]


def synth(out: Path) -> None:
    """Every table syscall of every personality with fixed pseudo-random
    arguments and memory, decoded in-process whole and split (entry +
    resumed), under three -X styles: covers the calls the recordings do not
    make."""
    import random

    sys.path.insert(0, str(ROOT))
    from tracerd._wire import Pers, Rec, record
    from tracerd.bpfgen import load_table
    from tracerd.client.decode import DecodeOptions, Decoder

    t = load_table()
    mem = [[0, i, b"/etc/x\0" + bytes(range(1, 120))] for i in range(6)]
    for style in ("abbrev", "verbose", "raw"):
        dec = Decoder(DecodeOptions(xstyle=style))
        rng = random.Random(9)
        lines = []
        for pers in Pers:
            for nr, sc in sorted(t.numbers(pers).items()):
                for k in range(4):
                    args = [rng.choice(_VALUES) & 0xFFFFFFFFFFFFFFFF for _ in range(6)]
                    ret, err = (3, False) if k % 2 == 0 else (22, True)
                    r = record(Rec.SYSCALL, 1, 0, 100, 100, int(pers), nr, args, -ret if err else ret, err, 0, mem, None, 0)
                    e = record(Rec.SYSCALL_ENTRY, 1, 0, 100, 100, int(pers), nr, args, mem[:2], 0)
                    x = record(Rec.SYSCALL_EXIT, 2, 0, 100, 100, int(pers), nr, -ret if err else ret, err, 0, mem, None, 0)
                    try:
                        lines.append(dec.call(r))
                        lines.append(dec.entry(e) + " <unfinished ...> | " + dec.resumed(x, e))
                    except Exception as exc:  # a decoder failing on odd input is a finding too
                        lines.append(f"{sc.name}: {type(exc).__name__}: {exc}")
        (out / f"synth.{style}.txt").write_text("\n".join(lines) + "\n")


def diff(a: Path, b: Path) -> int:
    changed = 0
    for fa in sorted(a.glob("*.txt")):
        fb = b / fa.name
        la = fa.read_text().splitlines()
        lb = fb.read_text().splitlines() if fb.exists() else ["MISSING"]
        if la != lb:
            changed += 1
            sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(la, lb, str(fa), str(fb), n=0, lineterm=""))
    print(f"{changed} of {len(list(a.glob('*.txt')))} renders differ")
    return 1 if changed else 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("record", "render", "diff"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, rest = argv[0], [Path(p) for p in argv[1:]]
    if cmd == "record":
        record(rest[0] if rest else DEFAULT)
    elif cmd == "render":
        d, out = (rest if len(rest) == 2 else (DEFAULT, rest[0]))
        render(d, out)
    else:
        return diff(rest[0], rest[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
