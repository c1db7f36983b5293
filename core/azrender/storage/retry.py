"""Retry a storage call with exponential backoff when the failure is worth retrying.

The SDK's own retry policy covers single requests; this covers the units the
SDK cannot repeat by itself once a body was half-sent or half-read (a block, a
whole small file, a download range), after a dropped connection, a stalled
socket or throttling (429/503)::

    with storage_errors("uploading", client=client, blob=name):
        with_retries(lambda: blob_client.stage_block(block_id, data), what=name)

Non-transient failures (403, 404, 412, ...) are raised at once.
"""

from __future__ import annotations

import http.client
import random
import time
from collections.abc import Callable
from typing import TypeVar

import requests
from azure.core.exceptions import (
    DecodeError,
    DeserializationError,
    HttpResponseError,
    IncompleteReadError,
    ServiceRequestError,
    ServiceResponseError,
)

R = TypeVar("R")

#: Transport failures that azure-core lets through unwrapped on some paths (e.g. a
#: body cut short while the SDK checks a range's MD5 surfaces as requests'
#: ChunkedEncodingError).
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.Timeout,
    http.client.HTTPException,
)

#: What azure-storage-blob's downloader raises (a plain ValueError) when the
#: first answer's Content-Range header is missing or malformed
#: (azure/storage/blob/_download.py, ``_initial_request``): a cut header.
_CUT_HEADER_MESSAGE = "Content-Range response header is missing or malformed"

#: HTTP statuses that mean "try again later": timeout, throttled, server busy.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})

ATTEMPTS = 6
REQUEST_ERROR_RETRIES = 1
BASE_DELAY_S = 0.25
MAX_DELAY_S = 8.0


def is_transient(exc: BaseException) -> bool:
    """True for failures that another attempt may not meet: network, throttling, 5xx,
    and answers cut short in their headers or body.

    >>> is_transient(ConnectionResetError())
    True
    >>> is_transient(HttpResponseError(message="nope"))   # no status: not known to be transient
    False
    >>> is_transient(DeserializationError("Cannot deserialize datetime object."))  # a cut header
    True
    >>> is_transient(ValueError("Required Content-Range response header is missing or malformed."))
    True
    >>> is_transient(ValueError("invalid literal"))
    False
    """
    if isinstance(exc, (ServiceRequestError, ServiceResponseError, IncompleteReadError)):
        return True
    if isinstance(exc, TRANSPORT_ERRORS):
        return True
    if isinstance(exc, (DeserializationError, DecodeError)):
        return True  # a header or body cut mid-value: the service sends whole ones
    if isinstance(exc, ValueError) and _CUT_HEADER_MESSAGE in str(exc):
        return True
    if isinstance(exc, HttpResponseError):
        status = getattr(exc, "status_code", None)
        if status is None:
            # azure-core wraps a body cut mid-stream ("Unable to stream download")
            # as an HttpResponseError without a status; a refusal always has one.
            return isinstance(getattr(exc, "inner_exception", None), TRANSPORT_ERRORS)
        return status in TRANSIENT_STATUS
    return isinstance(exc, (ConnectionError, TimeoutError))


def backoff_delay(attempt: int, *, base: float = BASE_DELAY_S, cap: float = MAX_DELAY_S) -> float:
    """Upper bound of the wait before retry ``attempt`` (0-based): ``base * 2**attempt``, capped.

    >>> [backoff_delay(i) for i in range(7)]
    [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    """
    return float(min(cap, base * (2**attempt)))


def with_retries(
    fn: Callable[[], R],
    *,
    attempts: int = ATTEMPTS,
    base: float = BASE_DELAY_S,
    cap: float = MAX_DELAY_S,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> R:
    """``fn()``, repeated up to ``attempts`` times while it fails transiently.

    Waits a random time up to :func:`backoff_delay` between tries ("full
    jitter", so many threads hitting the same throttle spread out). The last
    failure is raised as it is.
    """
    pick = (rng or random).uniform
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if attempt + 1 >= attempts or not is_transient(exc):
                raise
            # The request never got through (refused, DNS, reset while sending):
            # the SDK already retried it; one more round rides out a dropped
            # connection without making an unreachable endpoint hang for minutes.
            if isinstance(exc, ServiceRequestError) and attempt >= REQUEST_ERROR_RETRIES:
                raise
            sleep(pick(0.5, 1.0) * backoff_delay(attempt, base=base, cap=cap))
    raise AssertionError("unreachable")  # pragma: no cover
