"""Ordered path-mapping rules: longest prefix, case, UNC, separators, unicode; round trips."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azrender.errors import UsageError
from azrender.paths import MapRule, PathMap, UnmappedPathError
from azrender.paths.rules import map_path, split_path

RULES = (
    MapRule("P:\\", "$AZ_BATCH_NODE_MOUNTS_DIR/p"),
    MapRule("P:\\show\\tex", "$AZ_BATCH_NODE_MOUNTS_DIR/tex"),
    MapRule("\\\\fileserver\\projects", "/mnt/projects"),
    MapRule("/mnt/show", "S:\\show"),
)


@pytest.mark.parametrize(
    ("local", "node"),
    [
        ("P:\\show\\tex\\wood.png", "$AZ_BATCH_NODE_MOUNTS_DIR/tex/wood.png"),
        ("p:/SHOW/Tex/wood.png", "$AZ_BATCH_NODE_MOUNTS_DIR/tex/wood.png"),  # case-insensitive
        (
            "P:/show/texture/a.png",
            "$AZ_BATCH_NODE_MOUNTS_DIR/p/show/texture/a.png",
        ),  # whole components
        ("P:\\show\\tex\\..\\geo\\a.abc", "$AZ_BATCH_NODE_MOUNTS_DIR/p/show/geo/a.abc"),
        ("\\\\FileServer\\Projects\\x\\ü b.exr", "/mnt/projects/x/ü b.exr"),  # UNC, unicode, space
        ("/mnt/show/seq/a.0001.exr", "S:\\show\\seq\\a.0001.exr"),
        ("/mnt/show/seq/", "S:\\show\\seq\\"),  # a folder keeps its trailing separator
        ("/mnt/show", "S:\\show"),
    ],
)
def test_rules(local: str, node: str) -> None:
    assert PathMap(rules=RULES).to_node(local) == node


@pytest.mark.parametrize(
    "local", ["/MNT/show/a.png", "/mnt/show2/a.png", "D:\\a.png", "tex/a.png", "//x/a.png"]
)
def test_unmapped(local: str) -> None:
    pm = PathMap(rules=RULES)
    assert pm.map(local) is None
    with pytest.raises(UnmappedPathError):
        pm.to_node(local)


def test_rules_win_over_the_mirror_and_the_mirror_catches_the_rest() -> None:
    pm = PathMap(mirror_root="/node/assets", rules=RULES)
    assert pm.to_node("P:\\show\\tex\\a.png") == "$AZ_BATCH_NODE_MOUNTS_DIR/tex/a.png"
    assert pm.to_node("D:\\lib\\a.png") == "/node/assets/D/lib/a.png"
    assert pm.unmapped(["D:\\lib\\a.png", "/x"]) == []


def test_first_listed_rule_wins_a_tie() -> None:
    a = PathMap(rules=(MapRule("P:\\show", "/a"), MapRule("p:/SHOW", "/b")))
    assert a.to_node("P:\\show\\x") == "/a/x"
    b = PathMap(rules=(MapRule("p:/SHOW", "/b"), MapRule("P:\\show", "/a")))
    assert b.to_node("P:\\show\\x") == "/b/x"


def test_drive_target_root() -> None:
    pm = PathMap(rules=(MapRule("P:\\", "S:"), MapRule("/", "T:\\")))
    assert pm.to_node("P:\\a\\b.png") == "S:\\a\\b.png"
    assert pm.to_node("/home/a.png") == "T:\\home\\a.png"


def test_check_mapped_lists_every_straggler() -> None:
    pm = PathMap(rules=RULES)
    paths = ["P:\\show\\a.png", "D:\\x\\1.png", "/home/me/2.png", "/mnt/show/ok.png"] + [
        f"/tmp/{i}.png" for i in range(6)
    ]
    with pytest.raises(UnmappedPathError) as info:
        pm.check_mapped(paths)
    assert info.value.paths == ["D:\\x\\1.png", "/home/me/2.png"] + [
        f"/tmp/{i}.png" for i in range(6)
    ]
    message = str(info.value)
    assert message.startswith("8 files are not below any mapped root: D:\\x\\1.png, /home/me/2.png")
    assert "and 3 more" in message and "[[paths]]" in message
    pm.check_mapped(["P:\\a", "/mnt/show/b"])  # nothing raised


@pytest.mark.parametrize(
    ("source", "target"),
    [("show/tex", "/mnt"), ("C:relative", "/mnt"), ("P:\\", "relative/dir"), ("\\\\srv", "/x")],
)
def test_bad_rules_are_refused(source: str, target: str) -> None:
    with pytest.raises(UsageError, match="path mapping"):
        MapRule(source, target)


def test_to_json_keeps_the_old_shape_without_rules() -> None:
    assert PathMap(mirror_root="/r").to_json() == {"mirror_root": "/r", "node_os": "linux"}
    assert PathMap(rules=RULES[:1]).to_json()["rules"] == [["P:\\", "$AZ_BATCH_NODE_MOUNTS_DIR/p"]]


# --- properties ----------------------------------------------------------------------------

# Components as artists write them: unicode letters, digits, spaces, dots, dashes; never
# a separator, and never `.`/`..` (those are resolved, so they do not round-trip).
component = st.text(
    alphabet=st.characters(
        whitelist_categories=("Lu", "Ll", "Lo", "Nd"), whitelist_characters=" ._-#()"
    ),
    min_size=1,
    max_size=12,
).filter(lambda c: c.strip(".") != "" and c.strip() == c)
components = st.lists(component, min_size=0, max_size=5)


@st.composite
def source_roots(draw: st.DrawFn) -> tuple[str, str]:
    """(a source root, its separator), Windows drive, UNC or POSIX."""
    kind = draw(st.sampled_from(["drive", "unc", "posix"]))
    parts = draw(components)
    if kind == "drive":
        return draw(st.sampled_from("CDPZ")) + ":\\" + "\\".join(parts), "\\"
    if kind == "unc":
        server, share = draw(component), draw(component)
        return "\\\\" + "\\".join([server, share, *parts]), "\\"
    return "/" + "/".join(parts), "/"


targets = st.sampled_from(
    [
        "$AZ_BATCH_NODE_MOUNTS_DIR/show",
        "/mnt/x y",
        "S:",
        "\\\\acct.file.core.windows.net\\share",
        "%AZ_BATCH_NODE_MOUNTS_DIR%\\m",
    ]
)


@settings(max_examples=300, deadline=None)
@given(source_roots(), targets, components)
def test_round_trip(root: tuple[str, str], target: str, rest: list[str]) -> None:
    source, sep = root
    pm = PathMap(rules=(MapRule(source, target),))
    local = source.rstrip("\\/") + sep + sep.join(rest) if rest else source
    node = pm.to_node(local)
    assert node.replace("\\", "/").endswith("/".join(rest))  # unicode and spaces kept
    back = pm.to_local(node)
    assert back is not None
    assert split_path(back) == split_path(local)


@settings(max_examples=200, deadline=None)
@given(source_roots(), components, st.randoms(use_true_random=False))
def test_windows_sources_ignore_case_and_separators(
    root: tuple[str, str], rest: list[str], rnd: random.Random
) -> None:
    source, sep = root
    local = source.rstrip("\\/") + sep + sep.join(rest) if rest else source
    pm = PathMap(rules=(MapRule(source, "/node"),))
    expected = pm.to_node(local)
    head = local[: len(source)]
    shaken = "".join(c.swapcase() if rnd.random() < 0.5 else c for c in head) + local[len(source) :]
    if sep == "\\":
        # forward slashes after the anchor (`//srv` would be Blender-relative)
        if rnd.random() < 0.5:
            shaken = shaken[:2] + shaken[2:].replace("\\", "/")
        assert pm.to_node(shaken) == expected
    elif shaken != local:
        assert pm.map(shaken) is None or split_path(shaken) == split_path(local)


@settings(max_examples=200, deadline=None)
@given(
    source_roots(), st.lists(component, min_size=2, max_size=5), st.randoms(use_true_random=False)
)
def test_longest_prefix_wins_in_any_order(
    root: tuple[str, str], rest: list[str], rnd: random.Random
) -> None:
    source, sep = root
    base = source.rstrip("\\/")
    rules = [
        MapRule(base + sep + sep.join(rest[:n]) if n else source, f"/t{n}")
        for n in range(len(rest))
    ]
    rnd.shuffle(rules)
    local = base + sep + sep.join(rest)
    deepest = len(rest) - 1
    assert PathMap(rules=tuple(rules)).to_node(local) == f"/t{deepest}/{rest[-1]}"
    assert map_path(local, [(r.source, r.target) for r in rules]) == f"/t{deepest}/{rest[-1]}"
