"""AWS JSON 1.0 error values: the code, its `__type` namespace, the HTTP status.

Every error the service answers is an ApiError; api.py turns it into the wire
shape AWS uses: HTTP 400 (unless stated), Content-Type
application/x-amz-json-1.0, x-amzn-RequestId, body
{"__type": "<namespace>#<Code>", "message": "..."}.
"""

# Namespaces as seen on the wire (../shared/aws/API.md section 1).
NS_SWF = "com.amazonaws.swf.base.model"
NS_SFN = "com.amazonaws.swf.service.v2.model"   # Step Functions runs on SWF internals
NS_VALIDATE = "com.amazon.coral.validate"
NS_CORAL = "com.amazon.coral.service"

# Codes that belong to the Coral front end rather than to a service model.
_CORAL_CODES = {
    "MissingAuthenticationTokenException", "IncompleteSignatureException",
    "InvalidSignatureException", "UnrecognizedClientException",
    "ExpiredTokenException", "UnknownOperationException", "SerializationException",
    "ThrottlingException", "InternalFailure", "ServiceUnavailable", "AccessDeniedException",
}


class ApiError(Exception):
    """An error answer. `service` ("swf"/"sfn") picks the namespace of modeled faults."""

    def __init__(self, code, message, service=None, status=400, namespace=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        if namespace is None:
            if code == "ValidationException":
                namespace = NS_VALIDATE
            elif code in _CORAL_CODES:
                namespace = NS_CORAL
            elif service == "sfn":
                namespace = NS_SFN
            else:
                namespace = NS_SWF
        self.namespace = namespace

    @property
    def type(self):
        return f"{self.namespace}#{self.code}"

    def body(self):
        return {"__type": self.type, "message": self.message}


def swf_unknown_resource(message="Unknown activity task"):
    # SWF's message text for a dead token is not documented; the code is what
    # workers branch on (API.md section 9).
    return ApiError("UnknownResourceFault", message, "swf")


def sfn_task_timed_out():
    return ApiError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'", "sfn")


def sfn_invalid_token(detail="Invalid token"):
    return ApiError("InvalidToken", f"Invalid Token: '{detail}'", "sfn")
