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
* ``kind`` is ``"intermediate"``, ``"final"`` or ``"space"``;
* a space report (a define-by-run objective declaring parameters the engine did not give
  it) has no step and no value, a ``declared`` list of 1 to :data:`MAX_DECLARATIONS`
  KerasTuner-style ``{"class_name": str, "config": object}`` declarations and a ``drawn``
  object of the values the trial drew for them; the engine checks the declarations
  themselves (:mod:`tunelab.engine._discovery`). The last space report of a define-by-run
  call may declare nothing and list, in ``used`` (1 to :data:`MAX_DECLARATIONS` names), the
  parameters the call read, in order (how conditions are found from Python control flow);
* an intermediate report has an integer ``step`` with ``0 <= step <= MAX_STEP``;
* ``value`` is a finite number or null, ``metrics`` a JSON object of at most
  :data:`MAX_METRICS_BYTES` bytes when encoded;
* ``time`` is a finite number; ``attempt`` a positive integer.

This module imports only the standard library (trial processes import it).
"""

from __future__ import annotations

import enum
import json
import math
import os
from collections import namedtuple
from collections.abc import Mapping
from types import MappingProxyType

TYPE_CHECKING = False  # typing's own flag costs an import of typing; trial processes import this module
if TYPE_CHECKING:
    from typing import Any, NamedTuple

REPORTS_FILE = "reports.jsonl"
MAX_LINE_BYTES = 64 * 1024
MAX_METRICS_BYTES = 16 * 1024
MAX_STEP = 2**63 - 1
MAX_DECLARATIONS = 100


class ReportKind(str, enum.Enum):
    INTERMEDIATE = "intermediate"
    FINAL = "final"
    SPACE = "space"


_NO_METRICS: Mapping[str, Any] = MappingProxyType({})

# Reports are immutable records (tuples with named fields, built without the dataclasses module, which
# costs a trial process an import of inspect). ``report._replace(value=...)`` gives a changed copy.
if TYPE_CHECKING:

    class _ReportFields(NamedTuple):
        kind: ReportKind
        value: float | None
        step: int | None = None
        metrics: Mapping[str, Any] = _NO_METRICS
        time: float = 0.0
        attempt: int = 1
        declared: tuple[Mapping[str, Any], ...] = ()
        drawn: Mapping[str, Any] = _NO_METRICS
        used: tuple[str, ...] = ()

    class _BadReportFields(NamedTuple):
        reason: str
        excerpt: str = ""
        kind: ReportKind | None = None
else:
    _ReportFields = namedtuple(
        "Report",
        ["kind", "value", "step", "metrics", "time", "attempt", "declared", "drawn", "used"],
        defaults=(None, _NO_METRICS, 0.0, 1, (), _NO_METRICS, ()),
    )
    _BadReportFields = namedtuple("BadReport", ["reason", "excerpt", "kind"], defaults=("", None))


class Report(_ReportFields):
    """One valid report. ``step`` is None for a final report; ``value`` None when only metrics were sent.

    A space report carries ``declared`` (declarations) and ``drawn`` (their values) instead, and
    ``used``, the names of the parameters a call read, in its last one.
    """

    __slots__ = ()


class BadReport(_BadReportFields):
    """A line that is not a valid report: why (one line, control characters escaped) and its start.

    ``kind``: the kind the line said it meant to be, when it said.
    """

    __slots__ = ()


_EXCERPT_CHARS = 80
_READ_CHUNK = 1024 * 1024


def encode(report: Report) -> bytes:
    """One line (ending in ``\\n``) for ``report``; raises :class:`~tunelab.errors.ReportError` if it breaks a rule.

    A non-finite ``value`` is written as the JSON extension tokens ``NaN``, ``Infinity`` or
    ``-Infinity`` (what :func:`json.dumps` writes), so the engine learns the trial diverged.
    """
    from tunelab.errors import ReportError

    if not isinstance(report.kind, ReportKind):
        raise ReportError(f"report kind must be a ReportKind, got {report.kind!r}")
    problem = _check_step(report.step, report.kind)
    if problem is None and report.value is not None and not _is_number(report.value):
        problem = f"value must be a number or None, got {_show(report.value)}"
    if problem is None and report.value is not None and type(report.value) is int and not _finite(report.value):
        problem = f"value must fit in a float, got {_show(report.value)}"
    if problem is None and (not _is_number(report.time) or not _finite(report.time)):
        problem = f"time must be a finite number, got {_show(report.time)}"
    if problem is None and (type(report.attempt) is not int or report.attempt < 1):
        problem = f"attempt must be a positive integer, got {_show(report.attempt)}"
    if problem is None and not isinstance(report.metrics, Mapping):
        problem = f"metrics must be a mapping of names to values, got {type(report.metrics).__name__}"
    if problem is None:
        problem = _check_space(list(report.declared), report.drawn, report.kind, report.value, list(report.used))
    if problem is not None:
        raise ReportError(problem)
    try:
        metrics = json.dumps(dict(report.metrics), allow_nan=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise ReportError(f"metrics must be JSON values (numbers, strings, lists, dicts): {exc}") from None
    if len(metrics.encode()) > MAX_METRICS_BYTES:
        raise ReportError(
            f"metrics take {len(metrics.encode())} bytes as JSON; at most {MAX_METRICS_BYTES} are allowed"
        )
    record: dict[str, Any] = {"kind": report.kind.value}
    if report.step is not None:
        record["step"] = report.step
    record["value"] = None if report.value is None else float(report.value)
    record["metrics"] = json.loads(metrics)
    record["time"] = float(report.time)
    record["attempt"] = report.attempt
    if report.kind is ReportKind.SPACE:
        record["declared"] = [dict(item) for item in report.declared]
        record["drawn"] = dict(report.drawn)
        if report.used:
            record["used"] = list(report.used)
    try:
        line = json.dumps(record, allow_nan=False, separators=(",", ":")).encode()
    except ValueError:
        line = json.dumps(record, allow_nan=True, separators=(",", ":")).encode()
        if report.kind is ReportKind.SPACE:
            raise ReportError("a declaration or a drawn value is not finite") from None
    except TypeError as exc:
        raise ReportError(f"declarations must be JSON values: {exc}") from None
    if len(line) > MAX_LINE_BYTES:
        raise ReportError(f"a report takes {len(line)} bytes; at most {MAX_LINE_BYTES} are allowed")
    return line + b"\n"


def decode(line: bytes) -> Report | BadReport:
    """The report one line holds (without or with its newline), or why it holds none. Never raises."""
    try:
        return _decode(line)
    except Exception as exc:  # noqa: BLE001 - the promise is "never raises"; an unforeseen case is a bad line
        return BadReport(f"cannot decode the line ({type(exc).__name__})", _excerpt(line))


def _decode(line: bytes) -> Report | BadReport:
    line = bytes(line).rstrip(b"\r\n")
    excerpt = _excerpt(line)
    if len(line) > MAX_LINE_BYTES:
        return BadReport(f"line longer than {MAX_LINE_BYTES} bytes", excerpt)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadReport(f"not UTF-8 text (byte {exc.start})", excerpt)
    try:
        data = json.loads(text)
    except RecursionError:
        return BadReport("JSON nested too deeply", excerpt)
    except json.JSONDecodeError as exc:
        return BadReport(f"not JSON: {exc.msg} at column {exc.colno}", excerpt)
    except ValueError as exc:  # an integer of more digits than int() converts
        return BadReport(f"not JSON this reader accepts: {_first_line(exc)}", excerpt)
    if not isinstance(data, dict):
        return BadReport(f"not a JSON object but {_json_type(data)}", excerpt)
    raw_kind = data.get("kind")
    try:
        kind = ReportKind(raw_kind)
    except (ValueError, TypeError):
        known = ", ".join(repr(k.value) for k in ReportKind)
        return BadReport(f"kind must be one of {known}, got {_show(raw_kind)}", excerpt)
    step = data.get("step")
    problem = _check_step(step, kind)
    if problem is not None:
        return BadReport(problem, excerpt, kind)
    raw_value = data.get("value")
    value: float | None = None
    if raw_value is not None:
        if not _is_number(raw_value):
            return BadReport(f"value must be a number or null, got {_json_type(raw_value)}", excerpt, kind)
        try:
            value = float(raw_value)
        except OverflowError:
            return BadReport("value is an integer too large for a float", excerpt, kind)
        if not math.isfinite(value):
            return BadReport(f"value is {_nonfinite(value)}", excerpt, kind)
    metrics = data.get("metrics", {})
    if metrics is None:
        metrics = {}
    if not isinstance(metrics, dict):
        return BadReport(f"metrics must be a JSON object, got {_json_type(metrics)}", excerpt, kind)
    try:
        size = len(json.dumps(metrics, allow_nan=True, separators=(",", ":")).encode())
    except (ValueError, RecursionError):
        return BadReport("metrics cannot be encoded again", excerpt, kind)
    if size > MAX_METRICS_BYTES:
        return BadReport(f"metrics take {size} bytes; at most {MAX_METRICS_BYTES} are allowed", excerpt, kind)
    raw_time = data.get("time", 0.0)
    if not _is_number(raw_time) or not _finite(raw_time):
        return BadReport(f"time must be a finite number, got {_show(raw_time)}", excerpt, kind)
    attempt = data.get("attempt", 1)
    if type(attempt) is not int or attempt < 1:
        return BadReport(f"attempt must be a positive integer, got {_show(attempt)}", excerpt, kind)
    declared, drawn, used = data.get("declared", []), data.get("drawn", {}), data.get("used", [])
    problem = _check_space(declared, drawn, kind, value, used)
    if problem is not None:
        return BadReport(problem, excerpt, kind)
    return Report(
        kind=kind,
        value=value,
        step=step,
        metrics=metrics,
        time=float(raw_time),
        attempt=attempt,
        declared=tuple(declared) if kind is ReportKind.SPACE else (),
        drawn=drawn if kind is ReportKind.SPACE else {},
        used=tuple(used) if kind is ReportKind.SPACE else (),
    )


def _check_space(declared: Any, drawn: Any, kind: ReportKind, value: Any, used: Any = ()) -> str | None:
    """Why a space report's shape is wrong (None when right); other kinds must carry no declarations."""
    if kind is not ReportKind.SPACE:
        return "only a space report carries declarations" if declared or drawn or used else None
    if value is not None:
        return "a space report has no value"
    if not isinstance(used, (list, tuple)) or len(used) > MAX_DECLARATIONS:
        return f"used must be a list of at most {MAX_DECLARATIONS} names, got {_show(used)}"
    if not all(isinstance(name, str) for name in used):
        return f"used must be a list of parameter names, got {_show(used)}"
    fewest = 0 if used else 1
    if not isinstance(declared, (list, tuple)) or not fewest <= len(declared) <= MAX_DECLARATIONS:
        return f"declared must be a list of 1 to {MAX_DECLARATIONS} declarations, got {_show(declared)}"
    for item in declared:
        if not isinstance(item, Mapping) or not isinstance(item.get("class_name"), str):
            return f"a declaration must be an object with a class_name, got {_show(item)}"
        if not isinstance(item.get("config"), Mapping) or not isinstance(item["config"].get("name"), str):
            return "a declaration needs a config object with a name"
    if not isinstance(drawn, Mapping) or not all(isinstance(k, str) for k in drawn):
        return f"drawn must be an object of parameter values, got {_show(drawn)}"
    return None


