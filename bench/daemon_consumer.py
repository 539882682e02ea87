"""Through the daemon: what a record costs the client and the daemon.

    python bench/daemon_consumer.py [--rounds N] [--base CHECKOUT] [--records N]

Two measurements, each taken for this checkout and, with --base, for
another one (its own .venv, set up with scripts/setup), alternating round by
round so that both see the same machine load; medians and the ratio
this / base are printed.

- client: tracectl's side of a session through the daemon, alone. The
  `getppid` and `fork` captures of bench/bench_decode.py, cut into frames of
  64 records, go as the daemon's byte stream (hello, frames, End) into one end
  of a socketpair, written by a thread; the other end is a `Client`
  (client/_remote.py) and a RemoteAttach's `frames()` -> `iter_records` ->
  `Printer.feed`, a flush per frame, as trace() runs them. CPU of the
  reading thread only (thread_time), in µs per record: "frames" without the
  printer (the protocol's share), "printed" with it.
- daemon: a private daemon of the checkout, `tracectl --socket S run -f -e
  trace=getppid -o /dev/null getppid N`, then with N/10: the daemon's own
  CPU (/proc/PID/stat, 10 ms ticks: use a large N) per record forwarded, and tracectl's with
  its command (rusage of the reaped child), both as the difference of the
  two runs over the difference of their records (what a session costs
  whatever its length, its start and the warm worker spawned after it,
  cancels out).

Needs root (ptrace) and gcc.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SESSION = 1


def client_part(frame: int) -> dict:
    """In the checkout's interpreter: µs per record of the client side."""
    import socket

    sys.path.insert(0, HERE)
    import bench_decode as bd

    from tracerd import _protocol as P
    from tracerd import _wire
    from tracerd.client import _remote

    out = {}
    for name in ("getppid", "fork"):
        payloads, n, root = bd.load_frames(bd.capture(name), frame)
        srv = P.Connection(P.SERVER)
        srv.receive_data(P.Connection(P.CLIENT).send(P.Hello()))
        srv.next_event()
        head = srv.send(P.Hello(agent="bench"))
        seq = 0
        body = []
        for p in payloads:
            cnt = len(_wire.iter_records(p))
            body.append(_wire.FRAME_HEADER.pack(_wire.FRAME_MAGIC, _wire.WIRE_VERSION, 0, SESSION, seq, cnt, len(p)) + p)
            seq += cnt
        stream = head + b"".join(body) + srv.send(P.End(SESSION, "exited", 0))
        opts = bd.run_options(bd.CAPTURES[name][2])
        for printed in (False, True):
            per = []
            for _ in range(5):
                a, b = socket.socketpair()
                a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
                t = threading.Thread(target=lambda: (a.sendall(stream), a.shutdown(socket.SHUT_WR)))
                t.start()
                src = _remote.RemoteAttach("bench", [1], plan=b"")
                client = _remote.Client.__new__(_remote.Client)
                with open(os.devnull, "w") as devnull:
                    t0 = time.thread_time()
                    client._adopt("bench", b)
                    src.client, src.session = client, SESSION
                    if printed:
                        p = bd.make_printer(opts, root, devnull)
                        feed = p.feed
                        for _f, _c, payload in src.frames():
                            for rec in _wire.iter_records(payload):
                                feed(rec)
                            p.flush()
                        p.finish()
                    else:
                        for _f, _c, payload in src.frames():
                            _wire.iter_records(payload)
                    dt = time.thread_time() - t0
                t.join()
                a.close()
                b.close()
                assert src.end is not None, "the stream did not end with End"
                per.append(dt / n * 1e6)
            out[f"{name} {'printed' if printed else 'frames'}"] = min(per)
    return out


def forward_part(frame: int, nframes: int = 4000) -> dict:
    """In the checkout's interpreter: the daemon's forwarding path alone, µs
    of this thread's CPU per record: a worker's frames (`frame` records of
    the getppid capture each) come in through a pipe, `Session._forward()`
    cuts them and offers them to one subscriber of a real `Client`, whose
    pump writes them to a socketpair, drained here (the same work in both
    versions). A `Client` speaks the protocol from its hello on."""
    import trio

    sys.path.insert(0, HERE)
    import bench_decode as bd

    from tracerd import _protocol as P
    from tracerd import _wire
    from tracerd.daemon import _server, _session

    payloads, _n, _root = bd.load_frames(bd.capture("getppid"), frame)
    data, seq, n = [], 0, 0
    while len(data) < nframes:
        for p in payloads[:-1]:
            cnt = len(_wire.iter_records(p))
            data.append(_wire.FRAME_HEADER.pack(_wire.FRAME_MAGIC, _wire.WIRE_VERSION, 0, SESSION, seq, cnt, len(p)) + p)
            seq += cnt
    stream = b"".join(data)
    n = seq

    class Daemon:
        records = 0
        dropped_by_session: dict = {}

    async def one() -> float:
        a, b = trio.socket.socketpair()
        peer = type("Peer", (), {"uid": 0, "pid": 0, "gid": 0, "groups": (), "is_root": True})()
        client = _server.Client(Daemon(), a, peer)
        client.proto.receive_data(P.Connection(P.CLIENT).send(P.Hello()))
        client.proto.next_event()
        client.proto.send(P.Hello())
        session = _session.Session.__new__(_session.Session)
        session.id, session.daemon, session.subscribers = SESSION, Daemon(), []
        session.frames = session.records = 0
        session.end_reason, session.end_message = None, ""
        r, w = os.pipe()
        got = 0

        async def drain():
            nonlocal got
            while chunk := await b.recv(1 << 20):
                got += len(chunk)

        async def feed():
            async with trio.lowlevel.FdStream(w) as ws:
                for i in range(0, len(stream), 1 << 16):
                    await ws.send_all(stream[i : i + (1 << 16)])

        async with trio.open_nursery() as nursery:
            client.nursery = nursery
            sub = _session.Subscriber(client, session, "block", True, 64, 1 << 20)
            session.subscribe(sub)
            pumped = trio.Event()

            async def pump():
                await sub.pump()
                pumped.set()

            nursery.start_soon(pump)
            nursery.start_soon(drain)
            nursery.start_soon(feed)
            t0 = time.thread_time()
            await session._forward(trio.lowlevel.FdStream(r))
            sub.close(P.End(SESSION, "exited"))
            await pumped.wait()
            dt = time.thread_time() - t0
            a.close()
        b.close()
        assert session.records == n, (session.records, n)
        return dt / n * 1e6

    return {f"daemon forward ({frame}/frame)": min(trio.run(one) for _ in range(5))}


