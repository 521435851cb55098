"""SigV4 verification of received requests with botocore's own signer.

The request is rebuilt as a botocore AWSRequest from what arrived: method, path,
body bytes and exactly the headers named in SignedHeaders; the timestamp comes
from X-Amz-Date (or Date). botocore's SigV4Auth then computes the canonical
request, string to sign and signature, compared in constant time with the one
received. Checks, in this order (Coral's wording where it is known):

  no Authorization header              MissingAuthenticationTokenException
  malformed header / missing parts     IncompleteSignatureException
  scope date != request date           InvalidSignatureException
  date outside the allowed skew        InvalidSignatureException "Signature expired: ..."
  region / service not this endpoint   InvalidSignatureException "Credential should be scoped ..."
  unknown access key, bad token        UnrecognizedClientException
  token past its expiry                ExpiredTokenException
  signature mismatch                   InvalidSignatureException (with canonical string)

Verify() never raises for a bad request: it returns a Verdict (ok, code,
message, label) so the request log can record why a request was refused.
"""
import calendar
import hmac
import threading
import time
from email.utils import parsedate_to_datetime

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_FMT = "%Y%m%dT%H%M%SZ"


class Verdict:
    __slots__ = ("ok", "code", "message", "label", "access_key")

    def __init__(self, ok, label, code=None, message=None, access_key=None):
        self.ok, self.label, self.code, self.message, self.access_key = ok, label, code, message, access_key


class _Verifier(SigV4Auth):
    """botocore's SigV4 with the signed header set taken from the request.

    botocore's signer leaves out user-agent/expect/x-amzn-trace-id when it signs;
    a verifier must use the set the client named, so that (and only that) is
    overridden. Canonicalization, hashing and key derivation are botocore's.
    """

    def __init__(self, credentials, service, region, signed):
        super().__init__(credentials, service, region)
        self._signed = signed

    def headers_to_sign(self, request):
        out = HTTPHeaders()
        for name in self._signed:
            for v in request.headers.get_all(name) or ():
                out[name] = v
        return out


class Creds:
    __slots__ = ("akid", "secret", "token", "expires_at")

    def __init__(self, akid, secret, token=None, expires_at=None):
        self.akid, self.secret, self.token, self.expires_at = akid, secret, token, expires_at


