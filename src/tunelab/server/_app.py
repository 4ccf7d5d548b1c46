"""The ASGI app: the REST API over storage and the dashboard's static files.

The server only reads storage, sets an experiment's stop flag and queues requests; the
engine running the experiment carries them out (within about half a second) and closes
each with an outcome line, which ``GET .../requests`` shows.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from tunelab.errors import ExperimentNotFound, StorageError, TunelabError, escape
from tunelab.runners import trial_log_path
from tunelab.server import _models as m
from tunelab.server._analysis import assign_slots, best_so_far, importance, is_number
from tunelab.server._liveness import ENGINE_SILENT_AFTER, engine_liveness
from tunelab.server._pareto import ParetoFront, pareto_view
from tunelab.server._security import GuardMiddleware
from tunelab.server._table import Query as TrialQuery
from tunelab.server._table import RangeFilter, Snapshot, SnapshotCache, make_row, to_csv
from tunelab.storage import Phase, RequestKind, Storage, TrialRecord, TrialState, best_trial, objectives_of

STATIC_DIR = Path(str(resources.files("tunelab.server") / "static"))
MAX_LOG_CHUNK = 256 * 1024
MAX_ANALYSIS_POINTS = 4000

ExperimentId = Annotated[str, PathParam(min_length=1, max_length=200)]
TrialNumber = Annotated[int, PathParam(ge=0, le=2**62)]


def create_app(
    storage: Storage,
    *,
    read_only: bool = False,
    token: str | None = None,
    trusted_hosts: Collection[str] | None = None,
    cors_origins: Collection[str] = (),
    experiment_id: str | None = None,
) -> FastAPI:
    """The dashboard app over ``storage``; see :mod:`tunelab.server._security` for the guards."""
    from tunelab import __version__

    app = FastAPI(
        title="tunelab dashboard API",
        version=__version__,
        description="Watch and steer tunelab experiments. Actions queue requests that the running engine carries out.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"])
    app.add_middleware(GuardMiddleware, token=token, trusted_hosts=trusted_hosts)
    cache = app.state.snapshots = SnapshotCache(storage)

    def snapshot(eid: str) -> Snapshot:
        try:
            return cache.get(eid)
        except ExperimentNotFound as exc:
            raise HTTPException(404, str(exc)) from None

    def writable(eid: str) -> Snapshot:
        if read_only:
            raise HTTPException(403, "this dashboard is read-only")
        snap = snapshot(eid)
        if snap.experiment.phase.is_final:
            raise HTTPException(409, f"experiment {eid} has ended {snap.experiment.phase.value}")
        return snap

    def trial_record(eid: str, number: int) -> Any:
        """One trial; 404 when the experiment has no such trial (storage says so with a plain StorageError)."""
        try:
            return storage.get_trial(eid, number)
        except ExperimentNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except StorageError:
            if not any(r.trial.number == number for r in snapshot(eid).rows):
                raise HTTPException(404, f"no trial {number} in experiment {eid!r}") from None
            raise

    @app.exception_handler(TunelabError)
    async def _tunelab_error(request: Any, exc: TunelabError) -> JSONResponse:
        # An unknown id is the client's mistake; storage that cannot be read is the server's trouble.
        status = 404 if isinstance(exc, ExperimentNotFound) else 503 if isinstance(exc, StorageError) else 400
        return JSONResponse({"detail": escape(str(exc), 2000)}, status_code=status)

    # ------------------------------------------------------------------ reading
    @app.get("/api/info", response_model=m.Info, tags=["server"])
    def info() -> m.Info:
        return m.Info(version=__version__, read_only=read_only, experiment_id=experiment_id)

    @app.get("/api/experiments", response_model=list[m.ExperimentItem], tags=["experiments"])
    def experiments() -> list[m.ExperimentItem]:
        items = []
        for record in storage.list_experiments():
            snap = cache.get(record.id)
            mode = str(record.config.get("mode", "min"))
            best = _best(snap, record.config)
            liveness = engine_liveness(record)
            items.append(
                m.ExperimentItem(
                    id=record.id,
                    name=record.name,
                    phase=record.phase.value,
                    engine_alive=liveness.responding,
                    engine_silent_since=liveness.since if not liveness.responding else None,
                    message=record.message,
                    created_at=record.created_at,
                    started_at=record.started_at,
                    ended_at=record.ended_at,
                    elapsed=_elapsed(snap),
                    trials=len(snap.rows),
                    finished=sum(r.trial.state.is_final for r in snap.rows),
                    failed=sum(r.trial.state == TrialState.FAILED for r in snap.rows),
                    max_trials=record.config.get("max_trials"),
                    best_value=None if best is None else best.value,
                    mode=mode,
                )
            )
        return items

    @app.get("/api/experiments/{experiment_id}", response_model=m.Overview, tags=["experiments"])
    def overview(experiment_id: ExperimentId) -> m.Overview:
        snap = snapshot(experiment_id)
        record, config = snap.experiment, dict(snap.experiment.config)
        mode = str(config.get("mode", "min"))
        counts = {state.value: 0 for state in TrialState}
        for row in snap.rows:
            counts[row.trial.state.value] += 1
        best = _best(snap, config)
        elapsed = _elapsed(snap)
        max_duration = config.get("max_duration")
        live = record.phase == Phase.RUNNING
        remaining = max(0.0, float(max_duration) - elapsed) if live and max_duration else None
        liveness = engine_liveness(record)
        revision = json.dumps(
            [
                record.phase.value,
                counts,
                record.heartbeat_at,
                record.stop_requested,
                config.get("max_trials"),
                config.get("concurrency"),
                max_duration,
            ]
        )
        return m.Overview(
            id=record.id,
            name=record.name,
            phase=record.phase.value,
            message=record.message,
            format=record.format,
            mode=mode,
            metric=metric_label(config),
            objectives=objectives_of(config),
            created_at=record.created_at,
            started_at=record.started_at,
            ended_at=record.ended_at,
            elapsed=elapsed,
            remaining=remaining,
            max_trials=config.get("max_trials"),
            max_duration=max_duration,
            concurrency=config.get("concurrency"),
            counts=counts,
            total=len(snap.rows),
            best=best,
            waiting_reason=record.waiting_reason,
            stop_requested=record.stop_requested,
            engine_alive=liveness.responding,
            engine_silent_since=liveness.since if not liveness.responding else None,
            engine_note=liveness.reason,
            experiment_dir=record.experiment_dir,
            warnings=list(record.warnings),
            params=snap.param_names,
            metrics=snap.metric_names,
            config=_jsonable(config),
            revision=revision,
        )

    @app.get("/api/experiments/{experiment_id}/trials", response_model=m.TrialPage, tags=["trials"])
    def trials(
        experiment_id: ExperimentId,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        sort: Annotated[
            str,
            Query(
                max_length=300,
                description="number, state, value, duration, started_at, ended_at, attempt, param:NAME or metric:NAME",
            ),
        ] = "number",
        order: Literal["asc", "desc"] = "asc",
        state: Annotated[list[TrialState] | None, Query()] = None,
        q: Annotated[str, Query(max_length=300, description="Text to look for in params, state and message")] = "",
        range_: Annotated[
            list[str] | None, Query(alias="range", description="KEY:LOW:HIGH, either bound may be empty")
        ] = None,
    ) -> m.TrialPage:
        snap = snapshot(experiment_id)
        selected = _select(snap, sort, order, state, q, range_)
        now = time.time()
        page = selected[offset : offset + limit]
        return m.TrialPage(
            total=len(snap.rows),
            matched=len(selected),
            offset=offset,
            limit=limit,
            params=snap.param_names,
            metrics=snap.metric_names,
            rows=[m.TrialRow(**r.as_json(now)) for r in page],
        )

    @app.get("/api/experiments/{experiment_id}/export", tags=["trials"], responses={200: {"content": {"text/csv": {}}}})
    def export(
        experiment_id: ExperimentId,
        format: Literal["csv", "json"] = "csv",
        sort: Annotated[str, Query(max_length=300)] = "number",
        order: Literal["asc", "desc"] = "asc",
        state: Annotated[list[TrialState] | None, Query()] = None,
        q: Annotated[str, Query(max_length=300)] = "",
        range_: Annotated[list[str] | None, Query(alias="range")] = None,
    ) -> Response:
        """The trials that pass the filters, as CSV or JSON (a download)."""
        snap = snapshot(experiment_id)
        selected = _select(snap, sort, order, state, q, range_)
        now = time.time()
        name = f"tunelab-{experiment_id}-trials.{format}"
        disposition = {"Content-Disposition": f'attachment; filename="{_safe_filename(name)}"'}
        if format == "csv":
            body = to_csv(selected, snap.param_names, snap.metric_names, now)
            return Response(body, media_type="text/csv; charset=utf-8", headers=disposition)
        rows = [{**r.as_json(now), "params": _jsonable(dict(r.trial.params))} for r in selected]
        return Response(json.dumps(_jsonable(rows), indent=1), media_type="application/json", headers=disposition)

    @app.get("/api/experiments/{experiment_id}/trials/{number}", response_model=m.TrialDetail, tags=["trials"])
    def trial(experiment_id: ExperimentId, number: TrialNumber) -> m.TrialDetail:
        snapshot(experiment_id)
        record = trial_record(experiment_id, number)
        row = make_row(record).as_json(time.time())
        return m.TrialDetail(
            **row,
            seed=record.seed,
            created_at=record.created_at,
            trial_dir=record.trial_dir,
            raw_params=_jsonable(dict(record.params)),
            intermediate=[
                m.Point(step=r.step, value=_finite(r.value), metrics=_jsonable(dict(r.metrics)), time=r.time)
                for r in record.intermediate
            ],
            events=[m.Event(time=t, state=s, message=msg) for t, s, msg in storage.get_events(experiment_id, number)],
            warnings=[escape(w) for w in record.warnings],
            values=None if record.values is None else _jsonable(dict(record.values)),
            violation=_jsonable(record.violation),
        )

    @app.get(
        "/api/experiments/{experiment_id}/trials/{number}/logs/{stream}", response_model=m.LogChunk, tags=["trials"]
    )
    def log(
        experiment_id: ExperimentId,
        number: TrialNumber,
        stream: Literal["stdout", "stderr"],
        offset: Annotated[int | None, Query(ge=0, le=2**62, description="Read from here; omit for the tail")] = None,
        max_bytes: Annotated[int, Query(ge=1, le=MAX_LOG_CHUNK)] = 64 * 1024,
    ) -> m.LogChunk:
        """A chunk of the trial's stdout or stderr: the tail, or what follows ``offset``."""
        snap = snapshot(experiment_id)
        record = trial_record(experiment_id, number)
        path = _log_path(record.trial_dir, snap.experiment.experiment_dir, stream)
        if path is None:
            return m.LogChunk(stream=stream, size=0, start=0, end=0, text="", exists=False)
        with open(path, "rb") as handle:
            size = handle.seek(0, 2)
            start = max(0, size - max_bytes) if offset is None else min(offset, size)
            handle.seek(start)
            data = handle.read(max_bytes)
        return m.LogChunk(
            stream=stream,
            size=size,
            start=start,
            end=start + len(data),
            text=data.decode("utf-8", errors="replace"),
            exists=True,
        )

    @app.get("/api/experiments/{experiment_id}/history", response_model=m.History, tags=["charts"])
    def history(experiment_id: ExperimentId) -> m.History:
        snap = snapshot(experiment_id)
        mode = str(snap.experiment.config.get("mode", "min"))
        ended = sorted(
            ((r.trial.ended_at, r.trial) for r in snap.rows if _scored(r.trial) and r.trial.ended_at is not None),
            key=lambda pair: (pair[0], pair[1].number),
        )
        scored = [t for _, t in ended]
        origin = snap.experiment.started_at or snap.experiment.created_at
        values = [_value(t) for t in scored]
        return m.History(
            mode=mode,
            numbers=[t.number for t in scored],
            times=[float(end) - origin for end, _ in ended],
            values=values,
            states=[t.state.value for t in scored],
            best=best_so_far(values, mode, [t.state for t in scored]),
        )

    @app.get("/api/experiments/{experiment_id}/pareto", response_model=ParetoFront, tags=["charts"])
    def pareto(experiment_id: ExperimentId) -> ParetoFront:
        """Several objectives: every trial's values, the Pareto front and its knee, the hypervolume over time."""
        snap = snapshot(experiment_id)
        origin = snap.experiment.started_at or snap.experiment.created_at
        view = pareto_view(snap.trials, snap.experiment.config, origin)
        if view is None:
            raise HTTPException(404, f"experiment {experiment_id} has one objective (no Pareto front)")
        return view

    @app.get("/api/experiments/{experiment_id}/curves", response_model=m.Curves, tags=["charts"])
    def curves(
        experiment_id: ExperimentId,
        numbers: Annotated[list[int], Query(max_length=50, description="Trial numbers (repeat the parameter)")] = [],  # noqa: B006
    ) -> m.Curves:
        snapshot(experiment_id)
        known = {r.trial.number for r in cache.get(experiment_id).rows}
        result: dict[str, list[list[float | None]]] = {}
        for number in dict.fromkeys(numbers):
            if number in known:
                record = storage.get_trial(experiment_id, number)
                result[str(number)] = [[float(r.step), _finite(r.value)] for r in record.intermediate]
        return m.Curves(curves=result)

    @app.get("/api/experiments/{experiment_id}/analysis", response_model=m.Analysis, tags=["charts"])
    def analysis(experiment_id: ExperimentId) -> m.Analysis:
        """Scored trials' parameters (for parallel coordinates and slices) and parameter importance."""
        snap = snapshot(experiment_id)
        mode = str(snap.experiment.config.get("mode", "min"))
        rows = [r for r in snap.rows if _scored(r.trial)]
        columns_all = {name: [r.params.get(name) for r in rows] for name in snap.param_names}
        scores = importance(columns_all, [_value(r.trial) for r in rows])
        sampled = len(rows) > MAX_ANALYSIS_POINTS
        if sampled:
            best = sorted(rows, key=lambda r: _value(r.trial), reverse=mode == "max")[:200]
            rest = random.Random(0).sample(rows, MAX_ANALYSIS_POINTS - len(best))
            rows = sorted({id(r): r for r in best + rest}.values(), key=lambda r: r.trial.number)
        log_names = _log_scaled(snap.experiment.config.get("search_space"))
        params = []
        for name in snap.param_names:
            column = [r.params.get(name) for r in rows]
            numeric = all(v is None or is_number(v) for v in column) and any(v is not None for v in column)
            categories = [] if numeric else sorted({json.dumps(v) if not isinstance(v, str) else v for v in column})
            params.append(
                m.ParamInfo(
                    name=name, kind="number" if numeric else "category", log=name in log_names, categories=categories
                )
            )
        columns = {
            p.name: [
                _jsonable(r.params.get(p.name))
                if p.kind == "number" or isinstance(r.params.get(p.name), str)
                else json.dumps(r.params.get(p.name))
                for r in rows
            ]
            for p in params
        }
        return m.Analysis(
            mode=mode,
            params=params,
            importance=scores,
            numbers=[r.trial.number for r in rows],
            values=[_value(r.trial) for r in rows],
            columns=columns,
            sampled=sampled,
        )

    @app.get("/api/experiments/{experiment_id}/timeline", response_model=m.Timeline, tags=["charts"])
    def timeline(experiment_id: ExperimentId) -> m.Timeline:
        snap = snapshot(experiment_id)
        now = time.time()
        runs = [(r.trial.started_at, r.trial) for r in snap.rows if r.trial.started_at is not None]
        begins = [begin for begin, _ in runs]
        started = [t for _, t in runs]
        ends = [t.ended_at if t.ended_at is not None else now for t in started]
        slots = assign_slots(begins, ends)
        origin = snap.experiment.started_at or min(begins, default=None)
        base = origin or 0.0
        return m.Timeline(
            origin=origin,
            numbers=[t.number for t in started],
            slots=slots,
            starts=[begin - base for begin in begins],
            ends=[e - base for e in ends],
            states=[t.state.value for t in started],
        )

    @app.get("/api/experiments/{experiment_id}/requests", response_model=list[m.RequestItem], tags=["actions"])
    def requests(experiment_id: ExperimentId) -> list[m.RequestItem]:
        snapshot(experiment_id)
        items = storage.get_requests(experiment_id, open_only=False)[-100:]
        return [
            m.RequestItem(
                id=r.id,
                kind=r.kind.value,
                payload=_jsonable(dict(r.payload)),
                created_at=r.created_at,
                handled_at=r.handled_at,
                outcome=r.outcome,
            )
            for r in reversed(items)
        ]

    # ------------------------------------------------------------------ actions
    @app.post("/api/experiments/{experiment_id}/stop", response_model=m.Accepted, status_code=202, tags=["actions"])
    def stop(experiment_id: ExperimentId) -> m.Accepted:
        writable(experiment_id)
        storage.request_stop(experiment_id)
        return m.Accepted(message=f"stop requested for experiment {experiment_id}")

    @app.post(
        "/api/experiments/{experiment_id}/trials/{number}/cancel",
        response_model=m.Accepted,
        status_code=202,
        tags=["actions"],
    )
    def cancel(experiment_id: ExperimentId, number: TrialNumber) -> m.Accepted:
        snap = writable(experiment_id)
        row = next((r for r in snap.rows if r.trial.number == number), None)
        if row is None:
            raise HTTPException(404, f"no trial {number} in experiment {experiment_id}")
        if row.trial.state.is_final:
            raise HTTPException(409, f"trial {number} has ended {row.trial.state.value}")
        rid = storage.add_request(experiment_id, RequestKind.CANCEL_TRIAL, {"number": number})
        return m.Accepted(request_id=rid, message=f"cancel of trial {number} requested")

    @app.post("/api/experiments/{experiment_id}/limits", response_model=m.Accepted, status_code=202, tags=["actions"])
    def limits(experiment_id: ExperimentId, body: m.Limits) -> m.Accepted:
        """Change max_trials, max_duration or concurrency; only the fields given change."""
        writable(experiment_id)
        payload = body.model_dump(include=body.model_fields_set)
        if not payload:
            raise HTTPException(422, "give at least one of max_trials, max_duration, concurrency")
        if "concurrency" in payload and payload["concurrency"] is None:
            raise HTTPException(422, "concurrency must be an integer >= 1")
        if payload.get("max_duration") is not None:
            from tunelab.config import parse_duration

            try:
                payload["max_duration"] = parse_duration(payload["max_duration"])
            except (ValueError, OverflowError) as exc:
                raise HTTPException(422, f"max_duration: {exc}") from None
            if not math.isfinite(payload["max_duration"]):
                raise HTTPException(422, "max_duration must be finite")
        rid = storage.add_request(experiment_id, RequestKind.UPDATE_LIMITS, payload)
        return m.Accepted(request_id=rid, message="limits change requested: " + json.dumps(payload))

    @app.post("/api/experiments/{experiment_id}/trials", response_model=m.Accepted, status_code=202, tags=["actions"])
    def add_trial(experiment_id: ExperimentId, body: m.NewTrial) -> m.Accepted:
        """Queue a trial with hand-written parameters, checked against the search space."""
        snap = writable(experiment_id)
        from tunelab.errors import SearchSpaceError
        from tunelab.space import parse_search_space

        try:
            parse_search_space(snap.experiment.config["search_space"]).validate(body.params)
        except (SearchSpaceError, KeyError, TypeError, ValueError) as exc:
            raise HTTPException(422, f"params: {exc}") from None
        rid = storage.add_request(experiment_id, RequestKind.ADD_TRIAL, {"params": body.params})
        return m.Accepted(request_id=rid, message="trial queued to run next")

    # ------------------------------------------------------------------ pages
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=_PAGE_HEADERS)

    swagger = _swagger_assets()

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> Response:
        """FastAPI's Swagger UI over ``/api/openapi.json``, with its assets served from here (no CDN)."""
        if swagger is None:
            raise HTTPException(404, "the API docs need Swagger UI's files: pip install swagger-ui-bundle-v2")
        return FileResponse(STATIC_DIR / "api-docs.html", headers=_DOCS_HEADERS)

    if swagger is not None:
        app.mount("/api/docs/assets", StaticFiles(directory=swagger), name="swagger-ui")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def metric_label(config: Any) -> str:
    """What charts call the objective: the reported key it is read from, or "value" (never "default")."""
    metric = str(config.get("metric") or "default")
    return "value" if metric == "default" else metric


