"""The control API itself: errors, settings, request log, reset."""
import json
import threading
import urllib.error
import urllib.request

from spec.service.client import ControlError
from spec.service.tests.util import ARN, ServiceCase


class ControlTest(ServiceCase):
    def assertControlError(self, status, fn, *args, **kw):
        with self.assertRaises(ControlError) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.status, status, cm.exception)

    def test_errors(self):
        self.assertControlError(404, self.client.task, "swf-999")
        self.assertControlError(400, self.client.configure, poll_hold=-1)
        self.assertControlError(400, self.client.configure, no_such_setting=1)
        self.assertControlError(400, self.client.configure, token_length=5000)
        self.assertControlError(400, self.client.enqueue_swf, "x", heartbeat="soon")
        self.assertControlError(400, self.client.enqueue_sfn, "not-an-arn")
        sfn_task = self.client.enqueue_sfn(ARN)
        self.assertControlError(400, self.client.cancel, sfn_task)     # SFN has no cancel request
        tid = self.client.enqueue_swf("x")
        self.client.stop_execution(tid, error="terminated")
        self.assertControlError(409, self.client.cancel, tid)
        self.assertControlError(409, self.client.stop_execution, tid)
        req = urllib.request.Request(self.svc.endpoint + "/_control/nope", data=b"{}", method="POST")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req)
        self.assertEqual(cm.exception.code, 404)

    def test_swf_stop_execution_is_a_termination(self):
        tid = self.client.enqueue_swf("x")
        tok = self.poll_swf()["taskToken"]
        t = self.client.stop_execution(tid, error="operator", cause="test")
        self.assertEqual(t["history"][-1]["eventType"], "WorkflowExecutionTerminated")
        self.assertAwsError(lambda: self.swf.record_activity_task_heartbeat(taskToken=tok), "UnknownResourceFault")

    def test_token_length_setting(self):
        self.client.configure(token_length=64)
        self.client.enqueue_swf("x")
        self.client.enqueue_sfn(ARN)
        self.assertEqual(len(self.poll_swf()["taskToken"]), 64)
        self.assertEqual(len(self.poll_sfn()["taskToken"]), 64)
        self.client.configure(token_length=None, sfn_token_length=2048)
        self.client.enqueue_sfn(ARN)
        self.client.enqueue_swf("x")
        self.assertEqual(len(self.poll_sfn()["taskToken"]), 2048)
        self.assertTrue(500 <= len(self.poll_swf()["taskToken"]) <= 800)     # back to the default

    def test_request_log_since_and_reset(self):
        self.assertAwsError(lambda: self.swf.record_activity_task_heartbeat(taskToken="a"), "UnknownResourceFault")
        self.assertAwsError(lambda: self.swf.record_activity_task_heartbeat(taskToken="b"), "UnknownResourceFault")
        log = self.client.requests()
        self.assertEqual([json.loads(e["body"])["taskToken"] for e in log], ["a", "b"])
        self.assertEqual(log[1]["seq"], log[0]["seq"] + 1)
        self.assertEqual(self.client.requests(since=log[0]["seq"]), log[1:])
        e = log[0]
        self.assertEqual((e["target"], e["service"], e["op"], e["status"], e["error"], e["verdict"]),
                         ("SimpleWorkflowService.RecordActivityTaskHeartbeat", "swf",
                          "RecordActivityTaskHeartbeat", 400, "UnknownResourceFault", "ok"))
        self.assertIn("Authorization", e["headers"])
        self.assertIn("Botocore", e["headers"]["User-Agent"])
        self.client.reset()
        self.assertEqual(self.client.requests(), [])
        self.assertAwsError(lambda: self.swf.record_activity_task_heartbeat(taskToken="c"), "UnknownResourceFault")
        self.assertGreater(self.client.requests()[0]["seq"], log[1]["seq"])    # seq keeps growing

    def test_reset_answers_open_polls_and_forgets_tasks(self):
        self.client.configure(poll_hold=20)
        got = []
        th = threading.Thread(target=lambda: got.append(self.poll_swf()))
        th.start()
        self.client.wait_polls(1)
        self.client.reset()
        th.join(10)
        self.assertEqual(got, [None])
        self.assertEqual(self.client.tasks(), [])
        self.assertEqual(self.client.config()["poll_hold"], 2)

    def test_known_domains(self):
        self.client.configure(known_domains=["prod"], poll_hold=0.1)
        self.assertAwsError(lambda: self.poll_swf(domain="demo"), "UnknownResourceFault", "Unknown domain")
        self.assertIsNone(self.poll_swf(domain="prod"))
