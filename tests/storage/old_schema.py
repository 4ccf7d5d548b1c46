"""Databases as earlier schema versions made them, for the upgrade tests of each backend."""

from __future__ import annotations

import re

from tunelab.storage._sql import _UPGRADES

_ADD_COLUMN = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (\w+)")


def schema_as_of(version: int, schema: str) -> str:
    """``schema`` (today's DDL) without the columns that upgrades after ``version`` added."""
    added = {
        match.groups()
        for upgrade, statements in _UPGRADES.items()
        if upgrade > version
        for statement in statements
        if (match := _ADD_COLUMN.match(statement))
    }
    lines, table = [], None
    for line in schema.splitlines():
        if found := re.match(r"CREATE TABLE IF NOT EXISTS (\w+)", line):
            table = found.group(1)
        words = line.split()
        if words and (table, words[0]) in added:
            continue
        lines.append(line + "\n")
    return "".join(lines)


#: Rows of a version 2 database: trial 0 ran once, trial 1 twice (its curve mixes both runs: steps 0 1 2 0 1).
VERSION_2_ROWS = (
    "INSERT INTO meta VALUES ('schema_version', '2')",
    "INSERT INTO experiments (id, name, phase, config, format, created_at, experiment_dir)"
    " VALUES ('e1', 'old', 'DONE', '{}', 'tunelab', 0, '/x')",
    "INSERT INTO trials (experiment_id, number, state, params, attempt, budget)"
    " VALUES ('e1', 0, 'SUCCEEDED', '{}', 1, 3)",
    "INSERT INTO trials (experiment_id, number, state, params, attempt) VALUES ('e1', 1, 'SUCCEEDED', '{}', 2)",
    *(
        f"INSERT INTO intermediate VALUES ('e1', {number}, {seq}, {step}, {step / 10}, '{{}}', 1.0)"
        for number, steps in ((0, (0, 1, 2)), (1, (0, 1, 2, 0, 1)))
        for seq, step in enumerate(steps)
    ),
)


def check_version_2_upgraded(store) -> None:
    """What a version 2 database holds once opened: attempts told apart where they can be, warnings."""
    from tunelab.storage import IntermediateResult

    once, twice = store.get_trials("e1", with_intermediate=True)
    assert [r.step for r in once.intermediate] == [0, 1, 2] and once.budget == 3
    assert {r.attempt for r in once.intermediate} == {1}
    # Which run sent trial 1's rows is not known: none is shown as its current attempt's.
    assert twice.attempt == 2 and twice.intermediate == () and store.get_trial("e1", 1).intermediate == ()
    assert [r.step for r in store.get_intermediate("e1", 1, attempt=0)] == [0, 1, 2, 0, 1]
    store.add_intermediate("e1", 1, IntermediateResult(5, 0.5, attempt=2))
    assert [r.step for r in store.get_trial("e1", 1).intermediate] == [5]
    assert once.warnings == ()
    store.add_trial_warning("e1", 0, "bad line")
    assert store.get_trial("e1", 0).warnings == ("bad line",)
