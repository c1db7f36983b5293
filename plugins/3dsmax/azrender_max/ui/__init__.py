"""In-3ds-Max code: the dialog's 3ds Max session and the "Render on Azure" entry point.

Imported inside 3ds Max (the MacroScript runs :func:`azrender_max.ui.macro.open_dialog`);
everything it reads from 3ds Max goes through the protocols of
:mod:`azrender_max.pymxs_protocol`.
"""
