"""``python -m azrender.local.worker JOB_ID``: run a submitted local job in the background."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from azrender.errors import AzrenderError
from azrender.local.backend import LocalBackend
from azrender.local.node import NodeLayout
from azrender.local.state import JobStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="azrender.local.worker")
    parser.add_argument("job_id")
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--account-url", default=None)
    parser.add_argument("--jobs-dir", type=Path, default=None, help="the submitter's job store")
    parser.add_argument("--node-root", type=Path, default=None, help="the emulated node's folders")
    args = parser.parse_args(argv)
    backend = LocalBackend(
        slots=args.slots, account_url=args.account_url, store=JobStore(args.jobs_dir),
        layout=NodeLayout(args.node_root) if args.node_root else None,
    )
    try:
        record = backend.store.load(args.job_id)
        record = backend.run(record)
    except AzrenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0 if record.counts["failed"] == 0 else 4


if __name__ == "__main__":
    raise SystemExit(main())
