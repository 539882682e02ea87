"""Records -> strace's text.

`Decoder(DecodeOptions(...))` turns the records of `tracerd._wire` into the
lines strace prints: `.call(rec)`, `.entry(rec)`, `.resumed(exit, entry)`,
`.signal(rec)`, `.name(pers, nr)`, `.paths_of(rec)`. Arguments are decoded by
the kinds of bpfgen's syscall table; the family modules (_file, _desc,
_memory, _process, _signal, _network, _time, _misc) say what the kinds alone
cannot (open flags, mmap prot/flags, clone flags, fcntl/ioctl commands,
sockaddr, ...). See docs/decoding.md.
"""

from ._core import DecodeOptions
from ._decoder import Decoder
from ._fmt import error_text, quote, tamper_list, tamper_marks
from ._signals import siginfo_text

__all__ = ["DecodeOptions", "Decoder", "error_text", "quote", "siginfo_text", "tamper_list", "tamper_marks"]
