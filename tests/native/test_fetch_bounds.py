"""What one call may make the worker fetch and hold: TR_MEM_MAX bytes of mem
values per call, whatever -s and the tracee's pointers say, cut as strace cuts
(a string without its NUL, fewer strings than the total); and the worker's
own ceiling (memory_limit). Real tracees, real ptrace and seccomp."""

from native_helpers import calls, mem_of, needs_root, run_traced

from _plans import nr_of
from tracerd import _wire

pytestmark = needs_root

EXECVE, WRITE = nr_of("execve"), nr_of("write")

# execve of N pointers, all to one string of LEN characters: the tracee holds
# LEN bytes, the kernel refuses the call (E2BIG), but the tracer fetches at
# the entry, before the kernel counts.
MANY_ARGV = r"""#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int n = atoi(argv[1]), len = atoi(argv[2]);
	char **v = calloc(n + 1, sizeof(*v)), *s = malloc(len + 1);

	memset(s, 'a', len);
	s[len] = 0;
	for (int i = 0; i < n; i++)
		v[i] = s;
	execve("/bin/true", v, (char *[]){ NULL });
	return 0;
}
"""

BIG_WRITE = r"""#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
int main(void)
{
	size_t n = 4 << 20;
	char *p = malloc(n);
	int fd = open("/dev/null", O_WRONLY);

	memset(p, 'w', n);
	return write(fd, p, n) == (ssize_t)n ? 0 : 1;
}
"""


def _execve_argv(recs):
    ev = calls(recs, EXECVE)[-1]  # the tracee's (the first: its own start)
    return mem_of(ev, 0, 1)


def _check_cut(arr, n, length):
    """argv kept within TR_MEM_MAX: whole strings, then at most one cut
    (no NUL), fewer than the total."""
    full = b"a" * length + b"\0"
    assert arr[0] == n
    kept = arr[1:]
    assert 1 < len(kept) < n
    assert all(s == full for s in kept[:-1])
    assert kept[-1] == full or (kept[-1] and set(kept[-1]) == {ord("a")})
    assert sum(len(s) for s in kept) <= _wire.MEM_MAX


def test_argv_cut_to_mem_max(cbuild):
    """16,384 pointers at -s 16384: was a 512 MiB reserve, ~257 MB resident,
    and the record lost ("record too large for a frame")."""
    prog = cbuild("many_argv", MANY_ARGV)
    recs, _, stats = run_traced([prog, "16384", "16384"], ["execve"], strsize=16384)
    assert not [r for r in recs if r[0] == _wire.Rec.ERROR]
    _check_cut(_execve_argv(recs), 16384, 16384)
    assert stats["peak_rss_kb"] < 64 * 1024, stats["peak_rss_kb"]


def test_argv_at_large_s(cbuild):
    """-s 131072 and beyond: the argv is fetched (it was a raw address: the
    reserve, -s squared, failed)."""
    prog = cbuild("many_argv", MANY_ARGV)
    for s in (131072, (1 << 30) - 1):
        recs, _, _ = run_traced([prog, "3", "5"], ["execve"], strsize=s)
        assert _execve_argv(recs) == [3] + [b"aaaaa\0"] * 3


def test_buffer_cut_to_mem_max(cbuild):
    """A 4 MiB write at the largest -s: cut to TR_MEM_MAX, no lost record."""
    prog = cbuild("big_write", BIG_WRITE)
    recs, status, _ = run_traced([prog], ["write"], strsize=(1 << 30) - 1)
    assert status == 0
    assert not [r for r in recs if r[0] == _wire.Rec.ERROR]
    (w,) = calls(recs, WRITE)
    data = mem_of(w, 0, 1)
    assert 0 < len(data) <= _wire.MEM_MAX and data == b"w" * len(data)


def test_bounded_fetch_within_memory_limit(cbuild):
    """Under a spawned worker's memory ceiling (memory_limit, what the daemon
    sets for a non-root owner's session) far below what the unbounded fetch
    took, the same execve is traced, cut to TR_MEM_MAX."""
    prog = cbuild("many_argv", MANY_ARGV)
    recs, _, _ = run_traced([prog, "16384", "16384"], ["execve"], strsize=16384, worker_options={"memory_limit": 96 << 20})
    _check_cut(_execve_argv(recs), 16384, 16384)
