"""Model-driven validation and protocol-level errors (unknown target, bad JSON)."""
import json

from spec.service.tests.util import ARN, ServiceCase, send, sign

SWF_T = "SimpleWorkflowService."


class ValidationTest(ServiceCase):
    def raw(self, target, params=None, body=None):
        b, h = sign(self.svc.endpoint, target, params or {}, self.svc.access_key, self.svc.secret_key,
                    body=body)
        return send(self.svc.port, b, h)

    def test_missing_required_member(self):
        status, _, data = self.raw(SWF_T + "RespondActivityTaskCompleted", {"result": "x"})
        self.assertEqual(status, 400)
        self.assertEqual(data, {
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "1 validation error detected: Value null at 'taskToken' failed to satisfy "
                       "constraint: Member must not be null"})

    def test_too_long_through_botocore(self):
        err = self.assertAwsError(
            lambda: self.swf.record_activity_task_heartbeat(taskToken="t", details="d" * 2049),
            "ValidationException")
        self.assertEqual(err["Message"], "1 validation error detected: Value '%s' at 'details' failed to "
                                         "satisfy constraint: Member must have length less than or equal to "
                                         "2048" % ("d" * 2049))

    def test_too_short_and_nested_members(self):
        status, _, data = self.raw(SWF_T + "PollForActivityTask", {"domain": "", "taskList": {"name": "n" * 257}})
        self.assertEqual(status, 400)
        self.assertEqual(data["message"],
                         "2 validation errors detected: Value '' at 'domain' failed to satisfy constraint: "
                         "Member must have length greater than or equal to 1; Value '%s' at 'taskList.name' "
                         "failed to satisfy constraint: Member must have length less than or equal to 256"
                         % ("n" * 257))

    def test_swf_counts_characters_not_bytes(self):
        self.client.enqueue_swf("u")
        tok = self.poll_swf()["taskToken"]
        # 256 characters, 768 bytes: within SWF's 256-character reason limit.
        self.swf.respond_activity_task_failed(taskToken=tok, reason="\u20ac" * 256)
        self.assertEqual(self.client.wait_all(timeout=1)[0]["reason"], "\u20ac" * 256)
        self.assertAwsError(lambda: self.swf.respond_activity_task_failed(taskToken=tok, reason="\u20ac" * 257),
                            "ValidationException", "less than or equal to 256")

    def test_sensitive_members_are_not_echoed(self):
        err = self.assertAwsError(lambda: self.sfn.send_task_failure(taskToken="t", error="e" * 257),
                                  "ValidationException")
        self.assertEqual(err["Message"], "1 validation error detected: Value at 'error' failed to satisfy "
                                         "constraint: Member must have length less than or equal to 256")

    def test_sfn_token_limit_is_2048(self):
        self.assertAwsError(lambda: self.sfn.send_task_heartbeat(taskToken="t" * 2048), "InvalidToken")
        self.assertAwsError(lambda: self.sfn.send_task_heartbeat(taskToken="t" * 2049), "ValidationException",
                            "less than or equal to 2048")

    def test_wrong_json_type_is_a_serialization_error(self):
        status, _, data = self.raw(SWF_T + "RecordActivityTaskHeartbeat", {"taskToken": 12})
        self.assertEqual((status, data["__type"]), (400, "com.amazon.coral.service#SerializationException"))
        status, _, data = self.raw(SWF_T + "PollForActivityTask", {"domain": "d", "taskList": "main"})
        self.assertEqual(data["__type"], "com.amazon.coral.service#SerializationException")

    def test_body_not_json(self):
        for body in (b"{not json", b"[]", b""):
            status, _, data = self.raw(SWF_T + "PollForActivityTask", body=body)
            self.assertEqual((status, data["__type"]), (400, "com.amazon.coral.service#SerializationException"),
                             body)

    def test_unknown_operation(self):
        for target in ("SimpleWorkflowService.NoSuchThing", "Nope.PollForActivityTask", None):
            b, h = sign(self.svc.endpoint, target or "X.Y", {}, self.svc.access_key, self.svc.secret_key,
                        signing_name="swf")
            if target is None:
                del h["X-Amz-Target"]
            status, _, data = send(self.svc.port, b, h)
            self.assertEqual((status, data["__type"]), (400, "com.amazon.coral.service#UnknownOperationException"))

    def test_unimplemented_model_operation(self):
        status, _, data = self.raw(SWF_T + "RegisterDomain", {"name": "d",
                                                              "workflowExecutionRetentionPeriodInDays": "1"})
        self.assertEqual(data["__type"], "com.amazon.coral.service#UnknownOperationException")
        self.assertIn("not implemented", data["message"])

    def test_unknown_members_are_ignored(self):
        self.client.configure(poll_hold=0.1)
        status, _, data = self.raw("AWSStepFunctions.GetActivityTask", {"activityArn": ARN, "future": 1})
        self.assertEqual((status, data), (200, {}))

    def test_validation_runs_after_authentication(self):
        b, h = sign(self.svc.endpoint, SWF_T + "RespondActivityTaskCompleted", {}, self.svc.access_key, "wrong")
        status, _, data = send(self.svc.port, b, h)
        self.assertEqual(data["__type"], "com.amazon.coral.service#InvalidSignatureException")

    def test_every_implemented_operation_checks_its_required_members(self):
        ops = {SWF_T + "PollForActivityTask": ["domain", "taskList"],
               SWF_T + "RecordActivityTaskHeartbeat": ["taskToken"],
               SWF_T + "RespondActivityTaskCompleted": ["taskToken"],
               SWF_T + "RespondActivityTaskFailed": ["taskToken"],
               SWF_T + "RespondActivityTaskCanceled": ["taskToken"],
               "AWSStepFunctions.GetActivityTask": ["activityArn"],
               "AWSStepFunctions.SendTaskHeartbeat": ["taskToken"],
               "AWSStepFunctions.SendTaskSuccess": ["output", "taskToken"],
               "AWSStepFunctions.SendTaskFailure": ["taskToken"]}
        for target, required in ops.items():
            status, _, data = self.raw(target, {})
            self.assertEqual(status, 400)
            self.assertEqual(data["__type"], "com.amazon.coral.validate#ValidationException", target)
            for name in required:
                self.assertIn(f"at '{name}' failed to satisfy constraint: Member must not be null",
                              data["message"])
            self.assertTrue(data["message"].startswith(f"{len(required)} validation error"), data)
        self.assertEqual(json.loads(self.client.requests()[-1]["body"]), {})
