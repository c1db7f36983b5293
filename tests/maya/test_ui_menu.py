"""The Render on Azure menu and shelf button, over a recording maya.cmds stand-in."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from azrender_maya.ui import menu

# Before pytest-qt creates the QApplication: no display server needed.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class UiRecorder:
    """Records the UI commands and keeps the menus/buttons that exist, like Maya would."""

    def __init__(self, batch: bool = False, shelves: tuple[str, ...] = ()) -> None:
        self.batch = batch
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.menus: set[str] = set()
        self.shelves = set(shelves)
        self.buttons: set[str] = set()
        self.items: list[dict[str, Any]] = []

    def about(self, *args: Any, **kw: Any) -> Any:
        return self.batch

    def menu(self, *args: Any, **kw: Any) -> Any:
        self.calls.append(("menu", args, kw))
        if kw.get("exists"):
            return args[0] in self.menus
        self.menus.add(args[0])
        return args[0]

    def deleteUI(self, *args: Any, **kw: Any) -> Any:
        self.calls.append(("deleteUI", args, kw))
        self.menus.discard(args[0])
        self.items = [i for i in self.items if i["parent"] != args[0]]

    def menuItem(self, *args: Any, **kw: Any) -> Any:
        self.items.append(kw)
        return f"{kw['parent']}|item{len(self.items)}"

    def shelfLayout(self, *args: Any, **kw: Any) -> Any:
        return args[0] in self.shelves

    def shelfButton(self, *args: Any, **kw: Any) -> Any:
        if kw.get("exists"):
            return args[0] in self.buttons
        self.buttons.add(f"{kw['parent']}|{args[0]}")
        self.calls.append(("shelfButton", args, kw))
        return args[0]


def test_menu_and_shelf_button_are_added_once() -> None:
    ui = UiRecorder(shelves=("Shelf|Custom",))
    opened: list[dict[str, Any]] = []
    for _ in range(2):  # userSetup may run again (module reload): nothing doubles
        name = menu.install(ui, shelf="Shelf|Custom", opener=lambda **kw: opened.append(kw))  # type: ignore[arg-type]
    assert name == menu.MENU_NAME and ui.menus == {menu.MENU_NAME}
    assert [i["label"] for i in ui.items] == ["Submit scene…", "Jobs…"]
    assert ui.buttons == {"Shelf|Custom|azrenderShelfButton"}
    button = next(kw for c, _a, kw in ui.calls if c == "shelfButton")
    assert button["sourceType"] == "python" and "open_dialog()" in button["command"]
    compile(button["command"], "<shelf>", "exec")  # Maya runs this source as is
    ui.items[0]["command"](False)  # Maya passes the checkbox state
    ui.items[1]["command"](False)
    assert opened == [{}, {"tab": "jobs"}]


def test_nothing_is_added_in_batch_mode() -> None:
    ui = UiRecorder(batch=True)
    assert menu.install(ui) == ""  # type: ignore[arg-type]
    assert ui.calls == [] and ui.items == []


def test_user_setup_defers_the_install() -> None:
    source = (Path(menu.__file__).parents[2] / "scripts" / "userSetup.py").read_text()
    assert "maya.utils.executeDeferred(_azrender_install)" in source
    compile(source, "userSetup.py", "exec")
    mod = (Path(menu.__file__).parents[2] / "azrender.mod").read_text().splitlines()
    assert mod[0].startswith("+ azrender ") and "PYTHONPATH +:= ." in mod


@pytest.mark.skipif(importlib.util.find_spec("PySide6") is None, reason="needs PySide6")
def test_open_dialog_builds_the_shared_dialog_over_maya(qtbot: Any, real_fixtures: Path) -> None:
    from fake_cmds import SceneFileCmds

    scene = real_fixtures / "BabylonJS__Exporters/Maya/Samples/sourceModels/Std_Textures/Std_Textures.ma"
    dialog = menu.open_dialog(tab="jobs", cmds=SceneFileCmds(scene))
    qtbot.addWidget(dialog)
    assert dialog.tabs.currentWidget() is dialog.monitor
    assert "mayaHardware2" in dialog.renderer_label.text()
    with qtbot.waitSignal(dialog.checked, timeout=10_000):
        dialog.check_button.click()
    assert dialog.assets is not None and dialog.assets.app == "maya"
    dialog.monitor.timer.stop()
