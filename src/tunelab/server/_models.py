"""The REST API's request and response bodies (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Info(BaseModel):
    version: str
    read_only: bool
    experiment_id: str | None = Field(None, description="The experiment this server was started for, if any.")


class ExperimentItem(BaseModel):
    id: str
    name: str
    phase: str
    engine_alive: bool = Field(True, description="False for a RUNNING experiment whose engine stopped responding.")
    engine_silent_since: float | None = Field(None, description="Its engine's last sign of life, when not alive.")
    message: str
    created_at: float
    started_at: float | None
    ended_at: float | None
    elapsed: float
    trials: int
    finished: int
    failed: int = Field(0, description="Trials that ended FAILED (all finished ones: the list shows a red badge).")
    max_trials: int | None
    best_value: float | str | None
    mode: str


class Best(BaseModel):
    number: int
    value: float | str | None
    params: dict[str, Any]
    values: dict[str, float | str | None] | None = Field(
        None, description="Several objectives: the knee's value of each (``value`` is then null)."
    )


class Overview(BaseModel):
    id: str
    name: str
    phase: str
    message: str
    format: str
    mode: str
    metric: str
    objectives: dict[str, str] | None = Field(None, description="Several objectives (name: min/max), in order.")
    created_at: float
    started_at: float | None
    ended_at: float | None
    elapsed: float
    remaining: float | None = Field(description="Seconds left of max_duration, while it runs.")
    max_trials: int | None
    max_duration: float | None
    concurrency: int | None
    counts: dict[str, int]
    total: int
    best: Best | None
    waiting_reason: str
    stop_requested: bool
    engine_alive: bool = Field(
        description="False for a RUNNING experiment whose engine wrote no heartbeat for 30 s or whose "
        "process on this host is gone; `tunelab resume ID` continues it."
    )
    engine_silent_since: float | None = Field(None, description="The engine's last sign of life, when not alive.")
    engine_note: str = Field("", description="Why the engine counts as not responding.")
    experiment_dir: str
    warnings: list[str]
    params: list[str]
    metrics: list[str]
    config: dict[str, Any]
    revision: str = Field(description="Changes whenever the trials change; poll this to refresh.")


class TrialRow(BaseModel):
    number: int
    state: str
    value: float | str | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    attempt: int
    budget: int | None = Field(description="The resource a budget scheduler gave the trial.")
    parent: int | None = Field(description="The trial it continues (a promotion, a PBT generation).")
    checkpoint_from: int | None = Field(description="The trial whose checkpoint folder it started from.")
    started_at: float | None
    ended_at: float | None
    duration: float | None
    message: str
    wait_reason: str


class TrialPage(BaseModel):
    total: int = Field(description="Trials in the experiment.")
    matched: int = Field(description="Trials that pass the filters.")
    offset: int
    limit: int
    params: list[str]
    metrics: list[str]
    rows: list[TrialRow]


class Point(BaseModel):
    step: int
    value: float | None
    metrics: dict[str, Any]
    time: float


class Event(BaseModel):
    time: float
    state: str
    message: str


class TrialDetail(TrialRow):
    seed: int | None
    created_at: float | None
    trial_dir: str
    raw_params: dict[str, Any]
    intermediate: list[Point]
    events: list[Event]
    warnings: list[str] = Field(description="What the trial sent that could not be used (bad report lines).")
    values: dict[str, float | str | None] | None = Field(None, description="Several objectives: each one's value.")
    violation: float | str | None = Field(None, description="By how much it broke the constraints (<= 0: met).")


class LogChunk(BaseModel):
    stream: Literal["stdout", "stderr"]
    size: int = Field(description="Size of the file in bytes now.")
    start: int = Field(description="Byte offset of the first byte of text.")
    end: int = Field(description="Byte offset after the text; pass it as offset to follow the file.")
    text: str
    exists: bool


class History(BaseModel):
    mode: str
    numbers: list[int] = Field(description="Scored trials in the order they ended.")
    times: list[float] = Field(description="Seconds since the experiment started.")
    values: list[float]
    states: list[str] = Field(description="Each trial's state: only SUCCEEDED ones set the best so far.")
    best: list[float | None] = Field(description="Best so far after each trial; null before the first success.")


class Curves(BaseModel):
    curves: dict[str, list[list[float | None]]] = Field(description="Trial number -> [[step, value], ...].")


class ParamInfo(BaseModel):
    name: str
    kind: Literal["number", "category"]
    log: bool
    categories: list[str]


class Analysis(BaseModel):
    mode: str
    params: list[ParamInfo]
    importance: dict[str, float]
    numbers: list[int]
    values: list[float]
    columns: dict[str, list[Any]] = Field(description="Parameter name -> value per trial in numbers' order.")
    sampled: bool = Field(description="Whether the points are a sample of the scored trials.")


class Timeline(BaseModel):
    """Started trials as columns (compact at 10,000 trials): slot, start and end in seconds since ``origin``."""

    origin: float | None
    numbers: list[int]
    slots: list[int]
    starts: list[float]
    ends: list[float]
    states: list[str]


class RequestItem(BaseModel):
    id: int
    kind: str
    payload: dict[str, Any]
    created_at: float
    handled_at: float | None
    outcome: str


class Accepted(BaseModel):
    request_id: int | None = None
    message: str


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_trials: int | None = Field(None, ge=1, le=10_000_000, description="null for no limit")
    max_duration: float | str | None = Field(None, description="Seconds or 30m / 2h; null for no limit")
    concurrency: int | None = Field(None, ge=1, le=4096)


class NewTrial(BaseModel):
    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any]
