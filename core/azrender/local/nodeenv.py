"""What of this machine's environment the emulated node's tasks get: an allow-list.

A Batch node starts a task with the node agent's small environment (``PATH``,
the locale, the auto-user's home) plus the ``AZ_BATCH_*`` variables and the
task's own ``environmentSettings`` (the job's SAS URLs, licence servers):
never the submitting workstation's credentials. The local node does the same
by *keeping* only what a task needs to start and reach storage, rather than
removing the secrets it knows of, so a credential with a name nobody thought
of (``AZURE_STORAGE_CONNECTION_STRING`` with its ``AccountKey``,
``AZURE_CLIENT_SECRET``, ``AWS_SECRET_ACCESS_KEY``, a token in ``GH_TOKEN``)
stays on the workstation::

    env = node_base_environment(os.environ, home=layout.root / "home")

``HOME`` is the node's own folder, not the workstation's: ``~/.azure`` (the
Azure CLI login that ``DefaultAzureCredential`` would pick up), ``~/.netrc`` and
``~/.ssh`` are not the node's. Proxy and CA-bundle settings are kept, since the
node reaches the same storage through the same network, except a proxy URL
that carries a user name or password.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

#: Variables a task may inherit from this machine (plus ``LC_*``): enough to start programs.
KEEP = ("PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM", "USER", "LOGNAME", "SHELL")
#: How the node reaches storage through this machine's network; dropped when they hold a password.
NETWORK = (
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
)  # fmt: skip


def node_base_environment(environ: Mapping[str, str], *, home: Path) -> dict[str, str]:
    """The part of ``environ`` a Batch node's task would also have, with ``HOME`` the node's.

    >>> env = node_base_environment({"PATH": "/usr/bin", "LC_ALL": "C.UTF-8",
    ...     "AZURE_STORAGE_CONNECTION_STRING": "AccountName=a;AccountKey=k==",
    ...     "HTTPS_PROXY": "http://user:pw@proxy:3128", "NO_PROXY": "127.0.0.1"}, home=Path("/n/home"))
    >>> sorted(env.items())
    [('HOME', '/n/home'), ('LC_ALL', 'C.UTF-8'), ('NO_PROXY', '127.0.0.1'), ('PATH', '/usr/bin')]
    """
    env = {k: v for k, v in environ.items() if k in KEEP or k.startswith("LC_")}
    env.update({k: v for k, v in environ.items() if k in NETWORK and "@" not in v})
    env["HOME"] = str(home)
    return env
