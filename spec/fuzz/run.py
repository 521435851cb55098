#!/usr/bin/python3
"""Run one libFuzzer target for a bounded time and judge it.

Usage: run.py BINARY NAME SECONDS [WORKDIR]

Runs BINARY (build/fuzz/fuzz_NAME) for SECONDS with -max_total_time on a
working corpus (WORKDIR/corpus/NAME, where new inputs go) seeded from the
committed spec/fuzz/corpus/NAME, with the target's dictionary. Any crash,
leak, timeout, out-of-memory or sanitizer report fails it; the input is
saved as WORKDIR/artifacts/NAME-<kind>-<sha1>. Prints one summary line
(runs, coverage, corpus, speed) and then "N passed, N failed" for
spec/tools/run_suites.py.
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DICTS = {"poll": "json.dict", "awserr": "json.dict", "creds": "json.dict",
         "http": "http.dict", "ini": "ini.dict"}
MAX_LEN = {"http": 16384, "ini": 8192}
BAD = re.compile(r"^(==\d+==ERROR: |SUMMARY: |.*runtime error: |INFO: a leak has been found|"
                 r"==\d+== ERROR: libFuzzer|.*deadly signal|fuzz_\w+: no completion)")


def main(argv):
    binary, name, seconds = argv[1], argv[2], int(argv[3])
    work = argv[4] if len(argv) > 4 else os.path.dirname(os.path.abspath(binary))
    corpus = os.path.join(work, "corpus", name)
    artifacts = os.path.join(work, "artifacts")
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    seeds = os.path.join(HERE, "corpus", name)
    cmd = [binary, f"-max_total_time={seconds}", "-print_final_stats=1", "-timeout=60",
           "-rss_limit_mb=3072", f"-artifact_prefix={artifacts}/{name}-",
           f"-max_len={MAX_LEN.get(name, 4096)}"]
    if name in DICTS:
        cmd.append("-dict=" + os.path.join(HERE, DICTS[name]))
    cmd += [corpus, seeds]
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    print("$ " + " ".join(cmd), flush=True)
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace")
    took = time.monotonic() - start
    out = proc.stdout
    stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", out, re.M))
    last = re.findall(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/", out, re.M)
    runs, cov, ft, corp = last[-1] if last else ("0", "?", "?", "?")
    bad = [line for line in out.splitlines() if BAD.match(line)]
    crashed = [line.split()[-1] for line in out.splitlines()
               if "Test unit written to" in line]
    ok = proc.returncode == 0 and not bad and not crashed and "DONE" in out
    if not ok:
        # show the report itself: the sanitizer's lines and libFuzzer's tail
        tail = out.splitlines()[-80:]
        sys.stdout.write("\n".join(tail) + "\n")
    verdict = "ok" if ok else "FAILED (exit %d%s)" % (
        proc.returncode, ", input " + ", ".join(crashed) if crashed else "")
    print(f"fuzz {name}: {stats.get('number_of_executed_units', runs)} runs in {took:.0f} s "
          f"({stats.get('average_exec_per_sec', '?')}/s), cov {cov}, ft {ft}, corpus {corp} "
          f"({stats.get('new_units_added', '?')} new), peak rss "
          f"{stats.get('peak_rss_mb', '?')} MB: {verdict}", flush=True)
    print(f"{1 if ok else 0} passed, {0 if ok else 1} failed", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
