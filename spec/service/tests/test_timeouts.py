"""Timeouts enforced on the service's clock (sub-second values via the control API)."""
import time

from spec.service.tests.util import ARN, ServiceCase


class SwfTimeoutTest(ServiceCase):
    def test_heartbeat_timeout_fires_without_any_call_and_keeps_details(self):
        tid = self.client.enqueue_swf("hb", heartbeat=1.0)
        tok = self.poll_swf()["taskToken"]
        self.swf.record_activity_task_heartbeat(taskToken=tok, details="step 1")
        self.swf.record_activity_task_heartbeat(taskToken=tok, details="step 2")
        # No further call: the clock alone must time it out.
        t = self.client.wait_task(tid, timeout=10)
        self.assertEqual((t["state"], t["timeout_type"]), ("timed_out", "HEARTBEAT"))
        ev = t["history"][-1]
        self.assertEqual(ev["eventType"], "ActivityTaskTimedOut")
        attrs = ev["activityTaskTimedOutEventAttributes"]
        self.assertEqual(attrs["timeoutType"], "HEARTBEAT")
        self.assertEqual(attrs["details"], "step 2")
        self.assertEqual(attrs["startedEventId"], t["history"][1]["eventId"])
        self.assertEqual(t["last_heartbeat_details"], "step 2")
        self.assertEqual(t["heartbeat_count"], 2)

    def test_heartbeats_postpone_the_heartbeat_timeout(self):
        tid = self.client.enqueue_swf("hb", heartbeat=1.0)
        tok = self.poll_swf()["taskToken"]
        end = time.monotonic() + 2.2
        while time.monotonic() < end:          # 2.2 s alive on a 1 s heartbeat timeout
            self.swf.record_activity_task_heartbeat(taskToken=tok)
            time.sleep(0.1)
        self.assertEqual(self.client.task(tid)["state"], "started")
        self.swf.respond_activity_task_completed(taskToken=tok)
        self.assertEqual(self.client.task(tid)["state"], "completed")

    def test_start_to_close_is_absolute_despite_heartbeats(self):
        tid = self.client.enqueue_swf("s2c", start_to_close=1.0, heartbeat=10)
        tok = self.poll_swf()["taskToken"]
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                self.swf.record_activity_task_heartbeat(taskToken=tok)
            except self.swf.exceptions.UnknownResourceFault:
                break
            time.sleep(0.05)
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["timeout_type"]), ("timed_out", "START_TO_CLOSE"))
        self.assertGreater(t["heartbeat_count"], 0)
        self.assertGreater(t["attempts"][0]["rejected_heartbeats"], 0)

    def test_schedule_to_start(self):
        tid = self.client.enqueue_swf("nobody", schedule_to_start=0.3)
        t = self.client.wait_task(tid, timeout=10)
        self.assertEqual((t["state"], t["timeout_type"]), ("timed_out", "SCHEDULE_TO_START"))
        attrs = t["history"][-1]["activityTaskTimedOutEventAttributes"]
        self.assertEqual(attrs["startedEventId"], 0)
        self.client.configure(poll_hold=0.2)
        self.assertIsNone(self.poll_swf())      # a timed-out task is not handed out

    def test_schedule_to_close_covers_waiting_and_running(self):
        tid = self.client.enqueue_swf("s2close", schedule_to_close=1.5, heartbeat=10)
        time.sleep(0.3)
        tok = self.poll_swf()["taskToken"]
        t = self.client.wait_task(tid, timeout=10)
        self.assertEqual((t["state"], t["timeout_type"]), ("timed_out", "SCHEDULE_TO_CLOSE"))
        self.assertAwsError(lambda: self.swf.respond_activity_task_completed(taskToken=tok),
                            "UnknownResourceFault")

    def test_respond_after_timeout(self):
        tid = self.client.enqueue_swf("late", start_to_close=0.2)
        tok = self.poll_swf()["taskToken"]
        self.client.wait_task(tid, timeout=10)
        self.assertAwsError(lambda: self.swf.respond_activity_task_completed(taskToken=tok, result="late"),
                            "UnknownResourceFault")
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["accepted_responses"], t["result"]), ("timed_out", 0, None))
        self.assertEqual(t["responses"][0]["error"], "UnknownResourceFault")

    def test_retry_on_timeout_reschedules_with_a_new_token(self):
        tid = self.client.enqueue_swf("retry", heartbeat=0.3, retry_on_timeout=1)
        first = self.poll_swf(identity="dies")
        # The first attempt is abandoned: its heartbeat timeout schedules attempt 2.
        second = self.poll_swf(identity="survivor")
        self.assertIsNotNone(second)
        self.assertNotEqual(first["taskToken"], second["taskToken"])
        self.assertEqual(first["activityId"], second["activityId"])
        self.assertGreater(second["startedEventId"], first["startedEventId"])
        self.assertAwsError(lambda: self.swf.respond_activity_task_completed(taskToken=first["taskToken"]),
                            "UnknownResourceFault")
        self.swf.respond_activity_task_completed(taskToken=second["taskToken"], result="done")
        t = self.client.task(tid)
        self.assertEqual(t["state"], "completed")
        self.assertEqual([(a["state"], a["worker_identity"]) for a in t["attempts"]],
                         [("timed_out", "dies"), ("completed", "survivor")])
        self.assertEqual(t["accepted_responses"], 1)
        types = [e["eventType"] for e in t["history"]]
        self.assertEqual(types, ["ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskTimedOut",
                                 "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted"])

    def test_retries_run_out(self):
        tid = self.client.enqueue_swf("flaky", start_to_close=0.2, retry_on_timeout=1)
        self.poll_swf()
        self.poll_swf()
        t = self.client.wait_task(tid, timeout=10)
        self.assertEqual(t["state"], "timed_out")
        self.assertEqual(len(t["attempts"]), 2)


