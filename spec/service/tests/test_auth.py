"""SigV4 verification: tampered, stale, mis-scoped or unknown-credential requests
are refused with AWS's codes; the same request untouched is accepted."""
import calendar
import time

from spec.service.tests.util import ARN, ServiceCase, amz_date, boto, send, sign

POLL = "AWSStepFunctions.GetActivityTask"
HB = "SimpleWorkflowService.RecordActivityTaskHeartbeat"


class RawSignatureTest(ServiceCase):
    def setUp(self):
        super().setUp()
        self.client.configure(poll_hold=0.1)

    def _sign(self, target=POLL, params=None, **kw):
        kw.setdefault("akid", self.svc.access_key)
        kw.setdefault("secret", self.svc.secret_key)
        return sign(self.svc.endpoint, target, params or {"activityArn": ARN}, **kw)

    def _send(self, body, headers):
        return send(self.svc.port, body, headers)

    def assertRefused(self, result, code, message=None, verdict=None):
        status, headers, data = result
        self.assertEqual(status, 400, data)
        self.assertEqual(data["__type"], f"com.amazon.coral.service#{code}")
        self.assertEqual(headers.get("Content-Type"), "application/x-amz-json-1.0")
        self.assertIn("x-amzn-RequestId", headers)
        if message is not None:
            self.assertIn(message, data["message"])
        if verdict is not None:
            self.assertEqual(self.client.requests()[-1]["verdict"], verdict)
        return data

    def test_untouched_request_is_accepted(self):
        body, headers = self._sign()
        status, _, data = self._send(body, headers)
        self.assertEqual((status, data), (200, {}))
        entry = self.client.requests()[-1]
        self.assertEqual((entry["verdict"], entry["access_key"], entry["op"]),
                         ("ok", self.svc.access_key, "GetActivityTask"))
        self.assertEqual(entry["headers"]["X-Amz-Target"], POLL)
        self.assertEqual(entry["body"], body.decode())

    def test_tampered_body(self):
        body, headers = self._sign()
        tampered = body.replace(b"test-activity", b"test-activitx")
        self.assertEqual(len(tampered), len(body))
        data = self.assertRefused(self._send(tampered, headers), "InvalidSignatureException",
                                  "The request signature we calculated does not match", "mismatch")
        self.assertIn("The Canonical String for this request should have been\n'POST\n/\n\n"
                      "content-type:application/x-amz-json-1.0\n", data["message"])
        self.assertEqual(self._send(body, headers)[0], 200)     # the original still passes

    def test_tampered_signature(self):
        body, headers = self._sign()
        sig = headers["Authorization"][-1]
        headers2 = dict(headers, Authorization=headers["Authorization"][:-1] + ("0" if sig != "0" else "1"))
        self.assertRefused(self._send(body, headers2), "InvalidSignatureException", verdict="mismatch")
        self.assertEqual(self._send(body, headers)[0], 200)

    def test_tampered_date(self):
        ts = amz_date(-60)
        body, headers = self._sign(timestamp=ts)
        self.assertEqual(self._send(body, headers)[0], 200)
        when = calendar.timegm(time.strptime(ts, "%Y%m%dT%H%M%SZ"))
        other = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when - 1))
        if other[:8] != ts[:8]:         # keep the scope's date right: move within the day
            other = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when + 1))
        headers2 = dict(headers, **{"X-Amz-Date": other})
        self.assertRefused(self._send(body, headers2), "InvalidSignatureException", verdict="mismatch")

    def test_tampered_target(self):
        body, headers = self._sign()
        headers2 = dict(headers, **{"X-Amz-Target": "AWSStepFunctions.SendTaskHeartbeat"})
        self.assertRefused(self._send(body, headers2), "InvalidSignatureException", verdict="mismatch")

    def test_stale_date(self):
        body, headers = self._sign(timestamp=amz_date(-600))
        data = self.assertRefused(self._send(body, headers), "InvalidSignatureException",
                                  "Signature expired: ", "expired")
        self.assertRegex(data["message"], r"^Signature expired: \d{8}T\d{6}Z is now earlier than "
                                          r"\d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$")

    def test_future_date(self):
        body, headers = self._sign(timestamp=amz_date(600))
        self.assertRefused(self._send(body, headers), "InvalidSignatureException",
                           "Signature not yet current: ", "not-yet-current")

    def test_date_within_the_skew_is_accepted(self):
        body, headers = self._sign(timestamp=amz_date(-240))
        self.assertEqual(self._send(body, headers)[0], 200)

    def test_configured_skew_and_offset(self):
        self.client.configure(clock_skew=60)
        body, headers = self._sign(timestamp=amz_date(-120))
        self.assertRefused(self._send(body, headers), "InvalidSignatureException", "- 1 min.)")
        self.client.configure(clock_skew=300, clock_offset=-600)     # the server's clock runs 10 min late
        body, headers = self._sign()
        self.assertRefused(self._send(body, headers), "InvalidSignatureException", "not yet current")

    def test_wrong_service_in_scope(self):
        body, headers = self._sign(HB, {"taskToken": "t"}, signing_name="states")
        self.assertRefused(self._send(body, headers), "InvalidSignatureException",
                           "Credential should be scoped to correct service: 'swf'. ", "bad-scope")

    def test_missing_authorization(self):
        body, headers = self._sign()
        del headers["Authorization"]
        data = self.assertRefused(self._send(body, headers), "MissingAuthenticationTokenException",
                                  verdict="missing")
        self.assertEqual(data["message"], "Missing Authentication Token")

    def test_incomplete_authorization(self):
        body, headers = self._sign()
        auth = headers["Authorization"]
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=" + self.svc.access_key
        self.assertRefused(self._send(body, headers), "IncompleteSignatureException",
                           "Authorization header requires 'Signature' parameter.", "incomplete")
        headers["Authorization"] = auth.replace("/aws4_request", "/aws5_request")
        self.assertRefused(self._send(body, headers), "IncompleteSignatureException",
                           "Credential should be scoped with a valid terminator: 'aws4_request'")
        headers["Authorization"] = auth.replace("Credential=", "Credential ")
        self.assertRefused(self._send(body, headers), "IncompleteSignatureException",
                           "not a valid key=value pair (missing equal-sign)")

    def test_host_must_be_signed(self):
        body, headers = self._sign()
        auth = headers["Authorization"]
        headers["Authorization"] = auth.replace("SignedHeaders=content-type;host;", "SignedHeaders=content-type;")
        self.assertRefused(self._send(body, headers), "IncompleteSignatureException", "'Host' must be")

    def test_missing_signed_header(self):
        body, headers = self._sign()
        headers["Authorization"] = headers["Authorization"].replace("x-amz-target", "x-amz-target;x-extra")
        self.assertRefused(self._send(body, headers), "IncompleteSignatureException",
                           "'x-extra' is named as a SignedHeader")

    def test_extra_signed_header_is_verified(self):
        # A client may sign more headers than botocore does (user-agent here).
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        req = AWSRequest("POST", self.svc.endpoint + "/", data=b'{"activityArn":"%s"}' % ARN.encode(),
                         headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": POLL,
                                  "X-Custom": "a"})
        SigV4Auth(Credentials(self.svc.access_key, self.svc.secret_key), "states", "us-east-1").add_auth(req)
        headers = dict(req.headers.items(), Host=self.svc.endpoint.split("://")[1])
        self.assertIn("x-custom", headers["Authorization"])
        self.assertEqual(send(self.svc.port, req.body, headers)[0], 200)
        self.assertRefused(send(self.svc.port, req.body, dict(headers, **{"X-Custom": "b"})),
                           "InvalidSignatureException")


