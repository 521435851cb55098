"""The AWS JSON 1.0 pipeline: one received request in, one Reply out.

Order of checks (front-end checks first, as AWS JSON services do):
  1. fault rules for the operation ("before" faults answer here; see faults.py)
  2. X-Amz-Target names a known service and operation  (UnknownOperationException)
  3. the body is a JSON object                          (SerializationException)
  4. SigV4 signature, date, scope, credentials          (sigcheck.py)
  5. model constraints                                  (ValidationException)
  6. the operation itself                               (swf.py / sfn.py)
Every request is written to the request log with its signature verdict.
"""
import json
import time
import uuid
from email.utils import formatdate

from . import sfn, swf
from .errors import ApiError
from .models import lookup_target
from .validate import validate

JSON_CT = "application/x-amz-json-1.0"
_OPS = {"swf": swf.OPERATIONS, "sfn": sfn.OPERATIONS}


class Reply:
    __slots__ = ("status", "body", "content_type", "request_id", "partial", "error")

    def __init__(self, status, body, content_type=JSON_CT, error=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.request_id = str(uuid.uuid4())
        self.partial = None         # send only this many body bytes, then close
        self.error = error

    def head(self):
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large",
                  500: "Internal Server Error", 503: "Service Unavailable"}.get(self.status, "Error")
        lines = [f"HTTP/1.1 {self.status} {reason}",
                 f"x-amzn-RequestId: {self.request_id}",
                 f"Date: {formatdate(usegmt=True)}",
                 f"Content-Length: {len(self.body)}"]
        if self.content_type:
            lines.append(f"Content-Type: {self.content_type}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def json_reply(obj, status=200):
    return Reply(status, b"" if obj is None else json.dumps(obj, separators=(",", ":")).encode())


def error_reply(e):
    r = json_reply(e.body(), e.status)
    r.error = e.code
    return r


def _serialization_check(body):
    if not body:
        raise ApiError("SerializationException", "Request body is empty")
    try:
        params = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError("SerializationException", f"Unexpected content: {e}")
    if isinstance(params, list):
        raise ApiError("SerializationException", "Start of list found where not expected")
    if not isinstance(params, dict):
        raise ApiError("SerializationException", "Expected a JSON object as the request body")
    return params


class Api:
    def __init__(self, svc):
        self.svc = svc

    def handle(self, method, path, query, headers, body, ctx):
        """Returns the Reply; ctx carries 'client', 'conn', 'alive'."""
        t0 = time.time()
        target = headers.get("X-Amz-Target")
        model, op = lookup_target(target)
        info = {"verdict": None, "access_key": None}
        decision = self.svc.faults.pick(op or target or "-")
        if decision.delay_before:
            time.sleep(decision.delay_before)
        rule = decision.rule
        if rule is not None and rule.when == "before":
            if model is not None:
                self._verdict(model, method, path, query, headers, body, info)
            reply = self._fault(rule, None)
        else:
            reply = self._process(model, op, target, method, path, query, headers, body, ctx, info)
            if rule is not None:
                reply = self._fault(rule, reply)
        if decision.delay_after:
            time.sleep(decision.delay_after)
        self._log(t0, method, path, target, model, op, headers, body, ctx, info, reply,
                  decision.label())
        return reply

    # -- the pipeline -----------------------------------------------------------------
    def _process(self, model, op, target, method, path, query, headers, body, ctx, info):
        try:
            if model is None or op is None or op not in _OPS[model.key]:
                if model is not None and op is not None:
                    msg = f"Operation {op} is not implemented by the local activity service"
                else:
                    msg = "The requested operation is not recognized by the service."
                raise ApiError("UnknownOperationException", msg)
            ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype not in (JSON_CT, "application/x-amz-json-1.1"):
                # AWS answers a JSON-protocol request without its content type as an
                # unknown operation (its front end cannot route it).
                raise ApiError("UnknownOperationException",
                               "The requested operation is not recognized by the service.")
            params = _serialization_check(body)
            v = self._verdict(model, method, path, query, headers, body, info)
            if not v.ok:
                raise ApiError(v.code, v.message)
            validate(model, op, params)
            out = _OPS[model.key][op](self.svc, params, ctx)
            return json_reply(out)
        except ApiError as e:
            return error_reply(e)

    def _verdict(self, model, method, path, query, headers, body, info):
        cfg = self.svc.config
        v = self.svc.sig.verify(method, path, query, headers, body, cfg["region"], model.signing_name,
                                cfg["clock_skew"], now=time.time() + cfg["clock_offset"])
        info["verdict"], info["access_key"] = v.label, v.access_key
        return v

    # -- faults ------------------------------------------------------------------------
    def _fault(self, rule, real):
        kind = rule.kind
        if kind in ("http500", "http503"):
            status = 500 if kind == "http500" else 503
            if rule.body == "empty":
                r = Reply(status, b"", content_type=None)
            elif rule.body == "html":
                r = Reply(status, f"<html><body><h1>{status}</h1></body></html>".encode(),
                          content_type="text/html")
            else:
                e = ApiError("InternalFailure" if status == 500 else "ServiceUnavailable",
                             "Internal Failure" if status == 500 else "Service Unavailable",
                             status=status)
                r = json_reply(e.body(), status)
            r.error = str(status)
            return r
        if kind == "throttle":
            return error_reply(ApiError("ThrottlingException", "Rate exceeded"))
        if kind == "malformed":
            prefix = real.body[: len(real.body) // 2] if real is not None else b'{"startedEventId'
            r = Reply(200, prefix + b"\x00<garbled")
            r.error = "malformed"
            return r
        if kind == "oversized":
            base = {}
            if real is not None and real.status == 200 and real.body:
                base = json.loads(real.body)
            base["padding"] = ""
            overhead = len(json.dumps(base, separators=(",", ":")))
            base["padding"] = "x" * max(0, rule.size - overhead)
            r = json_reply(base)
            r.error = "oversized"
            return r
        if kind == "close":
            r = real if real is not None else json_reply(
                {"message": "answer cut short by fault injection"})
            r.partial = min(8, len(r.body) // 2)
            r.error = f"{r.error}+closed" if r.error else "closed"
            return r
        raise AssertionError(kind)

    # -- log ---------------------------------------------------------------------------
    def _log(self, t0, method, path, target, model, op, headers, body, ctx, info, reply, fault):
        log = self.svc.log
        text, truncated = log.clip(body)
        resp_text, resp_trunc = log.clip(reply.body[:65536])
        hdrs = {}
        for k, v in headers.items():
            hdrs[k] = f"{hdrs[k]}, {v}" if k in hdrs else v
        log.add({
            "time": t0, "method": method, "path": path, "target": target,
            "service": model.key if model else None, "op": op,
            "client": ctx.get("client"), "conn": ctx.get("conn"),
            "headers": hdrs, "body": text, "body_truncated": truncated,
            "verdict": info["verdict"], "access_key": info["access_key"],
            "status": reply.status, "error": reply.error, "fault": fault,
            "request_id": reply.request_id,
            "response": resp_text, "response_truncated": len(reply.body) > 65536 or resp_trunc,
            "duration_ms": (time.time() - t0) * 1000,
        })
