"""Code that runs on the render node (Azure Batch or the local emulated node).

``python3 -m azrender.node sync --job JOB`` is the job preparation task,
``python3 -m azrender.node release --job JOB`` the job release task.
"""
