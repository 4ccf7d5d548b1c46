"""The config is parsed once into typed objects: the quickstart's space was parsed 4 times by
``load_config`` and 6 times by ``tunelab validate`` (plus the engine's own); now once each."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import tunelab.space._parsers as parsers
from tunelab.cli import main
from tunelab.config import build_config, load_config

QUICKSTART = Path(__file__).parents[2] / "examples" / "quickstart" / "config.yml"


@pytest.fixture
def parses(monkeypatch):
    """How many whole search spaces were parsed (nested choices parse sub-spaces; those do not count)."""
    calls: list[int] = []
    original = parsers._parse_mapping

    def counting(spec, *args, **kwargs):
        if kwargs.get("prefix") == "":
            calls.append(1)
        return original(spec, *args, **kwargs)

    monkeypatch.setattr(parsers, "_parse_mapping", counting)
    return calls


def test_load_config_parses_the_quickstart_space_once(parses):
    config = load_config(QUICKSTART).config
    assert len(parses) == 1
    # every later use is the same object, not a new parse
    assert config.space() is config.space() and len(parses) == 1


def test_validate_parses_the_quickstart_space_once(parses):
    result = CliRunner().invoke(main, ["validate", str(QUICKSTART)])
    assert result.exit_code == 0, result.output
    assert "3 parameters" in result.output
    assert len(parses) == 1


def test_engine_start_up_reuses_the_parsed_space(parses, tmp_path, monkeypatch):
    from tunelab.engine import Engine, Experiment

    monkeypatch.setenv("TUNELAB_HOME", str(tmp_path))
    experiment = Experiment.from_file(QUICKSTART)
    experiment.create()
    Engine(storage=experiment.storage, experiment_id=experiment.id, config=experiment.config).runner.close()
    assert len(parses) == 1


def test_a_replaced_search_space_is_parsed_again():
    """The cache follows the value: a copy with another space never answers with the old one."""
    config = build_config({"search_space": {"x": {"_type": "uniform", "_value": [0, 1]}}, "trial": "true"})
    other = config.model_copy(update={"search_space": {"y": {"_type": "uniform", "_value": [0, 1]}}})
    assert list(config.space()) == ["x"] and list(other.space()) == ["y"]
