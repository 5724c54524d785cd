"""The command-line contract (docs/architecture.md): compile / validate, one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_sagemaker_mlops.cli import main

DAGS = Path(__file__).parent / "compiler" / "dags"
GOLDEN = Path(__file__).parent / "golden"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_compile_one_group_prints_its_definition(capsys):
    status, out, err = run(capsys, "compile", str(DAGS / "churn_training.py"), "--group", "train")
    assert status == 0, err
    golden = json.loads((GOLDEN / "churn_training.json").read_text())["churn_model.train"]
    assert json.loads(out) == golden["PipelineDefinition"]


def test_compile_without_group_keys_by_dag_and_group(capsys):
    status, out, _ = run(capsys, "compile", str(DAGS / "multi_group.py"))
    assert status == 0
    document = json.loads(out)
    assert sorted(document) == ["multi_a.first", "multi_a.second", "multi_b.only"]
    assert all(d["Version"] == "2020-12-01" for d in document.values())


def test_group_may_be_named_with_its_dag(capsys):
    status, out, _ = run(capsys, "compile", str(DAGS / "multi_group.py"), "--group", "multi_b.only")
    assert status == 0 and json.loads(out)["Steps"][0]["Name"] == "always_fails"


def test_validate_reports_each_group(capsys):
    status, out, _ = run(capsys, "validate", str(DAGS / "multi_group.py"))
    assert status == 0
    assert [line.split()[1] for line in out.splitlines()] == ["multi_a.first", "multi_a.second", "multi_b.only"]


@pytest.mark.parametrize(("args", "message"), [
    (["compile", "no/such/file.py"], "no such DAG file"),
    (["compile", str(DAGS / "churn_training.py"), "--group", "nope"], "no pipeline group 'nope' (found: "),
])
def test_errors_are_one_line_with_status_2(capsys, args, message):
    status, out, err = run(capsys, *args)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_compile_error_in_the_dag_file(capsys, tmp_path):
    dag = tmp_path / "broken.py"
    dag.write_text(
        "import pendulum\n"
        "from airflow_sagemaker_mlops.compat import DAG\n"
        "from airflow_sagemaker_mlops import SageMakerPipelineGroup, ProcessingStep\n"
        "with DAG('broken', schedule=None, start_date=pendulum.datetime(2026, 1, 1)):\n"
        "    with SageMakerPipelineGroup(group_id='g', pipeline_name='p'):\n"
        "        ProcessingStep(task_id='t', step_name='not valid!', job={})\n"
    )
    status, _, err = run(capsys, "validate", str(dag))
    assert status == 2
    assert err.startswith(f"error: {dag}:6: DAG 'broken', group 'g', task 'g.t', field step_name: "
                          "step name 'not valid!'")
    assert err.count("\n") == 1


def test_import_error_in_the_dag_file(capsys, tmp_path):
    dag = tmp_path / "typo.py"
    dag.write_text("import no_such_module_here\n")
    status, _, err = run(capsys, "compile", str(dag))
    assert status == 2
    assert "DAG file failed to import: ModuleNotFoundError" in err and err.count("\n") == 1


def test_file_without_groups(capsys, tmp_path):
    dag = tmp_path / "plain.py"
    dag.write_text("x = 1\n")
    status, _, err = run(capsys, "compile", str(dag))
    assert status == 2 and "no SageMakerPipelineGroup found" in err
    status, out, _ = run(capsys, "validate", str(dag))  # imports fine: nothing to compile is not an error
    assert status == 0 and "has no SageMakerPipelineGroup" in out


def test_module_entry_point_exit_status():
    """`python -m airflow_sagemaker_mlops` itself: exit 2 and one line on stderr."""
    result = subprocess.run([sys.executable, "-m", "airflow_sagemaker_mlops", "compile", "missing.py"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == "error: missing.py: no such DAG file\n"


def test_local_serve_prints_its_address_and_serves():
    import re
    import urllib.request

    process = subprocess.Popen([sys.executable, "-m", "airflow_sagemaker_mlops", "local", "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        with urllib.request.urlopen(match.group(1) + "/_local/health", timeout=10) as reply:
            assert reply.status == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_local_serve_refuses_a_non_loopback_host(capsys):
    status, _, err = run(capsys, "local", "serve", "--host", "192.0.2.1")
    assert status == 2
    assert err.startswith("error: refusing to listen on non-loopback host") and err.count("\n") == 1


def test_iam_policy_prints_a_policy_document(capsys):
    status, out, err = run(capsys, "iam-policy", str(DAGS / "churn_training.py"), "--group", "train",
                           "--role", "pipeline", "--region", "us-east-1")
    assert status == 0, err
    document = json.loads(out)
    assert document["Version"] == "2012-10-17"
    actions = {a for statement in document["Statement"] for a in statement["Action"]}
    assert {"sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob", "iam:PassRole"} <= actions


def test_iam_policy_explains_and_rejects_unknown_roles(capsys):
    status, out, _ = run(capsys, "iam-policy", str(DAGS / "churn_training.py"), "--group", "train",
                         "--role", "airflow", "--explain")
    assert status == 0 and "PassPipelineRole" in out
    status, _, err = run(capsys, "iam-policy", str(DAGS / "churn_training.py"), "--group", "train", "--role", "x")
    assert status == 2 and err.startswith("error: role must be") and err.count("\n") == 1


GOOD = """\
import pendulum
from airflow_sagemaker_mlops.compat import DAG
from airflow_sagemaker_mlops import FailStep, SageMakerPipelineGroup
with DAG({dag!r}, schedule=None, start_date=pendulum.datetime(2026, 1, 1)):
    with SageMakerPipelineGroup(group_id='g', pipeline_name={name!r}):
        FailStep(task_id='f', error_message='x')
