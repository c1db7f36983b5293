"""Read and validate a preset; every failure is one line a TD can act on.

The message names the file, the line, the key path and what to do::

    shows/abc.toml line 4: unknown key `storage.acount_url` (did you mean `account_url`?)

Validation is driven entirely by :data:`azrender.presets.fields.TABLES`.
"""

from __future__ import annotations

import datetime
import difflib
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from azrender.errors import PresetError
from azrender.presets.credentials import (
    CREDENTIALS_HINT,
    find_secret,
    secret_in_comments,
    secret_key_name,
    secret_value_reason,
)
from azrender.presets.fields import ROOT, SUBTABLES, TABLES
from azrender.presets.locate import KeyPath, find_line, key_lines, split_dotted
from azrender.presets.model import (
    AzureFilesSettings,
    BackendSettings,
    BatchSettings,
    BlobfuseSettings,
    PathRule,
    PoolSettings,
    PreflightSettings,
    Preset,
    RenderSettings,
    ShareSettings,
    StorageSettings,
)
from azrender.presets.spec import FieldSpec, TableSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DOCS_HINT = "see docs/presets.md"

#: The dataclass each sub-table becomes.
TABLE_CLASSES: dict[str, type[Any]] = {
    "storage": StorageSettings,
    "backend": BackendSettings,
    "render": RenderSettings,
    "blobfuse": BlobfuseSettings,
    "azure_files": AzureFilesSettings,
    "share": ShareSettings,
    "paths": PathRule,
    "batch": BatchSettings,
    "pool": PoolSettings,
    "preflight": PreflightSettings,
}


class PresetFileError(PresetError):
    """A preset problem with its position: ``source``, ``line`` (1-based or None)
    and ``key`` (dotted path or None), for UIs that want to point at it."""

    def __init__(
        self,
        message: str,
        *,
        source: Path,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
        column: int | None = None,
    ) -> None:
        where = str(source)
        if line is not None:
            where += f" line {line}"
            if column is not None:
                where += f" column {column}"
        super().__init__(f"{where}: {message}", hint=hint)
        self.source = source
        self.line = line
        self.column = column
        self.key = key


def _read(p: Path) -> str:
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PresetError(f"preset not found: {p}", hint=f"{DOCS_HINT} for the format") from None
    except IsADirectoryError:
        raise PresetError(
            f"preset {p} is a folder, not a file", hint="give the path of a .toml file"
        ) from None
    except UnicodeDecodeError as exc:
        raise PresetFileError(
            f"not UTF-8 text (bad byte at offset {exc.start})",
            source=p,
            hint="save the preset as UTF-8",
        ) from None
    except OSError as exc:
        raise PresetError(
            f"cannot read preset {p}: {exc.strerror or exc}",
            hint="check the path and its permissions",
        ) from None
    return text


def load_preset(path: Path | str) -> Preset:
    """Read and validate the preset at ``path`` (one file; see :mod:`azrender.presets.layers`)."""
    p = Path(path)
    text = _read(p)
    return parse_preset(text, p)


def read_toml(text: str, source: Path) -> dict[str, Any]:
    """Parse TOML text; a syntax error becomes a positioned :class:`PresetFileError`."""
    text = text.removeprefix("\ufeff")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, source) from None


def read_text(path: Path) -> str:
    """A preset file's text, with one-line errors for the usual ways reading fails."""
    return _read(Path(path))


def parse_preset(text: str, source: Path) -> Preset:
    """Validate preset ``text``; ``source`` is only used in messages and ``Preset.source``."""
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, source) from None
    return _Validator(text, source).preset(data)


# --- syntax errors -------------------------------------------------------------------

_POS_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_BARE_VALUE_RE = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=\s*([^\"'\[{#\s][^#]*?)\s*(?:#.*)?$")


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, source: Path) -> PresetError:
    raw = str(exc)
    line: int | None = None
    column: int | None = None
    m = _POS_RE.search(raw)
    if m:
        line, column = int(m.group(1)), int(m.group(2))
        raw = raw[: m.start()]
    elif raw.endswith("(at end of document)"):
        raw = raw.removesuffix("(at end of document)").strip()
        line = max(1, len(text.splitlines()))
    message = raw[:1].lower() + raw[1:] if raw else "cannot parse"
    hint = f"check quotes, brackets and `=` on that line; {DOCS_HINT}"
    if line is not None:
        src_line = (text.splitlines() or [""])[line - 1] if line <= len(text.splitlines()) else ""
        secret = _secret_on_line(src_line)
        if secret:
            return PresetFileError(secret, source=source, line=line, hint=CREDENTIALS_HINT)
        bare = _BARE_VALUE_RE.match(src_line)
        if (
            bare
            and bare.group(2) not in ("true", "false")
            and not re.match(r"^[+-]?\d", bare.group(2))
        ):
            key = bare.group(1).strip()
            value = bare.group(2)
            shown = value if len(value) <= 40 else value[:37] + "..."
            hint = f'strings need quotes: did you mean `{key} = "{shown}"`?'
    return PresetFileError(
        f"TOML syntax error: {message}", source=source, line=line, column=column, hint=hint
    )


