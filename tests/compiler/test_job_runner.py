"""The runner shipped with function and notebook steps, run in-process: argument templates, run-time values,
results, failures, notebooks (parameters injected, cells executed, HTML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.compiler import job_runner as runner

NOTEBOOK = Path(__file__).parents[1] / "local" / "function_steps" / "fs_report.ipynb"


def write_bundle(tmp_path: Path, manifest: dict[str, Any], files: dict[str, str]) -> Path:
    code = tmp_path / "code"
    code.mkdir(parents=True)
    for name, text in files.items():
        (code / name).parent.mkdir(parents=True, exist_ok=True)
        (code / name).write_text(text)
    manifest = {"output": str(tmp_path / "out"), **manifest}
    (code / "manifest.json").write_text(json.dumps(manifest))
    return code / "manifest.json"


def result(tmp_path: Path) -> Any:
    return json.loads((tmp_path / "out" / "result.json").read_text())["Result"]


@pytest.mark.parametrize(("text", "type_name", "expected"), [
    ("5", "Integer", 5), ("5.0", "Integer", 5), ("0.25", "Float", 0.25), ("true", "Boolean", True),
    ("False", "Boolean", False), ("007", "String", "007"), ("", "String", ""), ("[1, 2]", "Auto", [1, 2]),
    ("s3://b/k", "Auto", "s3://b/k"),
])
def test_values_are_converted_to_the_recorded_type(text, type_name, expected):
    assert runner.convert(text, type_name) == expected


def test_function_is_called_with_constants_values_and_other_results(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "EXIT_MESSAGE_FILE", str(tmp_path / "message"))
    other = tmp_path / "input" / "fn-prepare"
    other.mkdir(parents=True)
    (other / "result.json").write_text(json.dumps({"Result": {"values": [1, 2, 3], "rows": 3}}))
    manifest = write_bundle(tmp_path, {
        "kind": "function", "module": "f.py", "function": "f", "source_dir": "src",
        "args": [{"$sm": "value", "index": 0, "type": "Integer"},
                 {"$sm": "result", "step": "prepare", "path": str(other / "result.json"), "keys": ["values"]}],
        "kwargs": {"label": {"$sm": "value", "index": 1, "type": "String"},
                   "options": {"$sm": "literal", "value": {"$sm": "kept", "n": 1}}},
    }, {"f.py": "def f(n, values, label, options):\n    import helper\n"
                "    return {'n': n, 'total': sum(values), 'label': label, 'options': options, 'h': helper.X}\n",
        "src/helper.py": "X = 'from source_dir'\n"})
    code = runner.main(["--manifest", str(manifest), "--value", "0", "v:4", "--value", "1", "v:--odd"])
    assert code == 0
    assert result(tmp_path) == {"n": 4, "total": 6, "label": "--odd", "options": {"$sm": "kept", "n": 1},
                                "h": "from source_dir"}


def test_a_failing_function_exits_non_zero_with_its_message(tmp_path, monkeypatch, capsys):
    message = tmp_path / "message"
    monkeypatch.setattr(runner, "EXIT_MESSAGE_FILE", str(message))
    manifest = write_bundle(tmp_path, {"kind": "function", "module": "f.py", "function": "f"},
                            {"f.py": "def f():\n    raise ValueError('no data')\n"})
    assert runner.main(["--manifest", str(manifest)]) == 1
    assert message.read_text() == "ValueError: no data"
    assert "Traceback" in capsys.readouterr().err
    assert not (tmp_path / "out" / "result.json").exists()


def test_a_return_value_that_is_not_json_fails_the_step(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "EXIT_MESSAGE_FILE", str(tmp_path / "message"))
    manifest = write_bundle(tmp_path, {"kind": "function", "module": "f.py", "function": "f"},
                            {"f.py": "def f():\n    return {1, 2}\n"})
    assert runner.main(["--manifest", str(manifest)]) == 2
    assert "not JSON-serialisable" in (tmp_path / "message").read_text()


def test_values_must_carry_their_prefix_and_exist(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "EXIT_MESSAGE_FILE", str(tmp_path / "message"))
    manifest = write_bundle(tmp_path, {"kind": "function", "module": "f.py", "function": "f",
                                       "args": [{"$sm": "value", "index": 3, "type": "Integer"}]},
                            {"f.py": "def f(x):\n    return x\n"})
    assert runner.main(["--manifest", str(manifest)]) == 2
    assert "argument value 3 was not passed" in (tmp_path / "message").read_text()
    assert runner.main(["--manifest", str(manifest), "--value", "3", "4"]) == 2
    assert "expected 'v:<text>'" in (tmp_path / "message").read_text()


def test_requirements_installed_are_not_installed_again_and_the_local_engine_never_pip_installs(tmp_path,
                                                                                                 monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# comment\npytest>=7\n--extra-index-url https://example.invalid\n")
    assert runner.missing_requirements(str(requirements)) == []
    runner.install_requirements(str(requirements))  # nothing missing: no pip
    requirements.write_text("surely-not-installed-package-xyz==1\n")
    monkeypatch.setenv("SAGEMAKER_LOCAL_ENGINE", "1")
    with pytest.raises(runner.RunnerError, match="local engine never installs"):
        runner.install_requirements(str(requirements))


def test_notebook_parameters_are_injected_after_the_parameters_cell_and_cells_run(tmp_path):
    notebook = json.loads(NOTEBOOK.read_text())
    executed, namespace, error = runner.run_notebook(notebook, {"mean": 0.5, "rows": 3, "label": "x"})
    assert error is None
    cells = executed["cells"]
    assert [c["metadata"].get("tags") for c in cells[1:3]] == [["parameters"], ["injected-parameters"]]
    assert cells[2]["source"] == "# Parameters\nmean = 0.5\nrows = 3\nlabel = 'x'\n"
    assert cells[3]["outputs"][0] == {"output_type": "stream", "name": "stdout", "text": "report for x 3\n"}
    assert cells[3]["outputs"][1]["data"]["text/plain"] == "{'mean': 0.5, 'rows': 3, 'label': 'x'}"
    assert [c.get("execution_count") for c in cells if c["cell_type"] == "code"] == [1, 2, 3]
    assert namespace["summary"] == {"mean": 0.5, "rows": 3, "label": "x"}
    assert executed["metadata"]["sagemaker_mlops"] == {"parameters": {"mean": 0.5, "rows": 3, "label": "x"},
                                                       "status": "completed"}
    # Running an executed notebook again replaces the injected cell rather than adding a second.
    again, _, _ = runner.run_notebook(executed, {"mean": 1.0, "rows": 1, "label": "y"})
    assert sum("injected-parameters" in c["metadata"].get("tags", []) for c in again["cells"]) == 1


def test_a_notebook_without_a_parameters_cell_gets_them_first():
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "source": "y = x * 2"}]}
    executed, namespace, error = runner.run_notebook(notebook, {"x": 21})
    assert error is None and namespace["y"] == 42
    assert executed["cells"][0]["metadata"]["tags"] == ["injected-parameters"]


def test_a_failing_cell_writes_both_files_and_fails_the_step(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "EXIT_MESSAGE_FILE", str(tmp_path / "message"))
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "print('before')\n1 / 0"},
                    {"cell_type": "code", "metadata": {}, "source": "print('never')"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    manifest = write_bundle(tmp_path, {"kind": "notebook", "notebook": "n.ipynb", "parameters": {}, "outputs": []},
                            {"n.ipynb": json.dumps(nb)})
    assert runner.main(["--manifest", str(manifest)]) == 1
    assert (tmp_path / "message").read_text() == "ZeroDivisionError: division by zero"
    executed = json.loads((tmp_path / "out" / "n.ipynb").read_text())
    first, second = executed["cells"][1:]  # after the injected parameters cell
    assert [o["output_type"] for o in first["outputs"]] == ["stream", "error"]
    assert second["execution_count"] is None and second["outputs"] == []
    assert executed["metadata"]["sagemaker_mlops"]["status"] == "failed"
    page = (tmp_path / "out" / "n.html").read_text()
    assert "ZeroDivisionError" in page and "before" in page


def test_notebook_outputs_and_shell_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "EXIT_MESSAGE_FILE", str(tmp_path / "message"))
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": ["!echo from-shell\n", "answer = n + 1"]}]}
    manifest = write_bundle(tmp_path, {"kind": "notebook", "notebook": "n.ipynb", "outputs": ["answer"],
                                       "parameters": {"n": {"$sm": "value", "index": 0, "type": "Integer"}}},
                            {"n.ipynb": json.dumps(nb)})
    assert runner.main(["--manifest", str(manifest), "--value", "0", "v:41"]) == 0
    assert result(tmp_path) == {"answer": 42}
    executed = json.loads((tmp_path / "out" / "n.ipynb").read_text())
    assert executed["cells"][1]["outputs"][0]["text"] == "from-shell\n"  # shell output in the cell's stream
    bad = write_bundle(tmp_path / "b", {"kind": "notebook", "notebook": "n.ipynb", "outputs": ["missing"]},
                       {"n.ipynb": json.dumps({"cells": [{"cell_type": "code", "source": "%matplotlib inline"}]})})
    assert runner.main(["--manifest", str(bad)]) == 2
    assert "IPython magic '%matplotlib' is not supported" in (tmp_path / "message").read_text()
