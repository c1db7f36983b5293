"""``python -m azrender``: the ``azrender`` command (see :mod:`azrender.launch`)."""

from azrender.launch import console

console()
