# Debian 13's pkg_resources (through jaraco.context) imports backports.tarfile on Python
# below 3.12, and Debian 13, whose CPython is 3.13, does not package it; PyPy 3.11's own
# tarfile has what it needs (the extraction filters). Pyramid imports pkg_resources.
import sys
import tarfile

sys.modules[__name__] = tarfile
