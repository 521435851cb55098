#!/usr/bin/python3
"""Run named unittest tests and print "N passed, N failed".

Usage: tools/pytests.py TEST_ID...   (dotted ids from the repository root:
spec.e2e.test_sfn, spec.e2e.test_swf.SwfTest.test_results_errors_and_limits)

For the subsets that `make check-asan` and `make check-valgrind` run; an id
that does not resolve is an error, and skips count as failures, as in
spec/tools/pyrun.py.
"""
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(ids):
    suite = unittest.defaultTestLoader.loadTestsFromNames(ids)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    bad = len(result.failures) + len(result.errors) + len(result.skipped) \
        + len(result.unexpectedSuccesses)
    passed = result.testsRun - bad
    print(f"{passed} passed, {bad} failed", flush=True)
    return 1 if bad or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
