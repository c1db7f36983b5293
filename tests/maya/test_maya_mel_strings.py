"""Maya's wrapped strings: a value split into ``("a" + "b" ...)`` reads back as the one string, in both readers."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from azrender_maya.mel import parse_ma, parse_ma_by_tokens
from azrender_maya.scan import scan_maya

# MEL's escapes in a double-quoted literal (Maya writes these four, and \r).
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def literal(text: str) -> str:
    return '"' + "".join(_ESCAPES.get(c, c) for c in text) + '"'


# Whitespace Maya puts around the pieces: none, a space, a line break and tabs.
SPACE = st.sampled_from(["", " ", "\n", "\n\t\t", "\r\n\t", "\t "])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@st.composite
def wrapped(draw: st.DrawFn) -> tuple[str, str]:
    """A string and one way of writing it as a MEL concatenation in parentheses."""
    value = draw(TEXT)
    cuts = sorted(draw(st.lists(st.integers(0, len(value)), max_size=6)))
    pieces = [value[a:b] for a, b in zip([0, *cuts], [*cuts, len(value)], strict=True)]
    out = "(" + draw(SPACE)
    for k, piece in enumerate(pieces):
        if k:
            out += draw(SPACE) + "+" + draw(SPACE)
        out += literal(piece)
    return value, out + draw(SPACE) + ")"


@settings(max_examples=300, deadline=None)
@given(wrapped(), wrapped(), wrapped(), SPACE)
def test_any_split_reads_back_the_same_in_every_statement(
    tex: tuple[str, str], ref: tuple[str, str], info: tuple[str, str], space: str
) -> None:
    text = (
        "//Maya ASCII 2024 scene\n"
        f'file -rdi 1 -ns "a" -rfn "aRN" -typ "mayaAscii"{space}{ref[1]};\n'
        f'fileInfo "note" {info[1]};\n'
        'createNode file -n "file1";\n'
        f'\tsetAttr ".ftn" -type "string" {tex[1]};\n'
        f'\tsetAttr ".cfp" -type "string"{space}{tex[1]};\n'
        'createNode AlembicNode -n "abc";\n'
        f'\tsetAttr ".fn" -type "string" {ref[1]};\n'
    )
    for parse in (parse_ma, parse_ma_by_tokens):
        scene = parse(text)
        assert [r.path for r in scene.references] == [ref[0]]
        assert scene.file_info == {"note": info[0]}
        assert scene.nodes[0].attrs == {"ftn": tex[0], "cfp": tex[0]}
        assert scene.nodes[1].attrs == {"fn": ref[0]}
    assert parse_ma(text) == parse_ma_by_tokens(text)


def test_the_two_layouts_maya_writes() -> None:
    text = (
        'createNode file -n "file1";\n'
        '\tsetAttr ".ftn" -type "string" (\n'
        '\t\t"C:/Projects/HW2/Homeworld2/data/ART/FX/PlanetKiller_explosions/abomb.tga");\n'
        'createNode file -n "file2";\n'
        '\tsetAttr ".ftn" -type "string" ( "C:/Users/me/Documents/maya/projects/Haunted//sourceimages/wood/"\n'
        '\t\t+ "oak_diffuse.png");\n'
    )
    for parse in (parse_ma, parse_ma_by_tokens):
        assert [n.attrs["ftn"] for n in parse(text).nodes] == [
            "C:/Projects/HW2/Homeworld2/data/ART/FX/PlanetKiller_explosions/abomb.tga",
            "C:/Users/me/Documents/maya/projects/Haunted//sourceimages/wood/oak_diffuse.png",
        ]


def test_what_is_not_a_concatenation_stays_as_written() -> None:
    text = (
        'createNode file -n "f";\n'
        '\tsetAttr ".a" -type "string" ( "x" + );\n'  # a `+` with nothing after it
        '\tsetAttr ".b" ( 1 );\n'  # no literal inside
        '\tsetAttr ".c" -type "string" ("x") + ("y");\n'  # Maya never writes groups joined outside
    )
    for parse in (parse_ma, parse_ma_by_tokens):
        attrs = parse(text).nodes[0].attrs
        assert "a" not in attrs and "b" not in attrs
    assert parse_ma(text) == parse_ma_by_tokens(text)


def test_scan_finds_wrapped_textures_and_never_a_path_named_paren(tmp_path: Path) -> None:
    (tmp_path / "tex").mkdir()
    for name in ("abomb.tga", "oak_diffuse.png"):
        (tmp_path / "tex" / name).write_bytes(b"x")
    scene = tmp_path / "shot.ma"
    scene.write_text(
        "//Maya ASCII 2024 scene\n"
        'createNode file -n "file1";\n'
        f'\tsetAttr ".ftn" -type "string" (\n\t\t"{tmp_path}/tex/abomb.tga");\n'
        'createNode file -n "file2";\n'
        f'\tsetAttr ".ftn" -type "string" ( "{tmp_path}/tex/"\n\t\t+ "oak_diffuse.png");\n'
    )
    result = scan_maya(scene)
    assert [(a.path, a.exists, a.referrer) for a in result.assets[1:]] == [
        (tmp_path / "tex/abomb.tga", True, "file1.ftn"),
        (tmp_path / "tex/oak_diffuse.png", True, "file2.ftn"),
    ]
    assert not [a for a in result.assets if "(" in str(a.path)]
