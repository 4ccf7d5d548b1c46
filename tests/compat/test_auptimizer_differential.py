"""The same scripts and inputs through Auptimizer 2.0's own helpers and through tunelab's ``aup``.

Auptimizer lives in its own virtual environment (``make compat-aup`` creates
``.compat/aup``; ``$TUNELAB_AUP_VENV`` names another). Its wheel declares no
dependencies and ``import aup`` pulls in paramiko, click, hpbandster and more, so the venv
holds ``auptimizer==2.0`` alone and the upstream side runs Auptimizer's client module
``aup/aup.py`` (``BasicConfig``, ``print_result``, ``aup_args``, ``aup_flags``,
``aup_save_model``), which Auptimizer documents as standalone: "This file can be copied to
a remote machine instead of installing the whole Auptimizer package". Each test copies
that file from the venv into a temporary ``aup`` package and runs a script with the venv's
interpreter; the tunelab side runs the same script with tunelab's compatibility folder on
``PYTHONPATH``. Both run outside an experiment, where tunelab reports nothing and prints
what Auptimizer prints.

Known, deliberate differences (each a case where Auptimizer fails or does nothing) are
in the docstring of ``aup/aup.py`` and in docs/migrating-auptimizer.md; the tests that
touch one say so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIMS = ROOT / "src" / "tunelab" / "trial" / "_shims"
AUP_VENV = Path(os.environ.get("TUNELAB_AUP_VENV") or ROOT / ".compat" / "aup")


def _upstream_module() -> Path | None:
    for candidate in sorted((AUP_VENV / "lib").glob("python3*/site-packages/aup/aup.py")):
        return candidate
    return None


UPSTREAM = _upstream_module()
pytestmark = pytest.mark.skipif(
    UPSTREAM is None or not (AUP_VENV / "bin" / "python").is_file(),
    reason=f"Auptimizer 2.0 venv not found: {AUP_VENV}/lib/python3*/site-packages/aup/aup.py is missing "
    "(run `make compat-aup`, or set TUNELAB_AUP_VENV)",
)


def _run(kind: str, folder: Path, script: str, config: dict | None, args: list[str] | None) -> dict:
    folder.mkdir()
    (folder / "script.py").write_text(textwrap.dedent(script))
    if config is not None:
        (folder / "job.json").write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUNELAB_TRIAL", "PYTHON"))}
    if kind == "upstream":
        package = folder.parent / "upstream-site" / "aup"
        if not package.is_dir():
            package.mkdir(parents=True)
            shutil.copyfile(UPSTREAM, package / "__init__.py")
        python, env["PYTHONPATH"] = str(AUP_VENV / "bin" / "python"), str(package.parent)
    else:
        python, env["PYTHONPATH"] = sys.executable, str(SHIMS)
    argv = [python, "script.py", *(["job.json"] if args is None else args)]
    done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=60)
    files = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    return {
        "code": done.returncode,
        "stdout": done.stdout,
        "results": [line for line in done.stderr.splitlines() if line.startswith("#Auptimizer:")],
        "error": done.stderr.strip().splitlines()[-1] if done.returncode else "",
        "files": files,
        "stderr": done.stderr,
    }


def both(tmp_path: Path, script: str, config: dict | None = None, args: list[str] | None = None) -> tuple:
    upstream = _run("upstream", tmp_path / "upstream", script, config, args)
    ours = _run("tunelab", tmp_path / "tunelab", script, config, args)
    return upstream, ours


def same(upstream: dict, ours: dict, *keys: str) -> None:
    for key in keys or ("code", "stdout", "results", "error", "files"):
        assert ours[key] == upstream[key], (
            f"{key}: tunelab {ours[key]!r} != Auptimizer {upstream[key]!r}\n{ours['stderr']}"
        )


ROSENBROCK = """
    import sys
    from aup import aup_args

    @aup_args
    def rosenbrock(x, y, a=1, b=100):
        return (a-x)*(a-x) + b*(y-x*x)*(y-x*x)

    if __name__ == "__main__":
        rosenbrock(sys.argv[1])
