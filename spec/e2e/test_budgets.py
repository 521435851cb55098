"""Handler budgets (issue 6, section 1): one bad handler must not hurt the
others. A handler spinning in pure Lua is preempted, so the other tasks'
heartbeats and results keep flowing; an activity type's `timeout` cancels it
(reason deadline) and abandons it after the cancel grace (failed Timeout);
the memory cap fails the handler that holds the memory (MemoryLimit) and not
the others; os.exit in a handler fails that task instead of the process.
Asserted on the service's record and request log, and on /proc for memory."""
import json
import os
import subprocess
import time

from spec.e2e.util import BIN, E2ETestCase, LocalService, Worker, worker_env, write_handlers

HANDLERS = r'''
local lw = require "luaworker"
local function hog(n)
  local t = {}
  for i = 1, n do t[i] = string.rep("x", 1000) .. i end     -- ~1 KiB each, all kept
  return #t
end
return {
  -- CPU-bound, never calls the runtime: only the count hook can stop it
  Spin = { handler = function(task) while true do end end, timeout = 4 },
  -- catches the cancellation and spins on: abandoned after the cancel grace
  Stubborn = { handler = function(task)
      while true do pcall(function() while true do end end) end
    end, timeout = 2 },
  -- a bounded spin for the worker without preemption
  Busy = function(task)
    local t0 = os.clock()
    while os.clock() - t0 < 3 do end
    return "done"
  end,
  Sleeper = { handler = function(task) lw.sleep(60) end, timeout = 1 },
  Tidy = { handler = function(task)
      local ok, err = pcall(lw.sleep, 60)
      return { partial = true, code = err.code, reason = err.reason }
    end, timeout = 1 },
  Beat = function(task)
    local n = task:json().beats
    for i = 1, n do lw.heartbeat("beat " .. i); lw.sleep(0.1) end
    return { beats = n }
  end,
  Hog = function(task) return hog(400000) end,              -- 400 MiB unless stopped
  HogCaught = function(task)
    local ok, err = pcall(hog, 400000)
    return { survived = true, err = tostring(err) }
  end,
  SlowLeak = function(task)                                  -- grows while it waits
    local t = {}
    for i = 1, 40000 do
      t[#t + 1] = string.rep("y", 10000) .. i
      if i % 50 == 0 then lw.sleep(0.01) end
    end
    return #t
  end,
  Churn = function(task)           -- keeps ~9 MiB, makes 200 MiB of garbage
    local keep = {}
    for i = 1, 9000 do keep[i] = string.rep("k", 1000) .. i end
    local n = 0
    for i = 1, 200000 do n = n + #(string.rep("g", 1000) .. i) end
    return { kept = #keep, churned = n }
  end,
  -- busy inside coroutines it created: preempted through them
  NestedSpin = { handler = function(task)
      return coroutine.wrap(function() while true do end end)()
    end, timeout = 2 },
  Generator = function(task)
    local outer = coroutine.wrap(function()
      local inner = coroutine.wrap(function()
        for i = 1, 3 do
          local t0 = os.clock()
          while os.clock() - t0 < 0.7 do end     -- 0.7 s of CPU per value
          coroutine.yield(i)
        end
      end)
      for v in inner do coroutine.yield(v * 10) end
    end)
    local out = {}
    for v in outer do out[#out + 1] = v end
    return out
  end,
  -- behind a C boundary nothing can yield: the deadline still comes, by the clock
  SortSpin = { handler = function(task)
      table.sort({ 3, 1, 2 }, function(a, b) while true do end end)
    end, timeout = 2 },
  Semantics = function(task)
    return assert(load(io.open(task.input):read("a"), "=semantics"))()
  end,
  Exit = function(task) os.exit(3) end,
  NestedExit = function(task)
    return coroutine.wrap(function() os.exit(true) end)()
  end,
  Echo = function(task) return task.input end,
}
'''


