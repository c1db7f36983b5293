"""What the panel draws (real Blender, bpy): a failed job's reason in full, wrapped to the panel.

bpy in background mode never draws panels, so the panel's own ``draw`` is called
with a layout that records what it is asked to show (the recorder lives here,
in the test: it only notes labels).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from blender_helpers import needs_bpy

pytestmark = [needs_bpy, pytest.mark.bpy]

DRIVER = r"""
import json, sys, types
import bpy, addon_utils

addon_utils.enable("azrender_blender", default_set=True, handle_error=None)
from azrender_blender.ui.panel import AZRENDER_PT_render_on_azure, AZRENDER_UL_jobs

class Recorder:
    def __init__(self, labels):
        self.labels = labels
        self.use_property_split = self.use_property_decorate = False
    def label(self, text="", icon="NONE"):
        self.labels.append([text, icon])
    def __getattr__(self, name):  # row(), column(), box(), prop(), operator(), template_list()
        return lambda *args, **kwargs: self

settings = bpy.context.scene.azrender
job = settings.jobs.add()
job.job_id, job.state = "shot010-20261202-010100-ab12", "failed"
job.error = sys.argv[-2]
settings.job_index = 0
out = {}
for width in (280, 600):
    labels = []
    context = types.SimpleNamespace(scene=bpy.context.scene, preferences=bpy.context.preferences,
                                    region=types.SimpleNamespace(width=width))
    panel = types.SimpleNamespace(layout=Recorder(labels),
                                  _draw_preset=AZRENDER_PT_render_on_azure._draw_preset)
    AZRENDER_PT_render_on_azure.draw(panel, context)
    out[str(width)] = labels
row = []
AZRENDER_UL_jobs.draw_item(None, bpy.context, Recorder(row), settings, job, 0, settings, "job_index")
out["row"] = row
print("AZR-RESULT " + json.dumps(out))
"""

REASON = ("2 of 10 tasks failed; frames-003: exit code 127: /bin/bash: line 1: Render: "
          "command not found")


def test_a_failed_jobs_reason_is_shown_whole_at_any_width(tmp_path: Path) -> None:
    env = {**os.environ, "AZRENDER_DATA_DIR": str(tmp_path / "data"), "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, "-c", DRIVER, REASON, "x"], capture_output=True, text=True,
                          timeout=300, check=False, env=env)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-RESULT ")), None)
    assert proc.returncode == 0 and line is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    drawn = json.loads(line[len("AZR-RESULT "):])
    # The job list's row shows the id's time and tail; the whole id is under the list.
    assert drawn.pop("row")[0] == ["01:01:00 ab12", "ERROR"]
    assert ["Job shot010-20261202-010100-ab12", "INFO"] in drawn["600"]
    for width, labels in drawn.items():
        first = next(i for i, (text, icon) in enumerate(labels) if icon == "ERROR"
                     and text.startswith("2 of 10"))
        shown = []
        for text, icon in labels[first:]:
            if icon not in ("ERROR", "BLANK1") or (shown and icon == "ERROR"):
                break
            shown.append(text)
        assert " ".join(shown) == REASON, (width, labels)
        # At the default width a line holds what fits: ~7 px a character at scale 1.
        assert all(len(text) * 7 <= int(width) for text in shown), (width, shown)
    assert len([1 for _t, i in drawn["280"] if i == "BLANK1"]) > len(
        [1 for _t, i in drawn["600"] if i == "BLANK1"])
