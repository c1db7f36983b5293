"""parse_ma's whole-statement fast path reads .ma text exactly as the token-by-token reference does."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from azrender_maya.mel import MelSyntaxError, _parse_fast, parse_ma, parse_ma_by_tokens
from azrender_maya.scan import _decode


def outcome(parse, text: str) -> str:  # type: ignore[no-untyped-def]
    try:
        return repr(parse(text))
    except MelSyntaxError as exc:
        return f"{type(exc).__name__}: {exc}"


def test_real_ma_files_and_their_truncations(real_fixtures: Path) -> None:
    files = sorted(real_fixtures.rglob("*.ma"))
    assert files
    rnd = random.Random(7)
    for f in files:
        text = _decode(f.read_bytes())
        assert _parse_fast(text) is not None, f"{f.name}: the fast path gave up on a real file"
        assert parse_ma(text) == parse_ma_by_tokens(text)
        if len(text) > 500_000:  # the reference reads ~1 MB/s: cut only the small files
            continue
        for _ in range(3):
            cut = text[: rnd.randrange(len(text))]
            assert outcome(parse_ma, cut) == outcome(parse_ma_by_tokens, cut)


_HEADS = ["setAttr", "createNode", "select", "file", "requires", "fileInfo", "currentUnit", "connectAttr", '"q"']  # fmt: skip
_WORDS = [
    "-type", "string", '"float2"', '"a.b"', '".ftn"', '".v"', '"n1.ftn"', "n1.x", "-n", '"n1"', "-p", "-s",
    "3", "-5", "1e-5", "-.5", "5.", "-1.#IND", "f", "mu", "-ch", "120", "no", "-r", "-rdi", "-ns", '"ns"',
    "-rfn", '"RN"', '"p/x.ma"', ":time1", "-ne", "-l", "cm", "-t", "film", "a//b", "/x", "a/b", "-",
    '"e\\"s\\\\c"', '"x;y"', '"//no"', "transform", 'x"y"', '"y"x', "-1-2", "3-x", '"/*"', "*/", "-nodeType",
    "--5", "-1e", "1e-", '"y"-5', '"y"-q', '-type "string"', '".a"',
    # wrapped strings as Maya writes them, and broken ones
    "(", ")", "+", '("a"', '"b")', '( "a" + "b" )', '("a"\n\t\t+ "b")', "((", "))", ")+", "(+",
]  # fmt: skip
_JUNK = ["", "", " ", "\n\t", ' // c; "x\n', " /* b; */ ", "/* c */", "//", "/*", " /**/ ", "//x\n"]
_DATA = ["0", "-1", "2.5", "1e-05", "f", "mu", "-0.25", "3"]


def _statement(rnd: random.Random) -> str:
    if rnd.random() < 0.4:  # setAttr as Maya writes it: flags, the plug, maybe a type, values
        flags = rnd.choice(["", "-k off", "-s 4", "-l on", "-av", "-ch 6"])
        plug = rnd.choice(['".v"', '".ftn"', '"n1.x"', '":time1.o"', '"x"'])
        kind = rnd.choice(["", "", '-type "string"', '-type "float2"', '-type "polyFaces"'])
        toks = ["setAttr", flags, plug, kind]
    elif rnd.random() < 0.3:  # createNode as Maya writes it, and near misses
        kind = rnd.choice(["file", "transform", "-x", "/t", '"q"', "a//b"])
        name = rnd.choice(['"n1"', '""', '"a\\"b"', '":n1"', "n1"])
        toks = [
            "createNode",
            kind,
            rnd.choice(["", "-s", "-ss"]),
            rnd.choice(["-n", "-name", "-p"]),
            name,
        ]
        toks += rnd.choice([[], ["-p", '"n1"'], ["-p"], ["-n", '"n2"']])
    else:
        toks = [rnd.choice(_HEADS)] + [rnd.choice(_WORDS) for _ in range(rnd.randrange(0, 10))]
    if rnd.random() < 0.5:  # a value list, long as meshes have or short
        data = [rnd.choice(_DATA) for _ in range(rnd.choice([1, 2, 3, rnd.randrange(1, 40)]))]
        if rnd.random() < 0.5:  # something that is not plain data, somewhere in it
            data.insert(rnd.randrange(len(data) + 1), rnd.choice(_WORDS))
        toks += data
    return "".join(t + rnd.choice([" ", " ", "\n\t\t", "", rnd.choice(_JUNK)]) for t in toks) + ";"


@pytest.mark.parametrize("seed", range(4))
def test_generated_statements_with_comments_strings_and_flags(seed: int) -> None:
    rnd = random.Random(seed)
    fast = 0
    for _ in range(1500):
        text = rnd.choice(_JUNK).join(_statement(rnd) for _ in range(rnd.randrange(1, 8)))
        text += rnd.choice([*_JUNK, ";", ' "', " x"])
        assert outcome(parse_ma, text) == outcome(parse_ma_by_tokens, text), text
        fast += _parse_fast(text) is not None
    assert fast > 1000  # most texts go through the fast path, not the fallback


@pytest.mark.parametrize("statement", [
    'setAttr ".v"  (//-1;', 'setAttr ".v" (x;', 'setAttr -k off ".v" (;', 'setAttr -s 4 ".uvst[0].uvsp[0:3]" -type "float2" 0 0 1 0;',
    'setAttr -k on -l off ".tx" 5;', 'setAttr -s 2 ".x" -type "float2" 0 ( 1;', 'setAttr -s 2 ".x" -type "float2" 0 -type "string" a;',
    'setAttr -l on ".ftn" -type "string" "a.png";', 'setAttr -k off ".x" -type "string2" 1 2;',
])  # fmt: skip
def test_setattr_forms_the_short_expressions_read_as_the_reference_does(statement: str) -> None:
    """Each read by a short expression (or handed on), never kept otherwise than the token reader keeps it:
    a word starting with `(` is no value, flags before the plug change nothing, a non-string type keeps nothing."""
    text = f'createNode file -n "f";\n\t{statement}\n'
    assert _parse_fast(text) is not None
    assert parse_ma(text) == parse_ma_by_tokens(text)


def test_long_value_lists_are_skipped_but_flags_after_them_still_count() -> None:
    data = " ".join(["0.5 -1 2e-05"] * 5000)
    text = (
        'createNode mesh -n "m";\n'
        f'\tsetAttr -s 15000 ".vt[0:14999]" {data};\n'  # many positionals: not an attribute value
        f'\tsetAttr ".a" {data} -type "string" "late";\n'  # a -type after the data still counts
        f'\tsetAttr ".b" 7 {" ".join(["1"] * 300)} -1.#IND;\n'
        '\tsetAttr ".c" 4 ;\n'
        '\tsetAttr -s 2 -ch 6 ".fc[0:1]" -type "polyFaces" f 3 0 1 2 mu 0 3 0 1 2 f 3 2 3 0;\n'
    )
    scene = parse_ma(text)
    assert scene == parse_ma_by_tokens(text)
    assert scene.nodes[0].attrs == {"a": data.split()[0], "c": "4"}


def test_currentunit_with_a_flag_it_does_not_know_keeps_the_units_it_knows() -> None:
    text = 'requires maya "2024";\ncurrentUnit -l centimeter -ua false -a degree -t ntsc;\n'
    for parse in (parse_ma, parse_ma_by_tokens):
        assert parse(text).units == {"linear": "centimeter", "angle": "degree", "time": "ntsc"}
