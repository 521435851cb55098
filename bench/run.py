#!/usr/bin/python3
"""luaworker's benchmark suite: `make bench` (full run, writes bench/results.md)
and `make test`'s bench suite (`--smoke`: tiny runs, correctness only).

    /usr/bin/python3 bench/run.py [--runs 3] [--out bench/results.md] [--only NAME,...]
    /usr/bin/python3 bench/run.py --smoke

Three workers run the same tasks side by side:
  luaworker  build/luaworker run with a handler from bench/handlers/;
  floor      build/bench/floor: the same C stack (curl multi, SigV4, AWS JSON
             calls, SWF bodies) with no Lua and no task machinery;
  boto3      bench/boto3_worker.py: a thread pool and one boto3 client, on
             Debian's python3-boto3 (/usr/bin/python3).
Servers: build/bench/responder (bench/responder.c, a minimal fast SWF
responder in C that takes microseconds per request) for every timed figure,
so the service is never the bottleneck and never steals much of the two
cores; and the project's local activity service (spec/service, botocore-
verified signatures) for a CPU cross-check that also proves every request of
all three workers is correctly signed.

CPU is the worker process's own user+sys time on the CPU (the sum over its
threads of /proc/PID/task/*/schedstat, nanoseconds), read while the worker
idles with its polls open and again when the responder has recorded the last
outcome: start-up and shutdown are not counted. Figures are ratios of runs
made back to back in the same round; each figure is given as min / median /
max over the rounds. Timings are never pass/fail in --smoke.
"""
import argparse
import concurrent.futures
import datetime
import http.client
import json
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
LUAWORKER = os.path.join(BUILD, "luaworker")
RESPONDER = os.path.join(BUILD, "bench", "responder")
FLOOR = os.path.join(BUILD, "bench", "floor")
SIGV4_BENCH = os.path.join(BUILD, "bench", "sigv4_bench")
PY = "/usr/bin/python3"
BOTO3_WORKER = os.path.join(ROOT, "bench", "boto3_worker.py")
HANDLERS = os.path.join(ROOT, "bench", "handlers")
KINDS = ("floor", "luaworker", "boto3")
LOG_DIR = tempfile.mkdtemp(prefix="lw-bench-")


class BenchError(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def wait_until(pred, timeout, what, step=0.01):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise BenchError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)


# ---- /proc ------------------------------------------------------------------

def cpu_ns(pid):
    """On-CPU nanoseconds of every thread of pid (user + sys)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def cpu_ticks(pid):
    """(utime, stime) in clock ticks, for the user/sys split."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def machine_busy_s():
    """Seconds of CPU the whole machine spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS", "Threads"):
                out[k] = int(v.split()[0])
    return out


# ---- servers ----------------------------------------------------------------

def set_nice(pid, nice):
    """Weigh pid's scheduling group (its own session's autogroup) with nice;
    False when not permitted (then it runs at the default priority)."""
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(str(nice))
        return True
    except OSError:
        try:        # no autogroups: the process's own priority
            os.setpriority(os.PRIO_PROCESS, pid, nice)
            return True
        except OSError:
            return False


class Responder:
    """build/bench/responder on a free port."""

    def __init__(self, hold=60, token_length=600, delay_ms=0, respond_delay_ms=None, nice=0):
        self.log_path = os.path.join(LOG_DIR, f"responder-{time.monotonic_ns()}.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([RESPONDER, "--port", "0", "--hold", str(hold),
                                      "--token-length", str(token_length), "--delay-ms", str(delay_ms),
                                      "--respond-delay-ms",
                                      str(delay_ms if respond_delay_ms is None else respond_delay_ms)],
                                     stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL,
                                     start_new_session=bool(nice))
        if nice:
            set_nice(self.proc.pid, nice)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("port "):
            raise BenchError(f"responder did not start: {line!r}")
        self.port = int(line.split()[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.conn = None

    def get(self, path, raw=False):
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                body = r.read()
                if r.status != 200:
                    raise BenchError(f"responder {path}: HTTP {r.status}")
                return body.decode() if raw else json.loads(body)
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt == 2:
                    raise

    def stats(self):
        return self.get("/_stats")

    def enqueue(self, n):
        return self.get(f"/_enqueue?n={n}")

    def drain(self):
        return self.get("/_drain")

    def times(self):
        rows = []
        for line in self.get("/_times", raw=True).splitlines():
            f = line.split()
            rows.append({"id": int(f[0]), "enq": int(f[1]), "answer": int(f[2]), "hb_in": int(f[3]),
                         "hb_out": int(f[4]), "resp_in": int(f[5]), "hbs": int(f[6]), "outcome": f[7]})
        return rows

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class PyService:
    """The project's local activity service (botocore-verified signatures)."""

    def __init__(self):
        from spec.service.harness import LocalService
        self.svc = LocalService(poll_hold=60, quiet=True, log_dir=LOG_DIR).start()
        self.endpoint = self.svc.endpoint
        self.client = self.svc.client

    def held_polls(self):
        return self.client.stats()["polls"]["current"]

    def close(self):
        self.svc.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def worker_env(svc_keys=None, **extra):
    akid, secret = svc_keys or ("AKIDBENCHRESPONDER", "bench/responder/secret/EXAMPLEKEY")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LUAWORKER_", "BENCH_"))}
    env.update(AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1",
               AWS_DEFAULT_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/nonexistent",
               AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    env.update({k: str(v) for k, v in extra.items()})
    return env


# ---- workers ----------------------------------------------------------------

class Worker:
    """One worker process of a kind, polling domain "bench", task list "bench"."""

    def __init__(self, kind, endpoint, slots=10, handler="trivial", pollers=None, threads=1,
                 hb_interval=None, heartbeats=None, sleep=None, cpu_iters=None, svc_keys=None,
                 wrap=(), nice=0):
        self.kind = kind
        extra_env = {}
        if sleep is not None:
            extra_env["BENCH_SLEEP"] = sleep
        if heartbeats is not None:
            extra_env["BENCH_HEARTBEATS"] = heartbeats
        if cpu_iters is not None:
            extra_env["BENCH_CPU_ITERS"] = cpu_iters
        env = worker_env(svc_keys, **extra_env)
        if kind == "luaworker":
            argv = [LUAWORKER, "run", os.path.join(HANDLERS, handler + ".lua"), "--service", "swf",
                    "--domain", "bench", "--task-list", "bench", "--endpoint", endpoint,
                    "--max-concurrent", str(slots), "--log-level", "warn"]
            if pollers:
                argv += ["--pollers", str(pollers)]
            if threads > 1:
                argv += ["--threads", str(threads)]
            if hb_interval is not None:
                argv += ["--heartbeat-interval", repr(hb_interval)]
            self.polls = min(pollers or 10, slots) * threads
        elif kind == "floor":
            argv = [FLOOR, "--endpoint", endpoint, "--domain", "bench", "--task-list", "bench",
                    "--slots", str(slots)]
            if pollers:
                argv += ["--pollers", str(pollers)]
            if handler == "heartbeats":
                argv += ["--heartbeats", str(heartbeats)]
            if handler == "sleep":
                argv += ["--sleep", str(sleep)]
            if hb_interval is not None:
                argv += ["--heartbeat-interval", repr(hb_interval)]
            self.polls = min(pollers or 10, slots)
        elif kind == "boto3":
            argv = [PY, BOTO3_WORKER, "--endpoint", endpoint, "--domain", "bench", "--task-list", "bench",
                    "--threads", str(slots), "--handler", handler]
            if handler == "heartbeats":
                argv += ["--heartbeats", str(heartbeats)]
            if handler == "sleep":
                argv += ["--sleep", str(sleep)]
            if hb_interval is not None:
                argv += ["--heartbeat-interval", repr(hb_interval)]
            self.polls = slots
        else:
            raise ValueError(kind)
        self.argv = list(wrap) + argv
        self.log_path = os.path.join(LOG_DIR, f"{kind}-{handler}-{time.monotonic_ns()}.log")
        self._log = open(self.log_path, "wb")
        # nice: the worker gets a session of its own, hence (with the
        # kernel's autogroups) a scheduling group of its own, whose nice value
        # weighs it against the other sessions on the machine.
        self.proc = subprocess.Popen(self.argv, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=bool(nice))
        self.pid = self.proc.pid
        self.niced = set_nice(self.pid, nice) if nice else False

    def alive(self):
        return self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            raise BenchError(f"{self.kind} exited early with status {self.proc.returncode}:\n"
                             + self.log_tail())

    def log_tail(self, n=3000):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-n:]

    def cpu_ns(self):
        return cpu_ns(self.pid)

    def stop(self, drain, timeout=60):
        """SIGTERM, then answer the open polls (drain); the exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            drain()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise BenchError(f"{self.kind} did not stop within {timeout} s")
        self._log.close()
        return self.proc.returncode


def wait_ready(w, held_polls, timeout=60):
    """Until the worker has all its polls open at the server."""
    def ready():
        w.check_alive()
        return held_polls() >= w.polls
    wait_until(ready, timeout, f"{w.kind} to open {w.polls} polls", step=0.02)
    time.sleep(0.2)     # let start-up work (imports, GC) settle before measuring


def wait_completed(w, r, n, timeout, what, step=0.01):
    """Until the responder has recorded n completed tasks (the worker still running)."""
    def done():
        w.check_alive()
        return r.stats()["completed"] >= n
    wait_until(done, timeout, what, step)


def rotated(i):
    """KINDS in round i's order: each kind goes first in turn."""
    return KINDS[i % 3:] + KINDS[:i % 3]


