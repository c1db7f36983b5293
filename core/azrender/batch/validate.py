"""Check Batch REST bodies against the azure-batch SDK's request models.

The SDK's models are generated from the Batch REST specification: each
``rest_field`` carries the wire name (``vmSize``, ``nodeAgentSKUId``) and its
type annotation says what the service accepts. :func:`validate_body` walks a
model class and a JSON body side by side and lists every difference::

    problems = validate_body("BatchPoolCreateOptions", {"id": "p", "vmsize": "x"})
    # ['$: unknown key "vmsize" (BatchPoolCreateOptions has vmSize, ...)',
    #  '$: missing required key "vmSize"']

The dry run checks its own output with it, and the test suite's fake Batch
service (``tests/core/batch_service.py``, whose route table is
``tests/core/batch_routes.py``) checks every request the backend sends.

The wire names and visibility live only in the SDK's own model machinery
(``azure.batch._utils.model_base._RestField``), and four option models are not
exported from ``azure.batch.models`` (``models._models``), so this module reads
those private names; pyproject pins ``azure-batch>=15.1,<16`` for that reason.
"""

from __future__ import annotations

import datetime
import enum
import functools
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import azure.batch.models as batch_models
import azure.batch.models._models as generated
from azure.batch._utils.model_base import Model, _RestField

from azrender.batch.payload import BatchPlan, mask_secrets
from azrender.errors import JobError

# ISO 8601 duration as the service takes it: PnYnMnWnDTnHnMnS, at least one part.
_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@dataclass(frozen=True)
class Field:
    """One wire field of a model: its REST name, type and whether a request must carry it."""

    rest_name: str
    annotation: Any
    required: bool
    writable: bool


def model_class(name: str) -> type[Model]:
    cls = getattr(batch_models, name, None) or getattr(generated, name)
    assert isinstance(cls, type) and issubclass(cls, Model)
    return cls


@functools.cache
def model_fields(cls: type[Model]) -> dict[str, Field]:
    """The wire fields of ``cls`` by REST name, from its ``rest_field`` metadata and annotations."""
    hints = typing.get_type_hints(cls, globalns=vars(generated), localns={"_models": batch_models})
    out: dict[str, Field] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if not isinstance(value, _RestField):
                continue
            annotation = hints.get(attr, Any)
            rest = value._rest_name_input or attr
            visibility = value._visibility or ["create"]
            optional = _is_optional(annotation)
            writable = "create" in visibility or "update" in visibility
            out[rest] = Field(rest, annotation, required=writable and not optional, writable=writable)
    return out


def _is_optional(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def _short(annotation: Any) -> str:
    text = str(annotation).replace("typing.", "")
    return re.sub(r"azure\.batch\.models\._(models|enums)\.", "", re.sub(r"<class '([^']+)'>", r"\1", text))


def validate_value(annotation: Any, value: Any, path: str) -> list[str]:
    """Problems of ``value`` against a type annotation taken from the SDK models."""
    if value is None:
        return [f"{path}: null is not accepted; leave the key out"]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        enums = [a for a in members if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums:
            allowed = [str(m.value) for e in enums for m in e]
            if not isinstance(value, str) or value not in allowed:
                return [f"{path}: {value!r} is not one of {', '.join(allowed)}"]
            return []
        if len(members) == 1:
            return validate_value(members[0], value, path)
        for member in members:
            if not validate_value(member, value, path):
                return []
        return [f"{path}: {value!r} matches none of {_short(annotation)}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        problems: list[str] = []
        for i, item in enumerate(value):
            problems += validate_value(args[0], item, f"{path}[{i}]")
        return problems
    if origin is dict:
        if not isinstance(value, Mapping):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        return [p for k, v in value.items() for p in validate_value(args[1], v, f"{path}.{k}")]
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return validate_model(annotation, value, path)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        allowed = [str(m.value) for m in annotation]
        return [] if value in allowed else [f"{path}: {value!r} is not one of {', '.join(allowed)}"]
    if annotation is bool:
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    if annotation is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer, got {value!r}"]
    if annotation is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number, got {value!r}"]
    if annotation is str:
        return [] if isinstance(value, str) else [f"{path}: expected a string, got {value!r}"]
    if annotation is datetime.timedelta:
        if isinstance(value, str) and _DURATION.match(value):
            return []
        return [f"{path}: {value!r} is not an ISO 8601 duration such as PT1H30M"]
    if annotation is datetime.datetime:
        if isinstance(value, str) and _DATETIME.match(value):
            return []
        return [f"{path}: {value!r} is not an RFC 3339 date-time"]
    if annotation is Any:
        return []
    return [f"{path}: cannot check type {_short(annotation)}"]


def validate_model(cls: type[Model], body: Any, path: str = "$") -> list[str]:
    """Problems of ``body`` as the JSON of model ``cls``: unknown, missing, read-only or mistyped keys."""
    if not isinstance(body, Mapping):
        return [f"{path}: expected a {cls.__name__} object, got {type(body).__name__}"]
    fields = model_fields(cls)
    problems: list[str] = []
    for key, value in body.items():
        spec = fields.get(key)
        if spec is None:
            known = ", ".join(sorted(fields))
            problems.append(f'{path}: unknown key "{key}" ({cls.__name__} has {known})')
        elif not spec.writable:
            problems.append(f'{path}: "{key}" is read-only; the service sets it')
        else:
            problems += validate_value(spec.annotation, value, f"{path}.{key}")
    for key, spec in fields.items():
        if spec.required and key not in body:
            problems.append(f'{path}: missing required key "{key}" of {cls.__name__}')
    return problems


def validate_body(model: str, body: Any) -> list[str]:
    """Problems of ``body`` as the request model named ``model`` (a class of azure.batch.models)."""
    return validate_model(model_class(model), body)


#: The service refuses more tasks than this in one add-collection call.
MAX_TASKS_PER_COLLECTION = 100


def check_plan(plan: BatchPlan) -> None:
    """Refuse to send a body the service would reject (a bug, not a user error, but said clearly)."""
    problems: list[str] = []
    if plan.pool is not None:
        problems += validate_body("BatchPoolCreateOptions", plan.pool)
    problems += validate_body("BatchJobCreateOptions", plan.job)
    problems += validate_body("BatchJobUpdateOptions", plan.job_update)
    for task in plan.tasks:
        problems += validate_body("BatchTaskCreateOptions", task)
    if problems:
        raise JobError(
            f"the Batch request would be invalid: {mask_secrets(problems[0], plan.secrets)}",
            hint="please report this",
        )
