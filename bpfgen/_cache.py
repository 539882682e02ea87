"""An on-disk cache of what bpfgen derives from its data: the resolved syscall
table, compiled filters and fetch plans.

Every `tracectl` start needs the syscall table (syscalls.toml parsed, every
name resolved by libseccomp for three personalities: ~30 ms), a compiled
filter (pyseccomp imported, one libseccomp filter built per personality and
merged: ~30 ms) and a fetch plan (~6 ms for everything). They depend only on
our own files, libseccomp and the options, so they are kept in
``$XDG_CACHE_HOME/tracerd`` (else ``~/.cache/tracerd``) as msgpack.

Rules:
- The key is a hash of everything the result depends on: bpfgen's sources and
  syscalls.toml, base/_wire.py (personalities, entry flags), our version,
  this format's number and the libseccomp version actually loaded. An edited
  source or an upgraded libseccomp is a new key, never a stale hit.
- No cache rather than a wrong one: a cache directory that cannot be made,
  is not ours (owner is not our euid), or is group/world-writable is not used;
  nor is a file that is not ours. Root with a read-only or missing home (the
  daemon's hardened unit) simply runs uncached. ``TRACERD_NO_CACHE=1`` turns
  the cache off.
- A file that fails to load (wrong header, key or checksum, bad msgpack, bad
  shape) is ignored, and the value is rebuilt and the file rewritten.
- Writes go to a temporary file renamed into place: readers never see half a
  file, and concurrent writers each leave a whole one.
"""

from __future__ import annotations

import functools
import os
import stat

import msgpack

try:
    # CPython's built-in BLAKE2: hashlib would first start OpenSSL (~3 ms of
    # every tracectl start for two small hashes)
    from _blake2 import blake2b as _blake2b
except ImportError:  # another Python
    from hashlib import blake2b as _blake2b

FORMAT = 1
_MAGIC = b"TRDC"
_DIGEST = 32
_HEADER = len(_MAGIC) + 2 * _DIGEST  # magic, key, hash of the payload
MAX_FILTERS = 64  # compiled filters (and plans) kept; the oldest beyond that are removed


def _hash(data: bytes = b""):
    return _blake2b(data, digest_size=_DIGEST)


def directory() -> str | None:
    """The cache directory, made if needed; None when it cannot be used."""
    if os.environ.get("TRACERD_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative value is ignored
        home = os.environ.get("HOME", "")
        if not os.path.isabs(home) or home == "/":
            return None
        base = os.path.join(home, ".cache")
    d = os.path.join(base, "tracerd")
    try:
        os.makedirs(d, mode=0o700, exist_ok=True)
        st = os.lstat(d)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        return None
    if not os.access(d, os.W_OK | os.X_OK):
        return None
    return d


def _libseccomp_version() -> tuple[int, int, int] | None:
    """The version of the libseccomp the dynamic loader gives us (the one
    pyseccomp will load), without importing pyseccomp (~7 ms: it runs
    ldconfig twice)."""
    import ctypes

    class _Version(ctypes.Structure):
        _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]

    try:
        lib = ctypes.CDLL("libseccomp.so.2")
        fn = lib.seccomp_version  # libseccomp >= 2.3
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.POINTER(_Version)
    fn.argtypes = []
    v = fn()
    if not v:
        return None
    return (v.contents.major, v.contents.minor, v.contents.micro)


@functools.cache
def source_key() -> bytes | None:
    """A hash over everything a cached value depends on; None (no caching)
    when a source cannot be read or libseccomp's version is unknown."""
    from tracerd import _wire
    from tracerd._version import __version__

    ver = _libseccomp_version()
    if ver is None:
        return None
    here = os.path.dirname(os.path.abspath(__file__))
    h = _hash(f"tracerd-cache {FORMAT} {__version__} libseccomp {ver}\n".encode())
    try:
        for path in sorted(os.path.join(here, n) for n in os.listdir(here) if n.endswith((".py", ".toml"))) + [_wire.__file__]:
            with open(path, "rb") as f:
                data = f.read()
            h.update(f"{os.path.basename(path)} {len(data)}\n".encode())
            h.update(data)
    except OSError:
        return None
    return h.digest()