"""


def test_validate_a_dag_folder_reports_every_problem_one_line_each(capsys, tmp_path):
    (tmp_path / "a.py").write_text(GOOD.format(dag="a", name="shared"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text(GOOD.format(dag="b", name="shared"))  # clashes with a.py
    (tmp_path / "c.py").write_text(GOOD.format(dag="c", name="own"))
    (tmp_path / "d.py").write_text(GOOD.format(dag="d", name="bad_name"))
    (tmp_path / "e.py").write_text("import airflow  # a dag file that does not import\nimport no_such_module\n")
    (tmp_path / "helper.py").write_text("X = 1\n")  # no 'dag' and 'airflow' in it: not a DAG file, not imported
    status, out, err = run(capsys, "validate", str(tmp_path))
    assert status == 2
    assert sorted(line.split()[1] for line in out.splitlines()) == ["a.g", "b.g", "c.g"]
    lines = err.splitlines()
    assert len(lines) == 3, err
    assert all(line.startswith("error: ") for line in lines)
    assert lines[0].startswith(f"error: {tmp_path / 'd.py'}:5: DAG 'd', group 'g', field pipeline_name: ")
    assert lines[1].startswith(f"error: {tmp_path / 'e.py'}: DAG file failed to import: ModuleNotFoundError")
    assert lines[2].startswith(f"error: {tmp_path / 'sub' / 'b.py'}:5: DAG 'b', group 'g', field pipeline_name: "
                               f"pipeline name 'shared' is also used by a.g ({tmp_path / 'a.py'}:5)")


def test_validate_a_clean_folder_exits_0(capsys, tmp_path):
    (tmp_path / "a.py").write_text(GOOD.format(dag="a", name="one"))
    (tmp_path / "b.py").write_text(GOOD.format(dag="b", name="two"))
    status, out, err = run(capsys, "validate", str(tmp_path), str(tmp_path / "a.py"))
    # a.py given twice (in the folder and by name) is one pipeline, not a clash with itself
    assert (status, err) == (0, ""), err
    assert out.count("ok: ") == 2


def test_validate_a_missing_path(capsys, tmp_path):
    status, _, err = run(capsys, "validate", str(tmp_path / "nope"))
    assert status == 2 and "no such DAG file or folder" in err
