"""Output naming tokens, per application."""

from __future__ import annotations

import pytest

from azrender.errors import UsageError
from azrender.naming import (
    DEFAULT_TEMPLATE,
    NamingContext,
    Token,
    parse_template,
)
from azrender_blender.naming import blender_output
from azrender_max.naming import max_output_name
from azrender_maya.naming import maya_image_prefix

CTX = NamingContext(scene="sh010 v3", shot="sh010", layer="beauty", camera="shotCam")


def test_parse() -> None:
    assert parse_template("{{x}} {scene}.{frame}") == ["{", "x", "}", " ", Token("scene"), ".", Token("frame", 4)]
    assert parse_template("{frame:06}") == [Token("frame", 6)]
    assert parse_template("{frame:3}") == [Token("frame", 3)]
    assert parse_template("plain") == ["plain"]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{sceen}_{frame}", r"unknown token \{sceen\}.*did you mean \{scene\}"),
        ("{scene", "unmatched '{'"),
        ("{frame}_{frame}", "more than one"),
        ("{frame:0}", "unknown token"),
    ],
)
def test_bad_templates(template: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        blender_output(template, CTX)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (DEFAULT_TEMPLATE, "sh010 v3_####"),
        ("{shot}/{layer}/{scene}.{frame:06}", "sh010/beauty/sh010 v3.######"),
        ("{camera}_{frame:2}_final", "shotCam_##_final"),  # Blender takes # anywhere
        ("take#2_{frame}", "take_2_####"),  # a literal # is not a frame digit
        ("{scene}", "sh010 v3_####"),  # no frame: one file per frame all the same
    ],
)
def test_blender(template: str, expected: str) -> None:
    assert blender_output(template, CTX) == expected


def test_values_cannot_escape_their_component() -> None:
    ctx = NamingContext(scene="a/b\\c:d#e")
    assert blender_output("{scene}_{frame}", ctx) == "a_b\\c:d_e_####"  # Linux nodes: only / separates
    assert max_output_name("{scene}_{frame}", ctx) == "a_b_c_d#e_"  # Windows nodes


def test_unknown_value_is_named() -> None:
    with pytest.raises(UsageError, match=r"Blender output name needs \{camera\}"):
        blender_output("{camera}_{frame}", NamingContext(scene="s"))


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (DEFAULT_TEMPLATE, ("<Scene>_", 4)),
        ("{shot}/{layer}/{scene}_{camera}.{frame:5}.exr", ("sh010/<RenderLayer>/<Scene>_<Camera>", 5)),
        ("{scene}", ("<Scene>", 4)),
    ],
)
def test_maya(template: str, expected: tuple[str, int]) -> None:
    # Maya fills scene, layer and camera itself, per layer and camera rendered.
    assert maya_image_prefix(template, NamingContext(scene="", shot="sh010")) == expected


def test_maya_and_max_want_the_frame_last() -> None:
    with pytest.raises(UsageError, match="Maya puts the frame number at the end"):
        maya_image_prefix("{frame}_{scene}", CTX)
    with pytest.raises(UsageError, match="3ds Max puts the frame number at the end"):
        max_output_name("{scene}_{frame}_beauty", CTX)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (DEFAULT_TEMPLATE, "sh010 v3_"),
        ("{shot}_{camera}_{frame:04}.exr", "sh010_shotCam_"),
        ("{scene}.{frame}", "sh010 v3."),  # 3ds Max writes name.0001.ext
        ("{scene}", "sh010 v3"),
    ],
)
def test_max(template: str, expected: str) -> None:
    assert max_output_name(template, CTX) == expected


def test_max_padding_is_four() -> None:
    with pytest.raises(UsageError, match="four frame digits"):
        max_output_name("{scene}_{frame:6}", CTX)
