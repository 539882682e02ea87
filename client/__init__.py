"""tracectl: the command-line client, a small client library, and decoding
(`tracerd.client.decode`)."""

from ._cli import main

__all__ = ["main"]