def _swagger_assets() -> Path | None:
    """The folder of Swagger UI's files (the swagger-ui-bundle package), or None when it is not installed."""
    import importlib

    try:
        bundle: Any = importlib.import_module("swagger_ui_bundle")
    except ImportError:
        return None
    return Path(str(bundle.swagger_ui_path))


_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _select(
    snap: Snapshot, sort: str, order: str, states: list[TrialState] | None, q: str, ranges: list[str] | None
) -> list[Any]:
    try:
        query = TrialQuery(
            states=tuple(states or ()),
            search=q,
            ranges=tuple(RangeFilter.parse(r) for r in ranges or ()),
            sort=sort,
            descending=order == "desc",
        )
        return query.select(snap.rows, time.time())
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _scored(trial: TrialRecord) -> bool:
    return trial.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED) and is_number(trial.value)


def _value(trial: TrialRecord) -> float:
    """The value of a trial that :func:`_scored` admitted."""
    if trial.value is None:
        raise ValueError(f"trial {trial.number} has no value")
    return float(trial.value)


def _best(snap: Snapshot, config: Any) -> m.Best | None:
    """The best trial under the one rule (:func:`tunelab.storage.best_trial`): with several objectives, the
    Pareto front's knee (no single value; ``values`` has each objective's)."""
    objectives = objectives_of(config)
    best = best_trial((r.trial for r in snap.rows), str(config.get("mode", "min")), objectives)
    if best is None:
        return None
    if objectives:
        values = {k: _jsonable(v) for k, v in (best.values or {}).items()}
        return m.Best(number=best.number, value=None, params=_jsonable(dict(best.params)), values=values)
    return m.Best(number=best.number, value=best.value, params=_jsonable(dict(best.params)), values=None)


