# The only reason this file exists: cffi builds the native loop at install time.
from setuptools import setup

setup(cffi_modules=["native/_build.py:ffibuilder"])
