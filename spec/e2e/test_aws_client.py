"""The async AWS client (runtime/aws.c over http.c, sigv4.c, creds.c) against
the local service, which verifies every signature with botocore and answers
with success, AWS error bodies, 500s, throttling and dropped connections.
Asserts what the client did: decoded codes, retries, backoff bounds, headers."""
import json
import os
import subprocess

from spec.e2e.util import ROOT, E2ETestCase, LocalService, worker_env

DRIVER = os.environ.get("LUAWORKER_AWS_DRIVER", os.path.join(ROOT, "build", "test", "aws_driver"))
HB = "RecordActivityTaskHeartbeat"
POLL = "PollForActivityTask"
POLL_BODY = json.dumps({"domain": "demo", "taskList": {"name": "main"}, "identity": "driver"})


class AwsClientTest(E2ETestCase):
    def call(self, svc, op, body, env=None, service="swf"):
        p = subprocess.run([DRIVER, svc.endpoint, "us-east-1", service, op, body],
                           env=env or worker_env(svc), capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_success_error_body_and_retries(self):
        with LocalService(poll_hold=1) as svc:
            c = svc.client
            # success: an empty long poll
            r = self.call(svc, POLL, POLL_BODY)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["attempts"], 1)
            self.assertNotIn("taskToken", r["answer"])
            # an AWS error body: decoded, not retried
            r = self.call(svc, HB, json.dumps({"taskToken": "no-such-token"}))
            self.assertEqual((r["ok"], r["code"], r["attempts"], r["retryable"]),
                             (False, "UnknownResourceFault", 1, False))
            self.assertEqual(r["status"], 400)
            self.assertTrue(r["request_id"])
            # two 500s, then success: three attempts within the backoff bounds
            c.set_faults([{"op": POLL, "kind": "http500", "count": 2}])
            r = self.call(svc, POLL, POLL_BODY)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["attempts"], 3)
            # full jitter: delays in [0,1) and [0,2); plus two 1 s long polls at most
            self.assertLess(r["elapsed"], 1 + 2 + 1.5)
            # throttled every time: gives up after 3 attempts with the throttling code
            c.set_faults([{"op": HB, "kind": "throttle", "count": 5}])
            r = self.call(svc, HB, json.dumps({"taskToken": "t"}))
            self.assertEqual((r["ok"], r["code"], r["attempts"], r["throttle"]),
                             (False, "ThrottlingException", 3, True))
            # a connection dropped mid-response, then success
            c.set_faults([{"op": POLL, "kind": "close", "count": 1}])
            r = self.call(svc, POLL, POLL_BODY)
            self.assertEqual((r["ok"], r["attempts"]), (True, 2))
            # an answer that is not JSON, then success
            c.set_faults([{"op": POLL, "kind": "malformed", "count": 1}])
            r = self.call(svc, POLL, POLL_BODY)
            self.assertEqual((r["ok"], r["attempts"]), (True, 2))
            # 503 three times: gives up, code from the status
            c.set_faults([{"op": POLL, "kind": "http503", "count": 3}])
            r = self.call(svc, POLL, POLL_BODY)
            self.assertEqual((r["ok"], r["attempts"], r["retryable"]), (False, 3, True))
            c.clear_faults()
            reqs = c.requests()
        self.assertTrue(reqs)
        self.assertEqual([r for r in reqs if r.get("verdict") != "ok"], [])
        # every attempt of one call carries the same invocation id and its attempt number
        by_call = {}
        for r in reqs:
            h = {k.lower(): v for k, v in r["headers"].items()}
            by_call.setdefault(h["amz-sdk-invocation-id"], []).append(h["amz-sdk-request"])
        self.assertIn(["attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"], by_call.values())
        for h in reqs[0]["headers"]:
            self.assertNotIn("Secret", h)

    def test_wrong_credentials_are_not_retried(self):
        with LocalService(poll_hold=1) as svc:
            env = worker_env(svc, AWS_SECRET_ACCESS_KEY="wrong/secret/key/0123456789abcdef")
            r = self.call(svc, POLL, POLL_BODY, env=env)
            self.assertEqual((r["ok"], r["attempts"], r["retryable"]), (False, 1, False))
            self.assertEqual(r["code"], "InvalidSignatureException")
            env = worker_env(svc, AWS_ACCESS_KEY_ID="AKIDUNKNOWN0000000000")
            r = self.call(svc, POLL, POLL_BODY, env=env)
            self.assertEqual(r["code"], "UnrecognizedClientException")
            self.assertNotIn("wrong/secret", json.dumps(r))

    def test_step_functions_target_and_scope(self):
        with LocalService(poll_hold=1) as svc:
            arn = "arn:aws:states:us-east-1:123456789012:activity:a"
            r = self.call(svc, "GetActivityTask", json.dumps({"activityArn": arn, "workerName": "w"}),
                          service="states")
            self.assertTrue(r["ok"], r)
            r = self.call(svc, "SendTaskHeartbeat", json.dumps({"taskToken": "bogus"}), service="states")
            self.assertEqual(r["code"], "InvalidToken")
            self.assertEqual([x for x in svc.client.requests() if x.get("verdict") != "ok"], [])