"""


def test_aup_args_passes_only_the_functions_parameters_and_prints_the_result(tmp_path):
    script = ROSENBROCK.replace("rosenbrock(sys.argv[1])", "print('returned', rosenbrock(sys.argv[1]))")
    upstream, ours = both(tmp_path, script, {"x": 0.5, "y": -1.25, "tid": 3, "n_iterations": 9, "job_id": 7})
    same(upstream, ours)
    assert upstream["stdout"] == "returned None\n"  # so that sys.exit(main(path)) exits 0
    assert upstream["results"] == ["#Auptimizer:225.25"]  # extra keys ignored, a and b at their defaults


def test_aup_args_config_overrides_defaults_and_script_keywords_override_the_config(tmp_path):
    script = ROSENBROCK.replace("rosenbrock(sys.argv[1])", "rosenbrock(sys.argv[1], y=2)")
    upstream, ours = both(tmp_path, script, {"x": 2, "y": 0, "a": 3, "b": 10})
    same(upstream, ours)
    assert upstream["results"] == ["#Auptimizer:41"]


def test_aup_args_missing_parameter_is_the_same_value_error(tmp_path):
    upstream, ours = both(tmp_path, ROSENBROCK, {"x": 1.0})
    same(upstream, ours, "code", "error", "results")
    assert upstream["error"] == (
        "ValueError: `y` is required in `rosenbrock()` but is not assigned in config file job.json"
    )


def test_aup_args_list_result_and_intermediate_prints(tmp_path):
    script = """
        import sys
        import aup
        from aup import aup_args, print_result

        @aup_args
        def train(lr, epochs=3):
            for epoch in range(epochs):
                print_result([lr * epoch, epoch])
            return [lr * 10, "flops", 12.5, 3]

        train(sys.argv[1])
    """
    upstream, ours = both(tmp_path, script, {"lr": 0.25, "epochs": 2})
    same(upstream, ours)
    assert upstream["results"][-1] == "#Auptimizer:2.5,flops,12.5,3"


def test_aup_args_calls_the_modules_init_functions_by_name_with_the_whole_config(tmp_path):
    script = """
        import sys
        from aup import aup_args

        seen = []

        def zz_init_model(**config):
            seen.append(("zz_init_model", sorted(config)))

        def data_init(x, **rest):
            seen.append(("data_init", x, sorted(rest)))

        def helper(**config):  # no "init" in its name: never called
            seen.append(("helper",))

        @aup_args
        def objective(x):
            seen.append(("objective", x))
            return x * 2

        objective(sys.argv[1], extra=1)
        print(seen)
    """
    upstream, ours = both(tmp_path, script, {"x": 4, "job_id": 1})
    same(upstream, ours)
    assert upstream["stdout"].strip() == (
        "[('data_init', 4, ['extra', 'job_id']), ('zz_init_model', ['extra', 'job_id', 'x']), ('objective', 4)]"
    )


def test_aup_save_model_runs_in_the_model_folder_of_the_best_job_only(tmp_path):
    script = """
        import os, sys
        from aup import aup_args, aup_save_model

        def save(name, text="w"):
            with open(name, "w") as handle:
                handle.write(text + " in " + os.path.basename(os.getcwd()))

        @aup_args
        def main(x):
            aup_save_model(save, "model.txt", text=str(x))
            return x

        start = os.getcwd()
        main(sys.argv[1])
        print("back in the job folder:", os.getcwd() == start)
    """
    upstream, ours = both(tmp_path, script, {"x": 1.5, "save_model": True, "folder_name": "models_3"})
    same(upstream, ours)
    assert upstream["files"] == ["aup_models/models_3/model.txt", "job.json", "script.py"]
    assert (tmp_path / "tunelab" / "aup_models" / "models_3" / "model.txt").read_text() == "1.5 in models_3"
    (tmp_path / "plain").mkdir()
    upstream, ours = both(tmp_path / "plain", script, {"x": 1.5})
    same(upstream, ours)
    assert upstream["files"] == ["job.json", "script.py"]


@pytest.mark.parametrize(
    "value",
    ["0.5", "3", "-2e-08", "[1, 2.5, 'x']", "'  padded'", "None", "'a\\nb'", "(1, 2)", "{'default': 1}", "True"],
)
def test_print_result_prints_what_auptimizer_prints(tmp_path, value):
    script = f"""
        from aup import print_result
        print_result({value})
    """
    upstream, ours = both(tmp_path, script, args=[])
    same(upstream, ours)
    assert ours["stderr"] == upstream["stderr"]  # the leading newline and the text, byte for byte


def test_basic_config_load_access_and_save_round_trip(tmp_path):
    script = """
        import json, sys
        from aup import BasicConfig

        config = BasicConfig().load(sys.argv[1])
        print(config.x, config["y"], config.get("missing", "default"), type(config).__name__)
        config.z = [1, 2]
        config["w"] = {"nested": True}
        del config.y
        config.save("out.json")
        config.save("out.pkl")
        again = BasicConfig(start=0).load("out.pkl")
        print(sorted(again.items()), again == {**config, "start": 0})
        print(open("out.json").read())
        print(BasicConfig({"a": 1}, b=2))
        try:
            config.nothing
        except KeyError as exc:
            print("KeyError", exc)
        for bad in ("config.yaml", "config"):
            try:
                config.save(bad)
            except ValueError as exc:
                print("ValueError", exc)
        json.dump([1, 2], open("list.json", "w"))
        try:
            BasicConfig().load("list.json")
        except TypeError as exc:
            print("TypeError", exc)
    """
    upstream, ours = both(tmp_path, script, {"x": 1.5, "y": "relu", "u": None})
    same(upstream, ours)
    assert (tmp_path / "tunelab" / "out.json").read_bytes() == (tmp_path / "upstream" / "out.json").read_bytes()
    assert "ValueError Un-support file format, choose from pkl,json." in upstream["stdout"]


def test_basic_config_to_flags_sets_only_known_flags(tmp_path):
    script = (
        FLAGS
        + """
        import sys
        from aup import BasicConfig
        BasicConfig().load(sys.argv[1]).to_flags(FLAGS)
        print(FLAGS.values)
    """
    )
    upstream, ours = both(tmp_path, script, {"x": 2.0, "other": 1})
    same(upstream, ours)
    assert upstream["stdout"].strip() == "{'x': 2.0, 'y': 0.0}"


#: A stand-in for absl's FlagValues: iterates over flag names, ``in`` and attribute access.
FLAGS = """
        class Flags:
            def __init__(self, **values):
                object.__setattr__(self, "values", values)
            def __iter__(self):
                return iter(self.values)
            def __contains__(self, name):
                return name in self.values
            def __getattr__(self, name):
                return self.values[name]
            def __setattr__(self, name, value):
                self.values[name] = value

        FLAGS = Flags(x=0.0, y=0.0)
