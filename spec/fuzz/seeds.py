#!/usr/bin/python3
"""Write the committed seed corpora of the fuzz targets (spec/fuzz/corpus/).

Usage: spec/fuzz/seeds.py   (from anywhere; rewrites the seed-* files only)

Seeds are real samples: SWF and Step Functions poll answers as the APIs
document them (../shared/aws/API.md and the AWS API references), the error
bodies of API.md §1, shared config/credentials files, credential_process /
container / IMDS documents, and raw HTTP responses as AWS and the local
service send them. Inputs that once crashed a target are kept beside them
as crash-<name> files (never rewritten here). Each input's first byte(s)
select what the target does with it; see the comment at the top of each
spec/fuzz/fuzz_<name>.c.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

TOKEN = ("AAAAKgAAAAEAAAAAAAAAAX9p3pcp3857oLXFUuwdxRU5/zmn9f40XaMF7VohAH4jOtjXpZu7GdOzEi0b3cWYHbG5b5dp"
         "dcTXHUDPVMHXiUxCgr+Nc/wUW9016W4YxJGs/jmxzPln8qLftU+SW135Q0UuKp5XRGoRTJp3tbHn2pY1vC8gDB/K69J6q66")

SWF_TASK = {
    "activityId": "verification-27",
    "activityType": {"name": "activityVerify", "version": "1.0"},
    "input": "5634-0056-4367-0923,12/12,437",
    "startedEventId": 11,
    "taskToken": TOKEN,
    "workflowExecution": {"runId": "2Jw0fLxxb2gaLJmTKUJ3ZWA4XnhrOWsSvjZmEAd4tuw=",
                          "workflowId": "20110927-T-1"},
}
SFN_TASK = {"taskToken": TOKEN, "input": json.dumps({"width": 1280, "n": 12345678901234567})}

ERRORS = {
    "unknown-resource": (400, None, {"__type": "com.amazonaws.swf.base.model#UnknownResourceFault",
                                     "message": "Unknown execution: WorkflowExecution=[workflowId=1]"}),
    "task-timed-out": (400, None, {"__type": "com.amazonaws.swf.service.v2.model#TaskTimedOut",
                                   "message": "Task Timed Out: 'arn:aws:states:...'"}),
    "validation": (400, None, {"__type": "com.amazon.coral.validate#ValidationException",
                               "message": "1 validation error detected: Value at 'taskToken' failed"}),
    "throttling-header": (400, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/",
                          {"message": "Rate exceeded"}),
    "unrecognized-client": (400, None, {"__type": "UnrecognizedClientException",
                                        "message": "The security token included in the request is invalid."}),
    "signature-expired": (400, None, {"__type": "InvalidSignatureException",
                                      "message": "Signature expired: 20260101T000000Z is now earlier than "
                                                 "20260101T000500Z (20260101T001000Z - 5 min.)"}),
    "expired-token": (400, None, {"__type": "ExpiredTokenException",
                                  "message": "The security token included in the request is expired"}),
    "code-Message": (400, None, {"code": "ThrottlingException", "Message": "slow down"}),
    "limit-exceeded": (400, None, {"__type": "com.amazonaws.swf.base.model#LimitExceededFault"}),
    "too-many": (429, None, {}),
    "internal": (500, None, {"__type": "InternalFailure", "message": "internal\nfailure"}),
}


def http(status, reason, headers, body):
    if isinstance(body, (dict, list)):
        body = json.dumps(body, separators=(",", ":"))
    if isinstance(body, str):
        body = body.encode()
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def aws(status, body, extra=(), reason=None):
    body = json.dumps(body, separators=(",", ":")).encode() if not isinstance(body, bytes) else body
    reasons = {200: "OK", 400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error",
               503: "Service Unavailable"}
    hdrs = [("x-amzn-RequestId", "6d6f2f5e-0a3c-4b2a-9a5c-3f5c0c1e2d3f"),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Content-Length", str(len(body))), ("Date", "Sat, 21 Nov 2026 05:00:00 GMT")]
    return http(status, reason or reasons.get(status, "Status"), list(extra) + hdrs, body)


def poll_seeds():
    j = lambda o: json.dumps(o, separators=(",", ":")).encode()
    out = {}
    for log, lb in ((0, ""), (2, "-json-log")):
        out[f"swf-task{lb}"] = bytes([0 | log]) + j(SWF_TASK)
        out[f"sfn-task{lb}"] = bytes([1 | log]) + j(SFN_TASK)
    out["swf-empty"] = b"\x00" + j({"startedEventId": 0})
    out["swf-empty-token"] = b"\x00" + j({"taskToken": "", "startedEventId": 0})
    out["swf-null-token"] = b"\x00" + j({"taskToken": None})
    out["swf-empty-body"] = b"\x00"
    out["swf-bad-token-type"] = b"\x00" + j({"taskToken": 5})
    out["swf-bad-type-name"] = b"\x00" + j({"taskToken": "t", "activityType": {"name": 7}})
    out["swf-bad-run-id"] = b"\x02" + j({"taskToken": "t", "workflowExecution": {"runId": []}})
    out["swf-nested-strings"] = b"\x02" + j({"taskToken": "t", "activityType": "x",
                                              "workflowExecution": None, "startedEventId": -1})
    out["swf-heartbeat-answer"] = b"\x00" + j({"cancelRequested": True})
    out["sfn-empty"] = b"\x01" + j({})
    out["sfn-nul-and-surrogates"] = b"\x03" + \
        b'{"taskToken":"a\\u0000b","input":"\\ud83d\\ude00 \\u0000 \\"q\\" \\\\ \\n"}'
    out["sfn-bad-input"] = b"\x01" + j({"taskToken": "t", "input": {"n": 1}})
    out["sfn-not-object"] = b"\x01" + b'["taskToken"]'
    out["sfn-invalid-utf8"] = b"\x03" + b'{"taskToken":"t","input":"\xff\xfe"}'
    out["swf-lone-surrogates"] = b"\x00" + \
        b'{"taskToken":"t\\ud800","input":"a\\udc00b\\ud83d\\ude00\\\\ud800\\ud83d"}'
    return out


def awserr_seeds():
    out = {}
    for name, (status, etype, body) in ERRORS.items():
        flags = (1 if etype else 0) | 2
        hdr = (etype + "\n" if etype else "") + "6d6f2f5e-0a3c-4b2a-9a5c-3f5c0c1e2d3f\n"
        out[name] = (status - 100).to_bytes(2, "big") + bytes([flags]) + hdr.encode() + \
            json.dumps(body, separators=(",", ":")).encode()
    # the status is 100 + (big-endian value % 500): 503 is 403, 500 is 400
    out["html-503"] = (403).to_bytes(2, "big") + b"\x00" + b"\n<html><body>Service Unavailable</body></html>"
    out["empty-500"] = (400).to_bytes(2, "big") + b"\x00"
    out["text-502"] = (402).to_bytes(2, "big") + b"\x00" + b"Bad Gateway"
    out["text-400"] = (300).to_bytes(2, "big") + b"\x00" + b"not json at all\r\nsecond line"
    out["header-only"] = (300).to_bytes(2, "big") + b"\x01" + b"aws.protocoltests#FooError:extra\n"
    out["header-hash-colon"] = (300).to_bytes(2, "big") + b"\x01" + b" #a#b:c \n{\"message\":\"m\"}"
    out["long-message"] = (300).to_bytes(2, "big") + b"\x00" + \
        json.dumps({"__type": "X" * 100, "message": "\u00e9" * 600}).encode()
    out["nul-in-body"] = (300).to_bytes(2, "big") + b"\x00" + b'{"__type":"A\\u0000B","message":"m\\u0000n"}'
    return out


CONFIG = """# ~/.aws/config
[default]
region = us-east-1
output = json