def _getppid_exe(d: str) -> str:
    src, exe = os.path.join(d, "getppid.c"), os.path.join(d, "getppid")
    with open(src, "w") as f:
        f.write("#include <stdlib.h>\n#include <unistd.h>\n#include <sys/syscall.h>\n"
                "int main(int c, char **v) { long n = atol(v[1]); for (long i = 0; i < n; i++) syscall(SYS_getppid); return 0; }\n")
    subprocess.run(["gcc", "-O2", "-o", exe, src], check=True)
    return exe


def daemon_round(checkout: str, exe: str, records: int) -> dict:
    sys.path.insert(0, HERE)
    from daemon_common import cpu_ns  # /proc/PID/stat: ticks, but threads that ended are counted

    py = os.path.join(checkout, ".venv", "bin", "python")
    tracectl = os.path.join(checkout, ".venv", "bin", "tracectl")
    d = tempfile.mkdtemp(prefix="tracerd-bench-")
    path = os.path.join(d, "tracerd.sock")
    daemon = subprocess.Popen([py, "-m", "tracerd.daemon", "--socket", path, "--log-level", "warning"], stderr=subprocess.DEVNULL, cwd=checkout)
    try:
        for _ in range(500):
            if os.path.exists(path):
                break
            time.sleep(0.02)
        time.sleep(0.3)
        cpu, cli = [], []
        for n in (records // 10, records):
            c0 = cpu_ns(daemon.pid)
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([tracectl, "--socket", path, "run", "-f", "-e", "trace=getppid", "-o", "/dev/null", exe, str(n)], check=True)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(cpu_ns(daemon.pid) - c0)
            cli.append((r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime))
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
        subprocess.run(["rm", "-rf", d])
    # the marginal cost: a run of N/10 records taken from one of N cancels
    # what a session costs whatever its length (start, a warm worker spawned)
    extra = records - records // 10
    return {"daemon": (cpu[1] - cpu[0]) / 1e3 / extra, "tracectl+command": (cli[1] - cli[0]) * 1e6 / extra}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--base", help="another checkout (with its .venv) to compare with")
    ap.add_argument("--records", type=int, default=1000000, help="getppid calls per daemon run (and a tenth of them: the difference is measured)")
    ap.add_argument("--frame", type=int, default=64)
    ap.add_argument("--part", choices=("client", "forward"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.part == "client":
        print(json.dumps(client_part(a.frame)))
        return 0
    if a.part == "forward":
        print(json.dumps({**forward_part(a.frame), **forward_part(4)}))
        return 0
    trees = {"this": ROOT}
    if a.base:
        trees["base"] = os.path.abspath(a.base)
    res: dict = {k: {} for k in trees}
    with tempfile.TemporaryDirectory() as d:
        exe = _getppid_exe(d)
        for r in range(a.rounds):
            for name, tree in (trees.items() if r % 2 == 0 else reversed(list(trees.items()))):
                py = os.path.join(tree, ".venv", "bin", "python")
                got = {}
                for part in ("client", "forward"):
                    got.update(json.loads(subprocess.run([py, os.path.abspath(__file__), "--part", part, "--frame", str(a.frame)],
                                                         check=True, capture_output=True, text=True, cwd=tree).stdout))
                got.update(daemon_round(tree, exe, a.records))
                for k, v in got.items():
                    res[name].setdefault(k, []).append(v)
    keys = list(res["this"])
    print(f"{'µs per record (median of ' + str(a.rounds) + ')':<34}" + "".join(f"{k:>10}" for k in trees) + ("     this/base" if a.base else ""))
    for k in keys:
        med = {t: statistics.median(res[t][k]) for t in trees}
        line = f"{k:<34}" + "".join(f"{med[t]:>10.3f}" for t in trees)
        if a.base:
            line += f"{med['this'] / med['base']:>14.2f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
