#!/usr/bin/python3
"""Run every test suite and sum their results.

Usage: run_suites.py NAME=COMMAND ...

Each suite is a shell command whose output ends with a line
"N passed, N failed". A suite that exits non-zero without such a line, or
whose line says nothing ran, counts as one failure. The last line printed
is the grand total; the exit status is non-zero if anything failed.
"""
import re
import subprocess
import sys
import time

LINE = re.compile(r"^(\d+) passed, (\d+) failed\s*$")


def run(name, cmd):
    start = time.monotonic()
    print(f"=== suite {name}: {cmd}", flush=True)
    proc = subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    last = None
    for line in proc.stdout:
        sys.stdout.write(line)
        m = LINE.match(line)
        if m:
            last = (int(m.group(1)), int(m.group(2)))
    rc = proc.wait()
    took = time.monotonic() - start
    if last is None:
        print(f"=== suite {name}: no result line (exit {rc}), counted as 1 failure", flush=True)
        return 0, 1
    passed, failed = last
    if rc != 0 and failed == 0:
        print(f"=== suite {name}: exit status {rc} with no failures reported, counted as 1 failure")
        failed = 1
    print(f"=== suite {name}: {passed} passed, {failed} failed ({took:.1f}s)", flush=True)
    return passed, failed


def main(argv):
    total_p = total_f = 0
    failed_suites = []
    for spec in argv:
        name, _, cmd = spec.partition("=")
        p, f = run(name, cmd)
        total_p += p
        total_f += f
        if f:
            failed_suites.append(name)
    if failed_suites:
        print("failing suites: " + ", ".join(failed_suites))
    print(f"{total_p} passed, {total_f} failed")
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