def _check_step(step: Any, kind: ReportKind) -> str | None:
    if kind is ReportKind.SPACE:
        return None if step is None else "a space report has no step"
    if step is None:
        return "an intermediate report needs a step" if kind is ReportKind.INTERMEDIATE else None
    if type(step) is not int:
        return f"step must be an integer, got {_show(step)}"
    if not 0 <= step <= MAX_STEP:
        return f"step must be between 0 and 2**63-1, got {_show(step)}"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _nonfinite(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a number"


def _show(value: Any) -> str:
    """A short, one-line rendering of a value from a line (huge integers are summarized)."""
    if type(value) is int and abs(value) >= 10**30:
        return f"an integer of {len(str(abs(value)))} digits"
    if isinstance(value, (dict, list)):
        return _json_type(value)
    return _escape(repr(value), 60)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return _escape(text[0] if text else type(exc).__name__, 120)


def _excerpt(line: bytes) -> str:
    return _escape(bytes(line[: _EXCERPT_CHARS * 4]).decode("utf-8", errors="replace"), _EXCERPT_CHARS)


def _escape(text: str, limit: int) -> str:
    from tunelab.errors import escape

    return escape(text, limit)


class ReportReader:
    """Reads the reports appended to one reports file since the last :meth:`read`, in bounded memory.

    Only complete lines are decoded; an incomplete last line waits for its newline. A line
    longer than :data:`MAX_LINE_BYTES` gives one :class:`BadReport` and the rest of it, up to
    the next newline, is skipped without being kept. With ``attempt`` set, a report of another
    attempt (a process of an earlier attempt still writing) is a :class:`BadReport`.
    Not thread-safe.
    """

    def __init__(self, path: str | os.PathLike[str], attempt: int | None = None) -> None:
        from pathlib import Path  # the engine's side: a trial process never reads reports

        self.path = Path(path)
        self.attempt = attempt
        self._seen: tuple[int, int] | None = None  # (inode, size) when last read: unchanged means nothing new
        self._offset = 0
        self._partial = bytearray()
        self._skipping = False

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete line kept for the next read (at most :data:`MAX_LINE_BYTES`)."""
        return len(self._partial)

    def read(self) -> list[Report | BadReport]:
        """What was appended since the last call (oldest first); never raises."""
        out: list[Report | BadReport] = []
        try:
            status = os.stat(self.path)  # one system call when nothing was appended (most looks at a running trial)
            if (status.st_ino, status.st_size) == self._seen or status.st_size == self._offset == 0:
                return out  # nothing appended, or still empty (as a folder made ahead holds it): nothing to open
            with open(self.path, "rb") as handle:
                status = os.fstat(handle.fileno())
                if status.st_size < self._offset:  # replaced by a shorter file: start over
                    self._offset, self._partial, self._skipping = 0, bytearray(), False
                handle.seek(self._offset)
                while chunk := handle.read(_READ_CHUNK):
                    self._offset += len(chunk)
                    self._feed(chunk, out)
                self._seen = (status.st_ino, self._offset) if self._offset == status.st_size else None
        except OSError:
            pass
        return out

    def finish(self) -> list[Report | BadReport]:
        """Once the writer has ended: the last line if it never got its newline (as a BadReport)."""
        out = self.read()
        if self._partial.strip():
            out.append(
                BadReport("last line has no newline (the trial ended while writing it)", _excerpt(bytes(self._partial)))
            )
        self._partial = bytearray()
        self._skipping = False
        return out

    def _feed(self, chunk: bytes, out: list[Report | BadReport]) -> None:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            if self._skipping:
                self._skipping = False
            elif len(self._partial) + end - start > MAX_LINE_BYTES:
                out.append(
                    BadReport(
                        f"line longer than {MAX_LINE_BYTES} bytes",
                        _excerpt(bytes(self._partial[:400]) + chunk[start : start + 400]),
                    )
                )
                self._partial = bytearray()
            else:
                self._partial += chunk[start:end]
                if self._partial.strip():
                    out.append(self._check(decode(bytes(self._partial))))
                self._partial = bytearray()
            start = end + 1
        if self._skipping:
            return
        rest = len(chunk) - start
        if len(self._partial) + rest > MAX_LINE_BYTES:
            out.append(
                BadReport(
                    f"line longer than {MAX_LINE_BYTES} bytes",
                    _excerpt(bytes(self._partial[:400]) + chunk[start : start + 400]),
                )
            )
            self._partial = bytearray()
            self._skipping = True
        else:
            self._partial += chunk[start:]

    def _check(self, item: Report | BadReport) -> Report | BadReport:
        if self.attempt is not None and isinstance(item, Report) and item.attempt != self.attempt:
            return BadReport(
                f"a report of attempt {item.attempt} in the file of attempt {self.attempt} "
                "(a process of an earlier attempt still writing?)",
                kind=item.kind,
            )
        return item


def read_all(path: str | os.PathLike[str], attempt: int | None = None) -> list[Report | BadReport]:
    """Every complete line of a reports file, from its start (what an interrupted trial left); never raises."""
    return ReportReader(path, attempt).read()
