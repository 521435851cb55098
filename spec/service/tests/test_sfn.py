"""Step Functions activity side, driven by boto3."""
import json
import threading
import time

from spec.service.tests.util import ARN, ServiceCase

OTHER = "arn:aws:states:us-east-1:123456789012:activity:other"


class SfnTest(ServiceCase):
    def test_empty_poll(self):
        self.client.configure(poll_hold=0.4)
        t0 = time.monotonic()
        r = self.sfn.get_activity_task(activityArn=ARN, workerName="w")
        self.assertGreaterEqual(time.monotonic() - t0, 0.35)
        self.assertNotIn("taskToken", r)

    def test_poll_per_activity_arn(self):
        self.client.configure(poll_hold=0.3)
        tid = self.client.enqueue_sfn(OTHER, input={"n": 7})
        self.assertIsNone(self.poll_sfn(ARN))
        r = self.poll_sfn(OTHER, worker="box-1")
        self.assertEqual(json.loads(r["input"]), {"n": 7})
        self.assertTrue(1000 <= len(r["taskToken"]) <= 2048, len(r["taskToken"]))
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["worker_identity"]), ("started", "box-1"))
        self.assertEqual(t["history"][1]["activityStartedEventDetails"], {"workerName": "box-1"})

    def test_waiting_poll_gets_a_later_task(self):
        self.client.configure(poll_hold=20)
        got = {}
        th = threading.Thread(target=lambda: got.setdefault("r", self.poll_sfn()))
        th.start()
        self.client.wait_polls(1, timeout=10, queue=f"sfn:{ARN}")
        self.client.enqueue_sfn(ARN, input='"hello"')
        th.join(15)
        self.assertEqual(got["r"]["input"], '"hello"')

    def test_heartbeat_and_success(self):
        tid = self.client.enqueue_sfn(ARN, heartbeat_seconds=30, timeout_seconds=60)
        tok = self.poll_sfn()["taskToken"]
        self.sfn.send_task_heartbeat(taskToken=tok)
        self.sfn.send_task_heartbeat(taskToken=tok)
        self.sfn.send_task_success(taskToken=tok, output='{"sum": 3}')
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["output"], t["heartbeat_count"]), ("completed", '{"sum": 3}', 2))
        self.assertEqual([e["type"] for e in t["history"]],
                         ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"])
        self.assertEqual(t["history"][2]["previousEventId"], t["history"][1]["id"])
        self.assertEqual(t["history"][0]["activityScheduledEventDetails"]["resource"], ARN)

    def test_failure(self):
        tid = self.client.enqueue_sfn(ARN)
        tok = self.poll_sfn()["taskToken"]
        self.sfn.send_task_failure(taskToken=tok, error="Oops", cause="stack")
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["error"], t["cause"]), ("failed", "Oops", "stack"))
        self.assertAwsError(lambda: self.sfn.send_task_success(taskToken=tok, output="{}"), "TaskTimedOut",
                            "Task Timed Out")
        self.assertEqual(self.client.task(tid)["accepted_responses"], 1)

    def test_stop_execution_then_heartbeat(self):
        tid = self.client.enqueue_sfn(ARN, heartbeat_seconds=30)
        tok = self.poll_sfn()["taskToken"]
        self.client.stop_execution(tid, error="Stopped", cause="by the test")
        self.assertAwsError(lambda: self.sfn.send_task_heartbeat(taskToken=tok), "TaskTimedOut")
        self.assertAwsError(lambda: self.sfn.send_task_failure(taskToken=tok), "TaskTimedOut")
        t = self.client.task(tid)
        self.assertEqual(t["state"], "stopped")
        self.assertEqual(t["history"][-1]["type"], "ExecutionAborted")
        self.assertEqual(t["history"][-1]["executionAbortedEventDetails"],
                         {"error": "Stopped", "cause": "by the test"})
        self.assertEqual(t["accepted_responses"], 0)

    def test_stop_of_a_waiting_task_removes_it(self):
        self.client.configure(poll_hold=0.3)
        tid = self.client.enqueue_sfn(ARN)
        self.client.stop_execution(tid)
        self.assertIsNone(self.poll_sfn())
        self.assertEqual(self.client.task(tid)["state"], "stopped")

    def test_invalid_and_unknown_tokens(self):
        self.assertAwsError(lambda: self.sfn.send_task_heartbeat(taskToken="garbage"), "InvalidToken")
        self.assertAwsError(lambda: self.sfn.send_task_success(taskToken="x" * 1200, output="{}"),
                            "InvalidToken")

    def test_output_must_be_json(self):
        tid = self.client.enqueue_sfn(ARN)
        tok = self.poll_sfn()["taskToken"]
        for bad in ("not json", "{'a': 1}", "NaN", '{"a": 1'):
            self.assertAwsError(lambda: self.sfn.send_task_success(taskToken=tok, output=bad), "InvalidOutput")
        self.assertEqual(self.client.task(tid)["state"], "started")     # still open
        self.sfn.send_task_success(taskToken=tok, output="[1, 2]")
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["accepted_responses"]), ("completed", 1))
        self.assertEqual([r["error"] for r in t["responses"]], ["InvalidOutput"] * 4 + [None])

    def test_output_limit_counts_utf8_bytes(self):
        self.client.enqueue_sfn(ARN)
        tok = self.poll_sfn()["taskToken"]
        # 100,000 characters but 300,002 bytes: over the 262144-byte limit.
        big = json.dumps("\u20ac" * 100000, ensure_ascii=False)
        err = self.assertAwsError(lambda: self.sfn.send_task_success(taskToken=tok, output=big),
                                  "ValidationException")
        self.assertEqual(err["Message"], "1 validation error detected: Value at 'output' failed to satisfy "
                                         "constraint: Member must have length less than or equal to 262144")
        ok = json.dumps("x" * 262140)
        self.sfn.send_task_success(taskToken=tok, output=ok)

    def test_invalid_arn(self):
        self.assertAwsError(lambda: self.sfn.get_activity_task(activityArn="arn:aws:states:us-east-1:1:nope"),
                            "InvalidArn")

    def test_known_activities(self):
        self.client.configure(known_activities=[OTHER], poll_hold=0.2)
        self.assertAwsError(lambda: self.sfn.get_activity_task(activityArn=ARN), "ActivityDoesNotExist")
        self.assertNotIn("taskToken", self.sfn.get_activity_task(activityArn=OTHER))

    def test_error_namespace(self):
        self.assertAwsError(lambda: self.sfn.send_task_heartbeat(taskToken="garbage"), "InvalidToken")
        self.assertIn('"__type":"com.amazonaws.swf.service.v2.model#InvalidToken"',
                      self.client.requests()[-1]["response"])
