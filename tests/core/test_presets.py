"""Per-show presets: parsing, defaults, one-line errors with file/line/key/suggestion, secrets, schema."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

import pytest

from azrender.errors import EXIT_USAGE, PresetError
from azrender.presets import (
    CREDENTIALS_HINT,
    TABLES,
    BackendKind,
    BackendSettings,
    Preset,
    PresetFileError,
    RenderSettings,
    StorageMode,
    StorageSettings,
    find_line,
    key_lines,
    load_preset,
    parse_preset,
)
from azrender.presets.checks import container_problem, suggest_container_name
from azrender.presets.credentials import (
    secret_in_comments,
    secret_key_name,
    secret_value_reason,
    toml_comments,
)
from azrender.presets.fields import SUBTABLES
from azrender.presets.loader import TABLE_CLASSES
from azrender.presets.schema import SCHEMA_PATH, generate_schema, main, schema_text
from azrender.presets.spec import REQUIRED
from azrender.presets.vocabulary import STORAGE_MODES_PLANNED

SRC = Path("shows/abc.toml")

FULL = """\
# show ABC, shared by the lighting team
name = "abc"

[storage]
mode = "blob-copy"
account_url = "https://myaccount.blob.core.windows.net"
assets_container = "abc-assets"
outputs_container = "abc-outputs"

[backend]
kind = "azure"
slots = 8

