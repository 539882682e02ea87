"""Replace the editable install's import hook with a small one (scripts/setup).

`pip install -e .` puts a .pth in site-packages that imports setuptools'
editable finder at every interpreter start; that finder imports pathlib,
urllib.parse, fnmatch and importlib.util (~8-15 ms of each start here, and
every `tracectl` is one). The mapping it applies is only "these packages live
in these folders" (pyproject.toml's package-dir), which the finder written
below does with what the interpreter has loaded already. New modules inside
a package are found as before; a new package needs setup again (as with
setuptools' finder). A regular (non-editable) install has no hook at all.

    python scripts/devfinder.py    # run by scripts/setup with the venv's python
"""

from __future__ import annotations

import glob
import os
import sys
import sysconfig
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = "_tracerd_devfinder"

TEMPLATE = '''"""tracerd's editable install: its packages live in the checkout (written
by scripts/devfinder.py, which says why; rewritten by scripts/setup)."""
import sys
from _frozen_importlib_external import spec_from_file_location

MAPPING = {mapping!r}


class TracerdFinder:
    @staticmethod
    def find_spec(fullname, path=None, target=None):
        folder = MAPPING.get(fullname)
        if folder is None:
            return None
        return spec_from_file_location(fullname, folder + "/__init__.py", submodule_search_locations=[folder])


if not any(f is TracerdFinder or getattr(f, "__name__", "") == "TracerdFinder" for f in sys.meta_path):
    sys.meta_path.insert(0, TracerdFinder)
'''


def mapping() -> dict[str, str]:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        tool = tomllib.load(f)["tool"]["setuptools"]
    dirs = tool["package-dir"]
    out = {}
    for pkg in tool["packages"]:
        # a package without its own entry lives in its parent's folder
        parts = pkg.split(".")
        for i in range(len(parts), 0, -1):
            head = ".".join(parts[:i])
            if head in dirs:
                folder = os.path.join(ROOT, dirs[head], *parts[i:])
                break
        else:
            folder = os.path.join(ROOT, *parts)
        out[pkg] = os.path.abspath(folder)
    return out


def main() -> int:
    site = sysconfig.get_paths()["purelib"]
    pths = glob.glob(os.path.join(site, "__editable__.tracerd-*.pth"))
    if not pths:
        print("devfinder: no editable tracerd install in this environment; nothing done", file=sys.stderr)
        return 0
    src = TEMPLATE.format(mapping=mapping())
    tmp = os.path.join(site, MODULE + ".py.tmp")
    with open(tmp, "w") as f:
        f.write(src)
    os.replace(tmp, os.path.join(site, MODULE + ".py"))
    import py_compile

    py_compile.compile(os.path.join(site, MODULE + ".py"), doraise=True)
    for pth in pths:
        with open(pth, "w") as f:
            f.write(f"import {MODULE}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
