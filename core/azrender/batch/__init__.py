"""The Azure Batch backend: a JobSpec as a pool, a job with preparation and release tasks,
task collections and OutputFiles, sent with azure-batch's ``BatchClient`` and monitored.

    plan = plan_batch(job, preset, planned_access(preset, now=now))   # pure: the dry run
    backend = AzureBatchBackend(preset)                               # the real thing
    status = backend.submit(job, wait=True)

Modules: :mod:`.access` (per-job SAS or managed identity), :mod:`.mounts` (the storage
mode's pool mount), :mod:`.wire` (durations, environment, users), :mod:`.pool` (the pool
body), :mod:`.payload` (job and task bodies), :mod:`.validate` (bodies checked against
the SDK's request models), :mod:`.backend` (submit, retry, cancel) and :mod:`.reading`
(a job's status and failure reasons, and waiting for it).
"""
