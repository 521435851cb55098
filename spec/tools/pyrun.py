#!/usr/bin/python3
"""Run the unittest modules in a directory and print "N passed, N failed".

Usage: pyrun.py DIR [PATTERN]   (PATTERN defaults to test_*.py)
Skipped tests count as failures: a suite in `make test` must not quietly
skip what it claims to check.
"""
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, root)


def run(suite):
    """Run suite, print "N passed, N failed" (skips count as failures) and
    return the exit status: non-zero if anything failed or nothing ran."""
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    bad = len(result.failures) + len(result.errors) + len(result.skipped) \
        + len(result.unexpectedSuccesses)
    print(f"{result.testsRun - bad} passed, {bad} failed", flush=True)
    return 1 if bad or result.testsRun == 0 else 0


def main():
    start = sys.argv[1]
    pattern = sys.argv[2] if len(sys.argv) > 2 else "test_*.py"
    return run(unittest.defaultTestLoader.discover(start, pattern=pattern, top_level_dir=root))


if __name__ == "__main__":
    sys.exit(main())
