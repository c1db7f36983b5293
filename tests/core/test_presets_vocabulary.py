"""Each set of preset values is written once: the field table, the settings dataclasses,
the JSON schema and the command line all say what the vocabulary says."""

from __future__ import annotations

import dataclasses
import json
import typing

import click

from azrender.backends import BACKENDS
from azrender.cli import main
from azrender.presets import vocabulary
from azrender.presets.fields import SUBTABLES, TABLES
from azrender.presets.loader import TABLE_CLASSES
from azrender.presets.schema import SCHEMA_PATH

#: Every value set the vocabulary declares.
VALUE_SETS = {
    name: value
    for name, value in vars(vocabulary).items()
    if name.isupper() and isinstance(value, tuple) and name != "STORAGE_MODES_PLANNED"
}


def test_every_choice_list_of_the_table_is_a_vocabulary_set() -> None:
    used = set()
    for table in TABLES:
        for spec in table.fields:
            if spec.choices:
                matches = [n for n, v in VALUE_SETS.items() if v is spec.choices]
                assert matches, f"{table.name}.{spec.name}: choices written outside vocabulary.py"
                used.update(matches)
    # No set of words is declared and then left unused by the format.
    assert used == set(VALUE_SETS)


def test_literal_fields_of_the_settings_take_the_table_choices() -> None:
    checked = 0
    for table, cls in TABLE_CLASSES.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if typing.get_origin(hints[f.name]) is typing.Literal:
                spec = SUBTABLES[table].get(f.name)
                assert spec is not None
                assert typing.get_args(hints[f.name]) == spec.choices, f"{table}.{f.name}"
                checked += 1
    # storage.mode, layout, node_sync; blobfuse.mount_at, cache; azure_files.windows_paths,
    # mount_at; backend.kind; batch.pool_mode, node_access; pool.os
    assert checked == 11


def test_schema_and_cli_spell_the_vocabulary() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    props = schema["properties"]
    assert tuple(props["storage"]["properties"]["mode"]["enum"]) == vocabulary.STORAGE_MODES
    assert tuple(props["backend"]["properties"]["kind"]["enum"]) == vocabulary.BACKEND_KINDS
    assert tuple(props["batch"]["properties"]["pool_mode"]["enum"]) == vocabulary.POOL_MODES
    assert BACKENDS == vocabulary.BACKEND_KINDS
    for name in ("submit", "status"):
        options = {p.name: p for p in main.commands[name].params}
        choice = options["backend"].type
        assert isinstance(choice, click.Choice)
        assert tuple(choice.choices) == vocabulary.BACKEND_KINDS
