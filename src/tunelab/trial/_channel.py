"""The trial channel: the one owner of what a trial reports and how it travels.

A trial appends one JSON object per line to its reports file; a runner reads the lines
back and hands the engine typed :class:`Report` records. Everything about that protocol
lives here: the record, its encoding, its validation and its decoding. Anything a trial
may write, including bytes that are not JSON at all, decodes to either a :class:`Report`
or a :class:`BadReport` (a one-line reason the engine records as a warning on the trial);
decoding never raises.

Rules (checked on both ends: :func:`encode` raises :class:`~tunelab.errors.ReportError`
in the trial, :func:`decode` returns a :class:`BadReport` in the engine; the one
exception is a non-finite ``value``, which :func:`encode` writes (a loss that diverged
to NaN is the trial's result, not a bug in its code) and :func:`decode` turns into a
:class:`BadReport` of that kind, so a NaN final result fails the trial with a message):

* a line is a JSON object of at most :data:`MAX_LINE_BYTES` bytes;
* ``kind`` is ``"intermediate"`` or ``"final"``;
* an intermediate report has an integer ``step`` with ``0 <= step <= MAX_STEP``;
* ``value`` is a finite number or null, ``metrics`` a JSON object of at most
  :data:`MAX_METRICS_BYTES` bytes when encoded;
* ``time`` is a finite number; ``attempt`` a positive integer.

This module imports only the standard library (trial processes import it).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

REPORTS_FILE = "reports.jsonl"
MAX_LINE_BYTES = 64 * 1024
MAX_METRICS_BYTES = 16 * 1024
MAX_STEP = 2**63 - 1


class ReportKind(str, enum.Enum):
    INTERMEDIATE = "intermediate"
    FINAL = "final"


@dataclass(frozen=True)
class Report:
    """One valid report. ``step`` is None for a final report; ``value`` None when only metrics were sent."""

    kind: ReportKind
    value: float | None
    step: int | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    time: float = 0.0
    attempt: int = 1


@dataclass(frozen=True)
class BadReport:
    """A line that is not a valid report: why (one line, control characters escaped) and its start."""

    reason: str
    excerpt: str = ""
    kind: ReportKind | None = None  # when the line said which kind it meant to be
