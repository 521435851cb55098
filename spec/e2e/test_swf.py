"""The worker against the local service, SWF side (issue 4's Done-when list)."""
import json
import signal
import time

from spec.e2e.util import E2ETestCase, LocalService, Worker

HANDLERS = r'''
local lw = require "luaworker"
return {
  Echo = function(task) return { echo = task:json(), id = task.activity_id } end,
  Raw = function(task) return "plain text result" end,
  Nothing = function(task) end,
  Boom = function(task) error("boom") end,
  Table = function(task) error({ weird = true }) end,
  Fail = function(task) lw.fail("BadInput", "width missing") end,
  Huge = function(task) return string.rep("x", 40000) end,
  Sleep = function(task)
    local args = task:json()
    lw.sleep(args.seconds)
    return { slept = args.seconds }
  end,
  Cancellable = function(task)
    local ok, err = pcall(function()
      for i = 1, 1000 do
        lw.heartbeat("step " .. i)
        lw.sleep(0.1)
      end
    end)
    if not ok and lw.is_cancelled(err) then
      lw.heartbeat("cleaned up after " .. err.reason)   -- cleanup runs and reports
      error(err)                                          -- re-raise: RespondActivityTaskCanceled
    end
    return "finished"
  end,
  Chatty = function(task)
    for i = 1, 10000 do
      lw.heartbeat(tostring(i))
      if i % 100 == 0 then lw.sleep(0.02) end
    end
    return { calls = 10000 }
  end,
  Stuck = function(task)
    local t = os.clock()
    while os.clock() - t < 4 do end     -- pure Lua: never heartbeats
    return "too late"
  end,
}
'''


def run_args(*extra):
    return ("--service", "swf", "--domain", "demo", "--task-list", "main") + extra