class SfnTimeoutTest(ServiceCase):
    def test_heartbeat_seconds(self):
        tid = self.client.enqueue_sfn(ARN, heartbeat_seconds=1.0)
        tok = self.poll_sfn()["taskToken"]
        self.sfn.send_task_heartbeat(taskToken=tok)
        t = self.client.wait_task(tid, timeout=10)
        self.assertEqual((t["state"], t["timeout_type"]), ("timed_out", "States.HeartbeatTimeout"))
        self.assertEqual(t["history"][-1]["type"], "ActivityTimedOut")
        self.assertEqual(t["history"][-1]["activityTimedOutEventDetails"]["error"], "States.HeartbeatTimeout")
        self.assertAwsError(lambda: self.sfn.send_task_heartbeat(taskToken=tok), "TaskTimedOut")
        self.assertAwsError(lambda: self.sfn.send_task_success(taskToken=tok, output="{}"), "TaskTimedOut")

    def test_timeout_seconds_is_absolute(self):
        tid = self.client.enqueue_sfn(ARN, timeout_seconds=1.5, heartbeat_seconds=10)
        tok = self.poll_sfn()["taskToken"]
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                self.sfn.send_task_heartbeat(taskToken=tok)
            except self.sfn.exceptions.TaskTimedOut:
                break
            time.sleep(0.05)
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["timeout_type"]), ("timed_out", "States.Timeout"))

    def test_retry_on_timeout(self):
        tid = self.client.enqueue_sfn(ARN, heartbeat_seconds=0.3, retry_on_timeout=2)
        a = self.poll_sfn()
        b = self.poll_sfn()
        self.assertNotEqual(a["taskToken"], b["taskToken"])
        self.sfn.send_task_success(taskToken=b["taskToken"], output='"ok"')
        t = self.client.task(tid)
        self.assertEqual(t["state"], "completed")
        self.assertEqual(len(t["attempts"]), 2)
        self.assertEqual([e["type"] for e in t["history"]],
                         ["ActivityScheduled", "ActivityStarted", "ActivityTimedOut",
                          "ActivityScheduled", "ActivityStarted", "ActivitySucceeded"])
