"""JSON for the values a scan returns beside its files: an application's saved render settings.

:attr:`AssetSet.settings <azrender.model.AssetSet.settings>` is the
application's own type (a frozen dataclass of numbers, strings, tuples and
nested dataclasses). The scan cache keeps it as tagged JSON, and rebuilds it
only from dataclasses and enums of the packages it names (azrender's and the
adapter's): a cache entry can name no other code to run, unlike a pickle.

>>> from azrender.model import AssetKind
>>> decode_value(encode_value((1, [2.5, "x"], {"k": None}, AssetKind.TEXTURE)), ("azrender",))
(1, [2.5, 'x'], {'k': None}, <AssetKind.TEXTURE: 'texture'>)
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
from typing import Any


class Uncacheable(Exception):
    """A value with no JSON form here (it is then not kept), or a kept one that cannot be read back."""


def encode_value(value: object) -> Any:
    """``value`` as JSON: scalars and lists as they are, tuples, dicts, dataclasses and enums tagged."""
    if value is None or (isinstance(value, (bool, int, float, str)) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, enum.Enum):
        return {"enum": _name(type(value)), "value": encode_value(value.value)}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {"tuple": [encode_value(v) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode_value(v) for k, v in value.items()}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not all(f.init for f in dataclasses.fields(value)):
            raise Uncacheable(f"{type(value).__qualname__} has fields its constructor does not take")
        fields = {f.name: encode_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"class": _name(type(value)), "fields": fields}
    raise Uncacheable(f"no JSON form for a {type(value).__qualname__}")


def decode_value(doc: Any, packages: tuple[str, ...]) -> Any:
    """The value :func:`encode_value` gave ``doc`` for, its classes from ``packages`` only.

    Raises :class:`Uncacheable` on anything else.
    """

    def decode(item: Any) -> Any:
        return decode_value(item, packages)

    if doc is None or isinstance(doc, (bool, int, float, str)):
        return doc
    if isinstance(doc, list):
        return [decode(v) for v in doc]
    if not isinstance(doc, dict):
        raise Uncacheable(f"unexpected {type(doc).__name__}")
    if set(doc) == {"tuple"}:
        return tuple(decode(v) for v in doc["tuple"])
    if set(doc) == {"dict"}:
        return {k: decode(v) for k, v in doc["dict"].items()}
    if set(doc) == {"enum", "value"}:
        cls = _trusted(doc["enum"], packages)
        if not (isinstance(cls, type) and issubclass(cls, enum.Enum)):
            raise Uncacheable(f"{doc['enum']} is not an enum")
        return cls(decode(doc["value"]))
    if set(doc) == {"class", "fields"}:
        cls = _trusted(doc["class"], packages)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise Uncacheable(f"{doc['class']} is not a dataclass")
        try:
            return cls(**{k: decode(v) for k, v in doc["fields"].items()})
        except TypeError as exc:  # the class changed since: a field more or less
            raise Uncacheable(str(exc)) from None
    raise Uncacheable(f"unknown tag in {sorted(doc)}")


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _trusted(name: object, packages: tuple[str, ...]) -> object:
    """The class ``module:qualname`` names, from one of ``packages`` only."""
    if not isinstance(name, str) or ":" not in name:
        raise Uncacheable(f"bad class name {name!r}")
    module, qualname = name.split(":", 1)
    if module.partition(".")[0] not in packages:
        raise Uncacheable(f"{module} is not in {', '.join(packages)}")
    try:
        found: object = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise Uncacheable(str(exc)) from None
    return found
