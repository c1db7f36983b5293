"""What a render node gets from the submitting machine: the node bundle, planned and staged here.

Both backends run the same job preparation task, which installs this bundle on
the node before ``azrender.node`` syncs: the Azure Batch backend
(:mod:`azrender.batch`) on a pool node, the local backend (:mod:`azrender.local`)
on its emulated node. The bundle therefore belongs to neither; each imports it.

Modules: :mod:`.bootstrap` (the preparation task's commands and resource files,
pure), :mod:`.bundle` (build and stage the bundle), :mod:`.wheels` (the wheels
it carries), :mod:`.node_install` (the installer it ships as ``install.py``:
standard library only, it runs before anything is installed).
"""
