"""Read and validate a preset; every failure is one line a TD can act on.

The message names the file, the line, the key path and what to do::

    shows/abc.toml line 4: unknown key `storage.acount_url` (did you mean `account_url`?)

Validation is driven entirely by :data:`azrender.presets.fields.TABLES`; the messages'
wording is :mod:`azrender.presets.messages`.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from azrender.errors import PresetError
from azrender.presets.credentials import (
    CREDENTIALS_HINT,
    find_secret,
    secret_in_comments,
)
from azrender.presets.fields import ROOT, SUBTABLES, TABLES
from azrender.presets.locate import KeyPath, find_line, key_lines
from azrender.presets.messages import (
    DOCS_HINT,
    PresetFileError,
    article,
    describe,
    dotted,
    guess_choice,
    matches_kind,
    range_message,
    syntax_error,
    toml_literal,
)
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
        raise syntax_error(exc, text, source) from None


def read_text(path: Path) -> str:
    """A preset file's text, with one-line errors for the usual ways reading fails."""
    return _read(Path(path))


def parse_preset(text: str, source: Path) -> Preset:
    """Validate preset ``text``; ``source`` is only used in messages and ``Preset.source``."""
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise syntax_error(exc, text, source) from None
    return Validator(text, source).preset(data)


# --- validation ------------------------------------------------------------------------


#: Where a key of a merged (layered) preset was written: (file, line).
Locator = Callable[[KeyPath], tuple[Path, int | None]]


class Validator:
    """Checks a parsed preset against the field table and builds the :class:`Preset`
    (one file here; :mod:`azrender.presets.layers` gives it a locator for merged layers)."""

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
            key=dotted(path) if path else None,
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
            raise self.fail(path, f"`{dotted(path)}` {why}", CREDENTIALS_HINT)
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
                        f"`{dotted(path)}` must be a list of tables, got {describe(value)}",
                        f"write each entry as a [[{key}]] section; {DOCS_HINT}",
                    )
                continue
            if key in subtables:
                if not isinstance(value, Mapping):
                    raise self.fail(
                        path,
                        f"`{dotted(path)}` must be a table, got {describe(value)}",
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
                    toml_literal(field_spec.example) if field_spec.example is not None else "..."
                )
                raise PresetFileError(
                    f"missing key `{dotted((*prefix, field_spec.name))}`",
                    source=self.source,
                    line=find_line(self.lines, prefix) if spec.array else None,
                    key=dotted((*prefix, field_spec.name)),
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
            f"unknown table `[{dotted(path)}]`" if is_table else f"unknown key `{dotted(path)}`"
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
        key = dotted(path)
        if not matches_kind(spec, value):
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
                hint = f"for example `{spec.name} = {toml_literal(example)}`"
            else:
                hint = DOCS_HINT
            raise self.fail(
                path, f"`{key}` must be {article(spec.kind)}, got {describe(value)}", hint
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
            guess = guess_choice(value, spec.choices + spec.planned)
            hint = f"did you mean `{guess}`?" if guess else f"use one of {allowed}"
            raise self.fail(path, f"`{key}` must be one of {allowed}, got {describe(value)}", hint)
        if isinstance(value, int) and not isinstance(value, bool):
            if spec.minimum is not None and value < spec.minimum:
                raise self.fail(
                    path, range_message(key, spec, value), f"use {spec.minimum} or more"
                )
            if spec.maximum is not None and value > spec.maximum:
                raise self.fail(
                    path, range_message(key, spec, value), f"use {spec.maximum} or fewer"
                )
        if spec.check is not None:
            problem = spec.check(key, value)
            if problem is not None:
                raise self.fail(path, problem[0], problem[1])
        return value


def _table(data: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = data.get(name, {})
    return value if isinstance(value, Mapping) else {}