class SwfTest(E2ETestCase):
    def test_results_errors_and_limits(self):
        with LocalService(poll_hold=1) as svc, Worker(svc, HANDLERS, *run_args()) as w:
            c = svc.client
            ids = {name: c.enqueue_swf(name, input=json.dumps({"n": 12345678901234567, "f": 0.1}))
                   for name in ("Echo", "Raw", "Nothing", "Boom", "Table", "Fail", "Huge")}
            tasks = {name: c.wait_task(tid, timeout=30) for name, tid in ids.items()}
            self.assertEqual(w.stop(), 0)
            self.assert_signed(svc)
            self.assert_no_tokens_logged(w, svc)
        echo = tasks["Echo"]
        self.assertEqual(echo["state"], "completed")
        # big integers and floats survive the round trip exactly
        self.assertIn('"n":12345678901234567', echo["result"])
        self.assertEqual(json.loads(echo["result"])["echo"], {"n": 12345678901234567, "f": 0.1})
        self.assertEqual(tasks["Raw"]["result"], "plain text result")
        self.assertEqual(tasks["Nothing"]["state"], "completed")
        self.assertIsNone(tasks["Nothing"]["result"])
        boom = tasks["Boom"]
        self.assertEqual(boom["state"], "failed")
        self.assertRegex(boom["reason"], r"handlers\.lua:\d+: boom$")
        self.assertIn("stack traceback", boom["details"])
        self.assertEqual(tasks["Table"]["state"], "failed")
        self.assertEqual(tasks["Fail"]["reason"], "BadInput")
        self.assertEqual(tasks["Fail"]["details"], "width missing")
        huge = tasks["Huge"]
        self.assertEqual(huge["state"], "failed")
        self.assertEqual(huge["reason"], "ResultTooLarge")
        self.assertIn("40000", huge["details"])
        for t in tasks.values():
            self.assertEqual(t["accepted_responses"], 1)
        self.assert_clean(w)

    def test_cancellation_runs_cleanup_and_records_canceled(self):
        with LocalService(poll_hold=1) as svc, Worker(svc, HANDLERS, *run_args("--heartbeat-interval", "0.5")) as w:
            c = svc.client
            tid = c.enqueue_swf("Cancellable", heartbeat=30)
            self._wait_started(c, [tid])
            time.sleep(0.6)              # let it heartbeat a few steps first
            c.cancel(tid)
            t = c.wait_task(tid, timeout=20)
            self.assertEqual(w.stop(), 0)
            self.assert_signed(svc)
        self.assertEqual(t["state"], "canceled")
        self.assertEqual(t["details"], "cleaned up after cancel_requested")
        self.assertTrue(any(e.get("eventType") == "ActivityTaskCanceled" for e in t["history"]))
        self.assert_clean(w)

    def test_tight_heartbeat_loop_is_coalesced(self):
        with LocalService(poll_hold=1) as svc, Worker(svc, HANDLERS, *run_args("--heartbeat-interval", "1")) as w:
            tid = svc.client.enqueue_swf("Chatty")
            t = svc.client.wait_task(tid, timeout=30)
            self.assertEqual(w.stop(), 0)
        self.assertEqual(t["state"], "completed")
        self.assertLessEqual(t["heartbeat_count"], 5)     # ~2 s of calls, 1 s interval
        self.assertGreaterEqual(t["heartbeat_count"], 2)
        self.assertEqual(t["last_heartbeat_details"], "10000")
        self.assert_clean(w)

    def test_concurrency_limit_500_tasks(self):
        with LocalService(poll_hold=1) as svc, \
                Worker(svc, HANDLERS, *run_args("--max-concurrent", "50", "--pollers", "10")) as w:
            c = svc.client
            svc_stats_before = c.stats()
            ids = [c.enqueue_swf("Sleep", input=json.dumps({"seconds": 0.05})) for _ in range(500)]
            c.wait_all(timeout=120)
            tasks = [c.task(i) for i in ids]
            stats = c.stats()
            self.assertEqual(w.stop(), 0)
            self.assert_signed(svc)
        self.assertEqual(svc_stats_before["max_combined"], 0)
        self.assertTrue(all(t["state"] == "completed" for t in tasks))
        self.assertTrue(all(t["accepted_responses"] == 1 for t in tasks))
        ident = [v for k, v in stats["by_identity"].items() if k]
        self.assertEqual(len(ident), 1)
        self.assertLessEqual(ident[0]["max_combined"], 50)     # polls open + tasks held
        self.assertLessEqual(ident[0]["max_polls"], 10)
        self.assertGreater(ident[0]["max_in_flight"], 10)      # it did run many at once
        self.assert_clean(w)

    def test_stuck_handler_times_out_and_worker_carries_on(self):
        with LocalService(poll_hold=1) as svc, Worker(svc, HANDLERS, *run_args()) as w:
            c = svc.client
            stuck = c.enqueue_swf("Stuck", heartbeat=1)
            t = c.wait_task(stuck, timeout=20)
            self.assertEqual(t["state"], "timed_out")
            self.assertEqual(t["timeout_type"], "HEARTBEAT")
            w.wait_log("task is gone at the service; its completed outcome was not recorded", timeout=20)
            after = c.enqueue_swf("Echo", input="{}")
            self.assertEqual(c.wait_task(after, timeout=20)["state"], "completed")
            self.assertEqual(w.stop(), 0)
            t = c.task(stuck)           # now with the worker's late response
        rejected = [r for r in t["responses"] if not r.get("accepted")]
        self.assertEqual(len(rejected), 1)
        self.assertEqual(rejected[0].get("error"), "UnknownResourceFault")
        self.assert_clean(w)

    def test_sigterm_lets_running_tasks_finish(self):
        with LocalService(poll_hold=1) as svc, Worker(svc, HANDLERS, *run_args()) as w:
            c = svc.client
            ids = [c.enqueue_swf("Sleep", input=json.dumps({"seconds": 2})) for _ in range(5)]
            self._wait_started(c, ids)
            rc = w.stop(signal.SIGTERM)
            tasks = [c.task(i) for i in ids]
        self.assertEqual(rc, 0)
        self.assertEqual([t["state"] for t in tasks], ["completed"] * 5)
        self.assert_clean(w)

    def test_sigterm_short_grace_cancels_then_fails_stragglers(self):
        with LocalService(poll_hold=1) as svc, \
                Worker(svc, HANDLERS, *run_args("--shutdown-grace", "1", "--cancel-grace", "1")) as w:
            c = svc.client
            ids = [c.enqueue_swf("Sleep", input=json.dumps({"seconds": 60})) for _ in range(5)]
            self._wait_started(c, ids)
            start = time.monotonic()
            rc = w.stop(signal.SIGTERM)
            took = time.monotonic() - start
            tasks = [c.task(i) for i in ids]
        self.assertEqual(rc, 0)
        self.assertLess(took, 30)
        for t in tasks:
            self.assertEqual(t["state"], "failed")
            self.assertEqual(t["reason"], "WorkerShutdown")
        self.assertEqual(sum(1 for r in w.logs() if r.get("msg") == "cancelling task"
                             and r.get("reason") == "shutdown"), 5)
        self.assert_clean(w)

    def _wait_started(self, c, ids, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if all(c.task(i)["state"] == "started" for i in ids):
                return
            time.sleep(0.05)
        self.fail("tasks never all started")
