"""``python3 -m azrender.node {sync,release} --job JOB``: the job preparation and release tasks;
``python3 -m azrender.node run -- <renderer argv>``: a renderer watched for licence and
plug-in failures (:mod:`azrender.node.watch`).

Prints one summary line on success; on failure one ``error: ...`` line on
stderr and a non-zero exit code, never a traceback (the line is what a user
reads in the node's stderr.txt).
"""

from __future__ import annotations

import argparse
import os
import sys

from azrender import __version__
from azrender.errors import EXIT_ERROR, AzrenderError
from azrender.node.contract import ENV_JOB_VERSION
from azrender.node.sync import release_job, sync_job
from azrender.storage.client import redact


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m azrender.node", description="azrender render-node tasks"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sync = sub.add_parser("sync", help="fetch the job's assets and files (job preparation task)")
    sync.add_argument("--job", required=True, help="job id")
    sync.add_argument("--workers", type=int, default=8, help="parallel downloads (default 8)")
    release = sub.add_parser("release", help="remove the job's files (job release task)")
    release.add_argument("--job", required=True, help="job id")
    run = sub.add_parser("run", help="run a renderer; end it on a licence or missing plug-in failure")
    run.add_argument("argv", nargs=argparse.REMAINDER, help="-- then the renderer's command line")
    version = sub.add_parser("version", help="print azrender's version; with --expect, check it")
    version.add_argument("--expect", help="fail unless this is the version (the bootstrap's self-check)")
    return parser




def version_mismatch(expected: str | None) -> str | None:
    """The one-line reason this node must not run the job, or None.

    A node whose azrender is not the submitter's would read the job's files with
    other rules (manifest layout, remap scripts): fail at once instead.
    """
    if expected and expected != __version__:
        return (
            f"this node runs azrender {__version__} but the job was submitted with azrender {expected}; "
            "the job's preparation task installs the submitter's version: check that it ran on this node"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "version":
        problem = version_mismatch(args.expect)
        print(f"error: {problem}" if problem else f"azrender {__version__}", file=sys.stderr if problem else sys.stdout)
        return EXIT_ERROR if problem else 0
    problem = version_mismatch(os.environ.get(ENV_JOB_VERSION))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    if args.command == "run":
        from azrender.node.watch import run

        command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        if not command:
            print("error: run needs a command line after --", file=sys.stderr)
            return 2
        return run(command)
    try:
        if args.command == "sync":
            summary = sync_job(args.job, max_workers=max(1, args.workers))
            print(summary.line(), flush=True)
        else:
            removed = release_job(args.job)
            print(f"release: {'removed' if removed else 'nothing to remove for'} job {args.job}")
    except AzrenderError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # the node log must stay one line, whatever broke
        print(
            f"error: {type(exc).__name__}: {redact(str(exc).splitlines()[0] if str(exc) else '')}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
