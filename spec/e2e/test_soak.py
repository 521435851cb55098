"""Fault-injection soak (issue 6, section 2): nothing lost, nothing twice.

Two workers (SWF and Step Functions) run SOAK_TASKS tasks through the local
service while it injects, by seeded probability, 500/503 answers,
ThrottlingException, connections dropped mid-answer, malformed JSON, added
latency and failed heartbeats, on every operation; responses are also
garbled after the service recorded them ("after": the retry meets a dead
token), and a few poll answers are lost on the way back, which loses the
task they carried until the service times it out and schedules it again
(retry_on_timeout), as a decider or state machine would.

Afterwards the service's own record must show every task answered exactly
once with the outcome its input asked for, attempts timed out only where a
lost poll answer explains it (the worker never sent a word with that token),
both workers still running, their memory flat, and no secret key, session
token or task token in any log. The figures go to stdout (and the README).
"""
import json
import os
import random
import re
import threading
import time
import unittest

from spec.e2e.util import E2ETestCase, LocalService, Worker, worker_env

SWF_TASKS = int(os.environ.get("LUAWORKER_SOAK_SWF", "1300"))
SFN_TASKS = int(os.environ.get("LUAWORKER_SOAK_SFN", "1000"))
ARN = "arn:aws:states:us-east-1:123456789012:activity:soak"
AKID = "AKIDSOAKTEST00000001"
SECRET = "soak/secret/key/0123456789+abcdefghijKLMN"
SESSION = "soak-session-token-" + "Zq9" * 40
HB_TIMEOUT = 10         # service-side heartbeat timeout, seconds

HANDLERS = r'''
local lw = require "luaworker"
local function soak(task)
  local a = task:json()
  for i = 1, a.steps do
    lw.heartbeat({ step = i, of = a.steps })      -- SWF keeps the details; SFN sends none
    lw.sleep(a.pause)
  end
  if a.kind == "wait" then                        -- until the test cancels / stops it
    for i = 1, 600 do lw.heartbeat({ waiting = i }); lw.sleep(0.1) end
    return "never cancelled"
  end
  if a.kind == "fail" then lw.fail("SoakFailure", "asked to fail " .. a.n) end
  if a.kind == "error" then error("soak error " .. a.n) end
  return { n = a.n, doubled = a.n * 2, service = task.service, pad = a.pad }
end
return { Soak = soak }
'''

POLL_OPS = ("PollForActivityTask", "GetActivityTask")
HB_OPS = ("RecordActivityTaskHeartbeat", "SendTaskHeartbeat")
RESP_OPS = ("RespondActivityTaskCompleted", "RespondActivityTaskFailed", "RespondActivityTaskCanceled",
            "SendTaskSuccess", "SendTaskFailure")
WAITING = 25            # tasks that heartbeat until the test cancels (SWF) or stops (SFN) them


def fault_rules():
    rules, seed = [], 0

    def add(op, kind, p, **kw):
        nonlocal seed
        seed += 1
        rules.append({"op": op, "kind": kind, "probability": p, "seed": 600 + seed, **kw})
    for op in POLL_OPS + HB_OPS + RESP_OPS:       # latency first: it adds to the others
        add(op, "latency", 0.04, latency_ms=250)
    for op in POLL_OPS:
        add(op, "close", 0.004, when="after")      # the task is lost with the answer
        add(op, "malformed", 0.004, when="after")
    for op in HB_OPS:
        add(op, "http500", 0.08)                   # heartbeat failures
        add(op, "throttle", 0.04)
    for op in RESP_OPS:
        add(op, "close", 0.03, when="after")       # recorded, then the answer is lost
        add(op, "malformed", 0.03, when="after")
    for op in POLL_OPS + HB_OPS + RESP_OPS:
        add(op, "http500", 0.03)
        add(op, "http503", 0.03, body="html")
        add(op, "throttle", 0.03)
        add(op, "close", 0.02)
        add(op, "malformed", 0.02)
    return rules