def _secret_on_line(line: str) -> str | None:
    """A credential on a line tomllib could not parse (the value is never echoed)."""
    m = re.match(r"^\s*([^=#\[]+?)\s*=", line)
    if m:
        parts = split_dotted(m.group(1))
        if parts and secret_key_name(parts[-1]):
            return f"`{'.'.join(parts)}` is a credential key; remove it"
    reason = secret_value_reason(line)
    if reason:
        return f"this line looks like a credential (it contains {reason}); remove it"
    return None


# --- validation ------------------------------------------------------------------------


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "table"
    if isinstance(value, list):
        return "array"
    if isinstance(value, (datetime.date, datetime.time)):
        return "date/time"
    return type(value).__name__


def _describe(value: object) -> str:
    """``string "two"``, ``integer 3``, ``a table``: for "got ..." in messages."""
    kind = _type_name(value)
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return 'string "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"{kind} {value}"
    if kind in ("table", "array"):
        return f"a {kind}"
    return kind


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _toml_literal(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return f'"{value}"'


def _matches_kind(spec: FieldSpec, value: object) -> bool:
    if spec.kind == "string":
        return isinstance(value, str)
    if spec.kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, bool)


#: Where a key of a merged (layered) preset was written: (file, line).
Locator = Callable[[KeyPath], tuple[Path, int | None]]


