"""``azrender.model`` names the frame and job types of their own rooms, loaded on first use (issue 20)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import azrender.model as model


@pytest.mark.parametrize("name", sorted(model._HOMES))
def test_each_name_from_another_room_is_that_rooms_object(name: str) -> None:
    home = importlib.import_module(model._HOMES[name])
    assert getattr(model, name) is getattr(home, name)
    assert name in dir(model)


def test_the_job_types_say_where_they_are_defined() -> None:
    assert model.JobSpec.__module__ == "azrender.jobmodel"
    assert model.FrameRange.__module__ == "azrender.frames"
    assert model.Asset.__module__ == "azrender.model"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'JobSpecs'"):
        _ = model.JobSpecs  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        exec("from azrender.model import JobSpecs", {})


def test_the_asset_types_load_neither_the_job_model_nor_the_frames_until_one_is_named() -> None:
    code = (
        "import sys; from azrender.model import Asset, AssetKind, AssetSet;"
        " print('azrender.jobmodel' in sys.modules, 'azrender.frames' in sys.modules);"
        " from azrender.model import JobSpec;"
        " print('azrender.jobmodel' in sys.modules, 'azrender.frames' in sys.modules, JobSpec.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "False", "True", "True", "JobSpec"]
