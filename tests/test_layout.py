"""The tree matches its imports: every import name maps to a folder of its
own (pyproject's package-dir), no root folder is named like the package (it
would shadow the installed one when tests run from a checkout), and an
editable install imports the checkout's code."""

import importlib
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _package_dir():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]["package-dir"]


def test_no_root_folder_shadows_the_package():
    assert not (ROOT / "tracerd").exists()
    for name, folder in _package_dir().items():
        assert (ROOT / folder / "__init__.py").is_file(), (name, folder)
        assert folder.split("/")[0] != "tracerd"


def test_every_package_is_mapped():
    with open(ROOT / "pyproject.toml", "rb") as f:
        packages = tomllib.load(f)["tool"]["setuptools"]["packages"]
    assert sorted(packages) == sorted(_package_dir())


def test_a_checkout_imports_its_own_code():
    import tracerd

    here = Path(tracerd.__file__).resolve()
    for d in metadata.distributions(name="tracerd"):
        if Path(d.locate_file("tracerd/__init__.py")).resolve() == here:
            pytest.skip("a regular install: the installed copy is the code under test")
    # an editable install (scripts/setup): every part from this checkout
    for name, folder in _package_dir().items():
        mod = importlib.import_module(name)
        assert Path(mod.__file__).resolve().parent == (ROOT / folder).resolve(), name


def test_architecture_names_every_module_and_the_map():
    """docs/architecture.md opens with the folder -> import-name map, and
    names every module of the packages (the data path or the index), so a
    module added without a place on that page shows here."""
    doc = (ROOT / "docs" / "architecture.md").read_text()
    head = doc[: doc.index("## Overview")]
    for name, folder in _package_dir().items():
        assert f"| `{folder}/` | `{name}` |" in head, (name, folder)
    missing = []
    for folder in _package_dir().values():
        for f in sorted((ROOT / folder).iterdir()):
            if f.suffix in (".py", ".c", ".h", ".toml") and f.name not in ("__init__.py", "tr_config.h") \
                    and f"`{f.name}" not in doc and f"/{f.name}`" not in doc and f"`{f.stem}`" not in doc:
                missing.append(f"{folder}/{f.name}")
    assert not missing, f"modules docs/architecture.md does not name: {missing}"