def _elapsed(snap: Snapshot) -> float:
    record = snap.experiment
    if record.phase == Phase.RUNNING and record.heartbeat_at is not None:
        return record.elapsed + max(0.0, min(time.time() - record.heartbeat_at, ENGINE_SILENT_AFTER))
    return record.elapsed


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _jsonable(value: Any) -> Any:
    """Plain JSON: infinities and NaN become strings, unknown objects their text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _log_scaled(space: Any) -> set[str]:
    if not isinstance(space, dict):
        return set()
    return {k for k, v in space.items() if isinstance(v, dict) and "log" in str(v.get("_type", ""))}


def _safe_filename(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _log_path(trial_dir: str, experiment_dir: str, stream: Literal["stdout", "stderr"]) -> Path | None:
    """The log file of a trial (named by the runners, :func:`tunelab.runners.trial_log_path`), only
    if it is a regular file inside the trial's own folder (and that folder inside the experiment's):
    no symlink or stored path leads elsewhere."""
    if not trial_dir:
        return None
    folder = Path(trial_dir).resolve()
    if experiment_dir and not folder.is_relative_to(Path(experiment_dir).resolve()):
        return None
    path = trial_log_path(folder, stream).resolve()
    if path.parent != folder or not path.is_file():
        return None
    return path


#: The API docs page: Swagger UI sets style attributes, so inline styles are allowed there (scripts are not).
_DOCS_HEADERS = {
    **_PAGE_HEADERS,
    "Content-Security-Policy": _PAGE_HEADERS["Content-Security-Policy"].replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    ),
}