class _Validator:
    def __init__(self, text: str, source: Path, *, locate: Locator | None = None) -> None:
        self.source = source
        self.text = text
        self.lines = key_lines(text)
        self.locate = locate

    def fail(self, path: KeyPath, message: str, hint: str) -> PresetFileError:
        source, line = self.source, find_line(self.lines, path) if path else None
        if self.locate is not None and path:
            source, line = self.locate(path)
        return PresetFileError(
            message,
            source=source,
            line=line,
            key=_dotted(path) if path else None,
            hint=hint,
        )

    def layer(self, data: Mapping[str, object]) -> None:
        """Check one layer of a layered preset alone: keys, types, values, secrets.

        Required keys and the storage mode's cross-checks wait for the merge.
        """
        self.secrets(data)
        optional = TableSpec(ROOT.name, ROOT.description, tuple(
            f for f in ROOT.fields if not f.required
        ) + tuple(FieldSpec(f.name, f.kind, None, f.description, check=f.check) for f in ROOT.fields if f.required))  # fmt: skip
        self.table(optional, data, (), subtables=SUBTABLES)
        for name, spec in SUBTABLES.items():
            raw = data.get(name, [] if spec.array else {})
            if spec.array:
                assert isinstance(raw, list)
                for i, entry in enumerate(raw):
                    self.table(spec, entry, (name, i))
            else:
                assert isinstance(raw, Mapping)
                self.table(spec, raw, (name,))

    def secrets(self, data: Mapping[str, object]) -> None:
        secret = find_secret(data)
        if secret is not None:
            path, why = secret
            raise self.fail(path, f"`{_dotted(path)}` {why}", CREDENTIALS_HINT)
        # A preset is shared and committed whole: a key in a comment leaks as surely.
        in_comment = secret_in_comments(self.text)
        if in_comment is not None:
            line, reason = in_comment
            raise PresetFileError(
                f"a comment looks like a credential (it contains {reason}); remove it",
                source=self.source,
                line=line,
                hint=CREDENTIALS_HINT,
            )

    def preset(self, data: Mapping[str, object]) -> Preset:
        self.secrets(data)

        root = self.table(ROOT, data, (), subtables=SUBTABLES)
        settings: dict[str, Any] = {}
        for name, spec in SUBTABLES.items():
            cls = TABLE_CLASSES[name]
            if spec.array:
                entries = data.get(name, [])
                assert isinstance(entries, list)  # checked in self.table
                settings[name] = tuple(
                    cls(**self.table(spec, entry, (name, i))) for i, entry in enumerate(entries)
                )
                continue
            raw = data.get(name, {})
            assert isinstance(raw, Mapping)  # checked in self.table
            settings[name] = cls(**self.table(spec, raw, (name,)))
        preset = Preset(source=self.source, **root, **settings)
        self.check_mode(preset, data)
        return preset

    def check_mode(self, preset: Preset, data: Mapping[str, object]) -> None:
        """What the chosen storage mode needs from the other tables."""
        mode = preset.storage.mode
        at: KeyPath = ("storage", "mode") if "mode" in _table(data, "storage") else ()
        if preset.storage.node_sync == "azcopy":
            self.check_azcopy(preset)
        if mode == "azure-files":
            for key in ("account", "share"):
                if getattr(preset.azure_files, key) is None:
                    raise self.fail(
                        at,
                        f"`storage.mode = \"azure-files\"` needs `azure_files.{key}`",
                        f"add `{key} = ...` under [azure_files]; {DOCS_HINT}",
                    )
        if mode in ("nfs", "cifs"):
            source = preset.share.source
            if source is None:
                raise self.fail(
                    at,
                    f'`storage.mode = "{mode}"` needs `share.source`',
                    "add `source = \"server:/export\"` (NFS) or `\"//server/share\"` (CIFS) under [share]",
                )
            nfs_like = not source.startswith(("//", "\\\\"))
            if nfs_like != (mode == "nfs"):
                want = "server:/export" if mode == "nfs" else "//server/share"
                raise self.fail(
                    ("share", "source"),
                    f'`share.source` is not an {mode.upper()} export for `mode = "{mode}"`',
                    f"write it as `{want}`, or change storage.mode",
                )
            if not preset.paths:
                raise self.fail(
                    at,
                    f'`storage.mode = "{mode}"` needs at least one [[paths]] rule',
                    "nothing is uploaded, so every scene file must lie below a mapped root: add "
                    "[[paths]] with `source = 'P:\\show'` and `target = \"show\"`",
                )

    def check_azcopy(self, preset: Preset) -> None:
        """``node_sync = "azcopy"`` fetches path-named blobs to a Linux node's shared folder."""
        at: KeyPath = ("storage", "node_sync")
        if preset.storage.mode != "blob-copy":
            raise self.fail(
                at,
                f'`storage.node_sync = "azcopy"` only applies to mode "blob-copy", not "{preset.storage.mode}"',
                "remove node_sync: this mode reads the assets in place, nothing is copied to the node",
            )
        if preset.storage.layout != "mirror":
            raise self.fail(
                at,
                '`storage.node_sync = "azcopy"` needs `storage.layout = "mirror"`',
                "azcopy cannot turn content-addressed blobs back into paths; use node_sync = \"azrender\"",
            )
        if preset.pool.os != "linux":
            raise self.fail(
                at,
                '`storage.node_sync = "azcopy"` is available for Linux pools only',
                'use node_sync = "azrender" on Windows nodes',
            )

    def table(
        self,
        spec: TableSpec,
        data: Mapping[str, object],
        prefix: KeyPath,
        subtables: Mapping[str, TableSpec] | None = None,
    ) -> dict[str, Any]:
        subtables = subtables or {}
        values: dict[str, Any] = {}
        for key, value in data.items():
            path = (*prefix, key)
            if key in subtables and subtables[key].array:
                if not (isinstance(value, list) and all(isinstance(v, Mapping) for v in value)):
                    raise self.fail(
                        path,
                        f"`{_dotted(path)}` must be a list of tables, got {_describe(value)}",
                        f"write each entry as a [[{key}]] section; {DOCS_HINT}",
                    )
                continue
            if key in subtables:
                if not isinstance(value, Mapping):
                    raise self.fail(
                        path,
                        f"`{_dotted(path)}` must be a table, got {_describe(value)}",
                        f"write it as a [{key}] section; {DOCS_HINT}",
                    )
                continue
            field_spec = spec.get(key)
            if field_spec is None:
                raise self.unknown(spec, key, path, value, subtables)
            values[key] = self.value(field_spec, value, path)
        for field_spec in spec.fields:
            if field_spec.required and field_spec.name not in values:
                where = f"under [{spec.name}]" if spec.name else "at the top of the file"
                if spec.array:
                    where = f"to this [[{spec.name}]] entry"
                example = (
                    _toml_literal(field_spec.example) if field_spec.example is not None else "..."
                )
                raise PresetFileError(
                    f"missing key `{_dotted((*prefix, field_spec.name))}`",
                    source=self.source,
                    line=find_line(self.lines, prefix) if spec.array else None,
                    key=_dotted((*prefix, field_spec.name)),
                    hint=f"add `{field_spec.name} = {example}` {where}",
                )
        return values

    def unknown(
        self,
        spec: TableSpec,
        key: str,
        path: KeyPath,
        value: object,
        subtables: Mapping[str, TableSpec],
    ) -> PresetFileError:
        is_table = isinstance(value, Mapping)
        what = (
            f"unknown table `[{_dotted(path)}]`" if is_table else f"unknown key `{_dotted(path)}`"
        )
        candidates = [*spec.keys, *subtables]
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
        if close:
            return self.fail(path, what, f"did you mean `{close[0]}`?")
        elsewhere = [
            f"{t.name}.{key}" for t in TABLES if t is not spec and t.name and t.get(key) is not None
        ]
        if elsewhere:
            table = elsewhere[0].split(".")[0]
            return self.fail(
                path, what, f"did you mean `{elsewhere[0]}`? it belongs under [{table}]"
            )
        section = f"[{spec.name}]" if spec.name else "the top level"
        known = ", ".join(candidates)
        return self.fail(path, what, f"known keys at {section}: {known}; {DOCS_HINT}")

    def value(self, spec: FieldSpec, value: object, path: KeyPath) -> object:
        key = _dotted(path)
        if not _matches_kind(spec, value):
            example = spec.example if spec.example is not None else spec.default
            if (
                spec.kind == "integer"
                and isinstance(value, str)
                and value.strip().lstrip("+-").isdigit()
            ):
                hint = f"write it without quotes: `{spec.name} = {int(value)}`"
            elif (
                spec.kind == "string"
                and isinstance(value, (int, float))
                and not isinstance(value, bool)
            ):
                hint = f'put it in quotes: `{spec.name} = "{value}"`'
            elif isinstance(example, (str, int, bool)):
                hint = f"for example `{spec.name} = {_toml_literal(example)}`"
            else:
                hint = DOCS_HINT
            raise self.fail(
                path, f"`{key}` must be {_article(spec.kind)}, got {_describe(value)}", hint
            )
        if isinstance(value, str) and spec.choices and value not in spec.choices:
            if value in spec.planned:
                now = ", ".join(f"`{c}`" for c in spec.choices)
                planned = ", ".join(spec.planned)
                raise self.fail(
                    path,
                    f'`{key}` "{value}" is not available yet',
                    f"use {now} for now; {planned} are planned",
                )
            allowed = ", ".join(spec.choices)
            guess = _guess_choice(value, spec.choices + spec.planned)
            hint = f"did you mean `{guess}`?" if guess else f"use one of {allowed}"
            raise self.fail(path, f"`{key}` must be one of {allowed}, got {_describe(value)}", hint)
        if isinstance(value, int) and not isinstance(value, bool):
            if spec.minimum is not None and value < spec.minimum:
                raise self.fail(
                    path, _range_message(key, spec, value), f"use {spec.minimum} or more"
                )
            if spec.maximum is not None and value > spec.maximum:
                raise self.fail(
                    path, _range_message(key, spec, value), f"use {spec.maximum} or fewer"
                )
        if spec.check is not None:
            problem = spec.check(key, value)
            if problem is not None:
                raise self.fail(path, problem[0], problem[1])
        return value


def _table(data: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = data.get(name, {})
    return value if isinstance(value, Mapping) else {}


def _range_message(key: str, spec: FieldSpec, value: int) -> str:
    if spec.minimum is not None and spec.maximum is not None:
        return f"`{key}` must be between {spec.minimum} and {spec.maximum}, got {value}"
    if spec.minimum is not None:
        return f"`{key}` must be {spec.minimum} or more, got {value}"
    return f"`{key}` must be {spec.maximum} or less, got {value}"


def _guess_choice(value: str, choices: Sequence[str]) -> str | None:
    for choice in choices:
        if choice.lower() == value.lower():
            return choice
    folded = value.upper().replace("-", "_")
    containing = [c for c in choices if folded and folded in c.upper().replace("-", "_")]
    if containing:
        return containing[0]
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(folded, [c.upper() for c in choices], n=1, cutoff=0.6)
        close = [c for c in choices if close and c.upper() == close[0]]
    return close[0] if close else None
