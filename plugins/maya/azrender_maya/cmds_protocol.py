"""The part of ``maya.cmds`` that azrender's in-Maya code calls, as typed protocols.

Maya is not installable outside Autodesk's installer, so the in-app code is
written against these protocols and tested against
``SceneFileCmds`` (``tests/maya/fake_cmds.py``), which answers from a parsed
``.ma``/``.mb``. The protocols are checked against Maya's own signatures:
``tests/maya/test_ui_cmds_protocol.py`` runs mypy with the ``types-maya``
stubs from PyPI and asserts that the real ``maya.cmds`` module satisfies
:class:`MayaCmds` (a flag we call that Maya does not have fails the test).

Only flags we use are declared; return types are ``Any`` because Maya's
commands return ``None`` for empty lists and mixed types by flag, so the
callers convert every answer explicitly.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, overload


class SceneCmds(Protocol):
    """Scene queries: nodes, attributes, references, the project, the file."""

    def ls(self, *args: Any, type: str | list[str] = ..., long: bool = ...) -> Any:
        """Node names, optionally of a type (``ls(type="file")``)."""
        ...

    def getAttr(self, *args: Any, asString: bool = ..., silent: bool = ...) -> Any:
        """An attribute's value (``getAttr("file1.fileTextureName")``)."""
        ...

    def attributeQuery(self, *args: Any, node: str = ..., exists: bool = ...) -> Any:
        """``attributeQuery("ftn", node="file1", exists=True)``."""
        ...

    def objExists(self, *args: Any) -> bool:
        ...

    def nodeType(self, *args: Any) -> Any:
        ...

    # In the stubs' order: mypy matches overloads in order.
    @overload
    def file(self, *args: Any, query: Literal[True], modified: Literal[True]) -> Any:
        """``file(query=True, modified=True)``: unsaved changes."""

    @overload
    def file(self, *args: Any, query: Literal[True], reference: Literal[True]) -> Any:
        """``file([path,] query=True, reference=True)``: the (child) references' paths."""

    @overload
    def file(self, *args: Any, query: Literal[True], sceneName: Literal[True]) -> Any:
        """``file(query=True, sceneName=True)``: the open scene's path, "" when never saved."""

    def referenceQuery(
        self, *args: Any, filename: bool = ..., isNodeReferenced: bool = ...,
    ) -> Any:
        """The file a referenced node comes from (``referenceQuery(node, filename=True)``)."""
        ...

    def workspace(self, *args: Any, query: Literal[True], rootDirectory: Literal[True]) -> Any:
        """``workspace(query=True, rootDirectory=True)``: the project folder."""
        ...


class FilePathEditorCmds(Protocol):
    """Maya's File Path Editor query: registered file attributes of every node type, plug-ins' too.

    Not part of :class:`MayaCmds`: the ``types-maya`` stubs declare
    ``listDirectories``/``listFiles`` as ``Literal[True]`` query flags, while
    Maya takes a string (``filePathEditor -query -listDirectories ""``, and
    ``-listFiles <dir> -withAttribute``), as Autodesk's command documentation
    shows; calling it the documented way would not type-check against them.
    """

    def filePathEditor(
        self, *args: Any, query: bool = ..., listDirectories: str = ..., listFiles: str = ...,
        withAttribute: bool = ...,
    ) -> Any:
        ...


class UiCmds(Protocol):
    """The menu and shelf calls of the "Render on Azure" entry points."""

    def menu(
        self, *args: Any, label: str = ..., parent: str = ..., tearOff: bool = ...,
        exists: bool = ..., deleteAllItems: bool = ...,
    ) -> Any:
        ...

    def menuItem(
        self, *args: Any, label: str = ..., command: Any = ..., annotation: str = ...,
        parent: str = ..., divider: bool = ..., image: str = ...,
    ) -> Any:
        ...

    def shelfLayout(self, *args: Any, exists: bool = ...) -> Any:
        ...

    def shelfButton(
        self, *args: Any, label: str = ..., command: Any = ..., annotation: str = ...,
        image: str = ..., imageOverlayLabel: str = ..., parent: str = ...,
        sourceType: str = ..., exists: bool = ...,
    ) -> Any:
        ...

    def deleteUI(self, *args: Any, menu: bool = ..., control: bool = ...) -> Any:
        ...

    def about(self, *args: Any, batch: bool = ..., version: bool = ...) -> Any:
        ...


class MayaCmds(SceneCmds, UiCmds, Protocol):
    """Everything azrender calls on ``maya.cmds``."""
