"""The native tracer loop (C via cffi) and its worker process."""
