"""SWF activity side, driven by boto3 (Debian's botocore 1.29)."""
import threading
import time

from spec.service.tests.util import ServiceCase


class SwfPollTest(ServiceCase):
    def test_empty_poll_after_the_hold(self):
        self.client.configure(poll_hold=0.5)
        t0 = time.monotonic()
        r = self.swf.poll_for_activity_task(domain="demo", taskList={"name": "main"}, identity="w")
        self.assertGreaterEqual(time.monotonic() - t0, 0.45)
        self.assertEqual(r["startedEventId"], 0)
        self.assertNotIn("taskToken", r)
        log = self.client.requests()
        self.assertEqual(log[-1]["response"], '{"startedEventId":0}')

    def test_poll_gets_a_queued_task_with_all_fields(self):
        tid = self.client.enqueue_swf("resize", input='{"w": 10}', version="2", activity_id="a-1",
                                      workflow_id="wf-1", run_id="run-1")
        r = self.poll_swf(identity="host-a:42")
        self.assertIsNotNone(r)
        self.assertEqual(r["activityId"], "a-1")
        self.assertEqual(r["activityType"], {"name": "resize", "version": "2"})
        self.assertEqual(r["workflowExecution"], {"workflowId": "wf-1", "runId": "run-1"})
        self.assertEqual(r["input"], '{"w": 10}')
        # Realistic opaque tokens: hundreds of URL-safe characters, within the 1024 limit.
        self.assertTrue(500 <= len(r["taskToken"]) <= 1024, len(r["taskToken"]))
        t = self.client.task(tid)
        self.assertEqual(t["state"], "started")
        self.assertEqual(t["worker_identity"], "host-a:42")
        self.assertEqual([e["eventType"] for e in t["history"]], ["ActivityTaskScheduled", "ActivityTaskStarted"])
        started = t["history"][1]
        self.assertEqual(r["startedEventId"], started["eventId"])
        self.assertEqual(started["activityTaskStartedEventAttributes"],
                         {"identity": "host-a:42", "scheduledEventId": t["history"][0]["eventId"]})
        self.assertTrue(r["taskToken"].startswith(t["token_prefix"]))

    def test_task_lists_are_separate(self):
        self.client.configure(poll_hold=0.3)
        self.client.enqueue_swf("a", task_list="other")
        self.assertIsNone(self.poll_swf(task_list="main"))
        self.assertIsNotNone(self.poll_swf(task_list="other"))

    def test_waiting_poll_gets_a_task_enqueued_later(self):
        self.client.configure(poll_hold=20)
        got = {}

        def poll():
            t0 = time.monotonic()
            got["r"] = self.poll_swf()
            got["dt"] = time.monotonic() - t0
        th = threading.Thread(target=poll)
        th.start()
        self.client.wait_polls(1, timeout=10)
        tid = self.client.enqueue_swf("late")
        th.join(15)
        self.assertIsNotNone(got.get("r"))
        self.assertEqual(got["r"]["activityType"]["name"], "late")
        self.assertLess(got["dt"], 15)          # answered on arrival, not at the end of the hold
        self.assertEqual(self.client.task(tid)["state"], "started")

    def test_fifo_and_one_task_per_poll(self):
        ids = [self.client.enqueue_swf("t", input=str(i)) for i in range(3)]
        inputs = [self.poll_swf()["input"] for _ in ids]
        self.assertEqual(inputs, ["0", "1", "2"])
        self.client.configure(poll_hold=0.2)
        self.assertIsNone(self.poll_swf())


