"""The azcopy alternative to ``python3 -m azrender.node sync``: one command line and its file list.

Some studios prefer Microsoft's azcopy on the node (no Python needed). For a
job manifest this builds the list of blobs and the ``azcopy copy`` line that
fetches exactly them into the node's asset folder::

    listing = list_of_files(manifest)            # one blob name per line
    argv = azcopy_copy_command(list_path="$AZ_BATCH_NODE_SHARED_DIR/jobs/J/azcopy-files.txt")
    shlex.join(argv)
    # azcopy copy "$AZRENDER_ASSETS_CONTAINER_URL" "$AZ_BATCH_NODE_SHARED_DIR/assets" --list-of-files=... \\
    #     --overwrite=ifSourceNewer --preserve-last-modified-time=true --check-md5=FailIfDifferent ...

The container URL is never written into the line: it is the environment
variable ``AZRENDER_ASSETS_CONTAINER_URL`` (a SAS URL) that Batch sets on the
task, so no secret lands in a job record or log. What it costs compared with
the azrender sync: azcopy decides by timestamp (``ifSourceNewer``), so the
node's copies must keep the blob's time (``--preserve-last-modified-time``),
and it checks MD5 only where the blob has a Content-MD5; it does not verify
the manifest's xxh3 hashes. Only the path-addressed ("mirror") layout can be
fetched this way: content-addressed blobs need renaming that azcopy cannot do.
"""

from __future__ import annotations

import shlex

from azrender.errors import UsageError
from azrender.storage.layout import LAYOUT_MIRROR
from azrender.storage.manifest import JobManifest

CONTAINER_URL_VAR = "$AZRENDER_ASSETS_CONTAINER_URL"
ASSETS_DIR = "$AZ_BATCH_NODE_SHARED_DIR/assets"


def list_of_files(manifest: JobManifest) -> str:
    """azcopy's ``--list-of-files`` content: the job's asset blobs, one per line, sorted.

    >>> from azrender.storage.hashing import IndexEntry
    >>> print(list_of_files(JobManifest("j", {"b/2.png": IndexEntry("1", 1, 0), "a/1.png": IndexEntry("2", 1, 0)})), end="")
    a/1.png
    b/2.png
    """
    if manifest.layout != LAYOUT_MIRROR:
        raise UsageError(
            f"job {manifest.job_id} uses the {manifest.layout!r} storage layout, which azcopy cannot materialize",
            hint='use `python3 -m azrender.node sync`, or storage.layout = "mirror" in the preset',
        )
    return "".join(f"{name}\n" for name in sorted(manifest.assets))


def azcopy_copy_command(
    *,
    list_path: str,
    source: str = CONTAINER_URL_VAR,
    dest: str = ASSETS_DIR,
) -> list[str]:
    """``azcopy copy`` argv fetching the listed blobs, skipping those the node has at least as new."""
    return [
        "azcopy",
        "copy",
        source,
        dest,
        f"--list-of-files={list_path}",
        "--overwrite=ifSourceNewer",
        "--preserve-last-modified-time=true",
        "--check-md5=FailIfDifferent",
        "--log-level=WARNING",
    ]


def azcopy_sync_command(*, source: str = CONTAINER_URL_VAR, dest: str = ASSETS_DIR) -> list[str]:
    """``azcopy sync`` argv: mirrors the whole container (not only the job's files)."""
    return [
        "azcopy",
        "sync",
        source,
        dest,
        "--recursive=true",
        "--exclude-path=.azrender;jobs",
        "--compare-hash=MD5",
        "--delete-destination=false",
    ]


def shell_line(argv: list[str]) -> str:
    """``argv`` as a bash line that still expands ``$VARS`` (double quotes, not single).

    >>> shell_line(["azcopy", "copy", "$AZRENDER_ASSETS_CONTAINER_URL", "/x y"])
    'azcopy copy "$AZRENDER_ASSETS_CONTAINER_URL" \\'/x y\\''
    """
    return " ".join(f'"{a}"' if a.startswith("$") else shlex.quote(a) for a in argv)