class BotoCredentialTest(ServiceCase):
    def test_wrong_secret(self):
        c = boto(self.svc, "swf", secret="not-the-secret")
        self.assertAwsError(lambda: c.record_activity_task_heartbeat(taskToken="t"),
                            "InvalidSignatureException", "does not match")

    def test_wrong_region(self):
        c = boto(self.svc, "stepfunctions", region="us-west-2")
        self.assertAwsError(lambda: c.send_task_heartbeat(taskToken="t"), "InvalidSignatureException",
                            "Credential should be scoped to a valid region, not 'us-west-2'. ")
        self.client.configure(region="us-west-2")
        self.assertAwsError(lambda: c.send_task_heartbeat(taskToken="t"), "InvalidToken")

    def test_unknown_access_key(self):
        c = boto(self.svc, "swf", akid="AKIDNOBODY")
        err = self.assertAwsError(lambda: c.record_activity_task_heartbeat(taskToken="t"),
                                  "UnrecognizedClientException")
        self.assertEqual(err["Message"], "The security token included in the request is invalid.")
        self.assertEqual(self.client.requests()[-1]["verdict"], "unknown-key")

    def test_session_token(self):
        self.client.add_credentials("ASIATEMP", "temp-secret", token="session-token-1",
                                    expires_at=time.time() + 3600)
        good = boto(self.svc, "swf", akid="ASIATEMP", secret="temp-secret", token="session-token-1")
        self.assertAwsError(lambda: good.record_activity_task_heartbeat(taskToken="t"), "UnknownResourceFault")
        entry = self.client.requests()[-1]
        self.assertEqual(entry["verdict"], "ok")
        self.assertEqual(entry["headers"]["X-Amz-Security-Token"], "session-token-1")
        self.assertIn("x-amz-security-token", entry["headers"]["Authorization"])
        for token in (None, "session-token-2"):
            bad = boto(self.svc, "swf", akid="ASIATEMP", secret="temp-secret", token=token)
            self.assertAwsError(lambda: bad.record_activity_task_heartbeat(taskToken="t"),
                                "UnrecognizedClientException")
            self.assertEqual(self.client.requests()[-1]["verdict"], "bad-token")
        # A token sent with long-term credentials is not theirs either.
        extra = boto(self.svc, "swf", token="session-token-1")
        self.assertAwsError(lambda: extra.record_activity_task_heartbeat(taskToken="t"),
                            "UnrecognizedClientException")

    def test_expired_token(self):
        self.client.add_credentials("ASIAOLD", "old-secret", token="old-token", expires_at=time.time() - 1)
        c = boto(self.svc, "stepfunctions", akid="ASIAOLD", secret="old-secret", token="old-token")
        err = self.assertAwsError(lambda: c.send_task_heartbeat(taskToken="t"), "ExpiredTokenException")
        self.assertEqual(err["Message"], "The security token included in the request is expired")

    def test_reset_restores_startup_credentials(self):
        self.client.add_credentials("AKIDEXTRA", "extra-secret")
        c = boto(self.svc, "swf", akid="AKIDEXTRA", secret="extra-secret")
        self.assertAwsError(lambda: c.record_activity_task_heartbeat(taskToken="t"), "UnknownResourceFault")
        self.client.reset()
        self.assertAwsError(lambda: c.record_activity_task_heartbeat(taskToken="t"),
                            "UnrecognizedClientException")
