"""The vendored AWS service models (models/*.json) and target lookup.

Only this directory's copies are read, so CI needs nothing but the repo.
"""
import json
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_FILES = {
    "swf": "swf-2012-01-25.service-2.json",
    "sfn": "stepfunctions-2016-11-23.service-2.json",
}


class ServiceModel:
    def __init__(self, key, data):
        self.key = key                      # "swf" | "sfn"
        meta = data["metadata"]
        self.target_prefix = meta["targetPrefix"]
        self.signing_name = meta.get("signingName", meta["endpointPrefix"])
        self.shapes = data["shapes"]
        self.operations = data["operations"]

    def input_shape(self, op):
        ref = self.operations[op].get("input")
        return ref["shape"] if ref else None


def _load(key):
    with open(os.path.join(_HERE, "models", _FILES[key]), encoding="utf-8") as f:
        return ServiceModel(key, json.load(f))


SWF = _load("swf")
SFN = _load("sfn")
BY_PREFIX = {SWF.target_prefix: SWF, SFN.target_prefix: SFN}


def lookup_target(target):
    """X-Amz-Target -> (ServiceModel, operation name), or (model or None, None)."""
    if not target or "." not in target:
        return None, None
    prefix, _, op = target.partition(".")
    model = BY_PREFIX.get(prefix)
    if model is None or op not in model.operations:
        return model, None
    return model, op
