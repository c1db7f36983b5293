"""Maya runs this at startup for modules on MAYA_MODULE_PATH: add the "Render on Azure" menu.

The menu is added once Maya's UI exists (``executeDeferred``); in batch mode
(``mayabatch``, ``mayapy``, ``Render``) nothing is added.
"""

import maya.cmds as cmds
import maya.utils


def _azrender_install():
    try:
        import maya.mel

        from azrender_maya.ui import menu

        shelf = maya.mel.eval("$azrenderTmp = $gShelfTopLevel") if not cmds.about(batch=True) else ""
        current = cmds.shelfTabLayout(shelf, query=True, selectTab=True) if shelf else None
        menu.install(cmds, shelf=f"{shelf}|{current}" if current else None)
    except Exception as exc:  # never break Maya's startup over a menu
        print(f"azrender: the Render on Azure menu was not added: {exc}")


maya.utils.executeDeferred(_azrender_install)