class SwfHeartbeatTest(ServiceCase):
    def test_heartbeat_without_cancellation(self):
        tid = self.client.enqueue_swf("hb", heartbeat=30)
        tok = self.poll_swf()["taskToken"]
        r1 = self.swf.record_activity_task_heartbeat(taskToken=tok, details="25%")
        r2 = self.swf.record_activity_task_heartbeat(taskToken=tok)
        self.assertIs(r1["cancelRequested"], False)
        self.assertIs(r2["cancelRequested"], False)
        r3 = self.swf.record_activity_task_heartbeat(taskToken=tok, details="50%")
        self.assertIs(r3["cancelRequested"], False)
        t = self.client.task(tid)
        self.assertEqual(t["heartbeat_count"], 3)
        self.assertEqual(t["last_heartbeat_details"], "50%")
        self.assertEqual(t["state"], "started")

    def test_cancel_requested_then_canceled(self):
        tid = self.client.enqueue_swf("long", heartbeat=30)
        tok = self.poll_swf()["taskToken"]
        self.assertFalse(self.swf.record_activity_task_heartbeat(taskToken=tok)["cancelRequested"])
        self.client.cancel(tid)
        self.assertTrue(self.swf.record_activity_task_heartbeat(taskToken=tok)["cancelRequested"])
        self.assertTrue(self.swf.record_activity_task_heartbeat(taskToken=tok)["cancelRequested"])
        self.swf.respond_activity_task_canceled(taskToken=tok, details="cleaned up")
        t = self.client.task(tid)
        self.assertEqual(t["state"], "canceled")
        self.assertTrue(t["cancel_requested"])
        types = [e["eventType"] for e in t["history"]]
        self.assertEqual(types, ["ActivityTaskScheduled", "ActivityTaskStarted",
                                 "ActivityTaskCancelRequested", "ActivityTaskCanceled"])
        req, canceled = t["history"][2], t["history"][3]
        self.assertEqual(req["activityTaskCancelRequestedEventAttributes"]["activityId"], t["activity_id"])
        attrs = canceled["activityTaskCanceledEventAttributes"]
        self.assertEqual(attrs["details"], "cleaned up")
        self.assertEqual(attrs["latestCancelRequestedEventId"], req["eventId"])
        self.assertEqual(attrs["startedEventId"], t["history"][1]["eventId"])

    def test_cancel_of_a_scheduled_task_cancels_it_at_once(self):
        self.client.configure(poll_hold=0.3)
        tid = self.client.enqueue_swf("never")
        self.client.cancel(tid)
        self.assertEqual(self.client.task(tid)["state"], "canceled")
        self.assertIsNone(self.poll_swf())

    def test_heartbeat_on_unknown_token(self):
        self.assertAwsError(lambda: self.swf.record_activity_task_heartbeat(taskToken="no-such-token"),
                            "UnknownResourceFault")


class SwfRespondTest(ServiceCase):
    def test_completed(self):
        tid = self.client.enqueue_swf("c")
        tok = self.poll_swf()["taskToken"]
        r = self.swf.respond_activity_task_completed(taskToken=tok, result='{"ok":true}')
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["result"], t["accepted_responses"]), ("completed", '{"ok":true}', 1))
        ev = t["history"][-1]
        self.assertEqual(ev["eventType"], "ActivityTaskCompleted")
        self.assertEqual(ev["activityTaskCompletedEventAttributes"]["result"], '{"ok":true}')

    def test_failed(self):
        tid = self.client.enqueue_swf("f")
        tok = self.poll_swf()["taskToken"]
        self.swf.respond_activity_task_failed(taskToken=tok, reason="Boom", details="trace")
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["reason"], t["details"]), ("failed", "Boom", "trace"))
        self.assertEqual(t["history"][-1]["activityTaskFailedEventAttributes"]["reason"], "Boom")

    def test_double_respond_is_rejected_and_answered_once(self):
        tid = self.client.enqueue_swf("d")
        tok = self.poll_swf()["taskToken"]
        self.swf.respond_activity_task_completed(taskToken=tok, result="first")
        self.assertAwsError(lambda: self.swf.respond_activity_task_failed(taskToken=tok, reason="second"),
                            "UnknownResourceFault")
        self.assertAwsError(lambda: self.swf.record_activity_task_heartbeat(taskToken=tok),
                            "UnknownResourceFault")
        t = self.client.task(tid)
        self.assertEqual(t["accepted_responses"], 1)
        self.assertEqual(t["result"], "first")
        self.assertEqual([(r["op"], r["accepted"], r["error"]) for r in t["responses"]],
                         [("RespondActivityTaskCompleted", True, None),
                          ("RespondActivityTaskFailed", False, "UnknownResourceFault")])

    def test_wire_error_shape(self):
        self.client.enqueue_swf("x")
        tok = self.poll_swf()["taskToken"]
        self.swf.respond_activity_task_completed(taskToken=tok)
        self.assertAwsError(lambda: self.swf.respond_activity_task_completed(taskToken=tok),
                            "UnknownResourceFault")
        entry = self.client.requests()[-1]
        self.assertEqual(entry["status"], 400)
        self.assertIn('"__type":"com.amazonaws.swf.base.model#UnknownResourceFault"', entry["response"])
        self.assertEqual(entry["error"], "UnknownResourceFault")

    def test_sfn_token_is_unknown_to_swf(self):
        from spec.service.tests.util import ARN
        self.client.configure(sfn_token_length=900)
        self.client.enqueue_sfn(ARN)
        tok = self.poll_sfn()["taskToken"]
        self.assertEqual(len(tok), 900)
        self.assertAwsError(lambda: self.swf.record_activity_task_heartbeat(taskToken=tok),
                            "UnknownResourceFault")

    def test_wait_task_and_wait_all(self):
        tid = self.client.enqueue_swf("w")
        with self.assertRaises(TimeoutError):
            self.client.wait_task(tid, timeout=0.2)
        tok = self.poll_swf()["taskToken"]
        threading.Timer(0.2, lambda: self.swf.respond_activity_task_completed(taskToken=tok)).start()
        self.assertEqual(self.client.wait_task(tid, timeout=10)["state"], "completed")
        self.assertEqual([t["state"] for t in self.client.wait_all(timeout=1)], ["completed"])