def swf_args(*extra):
    return ("--service", "swf", "--domain", "demo", "--task-list", "main") + extra


def wait_started(c, ids, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(c.task(i)["state"] != "scheduled" for i in ids):
            return
        time.sleep(0.05)
    raise AssertionError("tasks never started")


def heartbeat_times(svc, task):
    """Times the service received heartbeats for the task's (first) attempt."""
    prefix = task["attempts"][0]["token_prefix"]
    out = []
    for r in svc.client.requests():
        if r.get("op") in ("RecordActivityTaskHeartbeat", "SendTaskHeartbeat"):
            try:
                token = json.loads(r["body"]).get("taskToken", "")
            except ValueError:
                continue
            if token.startswith(prefix):
                out.append(r["time"])
    return sorted(out)


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) * 1024
    return out


class BudgetTest(E2ETestCase):
    def test_spinning_handlers_are_preempted_others_heartbeat_on_time(self):
        with LocalService(poll_hold=1) as svc, \
                Worker(svc, HANDLERS, *swf_args("--heartbeat-interval", "0.5", "--cancel-grace", "1")) as w:
            c = svc.client
            spin = c.enqueue_swf("Spin", heartbeat=30)
            stubborn = c.enqueue_swf("Stubborn", heartbeat=30)
            wait_started(c, [spin, stubborn])
            # with both spinning, tasks that heartbeat every 0.5 s against a 3 s timeout
            beats = [c.enqueue_swf("Beat", input=json.dumps({"beats": 25}), heartbeat=3) for _ in range(5)]
            done = {i: c.wait_task(i, timeout=60) for i in beats + [spin, stubborn]}
            self.assertEqual(w.stop(), 0)
            gaps = []
            for i in beats:
                times = heartbeat_times(svc, done[i])
                self.assertGreaterEqual(len(times), 4, f"too few heartbeats for {i}")
                gaps.append(max(b - a for a, b in zip(times, times[1:])))
        for i in beats:
            self.assertEqual(done[i]["state"], "completed", done[i])
            self.assertEqual(json.loads(done[i]["result"]), {"beats": 25})
            self.assertEqual(done[i]["accepted_responses"], 1)
        # the spinning ones never stalled the loop: no heartbeat came late
        self.assertLess(max(gaps), 3.0, gaps)
        self.assertEqual((done[spin]["state"], done[spin]["reason"]), ("failed", "Timeout"))
        self.assertIn("within its timeout of 4 s", done[spin]["details"])
        self.assertEqual((done[stubborn]["state"], done[stubborn]["reason"]), ("failed", "Timeout"))
        abandoned = [r for r in w.logs()
                     if r.get("msg") == "abandoning a handler that did not finish after cancellation"]
        self.assertEqual([(r["activity_type"], r["reason"]) for r in abandoned], [("Stubborn", "deadline")])
        self.assert_clean(w)

    def test_busy_nested_coroutines_are_preempted_too(self):
        with LocalService(poll_hold=1) as svc, \
                Worker(svc, HANDLERS, *swf_args("--heartbeat-interval", "0.5", "--cancel-grace", "1")) as w:
            c = svc.client
            busy = [c.enqueue_swf("NestedSpin"), c.enqueue_swf("Generator")]
            wait_started(c, busy)
            beats = [c.enqueue_swf("Beat", input=json.dumps({"beats": 25}), heartbeat=3) for _ in range(3)]
            done = {i: c.wait_task(i, timeout=60) for i in beats + busy}
            gaps = [max(b - a for a, b in zip(ts, ts[1:])) for ts in (heartbeat_times(svc, done[i]) for i in beats)]
            sort_spin = c.wait_task(c.enqueue_swf("SortSpin"), timeout=60)
            self.assertEqual(w.stop(), 0)
        self.assertEqual([done[i]["state"] for i in beats], ["completed"] * 3)
        self.assertLess(max(gaps), 3.0, gaps)
        nested, gen = done[busy[0]], done[busy[1]]
        self.assertEqual((nested["state"], nested["reason"]), ("failed", "Timeout"))
        self.assertEqual(json.loads(gen["result"]), [10, 20, 30])
        self.assertEqual((sort_spin["state"], sort_spin["reason"]), ("failed", "Timeout"))
        self.assert_clean(w)

    def test_coroutine_functions_behave_as_luas_under_preemption(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "coroutine_semantics.lua")
        want = subprocess.run(["lua5.4", "-e", 'io.write(assert(load(io.open(arg[1]):read("a"), '
                               '"=semantics"))())', "-", script], capture_output=True, text=True,
                              check=True, timeout=30).stdout
        self.assertIn("semantics:", want)
        with LocalService(poll_hold=1) as svc:
            for every in ("7", "100000", "0"):
                with Worker(svc, HANDLERS, *swf_args("--preempt-instructions", every)) as w:
                    t = svc.client.wait_task(svc.client.enqueue_swf("Semantics", input=script), timeout=30)
                    self.assertEqual(w.stop(), 0)
                self.assertEqual(t["state"], "completed", t.get("details"))
                self.assertEqual(t["result"].splitlines(), want.splitlines(), f"--preempt-instructions {every}")
                self.assert_clean(w)

    def test_without_preemption_a_busy_handler_stalls_the_loop(self):
        # The control for the test above: with the count hook off, a handler
        # computing 3 s of CPU keeps every other task's heartbeat from going out.
        with LocalService(poll_hold=1) as svc, \
                Worker(svc, HANDLERS, *swf_args("--heartbeat-interval", "0.5", "--preempt-instructions", "0")) as w:
            c = svc.client
            beat = c.enqueue_swf("Beat", input=json.dumps({"beats": 40}), heartbeat=30)
            wait_started(c, [beat])
            time.sleep(0.5)
            busy = c.enqueue_swf("Busy")
            self.assertEqual(c.wait_task(busy, timeout=30)["state"], "completed")
            t = c.wait_task(beat, timeout=30)
            self.assertEqual(w.stop(), 0)
            times = heartbeat_times(svc, t)
        self.assertEqual(t["state"], "completed")
        self.assertGreaterEqual(max(b - a for a, b in zip(times, times[1:])), 2.9)
        self.assert_clean(w)

    def test_deadline_cancels_then_reports_timeout(self):
        with LocalService(poll_hold=1) as svc, Worker(svc, HANDLERS, *swf_args("--cancel-grace", "1")) as w:
            c = svc.client
            sleeper = c.enqueue_swf("Sleeper", heartbeat=30)
            tidy = c.enqueue_swf("Tidy", heartbeat=30)
            s, t = c.wait_task(sleeper, timeout=30), c.wait_task(tidy, timeout=30)
            self.assertEqual(w.stop(), 0)
        # cancelled in its sleep at the deadline, let the error propagate
        self.assertEqual((s["state"], s["reason"]), ("failed", "Timeout"))
        self.assertIn("within its timeout of 1 s", s["details"])
        self.assertLess(s["closed_at"] - s["attempts"][0]["started_at"], 20)
        # caught the cancellation and returned: that result is reported
        self.assertEqual(t["state"], "completed")
        self.assertEqual(json.loads(t["result"]), {"partial": True, "code": "Cancelled", "reason": "deadline"})
        passed = [r["activity_type"] for r in w.logs() if r.get("msg") == "task passed its deadline"]
        self.assertEqual(sorted(passed), ["Sleeper", "Tidy"])
        self.assert_clean(w)

    def test_memory_limit_fails_the_handler_that_holds_the_memory(self):
        cap = 48
        with LocalService(poll_hold=1) as svc, \
                Worker(svc, HANDLERS, *swf_args("--memory-limit", str(cap), "--heartbeat-interval", "0.5")) as w:
            c = svc.client
            warm = c.enqueue_swf("Echo", input="warm up")
            c.wait_task(warm, timeout=30)
            base = proc_status(w.proc.pid)["VmRSS"]
            beat_input = json.dumps({"beats": 20})
            ids = {"Beat%d" % i: c.enqueue_swf("Beat", input=beat_input) for i in range(10)}
            for kind in ("Hog", "HogCaught", "SlowLeak"):
                ids[kind] = c.enqueue_swf(kind)
            ids.update({"Beat%d" % i: c.enqueue_swf("Beat", input=beat_input) for i in range(10, 20)})
            done = {k: c.wait_task(i, timeout=120) for k, i in ids.items()}
            after = c.enqueue_swf("Echo", input="still here")
            self.assertEqual(c.wait_task(after, timeout=30)["result"], "still here")
            peak = proc_status(w.proc.pid)["VmHWM"]
            self.assertEqual(w.stop(), 0)
        for kind in ("Hog", "HogCaught", "SlowLeak"):
            self.assertEqual((done[kind]["state"], done[kind]["reason"]), ("failed", "MemoryLimit"), kind)
            self.assertIn("memory limit of %d bytes" % (cap << 20), done[kind]["details"])
        beats = [t for k, t in done.items() if k.startswith("Beat")]
        self.assertEqual([t["state"] for t in beats], ["completed"] * 20)
        # Lua stayed within the cap (and its reserve of an eighth): the hogs
        # alone would have taken over 400 MiB
        self.assertLess(peak - base, (cap + cap // 8 + 24) << 20, (base, peak))
        self.assert_clean(w)

    def test_memory_limit_collects_garbage_before_charging(self):
        # ~9 MiB kept, 200 MiB of garbage made under a 14 MiB cap: a full
        # collection makes room every time, so nothing is charged
        with LocalService(poll_hold=1) as svc, Worker(svc, HANDLERS, *swf_args("--memory-limit", "14")) as w:
            c = svc.client
            t = c.wait_task(c.enqueue_swf("Churn"), timeout=60)
            self.assertEqual(w.stop(), 0)
        self.assertEqual(t["state"], "completed", t)
        self.assertEqual(json.loads(t["result"])["kept"], 9000)
        self.assert_clean(w)

    def test_os_exit_in_a_handler_fails_the_task_not_the_worker(self):
        with LocalService(poll_hold=1) as svc, Worker(svc, HANDLERS, *swf_args()) as w:
            c = svc.client
            ex = c.enqueue_swf("Exit")
            nested = c.enqueue_swf("NestedExit")
            echo = c.enqueue_swf("Echo", input="after")
            ex, nested, echo = (c.wait_task(i, timeout=30) for i in (ex, nested, echo))
            self.assertIsNone(w.proc.poll(), "the worker exited")
            self.assertEqual(w.stop(), 0)
        self.assertEqual((ex["state"], ex["reason"]), ("failed", "OsExit"))
        self.assertIn("os.exit(3) was called in a handler", ex["details"])
        self.assertIn("handlers.lua:", ex["details"])       # where, from the traceback
        self.assertEqual((nested["state"], nested["reason"]), ("failed", "OsExit"))
        self.assertIn("os.exit(true)", nested["details"])
        self.assertEqual(echo["result"], "after")
        stopped = [r for r in w.logs() if r.get("msg") == "worker stopped"]
        self.assertEqual(stopped[0]["lost"], 0)
        self.assert_clean(w)

    def test_os_exit_outside_handlers_exits_as_usual(self):
        path = write_handlers('os.exit(7)\nreturn { Echo = function(t) return "x" end }')
        with LocalService(poll_hold=1) as svc:
            p = subprocess.run([BIN, "run", path, "--service", "swf", "--domain", "d", "--task-list", "l",
                                "--endpoint", svc.endpoint], env=worker_env(svc),
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 7, p.stderr)
            self.assertEqual(svc.client.requests(), [])


if __name__ == "__main__":
    import unittest
    unittest.main()
