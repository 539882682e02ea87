"""tracerd, the daemon (Trio)."""


def main(argv=None) -> int:
    from ._main import main as _main

    return _main(argv)


__all__ = ["main"]
