"""Request validation driven by the model shapes, with Coral's error wording.

Two failure kinds, as AWS JSON services have them:
- a value of the wrong JSON type cannot be deserialized: SerializationException;
- a well-typed value breaking a constraint (required member, length, range, enum,
  pattern): ValidationException, all violations in one message:
  "2 validation errors detected: Value 'x' at 'a.b' failed to satisfy constraint:
  Member must have length less than or equal to 1; Value null at 'c' ..."
Members whose shape is `sensitive` are reported without their value
("Value at 'output' failed ..."), as AWS does for sensitive fields.

Lengths: SWF and most Step Functions strings count characters the way the Java
service does (UTF-16 code units); Step Functions payloads (SensitiveData*) are
limited in UTF-8 bytes (API.md sections 6 and 10). JSON null counts as absent.
Unknown members are ignored, as Coral does.
"""
import re

from .errors import ApiError

# Step Functions shapes whose limits are in UTF-8 bytes.
_BYTE_SHAPES = {("sfn", "SensitiveData"), ("sfn", "SensitiveDataJobInput")}
_PATTERN_CACHE = {}


def utf16_len(s):
    n = len(s)
    # Characters outside the BMP take two UTF-16 code units.
    return n + sum(1 for ch in s if ord(ch) > 0xFFFF) if not s.isascii() else n


def _pattern(p):
    rx = _PATTERN_CACHE.get(p)
    if rx is None:
        try:
            rx = re.compile(p.replace(r"\p{ASCII}", r"[\x00-\x7f]"))
        except re.error:
            rx = False          # a Java-only construct: not checked
        _PATTERN_CACHE[p] = rx
    return rx


def _json_kind(v):
    if v is True:
        return "TRUE_VALUE"
    if v is False:
        return "FALSE_VALUE"
    if isinstance(v, str):
        return "STRING_VALUE"
    if isinstance(v, (int, float)):
        return "NUMBER_VALUE"
    if isinstance(v, list):
        return "START_ARRAY"
    return "START_OBJECT"


_JAVA_TYPE = {"string": "String", "integer": "Integer", "long": "Long", "boolean": "Boolean",
              "double": "Double", "float": "Float", "timestamp": "Date", "blob": "ByteBuffer"}


def _serialization(msg):
    return ApiError("SerializationException", msg)


def _type_error(shape_type, value):
    kind = _json_kind(value)
    if kind == "START_OBJECT":
        return _serialization("Start of structure or map found where not expected.")
    if kind == "START_ARRAY":
        return _serialization("Start of list found where not expected")
    return _serialization(f"{kind} can not be converted to {'an' if shape_type == 'integer' else 'a'} "
                          f"{_JAVA_TYPE.get(shape_type, shape_type)}")


class _Checker:
    def __init__(self, model):
        self.model = model
        self.errors = []

    def fail(self, shape, value, path, constraint):
        if shape.get("sensitive"):
            self.errors.append(f"Value at '{path}' failed to satisfy constraint: {constraint}")
        else:
            shown = "null" if value is None else f"'{value}'"
            self.errors.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")

    def check(self, shape_name, value, path):
        shape = self.model.shapes[shape_name]
        t = shape["type"]
        if t == "structure":
            if not isinstance(value, dict):
                raise _type_error(t, value)
            members = shape.get("members", {})
            required = set(shape.get("required", ()))
            for name, ref in members.items():
                sub = f"{path}.{name}" if path else name
                v = value.get(name)
                if v is None:
                    if name in required:
                        self.fail(self.model.shapes[ref["shape"]], None, sub, "Member must not be null")
                    continue
                self.check(ref["shape"], v, sub)
        elif t == "list":
            if not isinstance(value, list):
                raise _type_error(t, value)
            self._length(shape, value, len(value), path)
            for i, item in enumerate(value):
                if item is not None:
                    self.check(shape["member"]["shape"], item, f"{path}.{i + 1}.member")
        elif t == "map":
            if not isinstance(value, dict):
                raise _type_error(t, value)
            self._length(shape, value, len(value), path)
            for k, item in value.items():
                self.check(shape["key"]["shape"], k, f"{path}.{k}.key")
                if item is not None:
                    self.check(shape["value"]["shape"], item, f"{path}.{k}.value")
        elif t == "string":
            if not isinstance(value, str):
                raise _type_error(t, value)
            if (self.model.key, shape_name) in _BYTE_SHAPES:
                n = len(value.encode("utf-8", "surrogatepass"))
            else:
                n = utf16_len(value)
            if not self._length(shape, value, n, path):
                return
            if "enum" in shape and value not in shape["enum"]:
                self.fail(shape, value, path,
                          f"Member must satisfy enum value set: [{', '.join(shape['enum'])}]")
            elif "pattern" in shape:
                rx = _pattern(shape["pattern"])
                if rx and not rx.fullmatch(value):
                    self.fail(shape, value, path,
                              f"Member must satisfy regular expression pattern: {shape['pattern']}")
        elif t in ("integer", "long", "double", "float"):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if t in ("integer", "long") and isinstance(value, float) and not value.is_integer():
                ok = False
            if not ok:
                raise _type_error(t, value)
            if "min" in shape and value < shape["min"]:
                self.fail(shape, value, path, f"Member must have value greater than or equal to {shape['min']}")
            elif "max" in shape and value > shape["max"]:
                self.fail(shape, value, path, f"Member must have value less than or equal to {shape['max']}")
        elif t == "boolean":
            if not isinstance(value, bool):
                raise _type_error(t, value)
        elif t == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise _type_error(t, value)
        elif t == "blob":
            if not isinstance(value, str):
                raise _type_error(t, value)

    def _length(self, shape, value, n, path):
        if "min" in shape and n < shape["min"]:
            self.fail(shape, value, path, f"Member must have length greater than or equal to {shape['min']}")
            return False
        if "max" in shape and n > shape["max"]:
            self.fail(shape, value, path, f"Member must have length less than or equal to {shape['max']}")
            return False
        return True


def validate(model, op, params):
    """Raise ApiError (SerializationException / ValidationException) or return None."""
    shape = model.input_shape(op)
    if shape is None:
        return
    c = _Checker(model)
    c.check(shape, params, "")
    if c.errors:
        n = len(c.errors)
        head = f"{n} validation error{'s' if n > 1 else ''} detected: "
        raise ApiError("ValidationException", head + "; ".join(c.errors))