class SigChecker:
    def __init__(self):
        self._lock = threading.Lock()
        self._creds = {}

    def set_credentials(self, creds_list):
        with self._lock:
            self._creds = {c.akid: c for c in creds_list}

    def add(self, creds):
        with self._lock:
            self._creds[creds.akid] = creds

    def credentials(self):
        with self._lock:
            return list(self._creds.values())

    def verify(self, method, path, query, headers, body, region, service, skew, now=None):
        """headers: an http.client.HTTPMessage (case-insensitive, repeatable)."""
        now = time.time() if now is None else now
        auth = headers.get("Authorization")
        if not auth:
            return Verdict(False, "missing", "MissingAuthenticationTokenException",
                           "Missing Authentication Token")
        alg, _, rest = auth.strip().partition(" ")
        if alg != ALGORITHM:
            return Verdict(False, "incomplete", "IncompleteSignatureException",
                           f"Unsupported AWS 'algorithm': '{alg}'")
        params = {}
        for part in rest.replace(",", " ").split():
            k, eq, v = part.partition("=")
            if not eq:
                return Verdict(False, "incomplete", "IncompleteSignatureException",
                               f"'{part}' not a valid key=value pair (missing equal-sign) in "
                               f"Authorization header: '{auth}'.")
            params[k] = v
        date_hdr = headers.get("X-Amz-Date")
        msg = ""
        for p in ("Credential", "Signature", "SignedHeaders"):
            if not params.get(p):
                msg += f"Authorization header requires '{p}' parameter. "
        if not date_hdr and not headers.get("Date"):
            msg += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        if msg:
            return Verdict(False, "incomplete", "IncompleteSignatureException", msg + "Authorization=" + auth)
        cred = params["Credential"].split("/")
        if len(cred) != 5 or not all(cred):
            return Verdict(False, "incomplete", "IncompleteSignatureException",
                           f"Credential '{params['Credential']}' is malformed: expected "
                           f"<AccessKeyId>/<Date>/<Region>/<Service>/aws4_request.")
        if cred[4] != "aws4_request":
            return Verdict(False, "incomplete", "IncompleteSignatureException",
                           f"Credential should be scoped with a valid terminator: 'aws4_request', "
                           f"not '{cred[4]}'. ")
        akid, scope_date, scope_region, scope_service = cred[:4]
        signed = [h.strip().lower() for h in params["SignedHeaders"].split(";") if h.strip()]
        if "host" not in signed:
            return Verdict(False, "incomplete", "IncompleteSignatureException",
                           "'Host' must be a 'SignedHeader' in the AWS Authorization.")
        for h in signed:
            if headers.get(h) is None:
                return Verdict(False, "incomplete", "IncompleteSignatureException",
                               f"'{h}' is named as a SignedHeader, but it does not exist in the HTTP request.")
        # The timestamp: X-Amz-Date wins over Date, as in botocore and AWS.
        if date_hdr:
            try:
                when = calendar.timegm(time.strptime(date_hdr, AMZ_FMT))
            except ValueError:
                return Verdict(False, "incomplete", "IncompleteSignatureException",
                               f"Date must be in ISO-8601 'basic format'. Got '{date_hdr}'. "
                               "See http://en.wikipedia.org/wiki/ISO_8601")
            amz_date = date_hdr
        else:
            try:
                when = parsedate_to_datetime(headers.get("Date")).timestamp()
            except (TypeError, ValueError):
                return Verdict(False, "incomplete", "IncompleteSignatureException",
                               f"Date must be in RFC 1123 format. Got '{headers.get('Date')}'.")
            amz_date = time.strftime(AMZ_FMT, time.gmtime(when))
        if scope_date != amz_date[:8]:
            return Verdict(False, "bad-scope", "InvalidSignatureException",
                           f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                           f"date from HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.")
        if when < now - skew or when > now + skew:
            return self._skew_verdict(amz_date, now, skew, when < now - skew)
        if scope_region != region:
            return Verdict(False, "bad-scope", "InvalidSignatureException",
                           f"Credential should be scoped to a valid region, not '{scope_region}'. ")
        if scope_service != service:
            return Verdict(False, "bad-scope", "InvalidSignatureException",
                           f"Credential should be scoped to correct service: '{service}'. ")
        with self._lock:
            c = self._creds.get(akid)
        token = headers.get("X-Amz-Security-Token")
        if c is None:
            return Verdict(False, "unknown-key", "UnrecognizedClientException",
                           "The security token included in the request is invalid.", akid)
        if c.token:
            token_ok = bool(token) and hmac.compare_digest(c.token.encode(), token.encode())
        else:
            token_ok = not token
        if not token_ok:
            return Verdict(False, "bad-token", "UnrecognizedClientException",
                           "The security token included in the request is invalid.", akid)
        if c.token and c.expires_at is not None and now >= c.expires_at:
            return Verdict(False, "expired-token", "ExpiredTokenException",
                           "The security token included in the request is expired", akid)
        expected, creq, sts = self._sign(c, method, path, query, headers, body,
                                         scope_region, scope_service, signed, amz_date)
        if not hmac.compare_digest(expected.encode(), params["Signature"].encode()):
            return Verdict(False, "mismatch", "InvalidSignatureException",
                           "The request signature we calculated does not match the signature you "
                           "provided. Check your AWS Secret Access Key and signing method. Consult the "
                           "service documentation for details.\n\nThe Canonical String for this request "
                           f"should have been\n'{creq}'\n\nThe String-to-Sign should have been\n'{sts}'\n",
                           akid)
        return Verdict(True, "ok", access_key=akid)

    @staticmethod
    def _skew_verdict(amz_date, now, skew, expired):
        mins = skew / 60
        mins_s = f"{int(mins)}" if mins == int(mins) else f"{mins:g}"
        now_s = time.strftime(AMZ_FMT, time.gmtime(now))
        if expired:
            edge = time.strftime(AMZ_FMT, time.gmtime(now - skew))
            msg = f"Signature expired: {amz_date} is now earlier than {edge} ({now_s} - {mins_s} min.)"
            return Verdict(False, "expired", "InvalidSignatureException", msg)
        edge = time.strftime(AMZ_FMT, time.gmtime(now + skew))
        msg = f"Signature not yet current: {amz_date} is still later than {edge} ({now_s} + {mins_s} min.)"
        return Verdict(False, "not-yet-current", "InvalidSignatureException", msg)

    @staticmethod
    def _sign(c, method, path, query, headers, body, region, service, signed, amz_date):
        host = headers.get("Host", "")
        url = f"http://{host}{path}" + (f"?{query}" if query else "")
        req = AWSRequest(method=method, url=url, data=body)
        for h in signed:
            for v in headers.get_all(h):
                req.headers[h] = v
        req.context["timestamp"] = amz_date
        signer = _Verifier(Credentials(c.akid, c.secret, c.token), service, region, signed)
        creq = signer.canonical_request(req)
        sts = signer.string_to_sign(req, creq)
        return signer.signature(sts, req), creq, sts