[render]
chunk = 5
format = "OPEN_EXR"
"""


def parse(text: str) -> Preset:
    return parse_preset(text, SRC)


def error(text: str) -> PresetFileError:
    with pytest.raises(PresetFileError) as info:
        parse(text)
    return info.value


# --- valid presets -------------------------------------------------------------------


def test_minimal_preset_gets_every_default() -> None:
    p = parse('name = "demo"\n')
    assert p == Preset(
        name="demo",
        source=SRC,
        storage=StorageSettings("blob-copy", None, "assets", "outputs"),
        backend=BackendSettings("local", 2),
        render=RenderSettings(1, "PNG"),
    )


def test_full_preset() -> None:
    p = parse(FULL)
    assert p.name == "abc"
    assert p.source == SRC
    assert p.storage == StorageSettings(
        mode="blob-copy",
        account_url="https://myaccount.blob.core.windows.net",
        assets_container="abc-assets",
        outputs_container="abc-outputs",
    )
    assert p.backend == BackendSettings(kind="azure", slots=8)
    assert p.render == RenderSettings(chunk=5, format="OPEN_EXR")


def test_partial_tables_fill_in_defaults() -> None:
    p = parse('name = "x"\n[backend]\nslots = 4\n[storage]\noutputs_container = "frames"\n')
    assert p.backend == BackendSettings(kind="local", slots=4)
    assert p.storage.assets_container == "assets"
    assert p.storage.outputs_container == "frames"
    assert p.render == RenderSettings()


def test_dotted_keys_and_inline_tables_are_toml_too() -> None:
    p = parse('name = "x"\nbackend.slots = 3\nrender = { chunk = 10 }\n')
    assert (p.backend.slots, p.render.chunk) == (3, 10)


def test_azurite_http_url_is_allowed_on_loopback() -> None:
    p = parse('name = "x"\n[storage]\naccount_url = "http://127.0.0.1:10000/devstoreaccount1"\n')
    assert p.storage.account_url == "http://127.0.0.1:10000/devstoreaccount1"
    p = parse('name = "x"\n[storage]\naccount_url = "http://localhost:10000/devstoreaccount1"\n')
    assert p.storage.account_url == "http://localhost:10000/devstoreaccount1"


def test_preset_is_frozen() -> None:
    p = parse('name = "x"\n')
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.name = "y"  # type: ignore[misc]


def test_load_preset_from_file(tmp_path: Path) -> None:
    path = tmp_path / "abc.toml"
    path.write_text(FULL, encoding="utf-8")
    p = load_preset(str(path))
    assert p.source == path
    assert p.render.format == "OPEN_EXR"


def test_load_preset_accepts_a_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b'name = "bom"\n')
    assert load_preset(path).name == "bom"


def test_to_json() -> None:
    doc = parse(FULL).to_json()
    assert doc == {
        "name": "abc",
        "source": str(SRC),
        "storage": {
            "mode": "blob-copy",
            "account_url": "https://myaccount.blob.core.windows.net",
            "assets_container": "abc-assets",
            "outputs_container": "abc-outputs",
            "layout": "mirror",
            "node_sync": "azrender",
            "node_cache_gib": 0,
        },
        "backend": {"kind": "azure", "slots": 8},
        "render": {"chunk": 5, "format": "OPEN_EXR", "max_frames": 100_000},
        "blobfuse": doc["blobfuse"],
        "azure_files": doc["azure_files"],
        "share": doc["share"],
        "paths": [],
        "batch": doc["batch"],
        "pool": doc["pool"],
        "preflight": {"errors": "", "ignore": "", "image_renderers": "", "share_quota_gib": 0},
    }
    assert doc["batch"]["pool_mode"] == "create" and doc["pool"]["os"] == "linux"
    assert doc["share"] == {"source": None, "mount_name": "share", "mount_options": "", "username": None}
    assert json.loads(json.dumps(doc)) == doc
    assert parse('name = "m"\n').to_json()["storage"] == {
        "mode": "blob-copy",
        "account_url": None,
        "assets_container": "assets",
        "outputs_container": "outputs",
        "layout": "mirror",
        "node_sync": "azrender",
        "node_cache_gib": 0,
    }


def test_require_account() -> None:
    p = parse('name = "x"\n')
    with pytest.raises(PresetError) as info:
        p.require_account({})
    assert str(info.value).startswith(
        "shows/abc.toml: `storage.account_url` is not set and AZURE_STORAGE_CONNECTION_STRING is not in the environment"
    )
    assert "docs/presets.md" in str(info.value)
    p.require_account({"AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"})
    parse(FULL).require_account({})


# --- errors: one line, file, line number, key path, suggestion ------------------------


def test_unknown_key_with_suggestion() -> None:
    text = 'name = "abc"\n[storage]\nmode = "blob-copy"\nacount_url = "https://myaccount.blob.core.windows.net"\n'
    e = error(text)
    assert (
        str(e)
        == "shows/abc.toml line 4: unknown key `storage.acount_url` (did you mean `account_url`?)"
    )
    assert (e.source, e.line, e.key) == (SRC, 4, "storage.acount_url")
    assert e.exit_code == EXIT_USAGE
    assert "\n" not in str(e)


def test_unknown_key_that_belongs_in_another_table() -> None:
    e = error('name = "abc"\nslots = 4\n')
    assert str(e) == (
        "shows/abc.toml line 2: unknown key `slots` "
        "(did you mean `backend.slots`? it belongs under [backend])"
    )


def test_unknown_key_without_close_match_lists_the_known_keys() -> None:
    e = error('name = "abc"\n[render]\nsamples = 64\n')
    assert str(e) == (
        "shows/abc.toml line 3: unknown key `render.samples` "
        "(known keys at [render]: chunk, format, max_frames; see docs/presets.md)"
    )


def test_unknown_table() -> None:
    e = error('name = "abc"\n\n[storag]\nmode = "blob-copy"\n')
    assert str(e) == "shows/abc.toml line 3: unknown table `[storag]` (did you mean `storage`?)"


def test_unknown_key_in_inline_table_points_at_its_line() -> None:
    e = error('name = "abc"\nstorage = { acount_url = "https://a.blob.core.windows.net" }\n')
    assert (
        str(e)
        == "shows/abc.toml line 2: unknown key `storage.acount_url` (did you mean `account_url`?)"
    )


def test_wrong_type() -> None:
    e = error('name = "abc"\n[backend]\nkind = "local"\nslots = "two"\n')
    assert str(e) == (
        'shows/abc.toml line 4: `backend.slots` must be an integer, got string "two" '
        "(for example `slots = 2`)"
    )
    assert e.key == "backend.slots"


def test_wrong_type_quoted_number() -> None:
    e = error('name = "abc"\n[render]\nchunk = "5"\n')
    assert str(e) == (
        'shows/abc.toml line 3: `render.chunk` must be an integer, got string "5" '
        "(write it without quotes: `chunk = 5`)"
    )


def test_wrong_type_boolean_is_not_an_integer() -> None:
    e = error('name = "abc"\n[backend]\nslots = true\n')
    assert str(e).startswith(
        "shows/abc.toml line 3: `backend.slots` must be an integer, got boolean true"
    )


def test_wrong_type_number_for_string() -> None:
    e = error('name = "abc"\n[storage]\nassets_container = 42\n')
    assert str(e) == (
        "shows/abc.toml line 3: `storage.assets_container` must be a string, got integer 42 "
        '(put it in quotes: `assets_container = "42"`)'
    )


def test_table_where_a_value_belongs_and_vice_versa() -> None:
    e = error('name = "abc"\nbackend = "local"\n')
    assert str(e) == (
        'shows/abc.toml line 2: `backend` must be a table, got string "local" '
        "(write it as a [backend] section; see docs/presets.md)"
    )
    e = error('name = "abc"\n[backend.kind]\nx = 1\n')
    assert str(e).startswith("shows/abc.toml line 2: `backend.kind` must be a string, got a table")


def test_bad_enum_lists_allowed_values() -> None:
    e = error('name = "abc"\n[backend]\nkind = "batch"\n')
    assert (
        str(e)
        == 'shows/abc.toml line 3: `backend.kind` must be one of local, azure, got string "batch" (use one of local, azure)'
    )


def test_bad_enum_suggests_the_right_spelling() -> None:
    e = error('name = "abc"\n[render]\nformat = "exr"\n')
    assert str(e).startswith(
        "shows/abc.toml line 3: `render.format` must be one of PNG, OPEN_EXR, OPEN_EXR_MULTILAYER, JPEG, TIFF,"
    )
    assert str(e).endswith('got string "exr" (did you mean `OPEN_EXR`?)')
    assert str(error('name = "abc"\n[render]\nformat = "png"\n')).endswith("(did you mean `PNG`?)")
    assert str(error('name = "abc"\n[backend]\nkind = "Azure"\n')).endswith(
        "(did you mean `azure`?)"
    )


def test_every_storage_mode_is_available() -> None:
    assert STORAGE_MODES_PLANNED == ()
    assert parse('name = "a"\n[storage]\nmode = "blobfuse"\n').storage.mode == "blobfuse"
    assert str(error('name = "a"\n[storage]\nmode = "blob_fuse"\n')).endswith(
        "(did you mean `blobfuse`?)"
    )


def test_slots_range() -> None:
    assert str(error('name = "a"\n[backend]\nslots = 0\n')) == (
        "shows/abc.toml line 3: `backend.slots` must be between 1 and 64, got 0 (use 1 or more)"
    )
    assert str(error('name = "a"\n[backend]\nslots = 65\n')) == (
        "shows/abc.toml line 3: `backend.slots` must be between 1 and 64, got 65 (use 64 or fewer)"
    )
    assert parse('name = "a"\n[backend]\nslots = 64\n').backend.slots == 64


def test_chunk_must_be_positive() -> None:
    assert str(error('name = "a"\n[render]\nchunk = 0\n')).startswith(
        "shows/abc.toml line 3: `render.chunk` must be between 1 and"
    )


@pytest.mark.parametrize(
    ("name", "why", "fix"),
    [
        ("Show_ABC", "it has uppercase letters; container names are lowercase", "show-abc"),
        ("ab", "it is 2 characters long; container names have 3 to 63", None),
        ("a" * 64, "it is 64 characters long; container names have 3 to 63", "a" * 63),
        ("-abc", "it must start and end with a letter or digit", "abc"),
        ("abc-", "it must start and end with a letter or digit", "abc"),
        ("ab--c", "it has consecutive hyphens; use single hyphens", "ab-c"),
        ("ab_c", "it may only contain lowercase letters, digits and hyphens", "ab-c"),
    ],
)
def test_container_names_follow_azure_rules(name: str, why: str, fix: str | None) -> None:
    e = error(f'name = "a"\n[storage]\noutputs_container = "{name}"\n')
    msg = str(e)
    assert msg.startswith("shows/abc.toml line 3: `storage.outputs_container` ")
    assert f"is not a valid container name: {why} (" in msg
    if fix:
        assert f"(did you mean `{fix}`? names are 3-63 lowercase letters" in msg
    else:
        assert "(use 3-63 lowercase letters, digits and single hyphens" in msg
    assert e.key == "storage.outputs_container"


@pytest.mark.parametrize("name", ["abc", "a1b", "show-abc-assets", "a" * 63, "123"])
def test_valid_container_names(name: str) -> None:
    assert container_problem(name) is None
    assert (
        parse(f'name = "a"\n[storage]\nassets_container = "{name}"\n').storage.assets_container
        == name
    )


def test_suggest_container_name() -> None:
    assert suggest_container_name("Show ABC / Assets") == "show-abc-assets"
    assert suggest_container_name("__") is None


def test_account_url_must_be_https() -> None:
    e = error('name = "a"\n[storage]\naccount_url = "http://myaccount.blob.core.windows.net"\n')
    assert str(e) == (
        "shows/abc.toml line 3: `storage.account_url` must use https, got http for myaccount.blob.core.windows.net "
        "(use https://myaccount.blob.core.windows.net; http is only allowed for 127.0.0.1/localhost emulators such as Azurite)"
    )


@pytest.mark.parametrize(
    ("url", "start"),
    [
        (
            "myaccount.blob.core.windows.net",
            '`storage.account_url` "myaccount.blob.core.windows.net" is not an http(s) URL',
        ),
        ("ftp://host", '`storage.account_url` "ftp://host" is not an http(s) URL'),
        (
            "https://a.blob.core.windows.net/?comp=list",
            "`storage.account_url` must not have a query string or fragment",
        ),
    ],
)
def test_account_url_shape(url: str, start: str) -> None:
    msg = str(error(f'name = "a"\n[storage]\naccount_url = "{url}"\n'))
    assert msg.startswith(f"shows/abc.toml line 3: {start} (")


def test_missing_name() -> None:
    e = error("[backend]\nslots = 2\n")
    assert (
        str(e) == 'shows/abc.toml: missing key `name` (add `name = "demo"` at the top of the file)'
    )
    assert e.line is None


def test_bad_name() -> None:
    assert str(error('name = "my show!"\n')) == (
        'shows/abc.toml line 1: `name` "my show!" is not a valid preset name '
        "(use 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit)"
    )


def test_toml_syntax_error_has_line_and_column() -> None:
    e = error('name = "abc"\n[backend]\nslots = 2 2\n')
    assert str(e).startswith("shows/abc.toml line 3 column 11: TOML syntax error: ")
    assert (e.line, e.column) == (3, 11)
    assert "docs/presets.md" in str(e)


def test_toml_syntax_error_suggests_quotes() -> None:
    e = error('name = "abc"\n[storage]\nmode = blob-copy\n')
    assert str(e) == (
        "shows/abc.toml line 3 column 8: TOML syntax error: invalid value "
        '(strings need quotes: did you mean `mode = "blob-copy"`?)'
    )


def test_toml_duplicate_key() -> None:
    e = error('name = "abc"\nname = "def"\n')
    assert str(e).startswith("shows/abc.toml line 2 column ")
    assert "TOML syntax error" in str(e)


def test_toml_unclosed_table_at_end_of_document() -> None:
    e = error('name = "abc"\n[backend')
    assert str(e).startswith("shows/abc.toml line 2")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "shows" / "nope.toml"
    with pytest.raises(PresetError) as info:
        load_preset(path)
    assert str(info.value) == f"preset not found: {path} (see docs/presets.md for the format)"


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(PresetError) as info:
        load_preset(tmp_path)
    assert (
        str(info.value)
        == f"preset {tmp_path} is a folder, not a file (give the path of a .toml file)"
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(PresetError) as info:
        load_preset(path)
    assert (
        str(info.value)
        == f"{path}: not UTF-8 text (bad byte at offset 11) (save the preset as UTF-8)"
    )


# --- secrets --------------------------------------------------------------------------

# shaped like a storage account key: 88 base64 characters ending in ==
SECRET = (
    "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG9mcmVkcGx1Z2h4eXp6eTAxMjM0NTY3ODkwMTIzNA=="
)
SECRET_KEYS = [
    "account_key",
    "key",
    "sas",
    "sas_token",
    "sasToken",
    "password",
    "secret",
    "client_secret",
    "connection_string",
    "ConnectionString",
    "token",
    "credential",
    "credentials",
    "storage-key",
    "api_key",
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_keys_are_refused_without_echoing_the_value(key: str) -> None:
    e = error(f'name = "abc"\n[storage]\nassets_container = "assets"\n"{key}" = "{SECRET}"\n')
    msg = str(e)
    assert msg == (
        f"shows/abc.toml line 4: `storage.{key}` is a credential key; remove it "
        f"({CREDENTIALS_HINT})"
    )
    assert SECRET not in msg and SECRET[:10] not in msg


def test_secret_key_anywhere_even_in_unknown_tables_and_arrays() -> None:
    e = error(
        'name = "abc"\n[[mounts]]\nshare = "s"\n[[mounts]]\nshare = "t"\npassword = "hunter22"\n'
    )
    assert str(e) == (
        f"shows/abc.toml line 6: `mounts[1].password` is a credential key; remove it ({CREDENTIALS_HINT})"
    )
    assert "hunter22" not in str(e)


def test_secret_key_is_refused_before_unknown_key_suggestions() -> None:
    # account_key is close to account_url, but it must never be "did you mean"-ed
    msg = str(error('name = "abc"\n[storage]\naccount_key = "abc123"\n'))
    assert "credential" in msg and "did you mean" not in msg and "abc123" not in msg


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net",
            "an `AccountKey=` connection string",
        ),
        (
            "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2022&sig=abc",
            "a `SharedAccessSignature=` connection string",
        ),
        (
            "https://acct.blob.core.windows.net/assets?sv=2022-11-02&ss=b&sig=abcDEF%3D",
            "a SAS signature (`sig=`)",
        ),
        ("sv=2022-11-02&ss=b&srt=co&sig=abcDEF", "a SAS signature (`sig=`)"),
        (SECRET, "a long base64 key"),
        ("https://user:pa55@acct.blob.core.windows.net", "a user name and password in the URL"),
    ],
)
def test_secret_values_are_refused_without_echoing_them(value: str, reason: str) -> None:
    e = error(f'name = "abc"\n[storage]\naccount_url = "{value}"\n')
    msg = str(e)
    assert msg == (
        f"shows/abc.toml line 3: `storage.account_url` looks like a credential (it contains {reason}); "
        f"remove it ({CREDENTIALS_HINT})"
    )
    secret_part = value.split("=", 1)[-1][-12:] if "=" in value else value[-12:]
    assert secret_part not in msg
    assert "abcDEF" not in msg and "pa55" not in msg and "c2VjcmV0" not in msg


def test_secret_value_in_any_string_field() -> None:
    msg = str(error(f'name = "abc"\n[render]\nformat = "{SECRET}"\n'))
    assert msg.startswith(
        "shows/abc.toml line 3: `render.format` looks like a credential (it contains a long base64 key)"
    )
    assert SECRET[:20] not in msg


@pytest.mark.parametrize(
    ("comment", "reason"),
    [
        ("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0", "an `AccountKey=` connection string"),
        ("old: https://acct.blob.core.windows.net/a?sv=2022&sig=abcDEF", "a SAS signature (`sig=`)"),
        (f"key {SECRET}", "a long base64 key"),
        ("was https://user:pa55@acct.blob.core.windows.net", "a user name and password in the URL"),
    ],
)
def test_secret_in_a_comment_is_refused_with_the_same_detector(comment: str, reason: str) -> None:
    text = f'name = "abc"  # the show\n[storage]\n# {comment}\naccount_url = "https://acct.blob.core.windows.net"\n'
    msg = str(error(text))
    assert msg == (
        f"shows/abc.toml line 3: a comment looks like a credential (it contains {reason}); "
        f"remove it ({CREDENTIALS_HINT})"
    )
    assert "c2VjcmV0" not in msg and "abcDEF" not in msg and "pa55" not in msg and SECRET[:20] not in msg


def test_a_hash_inside_a_string_is_not_a_comment() -> None:
    text = (
        'a = "x # https://user:pa55@host"  # plain\n'
        "b = 'y # z'\n"
        'c = """\n# https://user:pa55@host\n\\""" # still inside\n"""  # after\n'
        "d = \'\'\'\n# no\n\'\'\' # yes\n"
    )
    assert list(toml_comments(text)) == [(1, " plain"), (6, " after"), (9, " yes")]
    assert secret_in_comments(text) is None