def stop_clean(w, drain, timeout=60):
    rc = w.stop(drain, timeout)
    if rc != 0:
        raise BenchError(f"{w.kind} exited with status {rc}:\n{w.log_tail()}")


# ---- statistics -------------------------------------------------------------

def mmm(values):
    """(min, median, max) of a list."""
    v = [x for x in values if x is not None]
    if not v:
        return None
    return (min(v), statistics.median(v), max(v))


def pct(values, p):
    v = sorted(values)
    if not v:
        return None
    k = min(len(v) - 1, max(0, int(round(p / 100 * (len(v) - 1)))))
    return v[k]


# ---- 1. CPU per task ----------------------------------------------------------

def cpu_run(kind, tasks, slots, server="responder", delay_ms=0):
    """One worker runs `tasks` trivial tasks; its CPU seconds while doing so.
    server: "responder" (answering after delay_ms) or "service" (spec/service)."""
    if server == "responder":
        with Responder(delay_ms=delay_ms) as r:
            w = Worker(kind, r.endpoint, slots=slots, handler="trivial")
            try:
                wait_ready(w, lambda: r.stats()["held_polls"])
                c0, t0, tk0 = w.cpu_ns(), time.monotonic(), cpu_ticks(w.pid)
                r.enqueue(tasks)
                wait_completed(w, r, tasks, 30 + tasks * 0.05, f"{kind} to complete {tasks} tasks")
                c1, t1, tk1 = w.cpu_ns(), time.monotonic(), cpu_ticks(w.pid)
                s = r.stats()
                stop_clean(w, r.drain)
            finally:
                if w.alive():
                    w.proc.kill()
        bad = {k: s[k] for k in ("failed", "canceled", "bad_auth", "bad_token", "duplicate", "errors") if s[k]}
        if s["completed"] != tasks or s["heartbeats"] != tasks or bad:
            raise BenchError(f"{kind}: {s['completed']}/{tasks} completed, {s['heartbeats']} heartbeats, {bad}")
        requests = s["requests"]
    else:
        with PyService() as svc:
            w = Worker(kind, svc.endpoint, slots=slots, handler="trivial",
                       svc_keys=(svc.svc.access_key, svc.svc.secret_key))
            try:
                wait_ready(w, svc.held_polls)
                c0, t0, tk0 = w.cpu_ns(), time.monotonic(), cpu_ticks(w.pid)
                for i in range(tasks):
                    svc.client.enqueue_swf("Bench", input=json.dumps({"n": i}), domain="bench",
                                           task_list="bench")

                def done():
                    w.check_alive()
                    return svc.client.stats()["tasks"].get("completed", 0) >= tasks
                wait_until(done, 60 + tasks * 0.1, f"{kind} to complete {tasks} tasks", step=0.05)
                c1, t1, tk1 = w.cpu_ns(), time.monotonic(), cpu_ticks(w.pid)
                reqs = svc.client.requests()
                stop_clean(w, svc.client.reset)
            finally:
                if w.alive():
                    w.proc.kill()
        bad = [q for q in reqs if q.get("verdict") != "ok" or q.get("status") != 200]
        ops = {}
        for q in reqs:
            ops[q.get("op")] = ops.get(q.get("op"), 0) + 1
        if bad or ops.get("RespondActivityTaskCompleted") != tasks or ops.get("RecordActivityTaskHeartbeat") != tasks:
            raise BenchError(f"{kind} against spec/service: {len(bad)} bad requests "
                             f"({bad[:1]}), operations {ops}")
        requests = len(reqs)
    cpu = (c1 - c0) / 1e9
    user, sys_ = tk1[0] - tk0[0], tk1[1] - tk0[1]
    return {"cpu_s": cpu, "per_1000": cpu / tasks * 1000, "wall_s": t1 - t0,
            "sys_share": sys_ / (user + sys_) if user + sys_ else None, "requests": requests}


