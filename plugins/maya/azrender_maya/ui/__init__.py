"""In-Maya code: the "Render on Azure" menu and shelf button, and the dialog's Maya session.

Imported only inside Maya (``scripts/userSetup.py``); everything it calls on
Maya goes through the protocols of :mod:`azrender_maya.cmds_protocol`.
"""
