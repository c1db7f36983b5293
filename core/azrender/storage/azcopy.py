"""``storage.node_sync = "azcopy"``: the job preparation task fetches assets with Microsoft's azcopy.

Some studios prefer azcopy on the node to ``python3 -m azrender.node sync``
(a Go binary, many connections, a tool their admins already trust). The submit
writes the job's asset list as a job file (:data:`LIST_NAME`, one blob name per
line); Batch downloads the job's folder as resource files into the preparation
task's working directory, and the task runs::

    commands = preparation_commands("shot010-v3")
    shell_chain(commands)   # /bin/bash -c 'mkdir -p ... && azcopy copy "$AZRENDER_ASSETS_CONTAINER_URL" ...'

1. copy the job's own files (remap script, manifest, list) to
   ``$AZ_BATCH_NODE_SHARED_DIR/jobs/<job>/``, where the render tasks read them;
2. ``azcopy copy <container> $AZ_BATCH_NODE_SHARED_DIR/assets --list-of-files=...
   --overwrite=ifSourceNewer --preserve-last-modified-time=true``: only blobs
   newer than the node's copy move;
3. check every listed file is on the node: azcopy skips a listed blob that no
   longer exists and still exits 0.

The container URL is never written into the line: it is the environment
variable ``AZRENDER_ASSETS_CONTAINER_URL`` that Batch sets on the task (a
read+list SAS, or the plain URL with ``AZCOPY_AUTO_LOGIN_TYPE=MSI`` for the
pool's managed identity), so no secret lands in a job record or log.

What it costs compared with the azrender sync: azcopy decides by timestamp, so
the node's copies keep the blob's time; it checks MD5 only where a blob has a
Content-MD5 and does not verify the manifest's xxh3 hashes; it does not check
free disk space first. Only the path-addressed (``mirror``) layout can be
fetched this way (content-addressed blobs need renaming azcopy cannot do), and
only on Linux nodes.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from azrender.storage.manifest import check_job_id, job_prefix

#: The job file holding the job's asset blob names, one per line.
LIST_NAME = "azcopy-files.txt"
CONTAINER_URL_VAR = "$AZRENDER_ASSETS_CONTAINER_URL"
SHARED_DIR = "$AZ_BATCH_NODE_SHARED_DIR"
ASSETS_DIR = f"{SHARED_DIR}/assets"


def list_of_files(blobs: Iterable[str]) -> str:
    """azcopy's ``--list-of-files`` content: blob names, one per line, sorted.

    >>> print(list_of_files(["b/2.png", "a/1 x.png"]), end="")
    a/1 x.png
    b/2.png
    """
    return "".join(f"{name}\n" for name in sorted(blobs))


def azcopy_copy_command(
    *,
    list_path: str,
    source: str = CONTAINER_URL_VAR,
    dest: str = ASSETS_DIR,
) -> list[str]:
    """``azcopy copy`` argv fetching the listed blobs, skipping those the node has at least as new.

    ``--as-subdir=false`` puts ``<blob>`` at ``dest/<blob>`` rather than
    ``dest/<container>/<blob>``; ``--from-to=BlobLocal`` says what azcopy
    cannot infer from an emulator's or private endpoint's URL.
    """
    return [
        "azcopy",
        "copy",
        source,
        dest,
        f"--list-of-files={list_path}",
        "--as-subdir=false",
        "--from-to=BlobLocal",
        "--overwrite=ifSourceNewer",
        "--preserve-last-modified-time=true",
        "--check-md5=FailIfDifferent",
        "--log-level=WARNING",
        "--output-level=essential",
    ]


def shell_line(argv: list[str]) -> str:
    """``argv`` as a bash line that still expands ``$VARS`` (double quotes, not single).

    >>> shell_line(["azcopy", "copy", "$AZRENDER_ASSETS_CONTAINER_URL", "/x y"])
    'azcopy copy "$AZRENDER_ASSETS_CONTAINER_URL" \\'/x y\\''
    """
    return " ".join(f'"{a}"' if a.startswith("$") else shlex.quote(a) for a in argv)


def job_files_dir(job_id: str) -> str:
    """Where Batch puts the job's resource files, relative to the preparation task's working dir.

    >>> job_files_dir("j")
    'jobs/j'
    """
    return job_prefix(job_id).rstrip("/")


def preparation_commands(job_id: str) -> tuple[str, ...]:
    """The Linux preparation task's commands (joined with ``&&`` by the caller).

    >>> for line in preparation_commands("j"): print(line)
    mkdir -p "$AZ_BATCH_NODE_SHARED_DIR/jobs" "$AZ_BATCH_NODE_SHARED_DIR/assets"
    rm -rf "$AZ_BATCH_NODE_SHARED_DIR/jobs/j"
    cp -R jobs/j "$AZ_BATCH_NODE_SHARED_DIR/jobs/j"
    export AZCOPY_LOG_LOCATION="$AZ_BATCH_TASK_DIR/azcopy" AZCOPY_JOB_PLAN_LOCATION="$AZ_BATCH_TASK_DIR/azcopy"
    azcopy copy "$AZRENDER_ASSETS_CONTAINER_URL" "$AZ_BATCH_NODE_SHARED_DIR/assets" --list-of-files=jobs/j/azcopy-files.txt --as-subdir=false --from-to=BlobLocal --overwrite=ifSourceNewer --preserve-last-modified-time=true --check-md5=FailIfDifferent --log-level=WARNING --output-level=essential
    while IFS= read -r f; do [ -f "$AZ_BATCH_NODE_SHARED_DIR/assets/$f" ] || { echo "azcopy did not fetch $f: the blob is gone from the assets container; submit the job again" >&2; exit 1; }; done < jobs/j/azcopy-files.txt
    """
    check_job_id(job_id)
    local = job_files_dir(job_id)
    node_jobs = f'"{SHARED_DIR}/jobs/{job_id}"'
    listing = f"{local}/{LIST_NAME}"
    missing = (
        'echo "azcopy did not fetch $f: the blob is gone from the assets container; '
        'submit the job again" >&2; exit 1;'
    )
    return (
        f'mkdir -p "{SHARED_DIR}/jobs" "{ASSETS_DIR}"',
        f"rm -rf {node_jobs}",
        f"cp -R {local} {node_jobs}",
        # azcopy keeps logs and job plans in ~/.azcopy by default: the task's folder keeps them
        # with the task's other logs (and a Batch task user may have no home).
        'export AZCOPY_LOG_LOCATION="$AZ_BATCH_TASK_DIR/azcopy" AZCOPY_JOB_PLAN_LOCATION="$AZ_BATCH_TASK_DIR/azcopy"',
        shell_line(azcopy_copy_command(list_path=listing)),
        f'while IFS= read -r f; do [ -f "{ASSETS_DIR}/$f" ] || {{ {missing} }}; done < {listing}',
    )


def release_command(job_id: str) -> str:
    """The release task: remove the job's files (assets stay for the next job on the node).

    Batch runs a command line without a shell, so bash expands the variable.

    >>> print(release_command("j"))
    /bin/bash -c 'rm -rf "$AZ_BATCH_NODE_SHARED_DIR/jobs/j"'
    """
    return f"/bin/bash -c 'rm -rf \"{SHARED_DIR}/jobs/{check_job_id(job_id)}\"'"
