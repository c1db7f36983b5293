"""The ``azrender`` command's subcommands, one small module per group, loaded on demand.

:mod:`azrender.cli` holds the parser and names each command's module here;
a command's module is imported only when that command runs (or ``--help``
lists them), and each command imports its heavy dependencies (the Azure SDK,
the preset loader, rich) inside itself. See :mod:`azrender.commands.common`.
"""
