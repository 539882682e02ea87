"""Backpressure: lossless by default (the tracee waits), drop mode counts what
it drops in LOST records."""

import os

from native_helpers import by_type, calls, needs_root

from _plans import filter_and_plan, nr_of, spec
from tracerd import _wire
from tracerd._wire import Rec

pytestmark = needs_root

WRITER = r"""#include <fcntl.h>
#include <unistd.h>
static char buf[4096];
int main(void){ int fd = open("/dev/null", O_WRONLY); for (int i = 0; i < 1500; i++) write(fd, buf, sizeof buf); return 0; }"""


def _run(prog, drop):
    from tracerd.client._embedded import EmbeddedRun

    bpf, plan = filter_and_plan(spec(["write"]), strsize=4096)
    run = EmbeddedRun([prog], bpf=bpf, plan=plan, drop=drop, stats=True).start()
    return run


def test_drop_mode_counts_losses(cbuild):
    prog = cbuild("writer", WRITER)
    run = _run(prog, True)
    # nobody reads until the command is done: ~6 MB of records meet a 1 MB pipe
    status = run.status()
    recs = list(run.records())
    run.close()
    assert status == 0
    lost = by_type(recs, Rec.LOST)
    counted = sum(_wire.field(r, "count") for r in lost)
    assert counted > 0 and counted == run.stats["lost"]
    seqs = [r[1] for r in recs]
    assert seqs == sorted(seqs)
    gaps = seqs[-1] + 1 - len(seqs)
    # every dropped record left a gap; dropped LOST records carry theirs on
    assert gaps >= counted
    assert len(calls(recs, nr_of("write"))) + counted >= 1500
    assert recs[-1][0] == Rec.EXIT


def test_lossless_by_default(cbuild):
    prog = cbuild("writer", WRITER)
    run = _run(prog, False)
    recs = list(run.records())
    run.close()
    assert run.status() == 0
    assert not by_type(recs, Rec.LOST) and run.stats["lost"] == 0
    assert [r[1] for r in recs] == list(range(len(recs)))
    w = [r for r in calls(recs, nr_of("write")) if _wire.field(r, "args")[2] == 4096]
    assert len(w) == 1500 and all(len(_wire.field(r, "mem")[0][2]) == 4096 for r in w)


def test_frames_respect_batch_size(cbuild):
    from tracerd.client._embedded import EmbeddedRun

    prog = cbuild("writer", WRITER)
    bpf, plan = filter_and_plan(spec(["write"]), strsize=4096)
    run = EmbeddedRun([prog], bpf=bpf, plan=plan, batch_bytes=16384).start()
    sizes = []
    n = 0
    for first, count, payload in run.frames():
        assert first == n
        n += count
        sizes.append(len(payload))
        assert len(_wire.iter_records(payload)) == count
    run.close()
    # a frame is flushed once it passes the batch size: at most one record over
    assert max(sizes) < 16384 + 4096 + 256
