"""PathMaker: every Path it makes is the Path its text names, whether or not the folder shortcut applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from azrender.scan.pathmaker import PathMaker


@pytest.mark.parametrize(
    "text",
    ["/srv/show/tex/a.png", "/srv/show/tex/b c.exr", "/x.png", "/srv/show/tex/..", "/srv/show/./tex/a.png",
     "relative/tex/a.png", "a.png", "/srv/show//tex/a.png", "/srv/show/tex/a.png/"],
)
def test_a_kept_path_is_the_path_its_text_names(text: str) -> None:
    make = PathMaker()
    for _ in range(2):  # the first call learns the folder, the second uses it
        made = make(text)
        expected = Path(text)
        assert type(made) is type(expected)
        assert (str(made), made.parts, made.parent, made.name, made.suffix) == (
            str(expected), expected.parts, expected.parent, expected.name, expected.suffix)
        assert made == expected and hash(made) == hash(expected) and made.is_absolute() == expected.is_absolute()
        assert {made: 1}[expected] == 1


def test_every_name_in_a_learned_folder_is_the_path_its_text_names() -> None:
    make = PathMaker()
    names = ["a.png", "b c.exr", ".", "..", "", ".hidden", "x.tar.gz", "ü.png"]
    for text in [f"/srv/show/tex/{name}" for name in names] + ["/srv/show/tex/a.png"]:
        made, expected = make(text), Path(text)
        assert (str(made), made.parts, made.name, made.parent) == (str(expected), expected.parts, expected.name,
                                                                   expected.parent)  # fmt: skip
        assert made == expected and hash(made) == hash(expected)