def plan(n, rng, total):
    """The input of task n: its kind says what the service must record."""
    kind = rng.choices(["ok", "fail", "error"], [8, 1, 1])[0]
    if n % (total // WAITING) == 7:
        kind = "wait"
    args = {"n": n, "kind": kind, "steps": rng.randint(0, 4), "pause": rng.choice([0.02, 0.05, 0.1]),
            "pad": "é" * rng.choice([0, 10, 2000])}
    return args


def rss_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            vals = dict(line.split(":", 1) for line in f if line.startswith(("VmRSS", "VmHWM")))
        return {k: int(v.split()[0]) * 1024 for k, v in vals.items()}
    except (OSError, ValueError):
        return None


class Sampler(threading.Thread):
    """Every 0.25 s: each worker's VmRSS/VmHWM and how many tasks are closed."""

    def __init__(self, client, workers):
        super().__init__(daemon=True)
        self.client, self.workers = client, workers
        self.samples = []           # (t, closed, {name: rss})
        self.peak = {}
        self.stop = threading.Event()

    def run(self):
        t0 = time.monotonic()
        while not self.stop.wait(0.25):
            try:
                closed = sum(v for k, v in self.client.stats()["tasks"].items()
                             if k not in ("scheduled", "started"))
            except Exception:       # the service busy for a moment: skip a sample
                continue
            rss = {}
            for name, w in self.workers.items():
                s = rss_of(w.proc.pid)
                if s:
                    rss[name] = s["VmRSS"]
                    self.peak[name] = max(self.peak.get(name, 0), s["VmHWM"])
            self.samples.append((time.monotonic() - t0, closed, rss))


class Canceller(threading.Thread):
    """Cancels (SWF) or stops (Step Functions) each waiting task once the
    worker has heartbeated for it."""

    def __init__(self, endpoint, ids):
        super().__init__(daemon=True)
        from spec.service.client import ServiceClient
        self.client = ServiceClient(endpoint)
        self.pending = set(ids)
        self.done = set()
        self.stop = threading.Event()

    def run(self):
        while self.pending and not self.stop.wait(0.3):
            for tid in sorted(self.pending):
                try:
                    t = self.client.task(tid)
                    last = t["attempts"][-1]
                    if t["state"] != "started" or last["heartbeat_count"] == 0:
                        continue
                    # SWF: only once the handler is in its waiting loop, whose
                    # details the canceled outcome must carry (a cancel during
                    # the earlier steps rightly reports those steps' details)
                    if tid.startswith("swf") and "waiting" not in (last["last_heartbeat_details"] or ""):
                        continue
                    if tid.startswith("swf"):
                        self.client.cancel(tid)
                    else:
                        self.client.stop_execution(tid, error="Soak.Stop", cause="stopped by the soak")
                except Exception:
                    continue
                self.pending.discard(tid)
                self.done.add(tid)


class SoakTest(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.svc = LocalService(poll_hold=1, credentials=[f"{AKID}:{SECRET}:{SESSION}"], ).start()
        c = cls.svc.client
        total = SWF_TASKS + SFN_TASKS
        c.configure(log_limit=40 * total, log_body_limit=65536)
        rng = random.Random(6)
        cls.expected = {}
        for n in range(total):
            service = "swf" if n < SWF_TASKS else "sfn"
            args = plan(n, rng, total)
            if service == "swf":
                tid = c.enqueue_swf("Soak", input=json.dumps(args), heartbeat=HB_TIMEOUT, retry_on_timeout=3)
            else:
                tid = c.enqueue_sfn(ARN, input=json.dumps(args), heartbeat_seconds=HB_TIMEOUT,
                                    retry_on_timeout=3)
            cls.expected[tid] = args
        c.set_faults(fault_rules())
        env = worker_env(cls.svc)
        common = ("--heartbeat-interval", "0.5", "--max-concurrent", "40", "--pollers", "8")
        cls.workers = {
            "swf": Worker(cls.svc, HANDLERS, "--service", "swf", "--domain", "demo", "--task-list", "main",
                          "--identity", "soak-swf", *common, env=env),
            "sfn": Worker(cls.svc, HANDLERS, "--service", "sfn", "--activity-arn", ARN,
                          "--identity", "soak-sfn", *common, env=env),
        }
        cls.started = time.monotonic()
        for w in cls.workers.values():
            w.start()
        cls.sampler = Sampler(c, cls.workers)
        cls.sampler.start()
        waiting = [tid for tid, a in cls.expected.items() if a["kind"] == "wait"]
        cls.canceller = Canceller(cls.svc.endpoint, waiting)
        cls.canceller.start()
        try:
            c.wait_all(timeout=600)
        finally:
            cls.took = time.monotonic() - cls.started
            for th in (cls.sampler, cls.canceller):
                th.stop.set()
                th.join()
            cls.still_running = {n: w.proc.poll() is None for n, w in cls.workers.items()}
            cls.faults = c.fault_stats()
            c.clear_faults()
            cls.tasks = {t["id"]: t for t in c.tasks()}
            cls.reqs = []
            since = 0
            while True:
                page = c.requests(since=since, limit=2000)
                if not page:
                    break
                cls.reqs += page
                since = page[-1]["seq"]
            cls.exit = {n: w.stop() for n, w in cls.workers.items()}
            cls.svc.stop()
            cls.report()

    @classmethod
    def tearDownClass(cls):
        for w in cls.workers.values():
            if w.proc.poll() is None:
                w.proc.kill()
        cls.svc.stop()

    @classmethod
    def report(cls):
        outcomes = {}
        for t in cls.tasks.values():
            outcomes[t["state"]] = outcomes.get(t["state"], 0) + 1
        timed_out = sum(1 for t in cls.tasks.values() for a in t["attempts"] if a["state"] == "timed_out")
        dup = sum(1 for t in cls.tasks.values() if t["accepted_responses"] > 1)
        lost = sum(1 for t in cls.tasks.values() if t["accepted_responses"] == 0 and t["state"] != "stopped")
        rss = {n: [s[2].get(n) for s in cls.sampler.samples if s[2].get(n)] for n in cls.workers}
        lines = [
            f"soak: {len(cls.tasks)} tasks ({SWF_TASKS} SWF, {SFN_TASKS} Step Functions) in {cls.took:.0f} s, "
            f"{len(cls.reqs)} requests",
            f"soak: faults injected {cls.faults['total']}: " + ", ".join(
                f"{k} {v}" for k, v in sorted(cls.faults["by_kind"].items())),
            f"soak: of which heartbeat failures "
            f"{sum(n for op in HB_OPS for k, n in cls.faults['by_op'].get(op, {}).items() if k != 'latency')}, "
            f"responses recorded then lost "
            f"{sum(r['fired'] for r in cls.faults['rules'] if r['op'] in RESP_OPS and r.get('when') == 'after')}, "
            f"poll answers lost after handing out "
            f"{sum(r['fired'] for r in cls.faults['rules'] if r['op'] in POLL_OPS and r.get('when') == 'after')}",
            f"soak: outcomes {outcomes} (stopped: Step Functions executions the test stopped); "
            f"attempts timed out after a lost poll answer {timed_out}; lost {lost}; answered twice {dup}",
        ]
        for n, vals in rss.items():
            if vals:
                q = max(1, len(vals) // 4)
                lines.append(f"soak: {n} worker RSS MiB first quarter max {max(vals[:q]) / 2**20:.1f}, "
                             f"last quarter max {max(vals[-q:]) / 2**20:.1f}, "
                             f"peak (VmHWM) {cls.sampler.peak.get(n, 0) / 2**20:.1f}")
        print("\n" + "\n".join(lines), flush=True)

    # ---- the service's record -------------------------------------------------

    def test_every_task_answered_exactly_once_with_its_outcome(self):
        self.assertEqual(len(self.tasks), SWF_TASKS + SFN_TASKS)
        bad = []
        for tid, args in self.expected.items():
            t = self.tasks[tid]
            swf = t["service"] == "swf"
            if args["kind"] == "wait" and not swf:
                # stopped: the worker must not have answered at all
                if (t["state"], t["accepted_responses"], len(t["responses"])) != ("stopped", 0, 0):
                    bad.append((tid, t["state"], t["accepted_responses"], t["responses"]))
                continue
            if t["accepted_responses"] != 1:
                bad.append((tid, "accepted", t["accepted_responses"], t["state"]))
                continue
            if args["kind"] == "wait":
                if t["state"] != "canceled" or "waiting" not in (t["details"] or ""):
                    bad.append((tid, t["state"], t["details"]))
            elif args["kind"] == "ok":
                out = json.loads(t["result"] if swf else t["output"])
                want = {"n": args["n"], "doubled": 2 * args["n"], "service": t["service"], "pad": args["pad"]}
                if t["state"] != "completed" or out != want:
                    bad.append((tid, t["state"], out))
            elif args["kind"] == "fail":
                reason, details = (t["reason"], t["details"]) if swf else (t["error"], t["cause"])
                if (t["state"], reason, details) != ("failed", "SoakFailure", f"asked to fail {args['n']}"):
                    bad.append((tid, t["state"], reason, details))
            else:
                reason = t["reason"] if swf else t["error"]
                if t["state"] != "failed" or not re.search(rf"handlers\.lua:\d+: soak error {args['n']}$",
                                                            reason or ""):
                    bad.append((tid, t["state"], reason))
        self.assertEqual(bad, [], f"{len(bad)} tasks with the wrong record")
        self.assertEqual(len(self.canceller.done), WAITING)

    def test_timeouts_only_where_a_lost_poll_answer_explains_them(self):
        sent = set()        # every token the workers used after a poll
        for r in self.reqs:
            if r.get("op") in HB_OPS + RESP_OPS:
                try:
                    sent.add(json.loads(r["body"])["taskToken"][:12])
                except (ValueError, KeyError, TypeError):
                    pass
        timed_out = [(t["id"], a) for t in self.tasks.values() for a in t["attempts"]
                     if a["state"] == "timed_out"]
        self.assertEqual([(tid, a["n"]) for tid, a in timed_out if a["token_prefix"] in sent], [],
                         "attempts timed out although the worker had them")
        # and there were no more of them than poll answers lost on the way back
        lost_answers = sum(r["fired"] for r in self.faults["rules"]
                           if r["op"] in POLL_OPS and r.get("when") == "after")
        self.assertLessEqual(len(timed_out), lost_answers)
        for tid, a in timed_out:
            self.assertEqual(a["timeout_type"], "HEARTBEAT" if tid.startswith("swf") else "States.HeartbeatTimeout")

    def test_faults_of_every_kind_were_injected(self):
        kinds = self.faults["by_kind"]
        for kind in ("http500", "http503", "throttle", "close", "malformed", "latency"):
            self.assertGreater(kinds.get(kind, 0), 5, kind)
        hb = sum(n for op in HB_OPS for k, n in self.faults["by_op"].get(op, {}).items() if k != "latency")
        self.assertGreater(hb, 50, "heartbeat failures")
        after = sum(r["fired"] for r in self.faults["rules"] if r["op"] in RESP_OPS and r.get("when") == "after")
        self.assertGreater(after, 20, "responses recorded then lost")

    def test_every_request_was_signed_with_the_session_credentials(self):
        bad = [(r["op"], r["verdict"]) for r in self.reqs if r.get("verdict") not in ("ok", None)]
        self.assertEqual(bad, [])
        self.assertEqual({r["access_key"] for r in self.reqs if r.get("verdict") == "ok"}, {AKID})

    # ---- the workers ----------------------------------------------------------

    def test_workers_kept_running_and_stopped_cleanly(self):
        self.assertEqual(self.still_running, {"swf": True, "sfn": True})
        self.assertEqual(self.exit, {"swf": 0, "sfn": 0})
        for name, w in self.workers.items():
            stopped = [r for r in w.logs() if r.get("msg") == "worker stopped"]
            self.assertEqual(len(stopped), 1, name)
            self.assertEqual(stopped[0]["lost"], 0, name)
            self.assert_clean(w)

    def test_memory_stays_flat(self):
        for name in self.workers:
            series = [(closed, s[name]) for _, closed, s in self.sampler.samples if name in s]
            total = SWF_TASKS + SFN_TASKS
            early = [rss for closed, rss in series if total * 0.2 <= closed <= total * 0.45]
            late = [rss for closed, rss in series if closed >= total * 0.75]
            self.assertTrue(early and late, f"{name}: too few samples ({len(series)})")
            growth = max(late) - max(early)
            self.assertLess(growth, 2 << 20, f"{name}: RSS grew {growth / 2**20:.1f} MiB "
                            f"from {max(early) / 2**20:.1f} MiB")

    def test_no_secret_session_token_or_task_token_in_any_log(self):
        tokens = set()
        for r in self.reqs:
            if r.get("op") in POLL_OPS and r.get("status") == 200:
                m = re.search(r'"taskToken":\s*"([^"]+)"', r.get("response") or "")
                if m:
                    tokens.add(m.group(1))
        self.assertGreater(len(tokens), SWF_TASKS + SFN_TASKS - 50)
        prefixes = {a["token_prefix"] for t in self.tasks.values() for a in t["attempts"]}
        logs = {name: w.text() for name, w in self.workers.items()}
        logs["service"] = self.svc.log_text()
        for name, text in logs.items():
            self.assertNotIn(SECRET, text, f"the secret key in the {name} log")
            self.assertNotIn(SESSION, text, f"the session token in the {name} log")
            self.assertNotIn(SESSION[:24], text, f"part of the session token in the {name} log")
            leaked = [t[:16] for t in tokens if t in text] + [p for p in prefixes if p in text]
            self.assertEqual(leaked, [], f"task tokens in the {name} log")


if __name__ == "__main__":
    unittest.main()
