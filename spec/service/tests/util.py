"""Shared helpers for the service's own tests: one server per test class,
botocore/boto3 clients pointed at it, and raw signed requests for tampering."""
import http.client
import json
import time
import unittest

import boto3
import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from spec.service.harness import LocalService

ARN = "arn:aws:states:us-east-1:123456789012:activity:test-activity"
JSON_CT = "application/x-amz-json-1.0"


def boto(svc, name, attempts=1, read_timeout=70, **kw):
    """A boto3 client for the service; attempts counts the first try (1 = no retry)."""
    args = dict(endpoint_url=svc.endpoint, region_name=kw.pop("region", svc.region),
                aws_access_key_id=kw.pop("akid", svc.access_key),
                aws_secret_access_key=kw.pop("secret", svc.secret_key),
                aws_session_token=kw.pop("token", None),
                config=Config(read_timeout=read_timeout, connect_timeout=10,
                              retries={"total_max_attempts": attempts, "mode": kw.pop("mode", "legacy")},
                              max_pool_connections=kw.pop("pool", 10)))
    return boto3.client(name, **args)


def sign(endpoint, target, params, akid, secret, token=None, region="us-east-1",
         signing_name=None, timestamp=None, body=None):
    """A request signed by botocore, returned as (body bytes, headers dict)."""
    if signing_name is None:
        signing_name = "swf" if target.startswith("SimpleWorkflowService.") else "states"
    data = body if body is not None else json.dumps(params).encode()
    req = AWSRequest("POST", endpoint + "/", data=data,
                     headers={"Content-Type": JSON_CT, "X-Amz-Target": target})
    signer = SigV4Auth(Credentials(akid, secret, token), signing_name, region)
    if timestamp is None:
        signer.add_auth(req)
    else:
        # add_auth, with the clock replaced by `timestamp` (YYYYMMDDTHHMMSSZ).
        req.context["timestamp"] = timestamp
        signer._modify_request_before_signing(req)
        creq = signer.canonical_request(req)
        signer._inject_signature_to_request(req, signer.signature(signer.string_to_sign(req, creq), req))
    headers = {k: v for k, v in req.headers.items()}
    headers["Host"] = endpoint.split("://", 1)[1]
    return data, headers


def send(port, body, headers, timeout=70):
    """POST / with exactly these headers; -> (status, headers, decoded JSON or raw bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        raw = r.read()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = raw
        return r.status, dict(r.getheaders()), data
    finally:
        conn.close()


def amz_date(offset=0.0):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() + offset))


class ServiceCase(unittest.TestCase):
    """One server for the class; reset before each test."""
    server_opts = {"poll_hold": 2}

    @classmethod
    def setUpClass(cls):
        cls.svc = LocalService(**cls.server_opts).start()
        cls.client = cls.svc.client
        cls.swf = boto(cls.svc, "swf")
        cls.sfn = boto(cls.svc, "stepfunctions")

    @classmethod
    def tearDownClass(cls):
        rc = cls.svc.stop()
        assert rc == 0, f"server exited with {rc}:\n{cls.svc.log_text()[-3000:]}"

    def setUp(self):
        self.client.reset()

    # -- helpers -------------------------------------------------------------------------
    def assertAwsError(self, fn, code, message=None, status=400):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn()
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, cm.exception.response)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        if message is not None:
            self.assertIn(message, err["Message"])
        return err

    def poll_swf(self, identity="worker-1", task_list="main", domain="demo", client=None):
        r = (client or self.swf).poll_for_activity_task(domain=domain, taskList={"name": task_list},
                                                        identity=identity)
        return r if r.get("taskToken") else None

    def poll_sfn(self, arn=ARN, worker="worker-1", client=None):
        r = (client or self.sfn).get_activity_task(activityArn=arn, workerName=worker)
        return r if r.get("taskToken") else None

    def wait_state(self, task_id, state, timeout=10):
        end = time.monotonic() + timeout
        while True:
            t = self.client.task(task_id)
            if t["state"] == state or time.monotonic() > end:
                self.assertEqual(t["state"], state, t)
                return t
            time.sleep(0.02)
