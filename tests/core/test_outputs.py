"""A job's own outputs container: a valid container name for every Batch job id, one per job."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from azrender.outputs import job_outputs_container

# Azure's rules for container names ("Naming and Referencing Containers, Blobs, and Metadata"):
# 3-63 characters, lowercase letters, digits and hyphens, starting with a letter or digit,
# every hyphen preceded and followed by a letter or digit.
CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
JOB_IDS = st.text("abcxyzABCXYZ0189_-", min_size=1, max_size=64)  # Batch job ids: letters, digits, - and _
BASES = st.sampled_from(["outputs", "abc-outputs", "o9-x", "o" * 63, "a" * 30 + "-" + "b" * 32])


@settings(max_examples=60, deadline=None, database=None)
@given(base=BASES, first=JOB_IDS, second=JOB_IDS)
def test_every_job_id_gets_a_valid_container_of_its_own(base: str, first: str, second: str) -> None:
    name = job_outputs_container(base, first)
    assert CONTAINER.match(name), name
    assert name == job_outputs_container(base, first)  # download finds it again from preset and id
    if first != second:
        assert job_outputs_container(base, second) != name


def test_ids_that_lower_or_truncate_alike_still_differ() -> None:
    assert job_outputs_container("outputs", "Shot-1") != job_outputs_container("outputs", "shot-1")
    long = "s" * 60
    assert job_outputs_container("outputs", long + "a") != job_outputs_container("outputs", long + "b")
    assert job_outputs_container("outputs", "sh010-20260102-030405-ab12").startswith("outputs-sh010-20260102-")
