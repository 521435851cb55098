"""The worker against the local service, Step Functions side."""
import json
import time

from spec.e2e.util import E2ETestCase, LocalService, Worker

ARN = "arn:aws:states:us-east-1:123456789012:activity:resize"

HANDLER = r'''
local lw = require "luaworker"
return function(task)
  local args = task:json()
  if args.mode == "error" then error("exploded") end
  if args.mode == "fail" then lw.fail("States.MyError", { why = "asked to" }) end
  if args.mode == "text" then return "not json" end
  if args.mode == "big" then return { blob = string.rep("y", 300000) } end
  if args.mode == "nil" then return nil end
  if args.mode == "wait" then
    local ok, err = pcall(function()
      for i = 1, 600 do lw.heartbeat(); lw.sleep(0.1) end
    end)
    -- report what reached the handler through a side channel: its log
    lw.log.info("wait ended", { cancelled = lw.is_cancelled(err), reason = err and err.reason })
    if not ok then error(err) end
  end
  return { doubled = args.n * 2, arn = task.activity_arn }
end
'''


class SfnTest(E2ETestCase):
    def test_outputs_failures_and_limits(self):
        with LocalService(poll_hold=1) as svc, \
                Worker(svc, HANDLER, "--service", "sfn", "--activity-arn", ARN) as w:
            c = svc.client
            modes = ["ok", "error", "fail", "text", "big", "nil"]
            ids = {m: c.enqueue_sfn(ARN, input=json.dumps({"mode": m, "n": 21})) for m in modes}
            t = {m: c.wait_task(i, timeout=30) for m, i in ids.items()}
            self.assertEqual(w.stop(), 0)
            self.assert_signed(svc)
        self.assertEqual(t["ok"]["state"], "completed")
        self.assertEqual(json.loads(t["ok"]["output"]), {"doubled": 42, "arn": ARN})
        self.assertEqual(t["error"]["state"], "failed")
        self.assertRegex(t["error"]["error"], r"handlers\.lua:\d+: exploded")
        self.assertIn("stack traceback", t["error"]["cause"])
        self.assertEqual(t["fail"]["error"], "States.MyError")
        self.assertEqual(json.loads(t["fail"]["cause"]), {"why": "asked to"})
        self.assertEqual(t["text"]["error"], "InvalidResult")
        self.assertEqual(t["big"]["error"], "ResultTooLarge")
        self.assertEqual(t["nil"]["state"], "completed")
        self.assertEqual(t["nil"]["output"], "null")
        for task in t.values():
            self.assertEqual(task["accepted_responses"], 1)
        self.assert_clean(w)

    def test_stop_execution_cancels_at_next_heartbeat(self):
        with LocalService(poll_hold=1) as svc, \
                Worker(svc, HANDLER, "--service", "sfn", "--activity-arn", ARN,
                       "--heartbeat-interval", "0.5") as w:
            c = svc.client
            tid = c.enqueue_sfn(ARN, input=json.dumps({"mode": "wait"}), heartbeat_seconds=30)
            end = time.monotonic() + 10
            while c.task(tid)["state"] != "started" and time.monotonic() < end:
                time.sleep(0.05)
            time.sleep(0.5)
            c.stop_execution(tid, error="Stopped", cause="by the test")
            w.wait_log("wait ended", timeout=10)
            w.wait_log("task is gone at the service; its outcome was not reported", timeout=10)
            t = c.task(tid)
            self.assertEqual(w.stop(), 0)
        ended = [r for r in w.logs() if r.get("msg") == "wait ended"][0]
        self.assertTrue(ended["cancelled"])
        self.assertEqual(ended["reason"], "timed_out")
        self.assertEqual(t["state"], "stopped")
        self.assertEqual(t["accepted_responses"], 0)
        self.assert_clean(w)
