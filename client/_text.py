"""Strings from elsewhere (the daemon, another user's argv, a tracee) made safe
to print on a terminal: control characters escaped as strace escapes them in
strings (``\\33``, ``\\n``, ...), so an ESC sequence in someone's argv cannot
drive the terminal of the user who runs `tracectl ls`."""

from __future__ import annotations


def printable(s) -> str:
    """`s` unchanged when every character is printable, else escaped the way
    strace prints a string's bytes (without the quotes)."""
    s = s if isinstance(s, str) else str(s)
    if s.isprintable():
        return s
    from .decode._fmt import quote  # loaded only when something needs escaping

    return quote(s.encode("utf-8", "surrogateescape"))[1:-1]
