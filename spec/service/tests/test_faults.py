"""Fault injection: each kind, "before" and "after" semantics, counts and seeded
probabilities, and the service's own record staying true under faults."""
import json
import random
import socket
import threading
import time

import botocore.exceptions

from spec.service.tests.util import ServiceCase, boto, sign

HB = "SimpleWorkflowService.RecordActivityTaskHeartbeat"
POLL = "SimpleWorkflowService.PollForActivityTask"
DONE = "SimpleWorkflowService.RespondActivityTaskCompleted"


class FaultTest(ServiceCase):
    def setUp(self):
        super().setUp()
        self.retrying = boto(self.svc, "swf", attempts=3)

    def started(self, **kw):
        tid = self.client.enqueue_swf("f", **kw)
        return tid, self.poll_swf()["taskToken"]

    def raw(self, target, params):
        """Send one signed request on a fresh socket; -> (head text, body bytes, closed early)."""
        body, headers = sign(self.svc.endpoint, target, params, self.svc.access_key, self.svc.secret_key)
        req = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        req += f"Content-Length: {len(body)}\r\n\r\n"
        s = socket.create_connection(("127.0.0.1", self.svc.port), timeout=30)
        s.sendall(req.encode() + body)
        data = b""
        head_end = -1
        length = None
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                s.close()
                head, _, rest = data.partition(b"\r\n\r\n")
                return head.decode("latin-1"), rest, True
            data += chunk
            if head_end < 0 and b"\r\n\r\n" in data:
                head_end = data.index(b"\r\n\r\n") + 4
                for line in data[:head_end].decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":")[1])
            if head_end >= 0 and length is not None and len(data) - head_end >= length:
                s.close()
                return data[:head_end - 4].decode("latin-1"), data[head_end:], False

    # -- HTTP 500 / 503 / throttle ------------------------------------------------------------
    def test_http500_before_is_retried_by_botocore(self):
        tid, tok = self.started()
        self.client.set_faults([{"op": "RespondActivityTaskCompleted", "kind": "http500", "count": 1}])
        r = self.retrying.respond_activity_task_completed(taskToken=tok, result="r")
        self.assertEqual(r["ResponseMetadata"]["RetryAttempts"], 1)
        log = [e for e in self.client.requests() if e["op"] == "RespondActivityTaskCompleted"]
        self.assertEqual([(e["status"], e["fault"]) for e in log], [(500, "http500/before"), (200, None)])
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["accepted_responses"], len(t["responses"])), ("completed", 1, 1))
        self.assertEqual(self.client.fault_stats()["by_op"], {"RespondActivityTaskCompleted": {"http500": 1}})

    def test_http503_after_applies_then_loses_the_answer(self):
        tid, tok = self.started()
        self.client.set_faults([{"op": "RespondActivityTaskCompleted", "kind": "http503", "when": "after"}])
        # The first attempt completes the task but its answer is a 503; botocore retries
        # and the retry finds the task closed: exactly what a worker sees from AWS.
        err = self.assertAwsError(lambda: self.retrying.respond_activity_task_completed(taskToken=tok),
                                  "UnknownResourceFault")
        t = self.client.task(tid)
        self.assertEqual((t["state"], t["accepted_responses"]), ("completed", 1))
        self.assertEqual([r["accepted"] for r in t["responses"]], [True, False])
        self.assertTrue(err)

    def test_http_fault_bodies(self):
        rules = [{"op": "RecordActivityTaskHeartbeat", "kind": "http503", "body": "empty"},
                 {"op": "RecordActivityTaskHeartbeat", "kind": "http500", "body": "html"},
                 {"op": "RecordActivityTaskHeartbeat", "kind": "http500"}]
        self.client.set_faults(rules)
        head, body, _ = self.raw(HB, {"taskToken": "t"})
        self.assertTrue(head.startswith("HTTP/1.1 503 "))
        self.assertEqual(body, b"")
        head, body, _ = self.raw(HB, {"taskToken": "t"})
        self.assertTrue(head.startswith("HTTP/1.1 500 ") and body.startswith(b"<html>"))
        head, body, _ = self.raw(HB, {"taskToken": "t"})
        self.assertEqual(json.loads(body)["__type"], "com.amazon.coral.service#InternalFailure")
        head, body, _ = self.raw(HB, {"taskToken": "t"})     # rules used up: the real answer
        self.assertEqual(json.loads(body)["__type"], "com.amazonaws.swf.base.model#UnknownResourceFault")

    def test_throttle_before_on_poll_hands_out_nothing(self):
        tid = self.client.enqueue_swf("t")
        self.client.set_faults([{"op": "PollForActivityTask", "kind": "throttle", "count": 1}])
        err = self.assertAwsError(self.poll_swf, "ThrottlingException")
        self.assertEqual(err["Message"], "Rate exceeded")
        self.assertEqual(self.client.task(tid)["state"], "scheduled")
        self.client.set_faults([{"op": "PollForActivityTask", "kind": "throttle", "count": 1}])
        r = self.poll_swf(client=self.retrying)          # botocore retries the throttle
        self.assertIsNotNone(r)
        self.assertEqual(r["ResponseMetadata"]["RetryAttempts"], 1)
        self.assertEqual(self.client.task(tid)["state"], "started")

    # -- latency -----------------------------------------------------------------------------------
    def test_latency_before_and_after(self):
        tid, tok = self.started(heartbeat=30)
        self.client.set_faults([{"op": "RecordActivityTaskHeartbeat", "kind": "latency", "latency_ms": 300},
                                {"op": "RecordActivityTaskHeartbeat", "kind": "latency", "latency_ms": 200,
                                 "when": "after"}])
        t0 = time.monotonic()
        r = self.swf.record_activity_task_heartbeat(taskToken=tok, details="slow")
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)
        self.assertFalse(r["cancelRequested"])
        self.assertEqual(self.client.task(tid)["heartbeat_count"], 1)
        self.assertGreaterEqual(self.client.requests()[-1]["duration_ms"], 500)
        self.assertEqual(self.client.fault_stats()["by_kind"], {"latency": 2})

    # -- close / malformed / oversized ----------------------------------------------------------------
    def test_close_before_cuts_the_answer_and_skips_the_operation(self):
        tid, tok = self.started(heartbeat=30)
        self.client.set_faults([{"op": "RecordActivityTaskHeartbeat", "kind": "close"}])
        head, body, closed = self.raw(HB, {"taskToken": tok, "details": "x"})
        self.assertTrue(closed)
        length = int(head.lower().split("content-length:")[1].split("\r\n")[0])
        self.assertLess(len(body), length)
        self.assertEqual(self.client.task(tid)["heartbeat_count"], 0)

    def test_close_after_on_an_empty_answer(self):
        tid, tok = self.started()
        self.client.set_faults([{"op": "RespondActivityTaskCompleted", "kind": "close", "when": "after"}])
        head, body, closed = self.raw(DONE, {"taskToken": tok, "result": "r"})
        self.assertTrue(closed)
        self.assertEqual(head, "HTTP/1.1 2")        # cut inside the status line
        self.assertEqual(self.client.task(tid)["state"], "completed")
        # botocore sees a broken connection and retries; the retry finds the task closed.
        tid2, tok2 = self.started()
        self.client.set_faults([{"op": "RespondActivityTaskCompleted", "kind": "close", "when": "after"}])
        self.assertAwsError(lambda: self.retrying.respond_activity_task_completed(taskToken=tok2),
                            "UnknownResourceFault")
        self.assertEqual(self.client.task(tid2)["accepted_responses"], 1)

    def test_malformed_before_and_after_on_poll(self):
        tid = self.client.enqueue_swf("m")
        self.client.set_faults([{"op": "PollForActivityTask", "kind": "malformed"}])
        head, body, _ = self.raw(POLL, {"domain": "demo", "taskList": {"name": "main"}})
        self.assertTrue(head.startswith("HTTP/1.1 200 "))
        self.assertRaises(ValueError, json.loads, body)
        self.assertEqual(self.client.task(tid)["state"], "scheduled")
        self.client.set_faults([{"op": "PollForActivityTask", "kind": "malformed", "when": "after"}])
        head, body, _ = self.raw(POLL, {"domain": "demo", "taskList": {"name": "main"}})
        self.assertRaises(ValueError, json.loads, body)
        self.assertIn(b'"taskToken":"', body)       # half of the real answer
        self.assertEqual(self.client.task(tid)["state"], "started")     # handed out, then garbled

    def test_oversized(self):
        tid = self.client.enqueue_swf("o")
        self.client.set_faults([{"op": "PollForActivityTask", "kind": "oversized", "when": "after"}])
        head, body, _ = self.raw(POLL, {"domain": "demo", "taskList": {"name": "main"}, "identity": "w"})
        self.assertGreaterEqual(len(body), 8 * 1024 * 1024)
        data = json.loads(body)
        self.assertEqual(data["activityType"]["name"], "o")
        self.assertEqual(self.client.task(tid)["state"], "started")
        self.client.set_faults([{"op": "*", "kind": "oversized", "size": 3 << 20}])
        head, body, _ = self.raw(HB, {"taskToken": "t"})
        self.assertTrue(3 << 20 <= len(body) < (3 << 20) + 100)
        entry = self.client.requests()[-1]
        self.assertTrue(entry["response_truncated"])

    # -- counting and probability -----------------------------------------------------------------------
    def test_seeded_probability_is_reproducible(self):
        rule = {"op": "RecordActivityTaskHeartbeat", "kind": "throttle", "probability": 0.3, "seed": 42}
        rng = random.Random(42)
        expected = [rng.random() < 0.3 for _ in range(30)]
        for _ in range(2):
            self.client.set_faults([rule])
            seen = []
            for _ in range(30):
                try:
                    self.swf.record_activity_task_heartbeat(taskToken="t")
                except botocore.exceptions.ClientError as e:
                    seen.append(e.response["Error"]["Code"] == "ThrottlingException")
            self.assertEqual(seen, expected)
            self.assertEqual(self.client.fault_stats()["rules"][0]["fired"], sum(expected))
            self.client.clear_faults()

    def test_count_and_wildcard(self):
        self.client.set_faults([{"op": "*", "kind": "http500", "count": 2}])
        codes = []
        for _ in range(3):
            try:
                self.swf.record_activity_task_heartbeat(taskToken="t")
            except botocore.exceptions.ClientError as e:
                codes.append(e.response["ResponseMetadata"]["HTTPStatusCode"])
        self.assertEqual(codes, [500, 500, 400])
        st = self.client.fault_stats()
        self.assertEqual((st["total"], st["rules"][0]["remaining"]), (2, 0))

    def test_bad_rules_are_refused(self):
        from spec.service.client import ControlError
        for rule in ({"kind": "nope"}, {"kind": "close", "when": "later"}, {"kind": "throttle", "probability": 2}):
            with self.assertRaises(ControlError) as cm:
                self.client.set_faults([rule])
            self.assertEqual(cm.exception.status, 400)

    # -- the record stays true ---------------------------------------------------------------------------
    def test_no_task_lost_or_answered_twice_under_faults(self):
        n = 24
        ids = [self.client.enqueue_swf("work", input=str(i), start_to_close=2.0, retry_on_timeout=10)
               for i in range(n)]
        self.client.set_faults([
            {"op": "*", "kind": "http500", "probability": 0.15, "seed": 1},
            {"op": "PollForActivityTask", "kind": "malformed", "when": "after", "probability": 0.1, "seed": 2},
            {"op": "RespondActivityTaskCompleted", "kind": "http503", "when": "after",
             "probability": 0.2, "seed": 3},
            {"op": "RespondActivityTaskCompleted", "kind": "throttle", "probability": 0.1, "seed": 4},
        ])
        self.client.configure(poll_hold=0.3)
        stop = threading.Event()

        def worker(k):
            c = boto(self.svc, "swf", attempts=4)
            while not stop.is_set():
                try:
                    r = self.poll_swf(identity=f"w{k}", client=c)
                    if r:
                        c.respond_activity_task_completed(taskToken=r["taskToken"], result=r["input"])
                except botocore.exceptions.ClientError:
                    pass            # UnknownResourceFault after a lost answer: the task is done
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        try:
            tasks = self.client.wait_all(timeout=60)
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        self.assertEqual(sorted(t["id"] for t in tasks), sorted(ids))
        for t in tasks:
            self.assertEqual(t["state"], "completed", t["id"])
            self.assertEqual(t["accepted_responses"], 1, t["id"])
            self.assertEqual(t["result"], t["input"])
        self.assertGreater(self.client.fault_stats()["total"], 0)
