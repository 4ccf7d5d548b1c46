"""What the progress line says agrees with itself, and printing it never holds up cheap trials."""

from __future__ import annotations

import io

from tunelab import hp
from tunelab.engine import Progress
from tunelab.engine._display import PlainProgress, summary_line
from tunelab.runners import TrialJob
from tunelab.storage import Phase
from tunelab.testing import FakeTrial


def one_second(job: TrialJob) -> FakeTrial:
    return FakeTrial(final=(1.0 + 0.25 * (job.number % 3), float(job.params["x"])))


def test_the_waiting_reason_says_all_slots_busy_only_while_they_are(fake):
    """Seen with 1-s trials at concurrency 2: 'running 1 | ... | waiting: all 2 slots busy' (a stale reason).

    The runner refuses new trials for a while (as a GPU runner does with every GPU taken), so a
    trial ends and its slot stays empty: the line must not say the slots are busy then.
    """
    exp = fake(one_second, search_space={"x": hp.uniform(0, 1)}, tuner="random", seed=3, max_trials=9, concurrency=2)
    seen: list[Progress] = []

    class Recorder:
        def on_progress(self, progress: Progress) -> None:
            seen.append(progress)
            if progress.succeeded == 2:
                exp.runner.waiting = "every GPU is taken"
            elif progress.succeeded >= 4:
                exp.runner.waiting = ""

    record = exp.run(listener=Recorder())
    assert record.phase == Phase.DONE
    busy = [p for p in seen if "slots busy" in p.waiting_reason]
    assert busy, "the reason is shown while both slots run"
    assert all(p.running == 2 for p in busy), [summary_line("e", p) for p in busy if p.running != 2]
    assert any(p.running < 2 and p.waiting_reason == "every GPU is taken" for p in seen)


def instant(job: TrialJob) -> FakeTrial:
    return FakeTrial(final=(0.001, float(job.params["x"])))


def test_a_cheap_trial_costs_one_commit_in_the_steady_state(fake, tmp_path):
    """The slot a trial leaves is filled in the same transaction that records its end (one commit per trial)."""
    exp = fake(
        instant,
        search_space={"x": hp.uniform(0, 1)},
        tuner="random",
        seed=3,
        max_trials=30,
        concurrency=1,
        storage=str(tmp_path / "s.db"),
    )
    commits = []
    storage = exp.storage
    storage._conn.set_trace_callback(lambda sql: commits.append(sql) if sql.startswith("COMMIT") else None)
    assert exp.run().phase == Phase.DONE
    storage._conn.set_trace_callback(None)
    # Was 5 a trial (its creation, RUNNING, the waiting reason twice, its end); the rest: start, heartbeats, end.
    assert len(commits) <= 30 + 8, len(commits)


def snapshot(finished: int, best: float | None = None, phase: Phase = Phase.RUNNING) -> Progress:
    return Progress(phase=phase, max_trials=None, max_duration=None, elapsed=0.0, succeeded=finished, best_value=best)


def test_plain_progress_prints_at_most_a_few_lines_a_second_and_always_the_end():
    now = [0.0]
    stream = io.StringIO()
    progress = PlainProgress("e", stream, clock=lambda: now[0])
    for n in range(1000):  # a thousand trials in a tenth of a second
        now[0] = n / 10_000
        progress.on_progress(snapshot(n, best=float(n)))
    now[0] = 0.3
    progress.on_progress(snapshot(1000, best=1000.0))  # the next line carries the newest counts
    progress.on_progress(snapshot(1000, best=1000.0, phase=Phase.DONE))  # a phase change always prints
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert "trials 1000/" in lines[1] and "DONE" in lines[2]