def test_secret_on_a_line_toml_cannot_parse_is_not_echoed() -> None:
    e = error(f'name = "abc"\n[storage]\naccount_key = {SECRET}\n')
    assert str(e) == (
        f"shows/abc.toml line 3: `account_key` is a credential key; remove it ({CREDENTIALS_HINT})"
    )
    e = error("name = 'abc'\nnote = AccountKey=hunter2\n")
    assert "hunter2" not in str(e)
    assert "credential" in str(e)


def test_secret_detection_helpers() -> None:
    for key in (
        "account_url",
        "assets_container",
        "name",
        "mode",
        "slots",
        "kind",
        "keyframe",
        "monkey",
    ):
        assert not secret_key_name(key), key
    for key in SECRET_KEYS:
        assert secret_key_name(key), key
    assert secret_value_reason("https://myaccount.blob.core.windows.net") is None
    assert secret_value_reason("design==good") is None
    assert secret_value_reason("A" * 40 + "==") is None
    assert secret_value_reason("A" * 62 + "==") == "a long base64 key"


def test_load_preset_never_echoes_a_secret_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "leaky.toml"
    path.write_text(
        f'name = "leaky"\n[storage]\nsas_token = "sv=2022&sig={SECRET}"\n', encoding="utf-8"
    )
    with pytest.raises(PresetError) as info:
        load_preset(path)
    assert SECRET[:16] not in str(info.value)
    assert str(info.value).startswith(f"{path} line 3: `storage.sas_token` is a credential key")


