"""The node bundle's Python as the generated command lines start it (azrender.nodebundle.bootstrap).

The bundle id hashes this checkout's azrender, so tests take the prefix from here
instead of writing it out.
"""

from __future__ import annotations

from azrender.nodebundle.bootstrap import node_python
from azrender.nodebundle.bundle import running_ref

BUNDLE = running_ref().bundle_id
#: A Linux render task's line up to the renderer's own line.
LINUX_WATCHER = node_python(running_ref(), "linux") + " -m azrender.node run -- "
#: A Windows render task's line up to the renderer's own line.
WINDOWS_WATCHER = node_python(running_ref(), "windows") + " -m azrender.node run -- "
#: The Linux node Python inside a /bin/bash -c script.
LINUX_PYTHON_IN_SHELL = node_python(running_ref(), "linux", in_shell=True)