def bench_cpu(rounds, tasks, slots, server="responder", delay_ms=0):
    """Rounds of floor, luaworker, boto3 back to back (order rotated)."""
    per_round = []
    name = server if not delay_ms else f"{server}+{delay_ms:g}ms"
    for i in range(rounds):
        res = {}
        for kind in rotated(i):
            res[kind] = cpu_run(kind, tasks, slots, server, delay_ms)
            log(f"  cpu/{name} round {i + 1}: {kind:9s} {res[kind]['per_1000']:.3f} CPU s per 1000 tasks "
                f"({res[kind]['wall_s']:.1f} s wall, sys {100 * (res[kind]['sys_share'] or 0):.0f}%)")
        res["lw_vs_boto3"] = res["luaworker"]["per_1000"] / res["boto3"]["per_1000"]
        res["lw_vs_floor"] = res["luaworker"]["per_1000"] / res["floor"]["per_1000"]
        per_round.append(res)
    return per_round


def instr_run(kind, tasks, slots=10):
    """Userspace instructions per task under callgrind, counted only while the
    tasks run (instrumentation is switched on once the worker idles with its
    polls open, and off when the last outcome is recorded)."""
    out = os.path.join(LOG_DIR, f"callgrind-{kind}-{time.monotonic_ns()}.out")
    with Responder() as r:
        w = Worker(kind, r.endpoint, slots=slots, handler="trivial",
                   wrap=("valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"))
        try:
            wait_ready(w, lambda: r.stats()["held_polls"], timeout=120)
            ctl = lambda on: subprocess.run(["callgrind_control", "-i", on, str(w.pid)],  # noqa: E731
                                            capture_output=True, timeout=60, check=True)
            ctl("on")
            r.enqueue(tasks)
            wait_completed(w, r, tasks, 120 + tasks, f"{kind} under callgrind to complete {tasks} tasks",
                           step=0.1)
            ctl("off")
            stop_clean(w, r.drain, timeout=120)
        finally:
            if w.alive():
                w.proc.kill()
    with open(out) as f:
        m = re.search(r"^totals:\s*(\d+)", f.read(), re.M)
    os.unlink(out)
    if not m:
        raise BenchError(f"no totals in the callgrind output of {kind}")
    return {"instructions_per_task": int(m.group(1)) / tasks}


# ---- 2. memory per concurrent task ------------------------------------------

