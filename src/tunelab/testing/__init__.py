"""Test suites and helpers for code that plugs into tunelab, as ``optuna.testing`` is for Optuna.

Each contract is a class of pytest checks to subclass with one fixture that builds your
implementation, so that a new tuner, scheduler or storage is held to what tunelab's own are:

* :mod:`tunelab.testing.tuners`: :class:`~tunelab.testing.tuners.TunerContract` (``make_tuner``);
* :mod:`tunelab.testing.schedulers`: :class:`~tunelab.testing.schedulers.SchedulerContract`
  (``make_scheduler``) and the simulated trial loop it drives schedulers with;
* :mod:`tunelab.testing.storages`: :class:`~tunelab.testing.storages.StorageContract` (``make_storage``);
* runners: :func:`runner_checks` over a :class:`RunnerCase`, and :class:`FakeRunner` with
  :class:`FakeClock`, trials scripted on a virtual timeline for engine tests.

Those modules import pytest; this package itself does not, and ``import tunelab`` never
imports it. :func:`postgres_server` and :func:`fresh_database` give storage tests a
throwaway PostgreSQL server when its binaries are installed; :data:`CHROMIUM` and
:data:`CHROMIUM_ARGS` launch the headless browser the dashboard's tests drive.
"""

from __future__ import annotations

from tunelab.testing._browser import CHROMIUM, CHROMIUM_ARGS
from tunelab.testing._pgserver import fresh_database, postgres_server
from tunelab.testing._runners import (
    CONTRACT_TRIAL,
    FakeClock,
    FakeRunner,
    FakeTrial,
    NotApplicable,
    RunnerCase,
    RunnerContract,
    contract_behaviour,
    contract_trial,
    runner_checks,
)

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "CONTRACT_TRIAL",
    "FakeClock",
    "FakeRunner",
    "FakeTrial",
    "NotApplicable",
    "RunnerCase",
    "RunnerContract",
    "contract_behaviour",
    "contract_trial",
    "fresh_database",
    "postgres_server",
    "runner_checks",
]