[profile dev]
region = eu-west-1 ; inline comment
credential_process = /usr/local/bin/aws-vault export --format=json "dev profile" --no-session
services = local

[profile "my dev"]
region: ap-south-1
s3 =
  max_concurrent_requests = 10
  max_queue_size = 1000

[services local]
swf =
  endpoint_url = http://127.0.0.1:4566
sfn =
  endpoint_url = http://localhost:8083

[sso-session corp]
sso_region = us-east-1
"""

CREDENTIALS = """[default]
aws_access_key_id = AKIDEXAMPLE
aws_secret_access_key = sekrit/K7MDENG/bPxRfiCYEXAMPLEKEY
aws_session_token = tokn-FwoGZXIvYXdzEJr

[prod]
aws_access_key_id=AKIDPROD
aws_secret_access_key=sekrit-prod
"""


def ini_seeds():
    out = {
        "config": CONFIG.encode(),
        "credentials": CREDENTIALS.encode(),
        "crlf-bom": b"\xef\xbb\xbf" + CREDENTIALS.replace("\n", "\r\n").encode(),
        "defaults": b"[DEFAULT]\nregion = us-west-2\n[default]\noutput=text\n[profile x]\n",
        "continuation": b"[s]\nkey = first\n  second\n\n  third\nsub =\n  a = 1\n  b=2\n",
        "repeated": b"[a]\nk=1\n[b]\nk=2\n[a]\nk=3\nK=4\n",
        "cr-only": b"[a]\rk = v\r",
        "comments": b"# c\n; c\n[default] ; about\n  # indented\nregion = us-east-1 # x\nhash = a#b\n",
        "err-key-first": b"region = us-east-1\n[default]\n",
        "err-bad-line": b"[default]\nthis line has no delimiter\n",
        "err-sub-no-eq": b"[default]\ns3 =\n  nope\n",
        "err-nul": b"[default]\nregion = a\x00b\n",
        "err-utf8": b"[default]\nregion = \xc3\x28\n",
        "profile-shlex": b"[profile 'a b']\nregion=1\n[profile  \"c\\\"d\"]\nregion=2\n[profiles x]\n",
        "process-quoting": b"[default]\ncredential_process = 'a b' \"c \\\"d\\\" \\\\\" e\\ f ''\n",
    }
    return out


def creds_seeds():
    j = lambda o: json.dumps(o, separators=(",", ":")).encode()
    out = {
        "process-full": b"\x00" + j({"Version": 1, "AccessKeyId": "AKIDEXAMPLE",
                                     "SecretAccessKey": "sekrit", "SessionToken": "tokn",
                                     "Expiration": "2030-01-01T00:00:00Z", "AccountId": "123456789012"}),
        "process-static": b"\x00" + j({"Version": 1, "AccessKeyId": "AKID", "SecretAccessKey": "sekrit"}),
        "process-version-2": b"\x00" + j({"Version": 2, "AccessKeyId": "AKID", "SecretAccessKey": "sekrit"}),
        "process-version-str": b"\x00" + j({"Version": "1"}),
        "process-truncated": b"\x00" + b'{"Version":1,"AccessKeyId":"AKID","SecretAccessKey":"sekrit',
        "process-token-number": b"\x00" + j({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "sekrit",
                                             "SessionToken": 5}),
        "container": b"\x01" + j({"AccessKeyId": "ASIAEXAMPLE", "Expiration": "2030-01-01T00:00:00Z",
                                  "RoleArn": "arn:aws:iam::123456789012:role/task",
                                  "SecretAccessKey": "sekrit", "Token": "tokn"}),
        "container-missing-token": b"\x01" + j({"AccessKeyId": "A", "SecretAccessKey": "sekrit"}),
        "container-array": b"\x01" + b"[]",
        "imds": b"\x02" + j({"Code": "Success", "LastUpdated": "2026-11-21T04:00:00Z", "Type": "AWS-HMAC",
                             "AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "sekrit", "Token": "tokn",
                             "Expiration": "2026-11-21T10:00:00.250+01:30"}),
        "imds-error-code": b"\x02" + j({"Code": "AssumeRoleUnauthorizedAccess",
                                        "Message": "EC2 cannot assume the role",
                                        "LastUpdated": "2026-11-21T04:00:00Z"}),
        "imds-role-line": b"\x02" + b"role-a\n",
        "time-offset": b"\x00" + b"2026-11-21T07:00:00-0500",
        "time-space": b"\x01" + b"2026-11-21 12:00:00,5",
        "first-line": b"\x01" + b"  \t\r\nerror: \x01\x7f\xc3\xa9 the vault is sealed\t \nsecond line",
    }
    return out


def http_seeds():
    out = {}
    modes = {"swf-poll": 0, "swf-hb": 1, "swf-respond": 2, "sfn-poll": 3, "sfn-hb": 4,
             "sfn-respond": 5, "raw": 6, "container": 7, "imds": 8}
    m = lambda name: bytes([modes[name]])
    out["swf-poll-task"] = m("swf-poll") + aws(200, SWF_TASK)
    out["swf-poll-empty"] = m("swf-poll") + aws(200, {"startedEventId": 0})
    out["swf-poll-malformed"] = m("swf-poll") + aws(200, b'{"taskToken":')
    out["swf-poll-lone-surrogate"] = m("swf-poll") + aws(200, b'{"taskToken":"t","input":"\\ud800x"}')
    out["swf-poll-bad-field"] = m("swf-poll") + aws(200, {"taskToken": "t", "activityId": 1})
    out["swf-poll-chunked"] = m("swf-poll") + http(200, "OK", [
        ("Content-Type", "application/x-amz-json-1.0"), ("Transfer-Encoding", "chunked")],
        b"a\r\n{\"taskToke\r\n11\r\nn\":\"tok\",\"a\":1}\r\n0\r\nx-trailer: 1\r\n\r\n")
    out["swf-poll-close-delimited"] = m("swf-poll") + http(200, "OK", [("Connection", "close")],
                                                           json.dumps(SWF_TASK))
    out["swf-poll-100-continue"] = m("swf-poll") + b"HTTP/1.1 100 Continue\r\n\r\n" + aws(200, {})
    out["swf-poll-503-html"] = m("swf-poll") + aws(503, b"<html><body>Service Unavailable</body></html>")
    out["swf-poll-skew"] = m("swf-poll") + aws(400, ERRORS["signature-expired"][2])
    out["swf-poll-expired-token"] = m("swf-poll") + aws(400, ERRORS["expired-token"][2])
    out["swf-poll-auth"] = m("swf-poll") + aws(400, ERRORS["unrecognized-client"][2])
    out["swf-hb-cancel"] = m("swf-hb") + aws(200, {"cancelRequested": True})
    out["swf-hb-gone"] = m("swf-hb") + aws(400, ERRORS["unknown-resource"][2])
    out["swf-hb-throttled"] = m("swf-hb") + aws(400, {"message": "Rate exceeded"}, extra=[
        ("x-amzn-ErrorType", ERRORS["throttling-header"][1])])
    out["swf-respond-ok"] = m("swf-respond") + aws(200, b"")
    out["sfn-poll-task"] = m("sfn-poll") + aws(200, SFN_TASK)
    out["sfn-hb-timed-out"] = m("sfn-hb") + aws(400, ERRORS["task-timed-out"][2])
    out["sfn-respond-500"] = m("sfn-respond") + aws(500, ERRORS["internal"][2])
    out["sfn-respond-validation"] = m("sfn-respond") + aws(400, ERRORS["validation"][2])
    out["raw-small"] = m("raw") + http(200, "OK", [("Content-Length", "5"), ("X-Folded", "a"),
                                                   (" b", "c"), ("NoValue", ""), ("x-amzn-RequestId", " r ")],
                                       b"hello")
    out["raw-too-large"] = m("raw") + http(200, "OK", [("Content-Length", "100")], b"x" * 100)
    out["raw-204"] = m("raw") + b"HTTP/1.1 204 No Content\r\n\r\n"
    out["raw-http10"] = m("raw") + b"HTTP/1.0 302 Found\r\nLocation: /elsewhere\r\n\r\nmoved"
    out["raw-garbage"] = m("raw") + b"SSH-2.0-OpenSSH_9.2\r\n"
    out["raw-empty"] = m("raw")
    out["raw-bad-length"] = m("raw") + b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc"
    creds = {"AccessKeyId": "ASIAEXAMPLE", "Expiration": "2030-01-01T00:00:00Z",
             "SecretAccessKey": "sekrit", "Token": "tokn"}
    out["container-ok"] = m("container") + aws(200, creds)
    out["container-500"] = m("container") + http(500, "Internal Server Error", [("Content-Length", "5")], b"oops\n")
    out["container-not-json"] = m("container") + http(200, "OK", [("Content-Length", "4")], b"nope")
    imds = dict(creds, Code="Success", Type="AWS-HMAC")
    out["imds-ok"] = m("imds") + http(200, "OK", [("Content-Length", str(len(json.dumps(imds, separators=(",", ":")))))],
                                      json.dumps(imds, separators=(",", ":")))
    out["imds-token-404"] = m("imds") + http(404, "Not Found", [("Content-Length", "0")], b"")
    out["imds-401"] = m("imds") + http(401, "Unauthorized", [("Content-Length", "0")], b"")
    return out


def main():
    for name, seeds in (("poll", poll_seeds()), ("awserr", awserr_seeds()), ("ini", ini_seeds()),
                        ("creds", creds_seeds()), ("http", http_seeds())):
        d = os.path.join(HERE, "corpus", name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if f.startswith("seed-"):
                os.remove(os.path.join(d, f))
        for label, data in seeds.items():
            with open(os.path.join(d, "seed-" + label), "wb") as f:
                f.write(data)
        print(f"{name}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
