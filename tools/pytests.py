#!/usr/bin/python3
"""Run named unittest tests and print "N passed, N failed".

Usage: tools/pytests.py [-x TEST_ID]... TEST_ID...
(dotted ids from the repository root: spec.e2e.test_sfn,
spec.e2e.test_swf.SwfTest.test_results_errors_and_limits; -x leaves out the
tests under that id)

For the subsets that `make check-asan` and `make check-valgrind` run; an id
that does not resolve is an error, and skips count as failures (the
counting of spec/tools/pyrun.py).
"""
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from spec.tools import pyrun  # noqa: E402


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def main(args):
    ids, skip = [], []
    while args:
        a = args.pop(0)
        if a == "-x":
            skip.append(args.pop(0))
        else:
            ids.append(a)
    tests = [t for t in flatten(unittest.defaultTestLoader.loadTestsFromNames(ids))
             if not any(t.id() == s or t.id().startswith(s + ".") for s in skip)]
    return pyrun.run(unittest.TestSuite(tests))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
