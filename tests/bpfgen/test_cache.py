"""The on-disk cache of the syscall table and of compiled filters
(bpfgen/_cache.py): a hit equals a cold build; anything wrong with a cache
file or directory means rebuild (or no cache), never a wrong result."""

import os

import pytest

pytest.importorskip("pyseccomp")

from tracerd._wire import Pers
from tracerd.bpfgen import Qualifiers, _cache, _compile, _table, compile_filter


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    """A private XDG cache home; returns the tracerd cache directory in it."""
    monkeypatch.delenv("TRACERD_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "tracerd"


def _table_file():
    """The table's file: one per key (versions sharing a home keep theirs)."""
    return "table-" + _cache.derived_key("table").hex()[:40]


def _same_table(a, b):
    assert list(a.syscalls) == list(b.syscalls)
    for name, x in a.syscalls.items():
        y = b.syscalls[name]
        # Syscall's own == leaves numbers and pers_args out: compare them too
        assert (x, x.numbers, x.pers_args) == (y, y.numbers, y.pers_args), name
        assert all(type(p) is Pers for p in y.numbers)
    assert a.classes == b.classes
    assert a.structs == b.structs
    assert a.multiplexers == b.multiplexers
    for pers in Pers:
        assert {nr: s.name for nr, s in a.numbers(pers).items()} == {nr: s.name for nr, s in b.numbers(pers).items()}


def test_table_hit_equals_cold_load(cache_home):
    cold = _table.load_table_uncached()
    first = _table.load_table_cached()  # miss: builds and writes
    assert (cache_home / _table_file()).is_file()
    hit = _table.load_table_cached()
    _same_table(cold, first)
    _same_table(cold, hit)
    assert hit.lookup(Pers.X86_64, 257).name == "openat"
    assert hit.lookup(Pers.I386, 102).name == "socketcall"


def test_cache_file_is_private(cache_home):
    _table.load_table_cached()
    assert os.stat(cache_home).st_mode & 0o777 == 0o700
    assert os.stat(cache_home / _table_file()).st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"",
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: b[:-1] + bytes([b[-1] ^ 1]),  # one bit of the payload
        lambda b: b"XXXX" + b[4:],  # magic
        lambda b: b[:4] + bytes(32) + b[36:],  # another key
    ],
    ids=["empty", "truncated", "bitflip", "magic", "key"],
)
def test_corrupt_table_file_is_ignored_and_rewritten(cache_home, damage):
    cold = _table.load_table_uncached()
    _table.load_table_cached()
    path = cache_home / _table_file()
    good = path.read_bytes()
    path.write_bytes(damage(good))
    _same_table(cold, _table.load_table_cached())
    assert path.read_bytes() == good


def test_checksummed_but_wrong_shape_is_rebuilt(cache_home):
    """A file our writer made for this key but holding something else (a
    different format, say) fails to load: rebuilt, rewritten."""
    key = _cache.derived_key("table")
    cache_home.mkdir(mode=0o700)
    _cache.write(str(cache_home), _table_file(), key, {"syscalls": [["openat", 1, 2]]})
    cold = _table.load_table_uncached()
    _same_table(cold, _table.load_table_cached())
    assert len(_cache.read(str(cache_home), _table_file(), key)["syscalls"]) == len(cold.syscalls)


def test_filter_hit_equals_cold_compile(cache_home):
    q = Qualifiers()
    q.qualify("trace=%file,%process")
    cold = _compile.compile_filter_uncached(q.trace)
    assert compile_filter(q.trace) == cold  # miss
    files = [p for p in cache_home.iterdir() if p.name.startswith("filter-")]
    assert len(files) == 1
    assert compile_filter(q.trace) == cold  # hit
    assert compile_filter(q.trace, entry_only=True) == _compile.compile_filter_uncached(q.trace, entry_only=True)
    assert compile_filter(q.trace, entry_only=True) != cold
    assert len([p for p in cache_home.iterdir() if p.name.startswith("filter-")]) == 2


def test_corrupt_filter_file_is_rewritten(cache_home):
    q = Qualifiers()
    q.qualify("trace=openat,close")
    cold = _compile.compile_filter_uncached(q.trace)
    compile_filter(q.trace)
    (path,) = [p for p in cache_home.iterdir() if p.name.startswith("filter-")]
    good = path.read_bytes()
    path.write_bytes(good[:-3])
    assert compile_filter(q.trace) == cold
    assert path.read_bytes() == good
    # checksummed, right key, but not a whole number of instructions
    key = good[4:36]
    _cache.write(str(cache_home), path.name, key, b"\x06\x00\x00")
    assert compile_filter(q.trace) == cold
    assert path.read_bytes() == good


def test_filters_are_pruned(cache_home, monkeypatch):
    monkeypatch.setattr(_cache, "MAX_FILTERS", 3)
    for name in ("openat", "close", "read", "write", "getpid"):
        q = Qualifiers()
        q.qualify(f"trace={name}")
        compile_filter(q.trace)
    assert len([p for p in cache_home.iterdir() if p.name.startswith("filter-")]) == 3


