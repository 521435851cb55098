"""The service object: configuration, credentials, state, faults, request log.

One instance per process, shared by the AWS API pipeline (api.py) and the
control API (control.py). reset() puts everything back to the startup values.
"""
import copy

from .clock import Timer
from .faults import Faults
from .reqlog import RequestLog
from .sigcheck import Creds, SigChecker
from .state import State

DEFAULT_CREDENTIALS = ("AKIDLOCALSERVICE", "local/service/secret/key/EXAMPLE+0123456789")

DEFAULTS = {
    "poll_hold": 60.0,          # seconds a long poll is held (AWS: 60)
    "region": "us-east-1",
    "clock_skew": 300.0,        # allowed |request time - server time| (AWS: 5 min)
    "clock_offset": 0.0,        # added to the server's clock for signature checks
    "token_length": None,       # None: realistic random lengths per service
    "swf_token_length": None,
    "sfn_token_length": None,
    "max_pollers": 1000,        # per task list / activity (LimitExceededFault / ActivityWorkerLimitExceeded)
    "detect_disconnect": False,  # True: never hand a task to a poll whose client hung up
    "known_domains": None,      # None: every SWF domain exists
    "known_activities": None,   # None: every well-formed activity ARN exists
    "log_limit": 20000,         # request-log entries kept
    "log_body_limit": 1 << 20,  # bytes of each body kept in the request log
}


def _number(v, name, lo=0.0):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number")
    if f < lo:
        raise ValueError(f"{name} must be >= {lo}")
    return f


class Service:
    def __init__(self, config=None, credentials=None, quiet=False, stream=None):
        self.startup_config = dict(DEFAULTS)
        self.startup_config.update(config or {})
        self.startup_creds = [Creds(*c) for c in (credentials or [DEFAULT_CREDENTIALS])]
        self.config = dict(self.startup_config)
        self.timer = Timer()
        self.state = State(self.timer, self.config)
        self.faults = Faults()
        self.sig = SigChecker()
        self.sig.set_credentials(copy.deepcopy(self.startup_creds))
        self.log = RequestLog(stream=stream, quiet=quiet)
        self._apply_log_config()

    def _apply_log_config(self):
        self.log.limit = int(self.config["log_limit"])
        self.log.body_limit = int(self.config["log_body_limit"])

    def configure(self, **kw):
        unknown = set(kw) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        new = {}
        for k, v in kw.items():
            if v is None and k in ("token_length", "swf_token_length", "sfn_token_length",
                                   "known_domains", "known_activities"):
                new[k] = None
            elif k in ("poll_hold", "clock_skew"):
                new[k] = _number(v, k)
            elif k == "clock_offset":
                new[k] = _number(v, k, lo=float("-inf"))
            elif k in ("token_length", "swf_token_length", "sfn_token_length"):
                n = int(_number(v, k, lo=1))
                # SWF takes 1024 characters, Step Functions 2048; token_length must fit both.
                limit = 2048 if k == "sfn_token_length" else 1024
                if n > limit:
                    raise ValueError(f"{k} must be <= {limit}")
                new[k] = n
            elif k in ("max_pollers", "log_limit", "log_body_limit"):
                new[k] = int(_number(v, k, lo=1))
            elif k == "detect_disconnect":
                new[k] = bool(v)
            elif k in ("known_domains", "known_activities"):
                if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                    raise ValueError(f"{k} must be a list of strings or null")
                new[k] = list(v)
            elif k == "region":
                if not isinstance(v, str) or not v:
                    raise ValueError("region must be a non-empty string")
                new[k] = v
        self.config.update(new)     # State holds the same dict
        self._apply_log_config()
        return dict(self.config)

    def reset(self):
        self.state.reset()
        self.faults.clear()
        self.log.clear()
        self.config.clear()
        self.config.update(self.startup_config)
        self._apply_log_config()
        self.sig.set_credentials(copy.deepcopy(self.startup_creds))
