"""Second-level memory (DEREF), an fd inside a struct (FD_AT) and
conditional ops (COND), as the loop runs them on a real tracee: getppid
called with arguments that point to structs holding pointers and fds."""

from native_helpers import calls, mem_of, needs_root, run_traced

from _plans import eflags_of, nr_of
from tracerd import _wire
from tracerd._wire import LEN_FIELD, LEN_FIXED, LEN_NONE, Op, Pers, deref_slot, fd_at_slot

pytestmark = needs_root

GETPPID = nr_of("getppid")

# arg0: a struct { u32 count; u32 fd; u64 ptr; } whose ptr points to ints;
# arg1: the COND's selector; the calls: count 3, NULL pointer, unreadable
# struct, a count past the op's bound
PROG = r"""#include <unistd.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <stdint.h>
struct s { uint32_t count; int32_t fd; uint64_t ptr; };
int main(void)
{
	static int v[100] = { 11, 22, 33, 44 };
	int fd = open("/dev/null", O_RDONLY);
	struct s a = { 3, fd, (uint64_t)(uintptr_t)v }, z = { 2, -1, 0 }, big = { 100, fd, (uint64_t)(uintptr_t)v };

	syscall(SYS_getppid, &a, 7, 0, 0, 0, 0);
	syscall(SYS_getppid, &a, 8, 0, 0, 0, 0);
	syscall(SYS_getppid, &z, 7, 0, 0, 0, 0);
	syscall(SYS_getppid, 1, 7, 0, 0, 0, 0);
	syscall(SYS_getppid, &big, 7, 0, 0, 0, 0);
	return 0;
}
"""

# pointer at 8 (64 bits), count the u32 at 0, ints, at most 8
DEREF = (0, Op.DEREF, 0 | _wire.DEREF_PTR64 | 2 << _wire.DEREF_LEN_SHIFT | 2 << _wire.DEREF_ELEM_SHIFT, LEN_FIELD, 8 | 0 << 8 | 8 << 16)
# the same pointer read at exit, two ints (a constant count)
DEREF_FIXED = (1, Op.DEREF, 0 | _wire.DEREF_PTR64 | 2 << _wire.DEREF_ELEM_SHIFT, LEN_FIXED, 8 | 2 << 8)
FD_AT = (0, Op.FD_AT, 0, LEN_NONE, 4)
COND = (0, Op.COND, 1, 2, 7)  # the DEREF and the FD_AT only when arg1 == 7


def test_deref_fd_at_cond(cbuild):
    prog = cbuild("deref", PROG)
    ops = [COND, DEREF, FD_AT, DEREF_FIXED]
    entries = {(Pers.X86_64, "getppid"): (eflags_of(ops), ops)}
    recs, status, _ = run_traced([prog], entries=entries)
    assert status == 0
    got = calls(recs, GETPPID)
    assert len(got) == 5
    ints = [(11).to_bytes(4, "little"), (22).to_bytes(4, "little"), (33).to_bytes(4, "little")]
    a, off, z, bad, big = got
    assert mem_of(a, 0, deref_slot(0, 8)) == b"".join(ints)
    assert mem_of(a, 0, fd_at_slot(0, 4)) == b"/dev/null"
    assert mem_of(a, 1, deref_slot(0, 8)) == b"".join(ints[:2])
    # the COND's argument differs: neither op ran, the exit's did
    assert [(p, s) for p, s, _ in _wire.field(off, "mem")] == [(1, deref_slot(0, 8))]
    # a NULL pointer, a closed fd (-1)
    assert mem_of(z, 0, deref_slot(0, 8)) == -14
    assert mem_of(z, 0, fd_at_slot(0, 4)) == -9
    # the struct itself unreadable
    assert mem_of(bad, 0, deref_slot(0, 8)) == -14 and mem_of(bad, 0, fd_at_slot(0, 4)) == -14
    # a count past the bound: the bound's elements
    assert len(mem_of(big, 0, deref_slot(0, 8))) == 8 * 4
