# The only reason this file exists: cffi builds the native loop (and the
# exec catcher of the standing rules) at install time.
from setuptools import setup

setup(cffi_modules=["native/_build.py:ffibuilder", "native/_build.py:catcher_builder"])
