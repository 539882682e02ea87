"""Calls under way: each task's entry record awaiting its exit, with the
text its entry printed, so that the exit's line reuses it (the entry is
formatted once). The printer (client/_output.py) and the sinks'
SessionFormatter (client/sinks/_event.py) pair entries with exits here."""

from __future__ import annotations

_MAX = 1 << 16  # tasks with a call under way: a long watch whose exits never came starts over


class OpenCalls:
    __slots__ = ("recs", "texts")

    def __init__(self):
        self.recs: dict[int, list] = {}  # tid -> SYSCALL_ENTRY record awaiting its exit
        self.texts: dict[int, str] = {}  # tid -> what that entry printed (absent: not printed)

    def enter(self, tid: int, rec: list, text: str | None = None) -> None:
        recs = self.recs
        if len(recs) >= _MAX and tid not in recs:
            recs.clear()
            self.texts.clear()
        recs[tid] = rec
        if text is None:
            self.texts.pop(tid, None)
        else:
            self.texts[tid] = text

    def printed(self, tid: int, text: str) -> None:
        """The pending entry of tid was printed as `text`."""
        self.texts[tid] = text

    def leave(self, tid: int) -> tuple:
        """(entry record or None, the text it printed or None), no longer pending."""
        return self.recs.pop(tid, None), self.texts.pop(tid, None)

    def move(self, old: int, new: int) -> None:
        """A thread exec'd and took the leader's id: its call resumes as `new`'s."""
        rec, text = self.leave(old)
        self.leave(new)
        if rec is not None:
            self.enter(new, rec, text)