"""


def test_aup_flags_calls_main_as_auptimizer_does_and_prints_its_result(tmp_path):
    script = (
        FLAGS
        + """
        import sys
        from aup import aup_flags

        @aup_flags(FLAGS)
        def main(unused):
            print("main got", unused)
            return 42.0

        @aup_flags(FLAGS)
        def bare():
            return "done"

        print("returned", main(sys.argv), bare(sys.argv))
    """
    )
    upstream, ours = both(tmp_path, script, {"x": 2.0})
    same(upstream, ours)
    assert upstream["stdout"].strip() == "main got {'unused': None}\nreturned None None"
    assert upstream["results"] == ["#Auptimizer:42.0", "#Auptimizer:done"]


def test_aup_flags_assigns_the_config_where_auptimizer_leaves_the_defaults(tmp_path):
    """The one deliberate difference of aup_flags: Auptimizer's ``flags.__dict__.update()`` has no argument."""
    script = (
        FLAGS
        + """
        import sys
        from aup import aup_flags

        @aup_flags(FLAGS)
        def main(unused):
            return (1 - FLAGS.x) ** 2 + FLAGS.y

        main(sys.argv)
    """
    )
    upstream, ours = both(tmp_path, script, {"x": 3.0, "y": 0.5})
    assert upstream["results"] == ["#Auptimizer:1.0"]  # evaluated at the defaults x=0, y=0
    assert ours["results"] == ["#Auptimizer:4.5"]  # at the job's values, as Auptimizer's docs promise
