"""The preset format as data: one declarative table that validation, defaults,
the JSON schema and the docs all come from.

The tables are written in the types of :mod:`azrender.presets.spec`, with the value
checks of :mod:`azrender.presets.checks` and the value sets of
:mod:`azrender.presets.vocabulary`; the storage tables are in
:mod:`azrender.presets.storage_fields`.

To grow the format, add a :class:`~azrender.presets.spec.FieldSpec` to a
:class:`~azrender.presets.spec.TableSpec` (or a new table to :data:`TABLES`) and the
matching field to the settings dataclass in :mod:`azrender.presets.model`; ``tests/core/test_presets.py`` checks the two
agree and that ``schema.json`` was regenerated
(``python -m azrender.presets``).
"""

from __future__ import annotations

from azrender.presets.checks import (
    BATCH_ID_RE,
    NAME_RE,
    check_batch_id,
    check_batch_url,
    check_blender_version,
    check_identity,
    check_image,
    check_licence_env,
    check_name,
    check_preflight_codes,
    check_subnet,
)
from azrender.presets.spec import REQUIRED, FieldSpec, TableSpec, pattern_field
from azrender.presets.storage_fields import AZURE_FILES, BLOBFUSE, PATHS, SHARE, STORAGE
from azrender.presets.vocabulary import (
    BACKEND_KINDS,
    IMAGE_FORMATS,
    NODE_ACCESS,
    NODE_OS,
    POOL_MODES,
)

ROOT = TableSpec(
    name="",
    description="The document root.",
    fields=(
        pattern_field(
            "name",
            REQUIRED,
            "Preset name, shown in job names and the submit dialog.",
            check_name,
            NAME_RE,
            example="demo",
        ),
    ),
)

BACKEND = TableSpec(
    name="backend",
    description="Where the render tasks run.",
    fields=(
        FieldSpec(
            "kind",
            "string",
            "local",
            "`local` runs tasks on this machine exactly as a Batch node would; "
            "`azure` runs them on Azure Batch.",
            choices=BACKEND_KINDS,
        ),
        FieldSpec(
            "slots",
            "integer",
            2,
            "Local backend: how many tasks run in parallel.",
            minimum=1,
            maximum=64,
        ),
    ),
)

RENDER = TableSpec(
    name="render",
    description="How frames are split into tasks and written.",
    fields=(
        FieldSpec(
            "chunk",
            "integer",
            1,
            "Frames per task.",
            minimum=1,
            maximum=100_000,
        ),
        FieldSpec(
            "format",
            "string",
            "PNG",
            "Output image format (Blender's names; the app adapters translate them).",
            choices=IMAGE_FORMATS,
        ),
        FieldSpec(
            "max_frames",
            "integer",
            100_000,
            "Most frames one job may have; a larger --frames is refused at once.",
            minimum=1,
            maximum=10_000_000,
        ),
    ),
)


# --- Azure Batch ([batch], [pool]) ------------------------------------------------------

BATCH = TableSpec(
    name="batch",
    description="The Azure Batch account, which pool jobs run on, and job limits (backend `azure`).",
    fields=(
        FieldSpec(
            "account_url",
            "string",
            None,
            "Batch account endpoint, e.g. `https://myrender.westeurope.batch.azure.com`; "
            "needed to submit with the `azure` backend (not for a dry run).",
            check=check_batch_url,
            schema={"pattern": r"^https://[^/?#]+/?$"},
            example="https://myrender.westeurope.batch.azure.com",
        ),
        pattern_field(
            "pool_id",
            "azrender",
            "Id of the pool jobs run on.",
            check_batch_id,
            BATCH_ID_RE,
        ),
        FieldSpec(
            "pool_mode",
            "string",
            "create",
            "`create`: use pool `pool_id`, creating it from [pool] when it does not exist; "
            "`existing`: the pool must exist; `auto`: an auto-pool from [pool] that lives as long as the job.",
            choices=POOL_MODES,
        ),
        FieldSpec(
            "node_access",
            "string",
            "sas",
            "How nodes reach storage: `sas` mints per-job SAS URLs (read+list on assets, "
            "write+create on outputs, expiring just after the job's limit); `identity` uses the "
            "pool's managed identity (`pool.identity`).",
            choices=NODE_ACCESS,
        ),
        FieldSpec(
            "max_job_minutes",
            "integer",
            1440,
            "Wall-clock limit of a job; its SAS tokens expire 30 minutes after it.",
            minimum=5,
            maximum=10080,
        ),
        FieldSpec(
            "max_task_minutes",
            "integer",
            0,
            "Wall-clock limit of one render task; 0 derives it from minutes_per_frame and the "
            "task's frames.",
            minimum=0,
            maximum=10080,
        ),
        FieldSpec(
            "task_retries",
            "integer",
            1,
            "How often Batch retries a failed render task.",
            minimum=0,
            maximum=100,
        ),
        FieldSpec(
            "minutes_per_frame",
            "integer",
            60,
            "With max_task_minutes = 0: a render task may run 15 minutes plus this many minutes per "
            "frame of its chunk before Batch ends it; 0 means no limit.",
            minimum=0,
            maximum=1440,
        ),
        FieldSpec(
            "task_retention_minutes",
            "integer",
            60,
            "How long a node keeps a finished render task's folder (frames, logs; they are uploaded "
            "already) before Batch deletes it (`retentionTime`; Batch's own default is 7 days).",
            minimum=1,
            maximum=10080,
        ),
    ),
)

