"""The Batch operations azrender calls, and a whole-request check for the fake Batch service.

:func:`validate_request` checks one request (method, path, ``api-version``,
body) by the route table :data:`ROUTES`, with the body checked by
:func:`azrender.batch.validate.validate_body` against the SDK's request models.
``API_VERSION`` is the one the installed azure-batch SDK sends (its client
configuration's default).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azure.batch._configuration import BatchClientConfiguration

from azrender.batch.validate import MAX_TASKS_PER_COLLECTION, validate_body

#: The REST API version this SDK speaks (what every request must carry).
API_VERSION: str = str(BatchClientConfiguration(endpoint="https://x", credential=typing.cast(Any, object())).api_version)


@dataclass(frozen=True)
class Route:
    """One REST operation the backend uses: method, path pattern and request body model."""

    method: str
    pattern: re.Pattern[str]
    body: str | None
    name: str
    body_optional: bool = False


def _route(method: str, path: str, body: str | None, name: str, *, optional: bool = False) -> Route:
    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"
    return Route(method, re.compile(regex), body, name, optional)


#: Every Batch operation azrender calls, with its request body model.
ROUTES: tuple[Route, ...] = (
    _route("POST", "/pools", "BatchPoolCreateOptions", "create_pool"),
    _route("GET", "/pools/{poolId}", None, "get_pool"),
    _route("HEAD", "/pools/{poolId}", None, "pool_exists"),
    _route("GET", "/supportedimages", None, "list_supported_images"),
    _route("POST", "/jobs", "BatchJobCreateOptions", "create_job"),
    _route("GET", "/jobs", None, "list_jobs"),
    _route("GET", "/jobs/{jobId}", None, "get_job"),
    _route("PATCH", "/jobs/{jobId}", "BatchJobUpdateOptions", "update_job"),
    _route("POST", "/jobs/{jobId}/terminate", "BatchJobTerminateOptions", "terminate_job", optional=True),
    _route("POST", "/jobs/{jobId}/addtaskcollection", "BatchTaskGroup", "create_task_collection"),
    _route("GET", "/jobs/{jobId}/tasks", None, "list_tasks"),
    _route("POST", "/jobs/{jobId}/tasks/{taskId}/reactivate", None, "reactivate_task"),
    _route("GET", "/jobs/{jobId}/taskcounts", None, "get_job_task_counts"),
    _route(
        "GET", "/jobs/{jobId}/jobpreparationandreleasetaskstatus", None,
        "list_job_preparation_and_release_task_status",
    ),
    _route("GET", "/jobs/{jobId}/tasks/{taskId}/files/{filePath}", None, "download_task_file"),
    _route("GET", "/pools/{poolId}/nodes/{nodeId}/files/{filePath}", None, "download_node_file"),
)


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        m = route.pattern.match(path)
        if route.method == method.upper() and m:
            return route, m.groupdict()
    return None


def validate_request(
    method: str, path: str, query: Mapping[str, str], body: Any, *, has_body: bool
) -> list[str]:
    """Problems of one whole request: a known operation, the right api-version, a valid body."""
    found = match_route(method, path)
    if found is None:
        return [f"{method} {path}: not a Batch operation azrender uses"]
    route, _ = found
    problems: list[str] = []
    version = query.get("api-version")
    if version != API_VERSION:
        problems.append(f"{method} {path}: api-version is {version!r}, expected {API_VERSION!r}")
    if route.body is None:
        if has_body:
            problems.append(f"{method} {path}: {route.name} takes no body")
        return problems
    if not has_body:
        if not route.body_optional:
            problems.append(f"{method} {path}: {route.name} needs a {route.body} body")
        return problems
    problems += [f"{route.name} {p}" for p in validate_body(route.body, body)]
    if route.body == "BatchTaskGroup" and isinstance(body, Mapping):
        count = len(body.get("value") or [])
        if count > MAX_TASKS_PER_COLLECTION:
            problems.append(
                f"{route.name}: {count} tasks in one call; the service takes at most {MAX_TASKS_PER_COLLECTION}"
            )
    return problems