def derived_key(*parts) -> bytes | None:
    """A key for a value derived from `parts` (msgpack-able) and the sources."""
    base = source_key()
    if base is None:
        return None
    return _hash(base + msgpack.packb(list(parts), use_bin_type=True)).digest()


def read(d: str, name: str, key: bytes):
    """The msgpack object stored under `name` for `key`, or None."""
    try:
        fd = os.open(os.path.join(d, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            return None
        chunks = []
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            chunks.append(b)
    except OSError:
        return None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) < _HEADER or not data.startswith(_MAGIC):
        return None
    k = data[len(_MAGIC) : len(_MAGIC) + _DIGEST]
    digest = data[len(_MAGIC) + _DIGEST : _HEADER]
    payload = data[_HEADER:]
    if k != key or _hash(payload).digest() != digest:
        return None
    try:
        return msgpack.unpackb(payload, raw=False, strict_map_key=False, use_list=True)
    except Exception:  # any malformed payload: treated as no file
        return None


def write(d: str, name: str, key: bytes, obj) -> None:
    """Store `obj` under `name`; failures are silent (the cache is optional)."""
    payload = msgpack.packb(obj, use_bin_type=True)
    data = _MAGIC + key + _hash(payload).digest() + payload
    path = os.path.join(d, name)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def cached(name: str, key: bytes | None, build, dump, load, keep: int | None = None):
    """`load(stored)` when the cache holds `name` for `key`, else `build()`,
    stored as `dump(value)`. A stored value `load` rejects (raises) is rebuilt
    and rewritten. `keep`: name ends in "-" and the key is appended (one file
    per key: several installed versions sharing a home do not evict each
    other on every start), at most `keep` such files kept."""
    if keep is not None and key is not None:
        prefix, name = name, name + key.hex()[:40]
    d = directory() if key is not None else None
    if d is not None:
        obj = read(d, name, key)
        if obj is not None:
            try:
                return load(obj)
            except Exception:  # a cache that fails to load is never trusted
                pass
    value = build()
    if d is not None:
        write(d, name, key, dump(value))
        if keep is not None:
            prune(d, prefix, keep)
    return value


def cached_toml(path: str, prefix: str):
    """The TOML file at `path`, parsed (tomllib), from the cache when it holds
    the parse of these very bytes (the key is their hash). Values that do not
    survive a msgpack round trip unchanged are not cached."""
    with open(path, "rb") as f:
        data = f.read()
    key = _hash(b"toml %d\n" % FORMAT + data).digest()

    def build():
        import tomllib

        return tomllib.loads(data.decode())

    def dump(value):
        packed = msgpack.unpackb(msgpack.packb(value, use_bin_type=True), raw=False, strict_map_key=False)
        return value if packed == value else None

    def load(obj):
        if not isinstance(obj, dict):
            raise ValueError("not a table")
        return obj

    return cached(prefix, key, build, dump, load, keep=4)


def cached_bytes(prefix: str, key: bytes | None, build, valid) -> bytes:
    """A bytes value kept in its own file (prefix + key), `build()` when
    absent or not `valid(value)`; at most MAX_FILTERS such files are kept
    per prefix."""
    d = directory() if key is not None else None
    if d is None:
        return build()
    name = prefix + key.hex()[:40]
    value = read(d, name, key)
    if isinstance(value, bytes) and valid(value):
        return value
    value = build()
    write(d, name, key, value)
    prune(d, prefix)
    return value


def prune(d: str, prefix: str, keep: int | None = None) -> None:
    """Remove all but the `keep` (default MAX_FILTERS) newest files named prefix*."""
    keep = MAX_FILTERS if keep is None else keep
    try:
        names = [n for n in os.listdir(d) if n.startswith(prefix) and not n.endswith(".tmp")]
        if len(names) <= keep:
            return
        aged = sorted(names, key=lambda n: os.stat(os.path.join(d, n)).st_mtime_ns)
        for n in aged[: len(names) - keep]:
            os.unlink(os.path.join(d, n))
    except OSError:
        pass
