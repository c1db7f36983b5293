"""blobfuse2 command lines: every option azrender passes, checked against blobfuse2's own CLI.

The flags below are the ones blobfuse2 defines (cobra/pflag definitions in the
`Azure/azure-storage-fuse` source, read at tag ``blobfuse2-2.5.5``, 2026-08-11;
each one also exists at ``blobfuse2-2.3.0``): :data:`FLAGS` names the file that
defines each, :data:`FUSE_OPTIONS` the ``-o`` values ``cmd/mount.go`` accepts.
Nothing else may be emitted; :func:`check_options` refuses anything else, so a
misspelt flag (``--block-cache-size`` does not exist: the disk limit is
``--block-cache-disk-size``) fails in tests, not on a node::

    options = mount_options("block", "/mnt/resource/blobfuse2", size_mb=4096, timeout=120)
    check_options(options)

What blobfuse2 does with them (same source):

- Without ``--block-cache`` the pipeline is ``libfuse, file_cache, attr_cache, azstorage``
  (``cmd/mount.go``), and ``file_cache`` refuses to start without ``--tmp-path``
  ("tmp-path not set", ``component/file_cache/file_cache.go``): every mode that
  does not use the block cache passes ``--tmp-path``. ``cache = "none"`` is the
  file cache with ``-o direct_io``, which sets the cache timeout to 0.
- ``file_cache`` creates ``--tmp-path`` (MkdirAll) and, without ``--cache-size-mb``,
  may fill 80 % of that disk's free space.
- ``block_cache`` creates ``--block-cache-path`` (Mkdir: the parent must exist),
  refuses a path that is not empty ("temp directory not empty") and, without
  ``--block-cache-disk-size``, may fill 80 % of that disk's free space.
- A mount point that is already mounted is refused ("directory is already mounted");
  ``blobfuse2 unmount <path>`` (``cmd/unmount.go``) undoes a mount; fuse3's
  ``fusermount3 -u -z`` detaches one that is still busy.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

#: blobfuse2's long flags azrender may pass, and the source file that defines each.
FLAGS: Mapping[str, str] = {
    "--container-name": "component/azstorage/azstorage.go",
    "--tmp-path": "component/file_cache/file_cache.go",
    "--file-cache-timeout": "component/file_cache/file_cache.go",
    "--cache-size-mb": "component/file_cache/file_cache.go",
    "--block-cache": "cmd/mount.go",
    "--block-cache-path": "component/block_cache/block_cache.go",
    "--block-cache-disk-size": "component/block_cache/block_cache.go",
    "--block-cache-block-size": "component/block_cache/block_cache.go",
    "--block-cache-pool-size": "component/block_cache/block_cache.go",
    "--read-only": "cmd/mount.go",
    # A flag of every cache component since 2.5.0 (CHANGELOG, issue #1765: Batch pool mounts
    # with a block cache failed after a reboot with "temp directory not empty").
    "--cleanup-on-start": "cmd/mount.go",
}

#: ``-o`` values cmd/mount.go turns into settings (any other value is refused at mount).
FUSE_OPTIONS = frozenset({"ro", "allow_other", "allow_root", "direct_io", "nonempty"})

#: When the VM size has no temporary disk, the cache lives on the OS disk: this
#: caps it (MB) unless the preset sets ``cache_size_mb``. blobfuse2's own default
#: (80 % of free space) would fill the OS disk and fail the node.
NO_TEMP_DISK_CACHE_MB = 8192


def mount_options(
    cache: str, cache_path: str, *, size_mb: int = 0, timeout: int = 120, pool_mount: bool = False
) -> str:
    """blobfuse2 options for a read-only render mount with the chosen cache.

    A pool mount (MountConfiguration) is made by the Batch agent, which runs
    ``blobfuse2 mount <path> --config-file=<its file> --tmp-path=<its folder> <blobfuseOptions>``
    with the options word-split after its own (Azure/Batch issue #194), so ours come last
    and win (pflag keeps a repeated flag's last value). The agent mounts again after a
    reboot, into the same block-cache folder: ``--cleanup-on-start`` empties it first (a
    job mount starts from a folder of its own instead, see :func:`mount_command`).

    >>> mount_options("file", "/mnt/resource/bf")
    '-o ro -o allow_other --file-cache-timeout=120 --tmp-path=/mnt/resource/bf'
    >>> mount_options("block", "/mnt/resource/bf", size_mb=4096)
    '-o ro -o allow_other --block-cache --block-cache-path=/mnt/resource/bf --block-cache-disk-size=4096'
    >>> mount_options("none", "/mnt/resource/bf")
    '-o ro -o allow_other -o direct_io --tmp-path=/mnt/resource/bf'
    """
    words = ["-o ro", "-o allow_other"]
    if cache == "block":
        words += ["--block-cache", f"--block-cache-path={cache_path}"]
        if size_mb:
            words.append(f"--block-cache-disk-size={size_mb}")
        if pool_mount:
            words.append("--cleanup-on-start")
    elif cache == "none":
        words += ["-o direct_io", f"--tmp-path={cache_path}"]
    else:
        words += [f"--file-cache-timeout={timeout}", f"--tmp-path={cache_path}"]
        if size_mb:
            words.append(f"--cache-size-mb={size_mb}")
    return " ".join(words)


def option_names(options: str) -> list[str]:
    """The flags (``--name``) and FUSE options (``-o value``) in an option string.

    >>> option_names("-o ro --tmp-path=/x --block-cache")
    ['-o ro', '--tmp-path', '--block-cache']
    """
    words = shlex.split(options)
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-o" and i + 1 < len(words):
            out += [f"-o {v}" for v in words[i + 1].split(",")]
            i += 2
            continue
        out.append(word.split("=", 1)[0])
        i += 1
    return out


def check_options(options: str) -> None:
    """Raise ValueError naming the first option blobfuse2 does not define.

    >>> check_options("--block-cache-size=4096")
    Traceback (most recent call last):
    ValueError: blobfuse2 has no option --block-cache-size
    """
    for name in option_names(options):
        known = name[3:] in FUSE_OPTIONS if name.startswith("-o ") else name in FLAGS
        if not known:
            raise ValueError(f"blobfuse2 has no option {name}")


#: Preparation-task step (as root) giving an Ubuntu/Debian node blobfuse2 and fuse3 from
#: Microsoft's package repository, unless the image has blobfuse2 (MIGRATION.md of
#: azure-storage-fuse: packages-microsoft-prod.deb for the release, then
#: ``apt-get install fuse3 blobfuse2``). The dpkg lock wait covers two jobs' preparation
#: tasks installing at once on one node.
INSTALL = (
    "command -v blobfuse2 >/dev/null || (. /etc/os-release"
    " && curl -fsSL -o /tmp/packages-microsoft-prod.deb"
    " \"https://packages.microsoft.com/config/$ID/$VERSION_ID/packages-microsoft-prod.deb\""
    " && dpkg -i /tmp/packages-microsoft-prod.deb && apt-get -o DPkg::Lock::Timeout=600 update -q"
    " && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q fuse3 blobfuse2)"
)


def mount_command(mount_point: str, cache_dir: str, container: str, options: str) -> str:
    """Mount ``container`` on ``mount_point`` unless it is mounted already (a retried
    preparation task), starting from an empty cache folder (blobfuse2 refuses a non-empty
    block-cache path, e.g. after a node reboot)."""
    return (
        f'mountpoint -q "{mount_point}" || (rm -rf "{cache_dir}" && mkdir -p "{mount_point}" "{cache_dir}"'
        f' && blobfuse2 mount "{mount_point}" --container-name={container} {options})'
    )


def unmount_command(mount_point: str, cache_dir: str) -> str:
    """Undo :func:`mount_command` (job release task, as root): unmount (lazily when still
    busy), then remove the cache and the empty mount point. Never fails the release task."""
    parent = mount_point.rpartition("/")[0]
    return (
        f'(! mountpoint -q "{mount_point}" || blobfuse2 unmount "{mount_point}"'
        f' || fusermount3 -u -z "{mount_point}"; rm -rf "{cache_dir}"; rmdir "{mount_point}" "{parent}"; true)'
    )
