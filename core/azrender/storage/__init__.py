"""Move scene dependencies to blob storage and back, moving only what changed.

- :mod:`.client`   — reach a container; one-line errors; secret redaction
- :mod:`.hashing`  — xxh3-128 content hashes with an SQLite cache
- :mod:`.upload`   — hash, compare with the remote index, upload the difference
- :mod:`.manifest` — the job manifest: exactly which blobs a node needs
- :mod:`.download` — incremental, atomic download of a blob prefix
"""
