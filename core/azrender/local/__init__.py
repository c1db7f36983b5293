"""The local backend: an emulated Azure Batch node on this machine (and Azurite to feed it)."""
