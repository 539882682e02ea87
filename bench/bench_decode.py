"""The consumer alone: what tracectl's decoding costs per record.

    python bench/bench_decode.py [--runs N] [--frame N] [--recapture] [--profile NAME]

Records two real streams once (`tracectl --embedded run --format=msgpack -o
FILE`, kept in bench/.bin/captures/), then replays each through the path
`trace()` (client/_cmd_run.py) takes for every frame: the frame payload ->
`tracerd._wire.iter_records` -> `Printer.feed` (decoding to strace text) ->
`Printer.flush`, output to /dev/null as `-o /dev/null` writes it. The ptrace
loop is not in the figure: this is the CPU the consumer takes, which on a
2-CPU machine is CPU the tracer and the tracees do not get.

Captures:
  fork     `sh -c 'for i in $(seq 300); do /bin/true; done'`, -f, everything
           traced (the fork-heavy benchmark's workload, shorter)
  getppid  20000 raw getppid calls, -e trace=getppid (the traced-loop benchmark)
  mixed    a tar of two doc directories, git status, a python3 import, -f,
           everything traced (stat structs, buffers, getdents, mmaps: the
           real-workloads benchmark's kinds of calls)
  threads  four threads passing a token through a condition variable, each
           sleeping (nanosleep, clock_nanosleep) and waiting (epoll_wait,
           wait4 on a child) in turn, -f: calls split into `<unfinished
           ...>` / `<... resumed>` all the time, most of them printed by
           family decoders (futex, the sleeps, the waits)

Output: µs of process CPU per record for each capture: the median (and the
min and max) of --runs replays, each with a fresh Printer and Decoder, as a
new tracectl has. On this shared 2-CPU machine the CPU time of the same work
moves by up to 2x with the other load: compare two versions by alternating
runs, and trust the minimum more than the median.
Needs root (ptrace) and gcc for the capture; a replay needs neither.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CAPDIR = os.path.join(HERE, ".bin", "captures")
TRACECTL = os.path.join(os.path.dirname(sys.executable), "tracectl")

GETPPID_C = r"""#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
	long n = atol(argv[1]);
	for (long i = 0; i < n; i++) syscall(SYS_getppid);
	return 0;
}
"""

THREADS_C = r"""#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/wait.h>
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds;
static void *worker(void *p) {
	int me = (int)(long)p, ep = epoll_create1(0);
	struct epoll_event ev[4];
	struct timespec ts = { 0, 200000 };
	for (int i = 0; i < rounds; i++) {
		pthread_mutex_lock(&mu);
		while (turn % 4 != me)
			pthread_cond_wait(&cv, &mu);
		turn++;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		nanosleep(&ts, NULL);
		clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		epoll_wait(ep, ev, 4, 1);
		if (i % 8 == 0) {
			pid_t c = fork();
			if (c == 0)
				_exit(3);
			int st;
			wait4(c, &st, 0, NULL);
		}
	}
	return NULL;
}
int main(int argc, char **argv) {
	pthread_t t[4];
	rounds = atoi(argv[1]);
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}
"""

# name -> (tracectl options, command, options of the replayed run)
CAPTURES = {
    "fork": (["-f"], ["sh", "-c", "for i in $(seq 300); do /bin/true; done"], ["-f", "-o", "/dev/null"]),
    "getppid": (["-f", "-e", "trace=getppid"], ["@getppid", "20000"], ["-f", "-o", "/dev/null", "-e", "trace=getppid"]),
    "threads": (["-f"], ["@threads", "400"], ["-f", "-o", "/dev/null"]),
    "mixed": (["-f"], ["sh", "-c", "tar -cf /dev/null /usr/share/doc/python3* /usr/share/doc/gcc* 2>/dev/null; git -C @root status >/dev/null; python3 -c 'import json, email.parser'"],
              ["-f", "-o", "/dev/null"]),
}


def _exe(name: str, source: str, *libs: str) -> str:
    os.makedirs(CAPDIR, exist_ok=True)
    src, exe = os.path.join(CAPDIR, name + ".c"), os.path.join(CAPDIR, name)
    if not os.path.exists(exe):
        with open(src, "w") as f:
            f.write(source)
        subprocess.run(["gcc", "-O2", "-o", exe, src, *libs], check=True)
    return exe


def capture(name: str, force: bool = False) -> str:
    """The recorded stream of `name` (recorded now if missing): one msgpack
    record after another, as --format=msgpack writes them."""
    path = os.path.join(CAPDIR, name + ".mp")
    if os.path.exists(path) and not force:
        return path
    os.makedirs(CAPDIR, exist_ok=True)
    topts, argv, _ = CAPTURES[name]
    progs = {"@getppid": lambda: _exe("getppid", GETPPID_C), "@threads": lambda: _exe("threads", THREADS_C, "-pthread")}
    argv = [progs[a]() if a in progs else a.replace("@root", ROOT) for a in argv]
    subprocess.run([TRACECTL, "--embedded", "run", *topts, "--format=msgpack", "-o", path, "--", *argv],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def load_frames(path: str, frame: int) -> tuple[list[bytes], int, int]:
    """(frame payloads of `frame` records each, record count, first tid)."""
    import msgpack

    with open(path, "rb") as f:
        data = f.read()
    unp = msgpack.Unpacker(raw=False, strict_map_key=False)
    unp.feed(data)
    pack = msgpack.Packer().pack
    recs = [pack(r) for r in unp if isinstance(r, list)]  # maps: the recording header (docs/seeing.md)
    first_tid = msgpack.unpackb(recs[0], raw=False, strict_map_key=False)[3]
    frames = [b"".join(recs[i : i + frame]) for i in range(0, len(recs), frame)]
    return frames, len(recs), first_tid


def run_options(opts_argv: list[str]):
    """The RunOptions of `tracectl run OPTS`."""
    from tracerd.client._cli import build_parser
    from tracerd.client._options import resolve

    return resolve(build_parser("run").parse_args(["run", *opts_argv, "--", "true"]))


def make_printer(opts, root: int, out):
    """A Printer and Decoder as trace() (client/_cmd_run.py) builds them."""
    from tracerd.client._output import Printer
    from tracerd.client.decode import Decoder

    return Printer(opts, Decoder(opts.decode), out, notes=io.StringIO(), roots=[root], launched=True, batch=True)


def replay(frames, root: int, opts_argv: list[str], out) -> float:
    """One replay; returns the process CPU seconds it took (option parsing
    left out: it is start-up, not decoding)."""
    from tracerd._wire import iter_records

    opts = run_options(opts_argv)
    t0 = time.process_time()
    p = make_printer(opts, root, out)
    feed = p.feed
    for payload in frames:
        for rec in iter_records(payload):
            feed(rec)
        p.flush()
    p.finish()
    return time.process_time() - t0


def measure(name: str, runs: int, frame: int) -> tuple[float, int, list[float]]:
    """(median µs per record, records, every run's µs per record)."""
    frames, n, root = load_frames(capture(name), frame)
    opts_argv = CAPTURES[name][2]
    with open(os.devnull, "w", encoding="utf-8", errors="backslashreplace") as out:
        replay(frames, root, opts_argv, out)  # warm: imports, the syscall table
        per = [replay(frames, root, opts_argv, out) / n * 1e6 for _ in range(runs)]
    return statistics.median(per), n, per


def render(name: str, frame: int, path: str | None, extra: list[str]) -> None:
    """Write the replayed text of `name` to `path` (stdout if None): to check
    that a change leaves the output byte-identical."""
    frames, _n, root = load_frames(capture(name), frame)
    out = open(path, "w", encoding="utf-8", errors="backslashreplace") if path else sys.stdout
    opts = [o for o in CAPTURES[name][2] if o not in ("-o", "/dev/null")] + extra
    if path:
        opts = opts + ["-o", path]
    replay(frames, root, opts, out)
    if path:
        out.close()


def instructions(name: str, replays: int, frame: int) -> int:
    """Instructions (callgrind's Ir) of a process that replays `name`
    `replays` times; two counts apart give a replay's own (start-up and the
    first replay's memo misses cancel out)."""
    import re
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg.out", sys.executable, os.path.abspath(__file__),
                            "--only", name, "--frame", str(frame), "--replays", str(replays)], capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"callgrind failed: {p.stderr[-500:]}")
    return int(m.group(1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="bench_decode", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="replays per capture (median)")
    ap.add_argument("--frame", type=int, default=64, help="records per replayed frame (the worker's batches carry ~50-500)")
    ap.add_argument("--recapture", action="store_true", help="record the streams again")
    ap.add_argument("--only", action="append", choices=sorted(CAPTURES), help="this capture only (repeatable)")
    ap.add_argument("--profile", metavar="NAME", choices=sorted(CAPTURES), help="cProfile one replay of NAME instead")
    ap.add_argument("--render", metavar="NAME", choices=sorted(CAPTURES), help="print NAME's replayed text (with the options after --)")
    ap.add_argument("-O", "--output", help="with --render: write here")
    ap.add_argument("--callgrind", action="store_true", help="count instructions per record instead (valgrind): machine noise does not move it")
    ap.add_argument("--replays", type=int, help=argparse.SUPPRESS)  # (callgrind's child) replay this many times, untimed
    ap.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    sys.path.insert(0, ROOT)
    names = a.only or list(CAPTURES)
    if a.recapture:
        for name in names:
            capture(name, force=True)
    if a.render:
        render(a.render, a.frame, a.output, a.extra)
        return 0
    if a.replays is not None:
        for name in names:
            frames, _n, root = load_frames(capture(name), a.frame)
            with open(os.devnull, "w", encoding="utf-8", errors="backslashreplace") as out:
                for _ in range(a.replays):
                    replay(frames, root, CAPTURES[name][2], out)
        return 0
    if a.callgrind:
        for name in names:
            _f, n, _r = load_frames(capture(name), a.frame)
            ir = {k: instructions(name, k, a.frame) for k in (1, 3)}
            print(f"{name:8s} {n:6d} records  {(ir[3] - ir[1]) / 2 / n:8.0f} instructions/record (callgrind; a warm replay)", flush=True)
        return 0
    if a.profile:
        import cProfile
        import pstats

        frames, _n, root = load_frames(capture(a.profile), a.frame)
        with open(os.devnull, "w") as out:
            replay(frames, root, CAPTURES[a.profile][2], out)
            prof = cProfile.Profile()
            prof.enable()
            replay(frames, root, CAPTURES[a.profile][2], out)
            prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return 0
    for name in names:
        med, n, per = measure(name, a.runs, a.frame)
        print(f"{name:8s} {n:6d} records  median {med:6.2f} µs/record  min {min(per):6.2f}  max {max(per):6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