# --- line finder ----------------------------------------------------------------------


def test_key_lines() -> None:
    text = """\
name = "abc"   # top
description = '''
[storage]
fake = 1
'''
[storage]
"mode" = "blob-copy"
account_url = "https://a.blob.core.windows.net"
list = [
  1,
  2,
]
outputs_container = "out"

[ backend ]
kind.sub = 1
[[mounts]]
share = "a"
[[mounts]]
share = "b"
[mounts.opts]
ro = true
"""
    lines = key_lines(text)
    assert lines[("name",)] == 1
    assert lines[("description",)] == 2
    assert ("storage", "fake") not in lines  # inside a multi-line string
    assert lines[("storage",)] == 6
    assert lines[("storage", "mode")] == 7
    assert lines[("storage", "account_url")] == 8
    assert lines[("storage", "outputs_container")] == 13
    assert lines[("backend",)] == 15
    assert lines[("backend", "kind")] == 16
    assert lines[("backend", "kind", "sub")] == 16
    assert lines[("mounts", 0, "share")] == 18
    assert lines[("mounts", 1, "share")] == 20
    assert lines[("mounts", 1, "opts", "ro")] == 22
    assert find_line(lines, ("storage", "nope")) == 6
    assert find_line(lines, ("nope",)) is None


# --- the field table, the dataclasses and the schema agree ------------------------------


