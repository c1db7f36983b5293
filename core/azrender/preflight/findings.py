"""What a pre-flight check finds, and the report that collects the findings.

Plain data, no I/O. A :class:`Finding` names the problem (``code``), how bad
it is, the file or setting it is about, who refers to it and what to do::

    report = Report([Finding("missing-file", "warning", "tex/a.png is missing",
                             path="/show/tex/a.png", referrer="Image 'a'",
                             fix="fix the path in the scene")])
    report = report.promote({"missing-file"})      # a preset's [preflight] errors
    if report.blocking: ...                         # submit refuses unless --force

>>> r = Report([Finding("long-path", "warning", "too long")]).promote({"long-path"})
>>> r.blocking, r.counts
(True, {'error': 1, 'warning': 0, 'info': 0})
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

Severity = Literal["error", "warning", "info"]

#: Exit code of a submit stopped by pre-flight errors (README, "Command line").
EXIT_PREFLIGHT = 5

#: Severity order for sorting: errors first.
_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One problem found before upload: ``code`` is stable (presets and scripts name it)."""

    code: str
    severity: Severity
    message: str
    path: str | None = None
    referrer: str = ""
    fix: str = ""

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Report:
    """Every finding of one pre-flight run, errors first."""

    findings: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.findings.sort(key=lambda f: _RANK[f.severity])

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def blocking(self) -> bool:
        """True when a submit should stop (unless forced)."""
        return bool(self.errors)

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in ("error", "warning", "info")}

    def promote(self, codes: Iterable[str], *, all_warnings: bool = False) -> Report:
        """Warnings named in ``codes`` (or every warning) become errors; notes stay notes."""
        wanted = set(codes)
        return Report([
            replace(f, severity="error")
            if f.severity == "warning" and (all_warnings or f.code in wanted) else f
            for f in self.findings
        ])  # fmt: skip

    def without(self, codes: Iterable[str]) -> Report:
        """The report with findings of ``codes`` dropped (a preset's ``ignore``)."""
        dropped = set(codes)
        return Report([f for f in self.findings if f.code not in dropped])

    def summary(self) -> str:
        c = self.counts
        return f"preflight: {c['error']} error(s), {c['warning']} warning(s), {c['info']} note(s)"

    def to_json(self) -> dict[str, object]:
        """The ``preflight`` member of ``submit --json`` (a stable contract)."""
        return {
            "blocking": self.blocking,
            "counts": self.counts,
            "findings": [f.to_json() for f in self.findings],
        }