def test_no_cache_env_writes_nothing(cache_home, monkeypatch):
    monkeypatch.setenv("TRACERD_NO_CACHE", "1")
    _same_table(_table.load_table_uncached(), _table.load_table_cached())
    compile_filter(Qualifiers().trace)
    assert not cache_home.exists()


def test_unusable_directory_means_no_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACERD_NO_CACHE", raising=False)
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # cannot mkdir under a file
    assert _cache.directory() is None
    _same_table(_table.load_table_uncached(), _table.load_table_cached())
    # a group/world-writable cache directory is not trusted
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    d = tmp_path / "tracerd"
    d.mkdir()
    d.chmod(0o777)
    assert _cache.directory() is None
    d.chmod(0o700)
    assert _cache.directory() == str(d)
    # a relative XDG_CACHE_HOME is ignored (XDG spec); no usable HOME: no cache
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setenv("HOME", "/")
    assert _cache.directory() is None
    monkeypatch.delenv("HOME")
    assert _cache.directory() is None


def test_a_file_of_another_user_is_not_read(cache_home):
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file away")
    cold = _table.load_table_uncached()
    _table.load_table_cached()
    path = cache_home / _table_file()
    os.chown(path, 65534, 65534)
    assert _cache.read(str(cache_home), _table_file(), _cache.derived_key("table")) is None
    _same_table(cold, _table.load_table_cached())  # rebuilt and replaced
    assert os.stat(path).st_uid == 0


def test_key_follows_libseccomp_and_parts(monkeypatch):
    base = _cache.source_key.__wrapped__()
    assert base is not None and base == _cache.source_key()
    monkeypatch.setattr(_cache, "_libseccomp_version", lambda: (99, 0, 0))
    assert _cache.source_key.__wrapped__() != base
    monkeypatch.setattr(_cache, "_libseccomp_version", lambda: None)
    assert _cache.source_key.__wrapped__() is None
    assert _cache.derived_key("filter", [[0, 1]], False) != _cache.derived_key("filter", [[0, 1]], True)


def test_libseccomp_version_is_pyseccomps():
    import ctypes

    import pyseccomp

    class V(ctypes.Structure):
        _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]

    # ask the very library object pyseccomp loaded (found its own way, by ldconfig)
    fn = pyseccomp._libseccomp.seccomp_version
    fn.restype = ctypes.POINTER(V)
    v = fn().contents
    assert _cache._libseccomp_version() == (v.major, v.minor, v.micro)
    assert v.major == 2


def test_plan_hit_equals_cold_build(cache_home):
    from tracerd.bpfgen import _plan, build_plan, parse_plan

    q = Qualifiers()
    q.qualify("trace=%file,execve")
    execve = {(p, n) for p, n in q.trace if q.table.lookup(p, n).name == "execve"}
    variants = [
        dict(strsize=32, cpu_time=False, entry_only=False, abbrev=None),
        dict(strsize=64, cpu_time=False, entry_only=False, abbrev=None),
        dict(strsize=32, cpu_time=True, entry_only=False, abbrev=None),
        dict(strsize=32, cpu_time=False, entry_only=True, abbrev=None),
        dict(strsize=32, cpu_time=False, entry_only=False, abbrev=execve),
    ]
    plans = []
    for v in variants:
        cold = _plan._build_plan(q.trace, v["strsize"], v["cpu_time"], v["entry_only"], frozenset(v["abbrev"] or ()))
        assert build_plan(q.trace, **v) == cold  # miss
        assert build_plan(q.trace, **v) == cold  # hit
        parse_plan(cold)
        plans.append(cold)
    assert len(set(plans)) == len(variants)  # each option changes the plan: its own key
    assert len([p for p in cache_home.iterdir() if p.name.startswith("plan-")]) == len(variants)
    # a damaged plan file is rebuilt
    path = next(p for p in cache_home.iterdir() if p.name.startswith("plan-"))
    good = path.read_bytes()
    path.write_bytes(good[:50])
    assert len({build_plan(q.trace, **v) for v in variants}) == len(variants)
    assert path.read_bytes() == good


def test_flagsets_toml_hit_equals_parse(cache_home, monkeypatch):
    """The decoder's flag sets (a TOML file) come from the cache once parsed,
    equal to a fresh parse; an edited file is another key."""
    import tomllib

    from tracerd.client.decode import _flags

    path = os.path.join(os.path.dirname(_flags.__file__), "flagsets.toml")
    with open(path, "rb") as f:
        fresh = tomllib.load(f)
    assert _cache.cached_toml(path, "flagsets-") == fresh  # miss: parsed, written
    files = [p for p in cache_home.iterdir() if p.name.startswith("flagsets-")]
    assert len(files) == 1
    with monkeypatch.context() as m:
        m.setattr(tomllib, "loads", None)  # a hit parses nothing
        assert _cache.cached_toml(path, "flagsets-") == fresh
    other = cache_home.parent / "other.toml"
    other.write_text('[a]\nitems = [["X", 1]]\n')
    assert _cache.cached_toml(str(other), "flagsets-") == {"a": {"items": [["X", 1]]}}
    assert len([p for p in cache_home.iterdir() if p.name.startswith("flagsets-")]) == 2
