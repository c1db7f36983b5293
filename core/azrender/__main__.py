"""``python -m azrender``: the ``azrender`` command (see :mod:`azrender.cli`)."""

from azrender.cli import main

main(prog_name="azrender")
