"""The ``azrender`` executable's first module, and ``python -m azrender``: :func:`azrender.launch.console`.

The cycle collector is turned off before anything else is imported: a plain
scan keeps it off to its exit and every other command turns it on again
(see :func:`~azrender.launch.console`).
"""

import gc

gc.disable()

from azrender.launch import console  # noqa: E402  (after the collector is off)


def run() -> None:
    """The ``azrender`` console script's entry point."""
    console()


if __name__ == "__main__":
    run()
