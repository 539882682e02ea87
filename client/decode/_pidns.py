"""--pidns-translation: a pid a tracee prints (an argument, a return value,
si_pid), as the tracer's pid namespace numbers it, in strace's words:
`clone(...) = 2 /* 23418 in strace's PID NS */`.

Worked out from the record stream alone (decoding runs behind the tracee:
/proc may no longer know it). A record of a task in another pid namespace
carries its ids there (ext `nspid`: [tid, tgid]); a task whose id there is
1 is its namespace's init, and names that namespace; its children share it
unless they are the init of a new one. A fork-family call's return value is
the child (named by the fork event) as the parent's namespace numbers it.
So each namespace maps its ids to ours. Unlike strace, which asks /proc at
the call's stop, a process already gone still translates when the stream
saw it; an id the stream never told stays as it is.
"""

from __future__ import annotations

_MAX = 1 << 16  # tasks and ids remembered (a long watch: start over rather than grow)


class PidTranslator:
    def __init__(self):
        self._key: dict = {}  # our tid -> its namespace (an init's tid, or ("ns", tid of the task that unshared)), None: ours
        self._parent: dict[int, int] = {}  # our tid -> the task whose fork event made it
        self._child: dict[int, int] = {}  # parent tid -> its last child (fork event)
        self._map: dict[tuple, int] = {}  # (namespace, id there) -> our pid

    def _ns_of(self, tid: int, tgid: int, nspid) -> int | None:
        key = self._key.get(tid, -1)
        if key != -1:
            return key
        p = self._parent.get(tid)
        if not nspid:
            key = None
        elif nspid[0] == 1:
            # the init of a new namespace: the one its parent's children
            # go to since its unshare(CLONE_NEWPID) (the parent's other
            # children there may show before the init does, or never)
            key = ("ns", p) if p is not None else tid
        else:
            # a thread shares its leader's; a child its parent's, or, when
            # the parent is in ours, the namespace the parent unshared
            key = self._key.get(tgid, -1) if tgid != tid else -1
            if key == -1 and p is not None:
                key = self._key.get(p, -1)
                if key is None:
                    key = ("ns", p)
            if key in (-1, None):
                # its fork event is still to come (a child's records can
                # come first), or it was attached inside a namespace we did
                # not see start: its own for now, decided again next time
                return -tid
        if len(self._key) >= _MAX:
            self._key.clear()
            self._map.clear()
            self._parent.clear()
            self._child.clear()
        self._key[tid] = key
        return key

    def seen(self, rec) -> None:
        """Every record: the ids it carries as its task sees them."""
        x = rec[-1] if isinstance(rec[-1], dict) else None
        nspid = x.get("nspid") if x else None
        tid, tgid = rec[3], rec[4]
        key = self._ns_of(tid, tgid, nspid)
        if key is not None and nspid:
            self._map[(key, nspid[0])] = tid
            self._map[(key, nspid[1])] = tgid

    def newtask(self, parent: int, child: int) -> None:
        self._parent[child] = parent
        self._child[parent] = child

    def forked(self, parent: int, ret: int) -> None:
        """A fork-family call of `parent` returned `ret`: its fork event's
        child, as the parent's namespace numbers it."""
        child = self._child.get(parent)
        key = self._key.get(parent, -parent)
        if child is not None and key is not None:
            self._map[(key, ret)] = child

    def ours(self, tid: int, v: int) -> int | None:
        """The id `v` as task `tid` sees it, in our namespace (None: the
        same namespace, or an id the stream never told)."""
        key = self._key.get(tid, -tid)
        if key is None or v <= 0:
            return None
        return self._map.get((key, v))

    def comment(self, tid: int, v: int) -> str:
        p = self.ours(tid, v)
        return "" if p is None or p == v else f" /* {p} in strace's PID NS */"