def mem_run(kind, n, slots, pollers, sleep, hb_interval, respond_delay_ms=0):
    """Peak RSS of a worker running n tasks at once, each sleeping and heartbeating."""
    with Responder(respond_delay_ms=respond_delay_ms) as r:
        w = Worker(kind, r.endpoint, slots=slots, handler="sleep", pollers=pollers, sleep=sleep,
                   hb_interval=hb_interval)
        try:
            wait_ready(w, lambda: r.stats()["held_polls"], timeout=120)
            t0 = time.monotonic()
            r.enqueue(n)

            def all_started():
                w.check_alive()
                s = r.stats()
                return s["handed"] >= n and s["heartbeats"] >= n
            wait_until(all_started, sleep * 0.8, f"{kind} to start {n} tasks", step=0.05)
            ramp = time.monotonic() - t0
            running = proc_status(w.pid)
            wait_completed(w, r, n, sleep + 60, f"{kind} to complete {n} tasks", step=0.1)
            st = proc_status(w.pid)
            s = r.stats()
            stop_clean(w, r.drain)
        finally:
            if w.alive():
                w.proc.kill()
    expected_hb = n * (1 + int((sleep - 1e-9) // hb_interval))
    if s["completed"] != n or s["heartbeats"] < expected_hb * 0.95 or s["errors"] or s["bad_auth"]:
        raise BenchError(f"{kind} x{n}: {s['completed']}/{n} completed, {s['heartbeats']} heartbeats "
                         f"(expected about {expected_hb}), {s['errors']} errors")
    return {"hwm_kib": st["VmHWM"], "rss_running_kib": running["VmRSS"], "ramp_s": ramp,
            "max_connections": s["max_connections"], "heartbeats": s["heartbeats"],
            "max_delayed": s["max_delayed"]}


def bench_memory(rounds, configs, sleep, hb_interval):
    """configs: [(label, kind, n, slots, pollers)]; every config of a round runs
    at the same time (memory does not suffer from sharing the cores)."""
    per_round = []
    for i in range(rounds):
        with concurrent.futures.ThreadPoolExecutor(len(configs)) as pool:
            futs = {label: pool.submit(mem_run, kind, n, slots, pollers, sleep, hb_interval)
                    for label, kind, n, slots, pollers in configs}
            res = {label: f.result() for label, f in futs.items()}
        for label, kind, n, slots, pollers in configs:
            log(f"  memory round {i + 1}: {label:16s} peak RSS {res[label]['hwm_kib'] / 1024:.1f} MiB "
                f"(ramp {res[label]['ramp_s']:.1f} s, {res[label]['max_connections']} connections at most)")
        per_round.append(res)
    return per_round


def per_task_kib(res, kind, lo, hi):
    a, b = res[f"{kind} x{lo}"]["hwm_kib"], res[f"{kind} x{hi}"]["hwm_kib"]
    return (b - a) / (hi - lo)


# ---- 3. heartbeat path --------------------------------------------------------

def bench_sigv4(rounds, seconds):
    out = []
    for _ in range(rounds):
        p = subprocess.run([SIGV4_BENCH, str(seconds)], capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise BenchError(f"sigv4_bench failed: {p.stderr}")
        m = re.search(r"^warm\s+(\d+) signatures/s", p.stdout, re.M)
        c = re.search(r"^cold\s+(\d+) signatures/s", p.stdout, re.M)
        if not m or not c:
            raise BenchError(f"sigv4_bench printed no figure:\n{p.stdout}")
        out.append({"warm": int(m.group(1)), "cold": int(c.group(1))})
    return out


def hb_run(kind, tasks, heartbeats, slots):
    with Responder() as r:
        w = Worker(kind, r.endpoint, slots=slots, handler="heartbeats", heartbeats=heartbeats,
                   hb_interval=1e-6)
        try:
            wait_ready(w, lambda: r.stats()["held_polls"])
            c0 = w.cpu_ns()
            t0 = time.monotonic()
            r.enqueue(tasks)
            wait_completed(w, r, tasks, 60 + tasks * heartbeats * 0.01,
                           f"{kind} to send {tasks * heartbeats} heartbeats")
            c1 = w.cpu_ns()
            t1 = time.monotonic()
            s = r.stats()
            stop_clean(w, r.drain)
        finally:
            if w.alive():
                w.proc.kill()
    if s["heartbeats"] != tasks * heartbeats or s["completed"] != tasks or s["errors"]:
        raise BenchError(f"{kind}: {s['heartbeats']}/{tasks * heartbeats} heartbeats, "
                         f"{s['completed']}/{tasks} completed, {s['errors']} errors")
    return {"us_per_hb": (c1 - c0) / 1e3 / s["heartbeats"], "hb_per_s": s["heartbeats"] / (t1 - t0)}


def bench_heartbeats(rounds, tasks, heartbeats, slots):
    per_round = []
    for i in range(rounds):
        res = {}
        for kind in rotated(i):
            res[kind] = hb_run(kind, tasks, heartbeats, slots)
            log(f"  heartbeat round {i + 1}: {kind:9s} {res[kind]['us_per_hb']:.1f} us CPU per heartbeat "
                f"round trip ({res[kind]['hb_per_s']:.0f}/s)")
        res["lw_vs_boto3"] = res["luaworker"]["us_per_hb"] / res["boto3"]["us_per_hb"]
        res["lw_vs_floor"] = res["luaworker"]["us_per_hb"] / res["floor"]["us_per_hb"]
        per_round.append(res)
    return per_round


# ---- 4. dispatch latency --------------------------------------------------------

def latency_run(kind, tasks, slots, gap):
    """One task at a time: enqueue, wait for its outcome, pause, repeat."""
    with Responder(nice=-10) as r:
        w = Worker(kind, r.endpoint, slots=slots, handler="trivial", nice=-10)
        try:
            wait_ready(w, lambda: r.stats()["held_polls"])
            for i in range(1, tasks + 1):
                r.enqueue(1)
                wait_completed(w, r, i, 30, f"{kind} to complete task {i}", step=0.001)
                # The worker has its polls open again before the next task.
                wait_until(lambda: r.stats()["held_polls"] >= w.polls, 10, "polls reopened", step=0.001)
                time.sleep(gap)
            rows = r.times()
            stop_clean(w, r.drain)
        finally:
            if w.alive():
                w.proc.kill()
    if len(rows) != tasks or any(x["outcome"] != "c" or x["hbs"] != 1 for x in rows):
        raise BenchError(f"{kind}: not every task completed with one heartbeat")
    svc = [(x["answer"] - x["enq"]) / 1000 for x in rows]
    start = [(x["hb_in"] - x["answer"]) / 1000 for x in rows]
    outcome = [(x["resp_in"] - x["hb_out"]) / 1000 for x in rows]
    return {"svc_ms": statistics.median(svc), "start_ms": statistics.median(start),
            "start_p99_ms": pct(start, 99), "outcome_ms": statistics.median(outcome),
            "outcome_p99_ms": pct(outcome, 99)}


def bench_latency(rounds, tasks, slots, gap):
    per_round = []
    for i in range(rounds):
        res = {}
        for kind in rotated(i):
            res[kind] = latency_run(kind, tasks, slots, gap)
            x = res[kind]
            log(f"  latency round {i + 1}: {kind:9s} start {x['start_ms']:.3f} ms (p99 {x['start_p99_ms']:.3f}), "
                f"outcome {x['outcome_ms']:.3f} ms (p99 {x['outcome_p99_ms']:.3f}), "
                f"responder {x['svc_ms'] * 1000:.0f} us")
        per_round.append(res)
    return per_round


# ---- 5. multi-core ----------------------------------------------------------------

def threads_run(threads, tasks, slots, cpu_iters, nice=-10):
    with Responder(nice=nice) as r:
        w = Worker("luaworker", r.endpoint, slots=slots, handler="cpu", threads=threads,
                   cpu_iters=cpu_iters, nice=nice)
        try:
            wait_ready(w, lambda: r.stats()["held_polls"])
            c0, t0, m0 = w.cpu_ns(), time.monotonic(), machine_busy_s()
            r.enqueue(tasks)
            wait_completed(w, r, tasks, 60 + tasks * 2, f"--threads {threads} to complete {tasks} tasks",
                           step=0.005)
            c1, t1, m1 = w.cpu_ns(), time.monotonic(), machine_busy_s()
            s = r.stats()
            stop_clean(w, r.drain)
        finally:
            if w.alive():
                w.proc.kill()
    if s["completed"] != tasks or s["errors"]:
        raise BenchError(f"--threads {threads}: {s['completed']}/{tasks} completed, {s['errors']} errors")
    wall, cpu = t1 - t0, (c1 - c0) / 1e9
    return {"tasks_per_s": tasks / wall, "cores": cpu / wall, "wall_s": wall,
            "others_cores": max(0.0, (m1 - m0) - cpu) / wall, "niced": int(w.niced)}


def bench_threads(rounds, tasks, slots, cpu_iters):
    per_round = []
    for i in range(rounds):
        res = {}
        for threads in ((1, 2) if i % 2 == 0 else (2, 1)):
            res[threads] = threads_run(threads, tasks, slots, cpu_iters)
            log(f"  threads round {i + 1}: --threads {threads}: {res[threads]['tasks_per_s']:.1f} tasks/s, "
                f"{res[threads]['cores']:.2f} cores busy (other processes: {res[threads]['others_cores']:.2f} cores)")
        res["speedup"] = res[2]["tasks_per_s"] / res[1]["tasks_per_s"]
        per_round.append(res)
    return per_round


# ---- the report ---------------------------------------------------------------------

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return {
        "cpu": cpu, "cores": os.cpu_count(), "mem_mib": mem, "kernel": platform.release(),
        "debian": sh("cat /etc/debian_version"),
        "luaworker": sh(f"{LUAWORKER} --version"),
        "lua": sh("dpkg-query -W -f='${Version}' liblua5.4-dev"),
        "libcurl": sh("dpkg-query -W -f='${Version}' libcurl4-openssl-dev"),
        "openssl": sh("dpkg-query -W -f='${Version}' libssl-dev"),
        "jansson": sh("dpkg-query -W -f='${Version}' libjansson-dev"),
        "python": sh(f"{PY} -c 'import sys; print(sys.version.split()[0])'"),
        "boto3": sh(f"{PY} -c 'import boto3, botocore; print(boto3.__version__, botocore.__version__)'"),
        "gcc": sh("cc --version | head -1"),
        "commit": sh(f"git -C {ROOT} rev-parse --short HEAD"),
    }


def f3(t, fmt="{:.3f}"):
    if t is None:
        return "n/a"
    return " / ".join(fmt.format(x) for x in t)


def verdict(ok):
    return "**met**" if ok else "**missed**"


def write_report(path, meta, R, started, ended, loads):
    m = meta
    L = []
    add = L.append
    add("# luaworker benchmark results")
    add("")
    add(f"One full run of `make bench` ({started:%Y-%m-%d %H:%M} UTC, {ended - started}"
        f" wall time, commit `{m['commit']}`). Every figure is min / median / max over "
        f"{R['rounds']} rounds; a ratio is computed inside each round from runs made back to back, "
        "then summarised. Reproduce with `make bench` (bench/run.py; bench/README.md explains each "
        "program).")
    add("")
    add("## Machine and versions")
    add("")
    add(f"- CPU: {m['cpu']}, {m['cores']} cores, {m['mem_mib']} MiB RAM; Linux {m['kernel']}, "
        f"Debian {m['debian']}")
    add(f"- load average (1/5/15 min) at the start: {loads[0]}; at the end: {loads[1]} "
        "(the machine is shared with other engineers' builds and tests)")
    add(f"- {m['luaworker']}; Lua {m['lua']}; libcurl {m['libcurl']}; OpenSSL {m['openssl']}; "
        f"jansson {m['jansson']}; {m['gcc']}")
    add(f"- reference worker: Python {m['python']} (/usr/bin/python3), boto3 / botocore "
        f"{m['boto3']} (Debian's python3-boto3)")
    add("")
    add("## Summary against the targets")
    add("")
    add("| target | measured (min / median / max) | |")
    add("|---|---|---|")
    for row in R["summary"]:
        add(f"| {row[0]} | {row[1]} | {row[2]} |")
    add("")
    for section in R["sections"]:
        add(section)
        add("")
    with open(path, "w") as f:
        f.write("\n".join(L).rstrip() + "\n")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def full(args):
    started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    loads = [loadavg()]
    rounds = args.runs
    only = set(args.only.split(",")) if args.only else None
    R = {"rounds": rounds, "summary": [], "sections": []}
    failures = []

    def want(name):
        return only is None or name in only

    def section(name, fn):
        if not want(name):
            return None
        log(f"== {name}")
        t0 = time.monotonic()
        try:
            out = fn()
        except BenchError as e:
            failures.append(f"{name}: {e}")
            log(f"  FAILED: {e}")
            R["sections"].append(f"## {name}\n\nThis benchmark failed in this run: `{e}`")
            return None
        log(f"  ({time.monotonic() - t0:.0f} s)")
        return out

    # 1. CPU per task.
    cpu = section("cpu", lambda: bench_cpu(rounds, args.cpu_tasks, 10))
    cpu_rtt = section("cpu-rtt", lambda: bench_cpu(rounds, args.cpu_tasks_rtt, 10, delay_ms=args.rtt_ms))
    cpu_py = section("cpu-service", lambda: bench_cpu(rounds, args.cpu_tasks_service, 10, server="service"))
    instr = section("instructions", lambda: {k: instr_run(k, args.instr_tasks if k != "boto3" else
                                                         max(1, args.instr_tasks // 10)) for k in KINDS})

    def cpu_table(res):
        t = ["| worker | CPU s per 1,000 tasks | sys share | wall s per run |", "|---|---|---|---|"]
        for k in KINDS:
            t.append(f"| {k} | {f3(mmm([r[k]['per_1000'] for r in res]))} | "
                     f"{f3(mmm([r[k]['sys_share'] for r in res]), '{:.0%}')} | "
                     f"{f3(mmm([r[k]['wall_s'] for r in res]), '{:.2f}')} |")
        t += ["", "| ratio (within each round) | min / median / max | target |", "|---|---|---|",
              f"| luaworker / boto3 | {f3(mmm([r['lw_vs_boto3'] for r in res]))} | <= 0.100 |",
              f"| luaworker / floor | {f3(mmm([r['lw_vs_floor'] for r in res]), '{:.2f}')} | <= 2.00 |"]
        return t

    if cpu or cpu_rtt or cpu_py or instr:
        s = ["## 1. CPU per task", "",
             "Each task: poll, one heartbeat, respond completed with `{\"ok\":true,\"n\":N}` (the "
             "handler decodes the input JSON). Ten slots for every worker (luaworker "
             "`--max-concurrent 10`, ten pollers; the floor `--slots 10`; boto3 ten threads). CPU = "
             "user+sys seconds of the worker process per 1,000 tasks, start-up excluded; sys share "
             "from the process's clock ticks.", ""]
        if cpu:
            lw_boto = mmm([r["lw_vs_boto3"] for r in cpu])
            lw_floor = mmm([r["lw_vs_floor"] for r in cpu])
            more, missed = "", []
            for label, res in ((f"with {args.rtt_ms:g} ms round trips", cpu_rtt), ("against spec/service", cpu_py)):
                if res:
                    med = mmm([r['lw_vs_boto3'] for r in res])[1]
                    more += f"; {label}: {med:.3f}"
                    if med > 0.1:
                        missed.append(label)
            v = verdict(lw_boto[1] <= 0.1) + " with immediate answers"
            if missed:
                v += "; **missed** " + " and ".join(missed)
            R["summary"].append(("CPU per task at most 1/10 of the boto3 worker's",
                                 f"luaworker / boto3 = {f3(lw_boto)} (about 1/{1 / lw_boto[1]:.0f}) with "
                                 f"immediate answers{more} (medians; section 1)", v))
            more = ""
            for label, res in ((f"with {args.rtt_ms:g} ms round trips", cpu_rtt), ("against spec/service", cpu_py)):
                if res:
                    more += f"; {label}: {mmm([r['lw_vs_floor'] for r in res])[1]:.2f}"
            R["summary"].append(("CPU per task within 2x of the no-Lua floor",
                                 f"luaworker / floor = {f3(lw_floor, '{:.2f}')}{more}",
                                 verdict(lw_floor[1] <= 2.0)))
            s += ["### Immediate answers (the headline)", "",
                  f"{args.cpu_tasks} tasks per run; server build/bench/responder answering at once, so "
                  "what is measured is the workers' own cost per task.", ""] + cpu_table(cpu) + [""]
        if cpu_rtt:
            s += [f"### {args.rtt_ms:g} ms round trips", "",
                  f"{args.cpu_tasks_rtt} tasks per run; the responder holds every answer {args.rtt_ms:g} ms "
                  "(`--delay-ms`), as a nearby AWS endpoint would: more answers find the worker "
                  "asleep, and each wake-up costs the process CPU (scheduler, cold caches; on this "
                  "virtual machine more than on bare metal).", ""] + cpu_table(cpu_rtt) + [""]
        if cpu_py:
            s += ["### Against spec/service (signatures verified)", "",
                  f"{args.cpu_tasks_service} tasks per run, enqueued one by one through the control "
                  "API; the project's local activity service (Python, every signature verified with "
                  "botocore; every request of every worker was answered 200 with a valid signature). "
                  "The service is the bottleneck (about 1,000 tasks/s at best, one request at a time) "
                  "and runs on the same two cores: almost every answer wakes the worker, and the "
                  "service's heavy Python process evicts its caches in between.", ""] + cpu_table(cpu_py) + [""]
        if instr:
            s += ["### Instructions per task (callgrind)", "",
                  f"Userspace instructions per task under `valgrind --tool=callgrind`, counted only "
                  f"while the tasks run ({args.instr_tasks} tasks for luaworker and the floor, "
                  f"{max(1, args.instr_tasks // 10)} for boto3; responder answering at once). "
                  "Deterministic, so it compares builds on a noisy machine, but it leaves out the "
                  "kernel (a third of luaworker's CPU time: the TCP round trips) and, under "
                  "valgrind, OpenSSL hashes without the CPU's SHA extensions.", "",
                  "| worker | instructions per task | vs luaworker |", "|---|---|---|"]
            for k in KINDS:
                s.append(f"| {k} | {instr[k]['instructions_per_task']:,.0f} | "
                         f"{instr[k]['instructions_per_task'] / instr['luaworker']['instructions_per_task']:.2f} |")
            s.append("")
        R["sections"].append("\n".join(s).rstrip())

    # 2. Memory.
    lo, hi = args.mem_low, args.mem_high
    mem_cfgs = [(f"luaworker x{lo}", "luaworker", lo, hi, args.mem_pollers),
                (f"luaworker x{hi}", "luaworker", hi, hi, args.mem_pollers),
                (f"floor x{lo}", "floor", lo, hi, args.mem_pollers),
                (f"floor x{hi}", "floor", hi, hi, args.mem_pollers),
                (f"boto3 x{args.boto3_low}", "boto3", args.boto3_low, args.boto3_low, None),
                (f"boto3 x{args.boto3_high}", "boto3", args.boto3_high, args.boto3_high, None)]
    mem = section("memory", lambda: bench_memory(rounds, mem_cfgs, args.mem_sleep, 10))
    if mem:
        lw_kib = mmm([per_task_kib(r, "luaworker", lo, hi) for r in mem])
        fl_kib = mmm([per_task_kib(r, "floor", lo, hi) for r in mem])
        b_kib = mmm([per_task_kib(r, "boto3", args.boto3_low, args.boto3_high) for r in mem])
        R["summary"].append((f"At most 20 KiB of RSS per concurrent task at {hi:,} tasks",
                             f"{f3(lw_kib, '{:.1f}')} KiB per task", verdict(lw_kib[2] <= 20)))
        R["summary"].append((f"{hi:,} concurrent tasks in one process",
                             f"{hi:,} tasks ran at once in every round "
                             f"(peak RSS {f3(mmm([r[f'luaworker x{hi}']['hwm_kib'] / 1024 for r in mem]), '{:.0f}')} MiB)",
                             verdict(True)))
        s = ["## 2. Memory per concurrent task", "",
             f"Each task: heartbeat, sleep {args.mem_sleep:g} s while heartbeating every 10 s, "
             f"respond. luaworker `--max-concurrent {hi} --pollers {args.mem_pollers} "
             "--heartbeat-interval 10` (the same options for both task counts); the floor the same "
             f"slots and pollers; boto3 one thread per task. Peak RSS is VmHWM of the worker process "
             "after the last task completed; all tasks of a run were running at once (every task "
             "had sent its first heartbeat before the first one could finish). Server: "
             "build/bench/responder (one per worker); the configurations of a round ran at the "
             "same time. The soft limit on open files is raised to the hard limit "
             f"({resource.getrlimit(resource.RLIMIT_NOFILE)[1]}) for the workers.", "",
             "| worker, tasks at once | peak RSS MiB | ramp-up s | most connections at the server |",
             "|---|---|---|---|"]
        for label, *_ in mem_cfgs:
            s.append(f"| {label} | {f3(mmm([r[label]['hwm_kib'] / 1024 for r in mem]), '{:.1f}')} | "
                     f"{f3(mmm([r[label]['ramp_s'] for r in mem]), '{:.1f}')} | "
                     f"{f3(mmm([r[label]['max_connections'] for r in mem]), '{:.0f}')} |")
        s += ["", "| RSS per concurrent task (difference / task count) | KiB, min / median / max |",
              "|---|---|",
              f"| luaworker ({lo:,} -> {hi:,}) | {f3(lw_kib, '{:.1f}')} |",
              f"| floor ({lo:,} -> {hi:,}) | {f3(fl_kib, '{:.1f}')} |",
              f"| boto3 ({args.boto3_low:,} -> {args.boto3_high:,} threads) | {f3(b_kib, '{:.1f}')} |"]
        R["sections"].append("\n".join(s))

    # 3. Heartbeat path.
    sig = section("sigv4", lambda: bench_sigv4(rounds, args.sigv4_seconds))
    hb = section("heartbeat", lambda: bench_heartbeats(rounds, 10, args.hb_per_task, 10))
    if sig:
        warm = mmm([r["warm"] for r in sig])
        R["summary"].append(("At least 200,000 SigV4 signatures per second per core",
                             f"{f3(warm, '{:,.0f}')} per second, one thread", verdict(warm[1] >= 200000)))
    if sig or hb:
        s = ["## 3. Heartbeat path", ""]
        if sig:
            s += [f"build/bench/sigv4_bench (bench/sigv4_bench.c), one thread, {args.sigv4_seconds:g} s per "
                  "run: a RecordActivityTaskHeartbeat POST as aws.c signs it (five signed headers "
                  "with a 1,000-character session token, a ~700-byte JSON body holding a 600-character "
                  "task token).", "",
                  "| signing | signatures per second per core |", "|---|---|",
                  f"| warm: signing key cached (the worker's path) | {f3(mmm([r['warm'] for r in sig]), '{:,.0f}')} |",
                  f"| cold: key derived every time | {f3(mmm([r['cold'] for r in sig]), '{:,.0f}')} |", ""]
        if hb:
            s += [f"CPU per heartbeat round trip: 10 tasks at once, each sending {args.hb_per_task} "
                  "heartbeats one after the other (luaworker `--heartbeat-interval 0.000001` so "
                  "none is coalesced); worker CPU divided by the heartbeats the server answered "
                  "(the 10 polls and responses add 0.4%). Server: build/bench/responder.", "",
                  "| worker | CPU us per heartbeat round trip | heartbeats per second |", "|---|---|---|"]
            for k in KINDS:
                s.append(f"| {k} | {f3(mmm([r[k]['us_per_hb'] for r in hb]), '{:.1f}')} | "
                         f"{f3(mmm([r[k]['hb_per_s'] for r in hb]), '{:,.0f}')} |")
            s += ["", "| ratio | min / median / max |", "|---|---|",
                  f"| luaworker / boto3 | {f3(mmm([r['lw_vs_boto3'] for r in hb]))} |",
                  f"| luaworker / floor | {f3(mmm([r['lw_vs_floor'] for r in hb]), '{:.2f}')} |"]
        R["sections"].append("\n".join(s))

    # 4. Latency.
    lat = section("latency", lambda: bench_latency(rounds, args.latency_tasks, 10, 0.02))
    if lat:
        st = mmm([r["luaworker"]["start_ms"] for r in lat])
        oc = mmm([r["luaworker"]["outcome_ms"] for r in lat])
        R["summary"].append(("Added dispatch latency under 1 ms at low load",
                             f"task to handler {f3(st)} ms, handler to recorded outcome {f3(oc)} ms "
                             "(medians)", verdict(st[1] < 1 and oc[1] < 1)))
        s = ["## 4. Dispatch latency at low load", "",
             f"{args.latency_tasks} tasks per run, one at a time (the next is enqueued 20 ms after the "
             "previous outcome, once the worker's polls are open again), trivial handler; the worker "
             "and the responder each in a scheduling group of its own at nice -10 (as in section 5), "
             "so that other sessions on the shared machine delay their wake-ups less. The "
             "responder timestamps each request when its last byte is read and each answer when it "
             "is written (CLOCK_MONOTONIC, microseconds):",
             "- service's own: enqueue request read -> poll answer written;",
             "- task to handler: poll answer written -> the handler's first heartbeat read by the "
             "server (an upper bound for the handler's start: it includes building, signing and "
             "sending that heartbeat);",
             "- handler to outcome: heartbeat answer written -> RespondActivityTaskCompleted read "
             "(the handler returns right after its heartbeat, so this is the result's encoding, the "
             "response's building, signing and sending).", "",
             "| worker | service's own us | task to handler ms (median) | p99 | handler to outcome ms (median) | p99 |",
             "|---|---|---|---|---|---|"]
        for k in KINDS:
            g = lambda key, k=k: mmm([r[k][key] for r in lat])  # noqa: E731
            s.append(f"| {k} | {f3(tuple(x * 1000 for x in g('svc_ms')), '{:.0f}')} | {f3(g('start_ms'))} | "
                     f"{f3(g('start_p99_ms'))} | {f3(g('outcome_ms'))} | {f3(g('outcome_p99_ms'))} |")
        R["sections"].append("\n".join(s))

    # 5. Threads.
    thr = section("threads", lambda: bench_threads(rounds, args.thread_tasks, 2, args.cpu_iters))
    if thr:
        sp = mmm([r["speedup"] for r in thr])
        R["summary"].append(("`--threads 2` on a CPU-bound handler (no numeric target)",
                             f"speed-up from 1 to 2 threads: {f3(sp, '{:.2f}')}x", "shown"))
        s = ["## 5. Multi-core: --threads", "",
             f"{args.thread_tasks} tasks per run, each a CPU-bound Lua loop ({args.cpu_iters:,} iterations, "
             "bench/handlers/cpu.lua), `--max-concurrent 2` per thread. Throughput from the first "
             "enqueue to the last recorded outcome; cores busy = process CPU / wall time. Server: "
             "build/bench/responder. The machine is shared, and this is the one figure that needs "
             "both cores free: " + ("the worker ran in a scheduling group of its own (its own "
                                    "session, hence autogroup) at nice -10, so that other engineers' "
                                    "jobs (their CPU is the last column) took less of the cores."
                                    if all(r[t]["niced"] for r in thr for t in (1, 2)) else
                                    "the worker ran at the default priority (raising it was not "
                                    "permitted), so other jobs (last column) took their share."), "",
             "| threads | tasks per second | cores busy (the worker) | cores busy (every other process) |",
             "|---|---|---|---|"]
        for t in (1, 2):
            s.append(f"| {t} | {f3(mmm([r[t]['tasks_per_s'] for r in thr]), '{:.1f}')} | "
                     f"{f3(mmm([r[t]['cores'] for r in thr]), '{:.2f}')} | "
                     f"{f3(mmm([r[t]['others_cores'] for r in thr]), '{:.2f}')} |")
        s += ["", f"Speed-up (within each round): {f3(sp, '{:.2f}')}x on {os.cpu_count()} cores."]
        R["sections"].append("\n".join(s))

    if failures:
        R["sections"].append("## Failures\n\n" + "\n".join(f"- {f}" for f in failures))
    ended = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    loads.append(loadavg())
    if only is None:
        write_report(args.out, machine(), R, started, ended, loads)
        log(f"wrote {args.out} ({ended - started})")
    elif args.out != DEFAULT_OUT:
        write_report(args.out, machine(), R, started, ended, loads)
        log(f"partial run (--only): wrote {args.out}")
    else:
        log("partial run (--only): bench/results.md left as it is; --out PATH writes this run's report")
    return 1 if failures else 0


# ---- --smoke: make test's bench suite ----------------------------------------------

def smoke():
    """Tiny runs of each benchmark: every program works, all tasks complete,
    every figure is produced. No timing is checked."""
    passed = failed = 0

    def check(name, fn):
        nonlocal passed, failed
        t0 = time.monotonic()
        try:
            out = fn()
            passed += 1
            log(f"ok   {name} ({time.monotonic() - t0:.1f} s): {json.dumps(out, default=str)[:200]}")
        except Exception as e:  # noqa: BLE001 - every failure is one failed check
            failed += 1
            log(f"FAIL {name}: {type(e).__name__}: {e}")

    def numbers(d):
        for k, v in d.items():
            if isinstance(v, dict):
                numbers(v)
            elif v is None and k == "sys_share":
                continue        # too short a run for one clock tick of CPU
            elif not isinstance(v, (int, float)) or v != v or v < 0:
                raise BenchError(f"figure {k} is not a number >= 0: {v!r}")
        return d

    for kind in KINDS:
        check(f"cpu {kind} (responder)", lambda kind=kind: numbers(cpu_run(kind, 20, 5)))
    check("cpu luaworker (responder, 2 ms round trips)", lambda: numbers(cpu_run("luaworker", 10, 5, delay_ms=2)))
    check("instructions luaworker (callgrind)", lambda: numbers(instr_run("luaworker", 5, 2)))
    for kind in KINDS:
        check(f"cpu {kind} (spec/service, signatures verified)",
              lambda kind=kind: numbers(cpu_run(kind, 5, 2, server="service")))
    for kind in ("luaworker", "floor"):
        check(f"memory {kind} x20", lambda kind=kind: numbers(mem_run(kind, 20, 40, 5, 1.0, 0.4)))
    def burst():
        # 600 tasks end together and every response takes 1 s at the server:
        # luaworker must not send them all at once (at most 256 attempts in
        # flight per client, runtime/aws.c); without the cap all 600 arrive
        # within a few milliseconds.
        out = mem_run("luaworker", 600, 600, 100, 0.3, 10, respond_delay_ms=1000)
        if out["max_delayed"] > 256:
            raise BenchError(f"{out['max_delayed']} responses in flight at once: the cap of 256 did not hold")
        if out["max_delayed"] < 200:
            raise BenchError(f"only {out['max_delayed']} responses were ever in flight at once: "
                             "the burst this check needs did not happen")
        return numbers(out)
    check("burst of 600 responses: at most 256 in flight", burst)
    check("sigv4_bench", lambda: bench_sigv4(1, 0.2)[0])
    for kind in KINDS:
        check(f"heartbeat path {kind}", lambda kind=kind: numbers(hb_run(kind, 2, 5, 2)))
    for kind in KINDS:
        check(f"latency {kind}", lambda kind=kind: numbers(latency_run(kind, 5, 2, 0.005)))
    check("threads 1 and 2", lambda: numbers({t: threads_run(t, 8, 2, 20000) for t in (1, 2)}))
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


DEFAULT_OUT = os.path.join(ROOT, "bench", "results.md")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--smoke", action="store_true", help="tiny runs, correctness only (make test)")
    p.add_argument("--runs", type=int, default=3, help="rounds per figure (default 3)")
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--only", help="comma-separated: cpu,cpu-rtt,cpu-service,instructions,memory,"
                                  "sigv4,heartbeat,latency,threads")
    p.add_argument("--cpu-tasks", type=int, default=3000)
    p.add_argument("--cpu-tasks-rtt", type=int, default=1000)
    p.add_argument("--rtt-ms", type=float, default=2)
    p.add_argument("--cpu-tasks-service", type=int, default=1000)
    p.add_argument("--instr-tasks", type=int, default=1000)
    p.add_argument("--mem-low", type=int, default=1000)
    p.add_argument("--mem-high", type=int, default=10000)
    p.add_argument("--mem-pollers", type=int, default=100)
    p.add_argument("--mem-sleep", type=float, default=30)
    p.add_argument("--boto3-low", type=int, default=100)
    p.add_argument("--boto3-high", type=int, default=1000)
    p.add_argument("--sigv4-seconds", type=float, default=2)
    p.add_argument("--hb-per-task", type=int, default=500)
    p.add_argument("--latency-tasks", type=int, default=200)
    p.add_argument("--thread-tasks", type=int, default=200)
    p.add_argument("--cpu-iters", type=int, default=1000000)
    args = p.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for path in (LUAWORKER, RESPONDER, FLOOR, SIGV4_BENCH):
        if not os.access(path, os.X_OK):
            print(f"missing {path}: run `make bench` (or `make build-all bench-tools`)", file=sys.stderr)
            if args.smoke:
                print("0 passed, 1 failed")
            return 1
    try:
        return smoke() if args.smoke else full(args)
    finally:
        if not os.environ.get("BENCH_KEEP_LOGS"):
            for name in os.listdir(LOG_DIR):
                os.unlink(os.path.join(LOG_DIR, name))
            os.rmdir(LOG_DIR)


if __name__ == "__main__":
    sys.exit(main())