POOL = TableSpec(
    name="pool",
    description="The Batch pool azrender creates (`batch.pool_mode` `create` or `auto`).",
    fields=(
        FieldSpec("vm_size", "string", "Standard_D4s_v5", "VM size of the nodes."),
        FieldSpec(
            "image",
            "string",
            "canonical/ubuntu-24_04-lts/server",
            "Marketplace image `publisher/offer/sku[/version]`, or an Azure Compute Gallery image "
            "id (the studio's image with the renderer installed).",
            check=check_image,
        ),
        FieldSpec(
            "node_agent_sku",
            "string",
            "batch.node.ubuntu 24.04",
            "Batch node agent SKU that matches the image.",
        ),
        FieldSpec("os", "string", "linux", "Operating system of the image.", choices=NODE_OS),
        FieldSpec(
            "dedicated", "integer", 1, "Dedicated nodes (unless autoscale_formula is set).",
            minimum=0, maximum=10000,
        ),
        FieldSpec(
            "spot", "integer", 0, "Spot nodes (unless autoscale_formula is set).",
            minimum=0, maximum=10000,
        ),
        FieldSpec(
            "autoscale_formula",
            "string",
            None,
            "Batch autoscale formula; when set, it decides the node counts.",
        ),
        FieldSpec(
            "task_slots", "integer", 1, "Tasks that run at once on one node.", minimum=1, maximum=256
        ),
        FieldSpec(
            "azrender_package",
            "string",
            "azrender",
            "No longer used: the node gets the submitting azrender from the job (docs/azure.md, How azrender gets onto the node).",
        ),
        FieldSpec(
            "start_command",
            "string",
            None,
            "Extra start-task command that installs the renderer (runs as the pool's admin auto-user).",
        ),
        FieldSpec(
            "licence_env",
            "string",
            None,
            "Licence server environment for every task: space-separated NAME=value pairs, "
            "e.g. `ADSKFLEX_LICENSE_FILE=27000@lic1`; `NAME=` without a value takes NAME from "
            "the submitting shell (a submit refuses it unset).",
            check=check_licence_env,
        ),
        FieldSpec(
            "identity",
            "string",
            None,
            "Resource id of the user-assigned managed identity the pool carries (assign it to the "
            "pool with the portal or ARM); outputs and storage use it with node_access `identity`.",
            check=check_identity,
        ),
        FieldSpec(
            "identity_client_id",
            "string",
            None,
            "Client id of that identity, so DefaultAzureCredential on the node picks it.",
        ),
        FieldSpec(
            "subnet_id",
            "string",
            None,
            "Resource id of the virtual network subnet the pool's nodes join "
            "(`networkConfiguration.subnetId`); needed to reach an NFS/CIFS or licence server on a "
            "private network.",
            check=check_subnet,
        ),
        FieldSpec(
            "blender_version",
            "string",
            None,
            "The Blender the pool's image (or start_command) provides, e.g. `5.3`; a scene saved by "
            "a newer Blender is reported before upload (`blender-older-than-scene`). Unset: not checked.",
            check=check_blender_version,
            example="5.3",
        ),
    ),
)


# --- pre-flight ([preflight]) -----------------------------------------------------------

PREFLIGHT = TableSpec(
    name="preflight",
    description="What the pre-flight report (before upload) treats as an error, and facts it checks against.",
    fields=(
        FieldSpec(
            "errors",
            "string",
            "",
            "Finding codes that block a submit (unless --force), space-separated, e.g. "
            "`missing-file long-path`. By default only guaranteed failures do.",
            check=check_preflight_codes,
            example="missing-file",
        ),
        FieldSpec(
            "ignore",
            "string",
            "",
            "Finding codes left out of the report, space-separated.",
            check=check_preflight_codes,
        ),
        FieldSpec(
            "image_renderers",
            "string",
            "",
            "Renderers the pool's image has installed, space-separated (e.g. `CYCLES "
            "BLENDER_EEVEE_NEXT arnold`); a job asking for another one is reported. Empty: not checked.",
            example="CYCLES arnold",
        ),
        FieldSpec(
            "share_quota_gib",
            "integer",
            0,
            "`azure-files`: the share's quota in GiB; assets larger than it are reported. 0: not checked.",
            minimum=0,
            maximum=102_400,
        ),
    ),
)

#: Every table of the format, root first, in documentation order.
TABLES: tuple[TableSpec, ...] = (
    ROOT,
    STORAGE,
    BLOBFUSE,
    AZURE_FILES,
    SHARE,
    PATHS,
    BACKEND,
    RENDER,
    BATCH,
    POOL,
    PREFLIGHT,
)
SUBTABLES: dict[str, TableSpec] = {t.name: t for t in TABLES if t.name}

#: Non-secret keys declared above are never mistaken for credentials.
DECLARED_KEYS: frozenset[str] = frozenset(f.name for t in TABLES for f in t.fields)

__all__ = [
    "AZURE_FILES",
    "BACKEND",
    "BATCH",
    "BLOBFUSE",
    "DECLARED_KEYS",
    "PATHS",
    "POOL",
    "PREFLIGHT",
    "RENDER",
    "ROOT",
    "SHARE",
    "STORAGE",
    "SUBTABLES",
    "TABLES",
]
