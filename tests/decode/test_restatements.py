"""No family decoder restates the syscall table: each prints something its
table entry alone would not (arguments, how many print at entry, the
return). A decoder that agrees with the table on every sampled record is
deleted, and its call prints from the table (docs/decoding.md, "How a call
is decoded"). The samples are fixed pseudo-random records with memory for
every argument at both stops (bytes, and iovec-shaped lists)."""

from __future__ import annotations

import random

from tracerd._wire import Pers
from tracerd.bpfgen import load_table
from tracerd.client.decode import DecodeOptions, Decoder
from tracerd.client.decode._core import REGISTRY, C, generic_entry_count, ret_text, table_args

T = load_table()

# decoders that agree with the table on these samples but print what the
# samples cannot show
SEMANTICS = {
    "getpriority": "who is a pid or a process group by `which`: --pidns-translation translates it",
    "setpriority": "who is a pid or a process group by `which`: --pidns-translation translates it",
    "ioprio_get": "who is a pid or a process group by `which`: --pidns-translation translates it",
    "process_vm_readv": "the remote vectors are another process's: addresses, never read",
    "process_vm_writev": "the remote vectors are another process's: addresses, never read",
    "rt_sigreturn": "the mask is read off the signal frame (the plan's STACK op), not an argument",
    "bpf": "the attr is decoded by command and size (BPF_PROG_LOAD's layout): random bytes make none",
    "pidfd_getfd": "the target fd is the pidfd's process's, named from its /proc fd table (no such process here)",
}

_VALUES = [0, 1, 2, 3, 8, 16, 0x40, 0x1FF, 0x7FFD1000, -1 & 0xFFFFFFFFFFFFFFFF, -100 & 0xFFFFFFFFFFFFFFFF]


def _mem(rng: random.Random) -> dict:
    mem = {}
    for i in range(6):
        for phase in (0, 1):
            r = rng.random()
            if r < 0.55:
                mem[(phase, i)] = bytes(rng.getrandbits(8) for _ in range(rng.choice([4, 8, 16, 32, 64, 128, 256])))
            elif r < 0.8:  # an iovec array as the fetch gives it: [base, len, data]
                mem[(phase, i)] = [[0x7FFD2000 + 16 * k, 4, b"abcd"] for k in range(rng.choice([1, 2, 3]))]
    return mem


def _agrees(name: str, spec, sc) -> bool:
    """Whether decoder and table print the same on every sample."""
    if spec.entry != generic_entry_count(sc) and not (spec.entry is None and generic_entry_count(sc) == len(sc.args)):
        return False
    rng = random.Random(name)
    nr = sc.numbers[Pers.X86_64]
    kind = spec.ret if spec.ret is not None else sc.ret
    for style in ("abbrev", "raw", "verbose"):
        for abbrev in (None, frozenset()):
            dec = Decoder(DecodeOptions(xstyle=style, abbrev=abbrev))
            for k in range(40):
                args = [rng.choice(_VALUES) for _ in range(6)]
                ret, err = (rng.choice([0, 1, 3, 16]), False) if k % 2 == 0 else (-22, True)
                mem = _mem(rng)
                for exiting in (True, False):
                    c = C(dec, 0, nr, name, args, ret if exiting else None, err and exiting, mem, 1, exiting, sc)
                    try:
                        mine = list(spec.fn(c))
                    except Exception as exc:  # noqa: BLE001 - a failure is a difference
                        mine = [repr(exc)]
                    try:
                        table = list(table_args(c))
                    except Exception as exc:  # noqa: BLE001
                        table = [repr(exc)]
                    if mine != table:
                        return False
                    if exiting and ret_text(c, kind) != ret_text(c, sc.ret):
                        return False
    return True


def test_no_decoder_restates_its_table_entry():
    restating = []
    for name, spec in sorted(REGISTRY.items()):
        sc = T.syscalls.get(name)
        if sc is None or Pers.X86_64 not in sc.numbers or not sc.described or sc.variants or name in SEMANTICS:
            continue
        if _agrees(name, spec, sc):
            restating.append(name)
    assert restating == [], "decoders that print what the table prints: delete them"


def test_the_exceptions_are_decoders():
    assert set(SEMANTICS) <= set(REGISTRY)
