"""Pre-flight: what will go wrong on the farm, found before anything is uploaded.

Findings come from the scan, the storage plan, the preset and the planned job
(:mod:`azrender.preflight.checks`); a preset's ``[preflight]`` table or
``--strict`` promotes them to errors, and errors block a submit unless forced::

    from azrender.preflight.checks import PreflightInput, run_checks
    report = run_checks(PreflightInput(assets, plan, preset, job))
    print(report.summary())

This package's ``__init__`` imports no other part of azrender, so the preset
format can validate finding codes against :data:`CODES`.
"""

from azrender.preflight.codes import CODES, DEFAULT_SEVERITY
from azrender.preflight.findings import EXIT_PREFLIGHT, Finding, Report, Severity

__all__ = ["CODES", "DEFAULT_SEVERITY", "EXIT_PREFLIGHT", "Finding", "Report", "Severity"]
