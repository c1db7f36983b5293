"""A fake Azure Batch service, played through an azure-core transport.

Every request the real ``BatchClient`` sends is checked with
:func:`tests.core.batch_routes.validate_request` (method, path, api-version,
body against the SDK's request models); an invalid request is recorded in
``service.invalid`` and answered 400, as the service would. Valid requests are
answered like the service: 201/200/202/404/409, per-task results for task
collections, task state moving active -> running -> completed on each listing,
node preemption (a running task requeued to active), and throttling (429/503
with Retry-After) when a test queues it in ``service.throttle``.

On completion, a task's ``outputFiles`` are applied to what the test's
``node`` callable says the task left behind, and uploaded to the
``containerUrl`` (a real SAS URL on Azurite) when ``upload`` is on.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._requests_basic import (
    RestRequestsTransportResponse as RequestsTransportResponse,
)
from azure.storage.blob import ContainerClient
from tests.core.batch_routes import match_route, validate_request


@dataclass
class NodeResult:
    """What a task did on the fake node: exit code, logs, files under its working dir."""

    exit_code: int = 0
    stdout: str = ""
    stderr: str = ""
    files: dict[str, bytes] = field(default_factory=dict)


Node = Callable[[dict[str, Any]], NodeResult]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _image(publisher: str, offer: str, sku: str, agent: str, os_type: str) -> dict[str, Any]:
    return {"nodeAgentSKUId": agent, "osType": os_type, "verificationType": "verified",
            "imageReference": {"publisher": publisher, "offer": offer, "sku": sku, "version": "latest"}}


#: A few of what `az batch pool supported-images list` answers (the service's wire format).
SUPPORTED_IMAGES: tuple[dict[str, Any], ...] = (
    _image("canonical", "ubuntu-24_04-lts", "server", "batch.node.ubuntu 24.04", "linux"),
    _image("canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", "batch.node.ubuntu 22.04", "linux"),
    _image("microsoftwindowsserver", "windowsserver", "2022-datacenter", "batch.node.windows amd64", "windows"),
)


class FakeCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("fake-token", 2_000_000_000)


class FakeBatchService(HttpTransport):  # type: ignore[misc]
    def __init__(self, node: Node | None = None, *, upload: bool = False, prepare: Node | None = None) -> None:
        self.node: Node = node or (lambda task: NodeResult())
        # The job preparation task on the job's one node: tasks wait until it succeeds.
        self.prepare: Node = prepare or (lambda task: NodeResult())
        self.node_files: dict[tuple[str, str, str], bytes] = {}
        self.upload = upload
        self.pools: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.invalid: list[str] = []
        self.throttle: dict[str, list[int]] = {}
        self.lose_answer: set[str] = set()  # routes whose next answer is lost after the work is done
        self.collection_server_errors: dict[str, int] = {}  # task id -> times to answer serverError
        self.preempt: set[str] = set()
        self.uploaded: list[str] = []
        self.supported_images: list[dict[str, Any]] = [dict(i) for i in SUPPORTED_IMAGES]

    # -- transport plumbing ------------------------------------------------------------
    def __enter__(self) -> FakeBatchService:
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, request: Any, **kwargs: Any) -> RequestsTransportResponse:
        parts = urlsplit(request.url)
        query = dict(parse_qsl(parts.query))
        raw = request.content if hasattr(request, "content") else request.body
        has_body = bool(raw)
        body = json.loads(raw) if has_body else None
        method = request.method.upper()
        self.requests.append((method, parts.path, body))
        problems = validate_request(method, parts.path, query, body, has_body=has_body)
        if problems:
            self.invalid.extend(problems)
            return self._reply(request, 400, {"code": "InvalidRequestBody", "message": {"value": problems[0]}})
        route, params = match_route(method, parts.path)  # type: ignore[misc]
        params = {k: unquote(v) for k, v in params.items()}
        queued = self.throttle.get(route.name)
        if queued:
            status = queued.pop(0)
            return self._reply(request, status, {"code": "ServerBusy", "message": {"value": "busy"}},
                               headers={"Retry-After": "0"})
        status, payload, raw_bytes = getattr(self, "op_" + route.name)(params, body, query)
        if route.name in self.lose_answer:
            # The service did the work, but its answer never reached the client.
            self.lose_answer.remove(route.name)
            return self._reply(request, 503, {"code": "ServerBusy", "message": {"value": "lost"}},
                               headers={"Retry-After": "0"})
        return self._reply(request, status, payload, raw=raw_bytes)

    def _reply(self, request: Any, status: int, payload: Any, *, headers: dict[str, str] | None = None,
               raw: bytes | None = None) -> RequestsTransportResponse:
        response = requests.Response()
        response.status_code = status
        if raw is not None:
            response._content = raw
            response.headers["Content-Type"] = "application/octet-stream"
        elif payload is not None:
            if status >= 400:
                payload = {"odata.metadata": "x", **payload}
            response._content = json.dumps(payload).encode()
            response.headers["Content-Type"] = "application/json;odata=minimalmetadata"
        else:
            response._content = b""
        response.headers.update(headers or {})
        response.url = request.url
        response.reason = "fake"
        response._content_consumed = True
        return RequestsTransportResponse(request=request, internal_response=response)

    @staticmethod
    def _error(status: int, code: str, message: str) -> tuple[int, Any, None]:
        return status, {"code": code, "message": {"lang": "en-US", "value": message}}, None

    # -- pools ---------------------------------------------------------------------------
    def op_create_pool(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        if body["id"].lower() in (p.lower() for p in self.pools):
            return self._error(409, "PoolExists", "The specified pool already exists.")
        self.pools[body["id"]] = body
        return 201, None, None

    def op_pool_exists(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        return (200 if params["poolId"] in self.pools else 404), None, None

    def op_get_pool(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        if params["poolId"] not in self.pools:
            return self._error(404, "PoolNotFound", "The specified pool does not exist.")
        return 200, {**self.pools[params["poolId"]], "state": "active"}, None

    def op_list_supported_images(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        return 200, {"value": self.supported_images}, None

    # -- jobs ----------------------------------------------------------------------------
    def op_create_job(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        if body["id"] in self.jobs:
            return self._error(409, "JobExists", "The specified job already exists.")
        pool = body["poolInfo"].get("poolId")
        if pool is not None and pool not in self.pools:
            return self._error(409, "PoolNotFound", "The specified pool does not exist.")
        self.jobs[body["id"]] = {"body": body, "state": "active", "created": _now(), "tasks": {}, "ended": None}
        return 201, None, None

    def _job_json(self, job_id: str) -> dict[str, Any]:
        job = self.jobs[job_id]
        out = {
            "id": job_id, "url": f"https://fake/jobs/{job_id}", "eTag": "0x1", "lastModified": job["created"],
            "creationTime": job["created"], "state": job["state"], "stateTransitionTime": job["created"],
            "poolInfo": job["body"]["poolInfo"], "metadata": job["body"].get("metadata", []),
            "onAllTasksComplete": job["body"].get("onAllTasksComplete", "noaction"),
            **({"jobPreparationTask": job["body"]["jobPreparationTask"]}
               if "jobPreparationTask" in job["body"] else {}),
            "executionInfo": {"startTime": job["created"], **({"endTime": job["ended"]} if job["ended"] else {})},
        }
        return out

    def op_get_job(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        if params["jobId"] not in self.jobs:
            return self._error(404, "JobNotFound", "The specified job does not exist.")
        return 200, self._job_json(params["jobId"]), None

    def op_list_jobs(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        return 200, {"value": [self._job_json(j) for j in self.jobs]}, None

    def op_update_job(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        job = self.jobs.get(params["jobId"])
        if job is None:
            return self._error(404, "JobNotFound", "The specified job does not exist.")
        job["body"].update(body)
        self._maybe_end(params["jobId"])
        return 200, None, None

    def op_terminate_job(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        job = self.jobs.get(params["jobId"])
        if job is None:
            return self._error(404, "JobNotFound", "The specified job does not exist.")
        for task in job["tasks"].values():
            if task["state"] == "running":
                self._complete(params["jobId"], task, NodeResult(exit_code=-1, stderr="terminated"))
        job["state"], job["ended"] = "completed", _now()
        return 202, None, None

    def op_list_job_preparation_and_release_task_status(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        job = self.jobs.get(params["jobId"])
        if job is None:
            return self._error(404, "JobNotFound", "The specified job does not exist.")
        prep = job.get("prep")
        if prep is None:
            return 200, {"value": []}, None
        return 200, {"value": [{"poolId": prep["pool"], "nodeId": prep["node"], "nodeUrl": "https://fake/node",
                                "jobPreparationTaskExecutionInfo": prep["info"]}]}, None

    def _pool_of(self, job_id: str) -> str:
        info = self.jobs[job_id]["body"]["poolInfo"]
        return str(info.get("poolId") or "azrender-auto-1")

    def _prepare(self, job_id: str) -> bool:
        """Run the job's preparation task on its node once; True when the tasks may run."""
        job = self.jobs[job_id]
        task = job["body"].get("jobPreparationTask")
        if task is None:
            return True
        if "prep" not in job:
            result = self.prepare(task)
            ok = result.exit_code == 0
            root = f"workitems/{job_id}/job-1/{task.get('id', 'jobpreparation')}"
            info: dict[str, Any] = {"startTime": _now(), "endTime": _now(), "state": "completed",
                                    "taskRootDirectory": root, "taskRootDirectoryUrl": f"https://fake/{root}",
                                    "exitCode": result.exit_code, "retryCount": 0,
                                    "result": "success" if ok else "failure"}
            if not ok:
                info["failureInfo"] = {"category": "usererror", "code": "FailureExitCode",
                                       "message": "The task exited with an exit code representing a failure"}
            pool, node = self._pool_of(job_id), "tvm-1"
            job["prep"] = {"pool": pool, "node": node, "info": info}
            self.node_files[(pool, node, f"{root}/stderr.txt")] = result.stderr.encode()
            self.node_files[(pool, node, f"{root}/stdout.txt")] = result.stdout.encode()
        return bool(job["prep"]["info"]["result"] == "success")

    def op_download_node_file(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, bytes | None]:
        data = self.node_files.get((params["poolId"], params["nodeId"], params["filePath"]))
        if data is None:
            return 404, {"code": "FileNotFound", "message": {"value": "no such file"}}, None
        return 200, None, data

    def op_get_job_task_counts(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        """Counts as the service gives them (BatchTaskCountsResult); time passes as on a list."""
        job_id = params["jobId"]
        if job_id not in self.jobs:
            return self._error(404, "JobNotFound", "The specified job does not exist.")
        self.step(job_id)
        tasks = list(self.jobs[job_id]["tasks"].values())
        done = [t for t in tasks if t["state"] == "completed"]
        counts = {
            "active": sum(t["state"] == "active" for t in tasks),
            "running": sum(t["state"] == "running" for t in tasks),
            "completed": len(done),
            "succeeded": sum(t["exec"].get("result") == "success" for t in done),
            "failed": sum(t["exec"].get("result") == "failure" for t in done),
        }
        return 200, {"taskCounts": counts, "taskSlotCounts": counts}, None

    # -- tasks ---------------------------------------------------------------------------
    def op_create_task_collection(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        job = self.jobs.get(params["jobId"])
        if job is None:
            return self._error(404, "JobNotFound", "The specified job does not exist.")
        if job["state"] != "active":
            return self._error(409, "JobCompleted", "The specified job is already in a completed state.")
        results = []
        for task in body["value"]:
            tid = task["id"]
            if self.collection_server_errors.get(tid, 0) > 0:
                self.collection_server_errors[tid] -= 1
                results.append({"status": "servererror", "taskId": tid,
                                "error": {"code": "ServerBusy", "message": {"value": "busy"}}})
            elif tid in job["tasks"]:
                results.append({"status": "clienterror", "taskId": tid,
                                "error": {"code": "TaskExists", "message": {"value": "exists"}}})
            else:
                job["tasks"][tid] = {"body": task, "state": "active", "created": _now(), "exec": {},
                                     "preempted": False}
                results.append({"status": "success", "taskId": tid, "eTag": "0x1", "lastModified": _now()})
        return 200, {"value": results}, None

    def _task_json(self, job_id: str, task: dict[str, Any]) -> dict[str, Any]:
        body = task["body"]
        return {
            "id": body["id"], "displayName": body.get("displayName"), "url": "https://fake", "eTag": "0x1",
            "lastModified": task["created"], "creationTime": task["created"], "state": task["state"],
            "stateTransitionTime": task["created"], "commandLine": body["commandLine"],
            "executionInfo": {"retryCount": 0, "requeueCount": int(task["preempted"]), **task["exec"]},
        }

    def step(self, job_id: str) -> None:
        """Advance every task of the job by one state, as time passing on the nodes would."""
        job = self.jobs[job_id]
        if job["state"] != "active" or not job["tasks"] or not self._prepare(job_id):
            return
        for tid, task in job["tasks"].items():
            if job["state"] != "active":
                break  # an exit condition ended the job: nothing more starts
            if task["state"] == "active":
                task["state"], task["exec"] = "running", {"startTime": _now()}
            elif task["state"] == "running":
                if tid in self.preempt and not task["preempted"]:
                    task["preempted"], task["state"] = True, "active"  # the spot node went away
                    continue
                self._complete(job_id, task, self.node(task["body"]))
        self._maybe_end(job_id)

    def _maybe_end(self, job_id: str) -> None:
        job = self.jobs[job_id]
        done = all(t["state"] == "completed" for t in job["tasks"].values())
        if job["body"].get("onAllTasksComplete") == "terminatejob" and done and job["state"] == "active":
            job["state"], job["ended"] = "completed", _now()

    def _complete(self, job_id: str, task: dict[str, Any], result: NodeResult) -> None:
        ok = result.exit_code == 0
        task["state"] = "completed"
        task["exec"] = {**task["exec"], "endTime": _now(), "exitCode": result.exit_code,
                        "result": "success" if ok else "failure"}
        if not ok:
            task["exec"]["failureInfo"] = {"category": "usererror", "code": "FailureExitCode",
                                           "message": "The task exited with an exit code representing a failure"}
        task["stderr"] = result.stderr.encode()
        if not ok and self._job_action(job_id, task["body"], result.exit_code) == "terminate":
            job = self.jobs[job_id]
            job["state"], job["ended"] = "completed", _now()
        files = {**{f"wd/{k}": v for k, v in result.files.items()},
                 "stdout.txt": result.stdout.encode(), "stderr.txt": result.stderr.encode()}
        for out in task["body"].get("outputFiles", []):
            condition = out["uploadOptions"]["uploadCondition"]
            if (condition == "tasksuccess" and not ok) or (condition == "taskfailure" and ok):
                continue
            for name, data in _matches(out["filePattern"], files, out["destination"]["container"].get("path", "")):
                self.uploaded.append(name)
                if self.upload:
                    container = ContainerClient.from_container_url(out["destination"]["container"]["containerUrl"])
                    container.upload_blob(name, data, overwrite=True)

    def _job_action(self, job_id: str, body: dict[str, Any], exit_code: int) -> str:
        """The jobAction the service takes for a failed task: only with onTaskFailure =
        performexitoptionsjobaction; the task's exitConditions, else "terminate"."""
        if self.jobs[job_id]["body"].get("onTaskFailure") != "performexitoptionsjobaction":
            return "none"
        conditions = body.get("exitConditions", {})
        for mapping in conditions.get("exitCodes", []):
            if mapping["code"] == exit_code:
                return str(mapping["exitOptions"].get("jobAction", "terminate"))
        for ranges in conditions.get("exitCodeRanges", []):
            if ranges["start"] <= exit_code <= ranges["end"]:
                return str(ranges["exitOptions"].get("jobAction", "terminate"))
        return str(conditions.get("default", {}).get("jobAction", "terminate"))

    def op_list_tasks(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        job_id = params["jobId"]
        if job_id not in self.jobs:
            return self._error(404, "JobNotFound", "The specified job does not exist.")
        self.step(job_id)
        return 200, {"value": [self._task_json(job_id, t) for t in self.jobs[job_id]["tasks"].values()]}, None

    def op_reactivate_task(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, None]:
        """As the service documents ``reactivate_task``: only a failed, completed task of an
        active job goes back to active, its exit code and failure information gone, its
        retry count reset; the job's node keeps its preparation (it is not run again).
        The error codes are this fake's (the backend relies on the status only)."""
        job = self.jobs.get(params["jobId"])
        if job is None:
            return self._error(404, "JobNotFound", "The specified job does not exist.")
        task = job["tasks"].get(params["taskId"])
        if task is None:
            return self._error(404, "TaskNotFound", "The specified task does not exist.")
        if job["state"] != "active":
            return self._error(409, "JobCompleted", "The specified job is already in a completed state.")
        if task["state"] != "completed" or task["exec"].get("result") != "failure":
            return self._error(409, "TaskNotFailed", "Only a task that completed with a failure can be reactivated.")
        task["state"], task["exec"], task["reactivated"] = "active", {}, task.get("reactivated", 0) + 1
        task.pop("stderr", None)
        return 204, None, None

    def op_download_task_file(self, params: dict[str, str], body: Any, query: Any) -> tuple[int, Any, bytes | None]:
        task = self.jobs.get(params["jobId"], {"tasks": {}})["tasks"].get(params["taskId"])
        if task is None or params["filePath"] != "stderr.txt" or "stderr" not in task:
            return 404, {"code": "FileNotFound", "message": {"value": "no such file"}}, None
        return 200, None, task["stderr"]


def _matches(pattern: str, files: dict[str, bytes], destination: str) -> list[tuple[str, bytes]]:
    """Batch filePattern semantics, relative to the task working dir ``wd/``."""
    full = "wd/" + pattern
    parts = full.split("/")
    resolved: list[str] = []
    for part in parts:
        if part == "..":
            resolved.pop()
        else:
            resolved.append(part)
    full = "/".join(resolved)
    if not any(c in full for c in "*?["):
        return [(destination, files[full])] if full in files else []
    fixed = []
    for part in full.split("/"):
        if any(c in part for c in "*?["):
            break
        fixed.append(part)
    base = "/".join(fixed)
    return [
        (f"{destination.rstrip('/')}/{name[len(base) + 1:]}", data)
        for name, data in sorted(files.items())
        if fnmatch.fnmatch(name, full)
    ]