def test_dataclasses_match_the_field_table() -> None:
    for name, table in SUBTABLES.items():
        cls = TABLE_CLASSES[name]
        fields = {f.name: f for f in dataclasses.fields(cls)}
        assert list(fields) == list(table.keys), name
        for spec in table.fields:
            if table.array:  # each [[entry]] states its keys; the dataclass has no defaults
                assert fields[spec.name].default is dataclasses.MISSING, f"{name}.{spec.name}"
                continue
            assert spec.default is not REQUIRED
            assert fields[spec.name].default == spec.default, f"{name}.{spec.name}"
    preset_fields = [f.name for f in dataclasses.fields(Preset)]
    root = TABLES[0]
    assert preset_fields[: len(root.keys) + 1] == [*root.keys, "source"]
    assert sorted(preset_fields[len(root.keys) + 1 :]) == sorted(SUBTABLES)
    assert set(typing.get_args(StorageMode)) == set(SUBTABLES["storage"].fields[0].choices)
    assert set(typing.get_args(BackendKind)) == set(SUBTABLES["backend"].fields[0].choices)


def test_schema_file_is_generated_from_the_field_table() -> None:
    on_disk = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert on_disk == generate_schema()
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()
    assert main(["--check"]) == 0


def test_schema_covers_every_field() -> None:
    schema = generate_schema()
    props = schema["properties"]
    assert isinstance(props, dict)
    assert schema["required"] == ["name"]
    assert schema["additionalProperties"] is False
    for table in TABLES:
        section = props if not table.name else props[table.name]
        if table.array:
            assert section["type"] == "array"
            section = section["items"]
        if table.name:
            assert section["additionalProperties"] is False
            section = section["properties"]
        for spec in table.fields:
            prop = section[spec.name]
            assert prop["type"] == spec.kind
            if spec.choices:
                assert prop["enum"] == list(spec.choices)
            if not spec.required and spec.default is not None:
                assert prop["default"] == spec.default
            if spec.minimum is not None:
                assert prop["minimum"] == spec.minimum
            if spec.maximum is not None:
                assert prop["maximum"] == spec.maximum
