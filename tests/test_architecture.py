"""The rooms of the package and what may import what (docs/architecture.md). Every import counts, also
the lazy ones inside functions (that is where cycles hide); only ``if TYPE_CHECKING:`` blocks do not."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "airflow_sagemaker_mlops"
NAME = "airflow_sagemaker_mlops"

#: room -> the rooms it may import. A room is a subpackage or a top-level module of the package.
ALLOWED: dict[str, set[str]] = {
    "exceptions": set(),
    "compat": set(),
    # The packages' load-on-first-use exports (__init__, builders, compiler).
    "_lazy": set(),
    "location": {"exceptions", "compat"},
    # The pure model: no Airflow, no AWS clients (see also the import checks below).
    "definition": {"exceptions", "location"},
    "iam": {"definition", "exceptions"},
    "history": {"definition", "exceptions"},
    # The local engine: a SageMaker of its own, never Airflow or the Airflow-facing rooms.
    "local": {"definition", "exceptions", "iam", "history"},
    "hooks": {"definition", "exceptions", "location"},
    "triggers": {"compat", "definition", "exceptions", "hooks"},
    "compiler": {"_lazy", "compat", "definition", "exceptions", "location", "hooks", "iam", "operators"},
    "operators": {"compat", "definition", "exceptions", "location", "hooks", "triggers", "sensors", "links",
                  "lineage", "assets", "history", "compiler", "__init__"},
    "sensors": {"compat", "definition", "exceptions", "location", "hooks", "triggers", "operators"},
    # SDK-style builders on top of the step operators (and the image lookup): the SDK never.
    "builders": {"_lazy", "compat", "compiler", "definition", "exceptions", "location", "operators"},
    "links": {"definition", "local"},
    "lineage": {"definition", "hooks", "operators"},
    "assets": {"compat", "hooks", "operators"},
    "ui": {"history", "hooks", "links", "local", "definition"},
    "cli": {"compat", "compiler", "definition", "exceptions", "history", "hooks", "iam", "local"},
    "__main__": {"cli"},
    "get_provider_info": set(),
    "__init__": {"_lazy", "assets", "builders", "compiler", "definition", "exceptions", "get_provider_info",
                 "operators", "sensors"},
}

#: Single module-to-module imports across a boundary, each with the reason it is there.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("hooks.pipelines", "compiler.assets"): "the upsert uploads the code assets the compiler packaged",
    ("triggers.task_end", "links"): "a task ended by its trigger stores its step's job link as the worker would",
}

#: Third-party top-level packages a room must never import.
FORBIDDEN_PACKAGES: dict[str, set[str]] = {
    "definition": {"airflow", "boto3", "botocore", "aiobotocore", "moto", "sagemaker"},
    "iam": {"airflow", "boto3", "botocore", "aiobotocore", "moto", "sagemaker"},
    "exceptions": {"airflow", "boto3", "botocore", "moto"},
    "local": {"airflow", "sagemaker"},
    "builders": {"sagemaker", "boto3", "botocore", "aiobotocore", "moto"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _room(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != NAME:
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) of every import in the file, resolved to absolute names."""
    module = _module_name(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _type_checking_lines(tree)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
                if node.module is None:  # from . import x: each x is a module
                    for alias in node.names:
                        yield f"{target}.{alias.name}", node.lineno
                    continue
                yield target, node.lineno
            elif node.module == NAME:
                for alias in node.names:
                    yield f"{NAME}.{alias.name}", node.lineno
            else:
                yield node.module or "", node.lineno


def _violations() -> Iterator[str]:
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        room = _room(module)
        assert room in ALLOWED, f"{module}: room {room!r} is not in the architecture table (docs/architecture.md)"
        short = module.removeprefix(f"{NAME}.")
        for target, line in _imports(path):
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            top = target.split(".")[0]
            if top in FORBIDDEN_PACKAGES.get(room, set()):
                yield f"{where}: {room} must not import {top} ({target})"
            target_room = _room(target)
            if target_room is None or target_room == room:
                continue
            if target_room not in ALLOWED[room] and (short, target.removeprefix(f"{NAME}.")) not in EXCEPTIONS:
                yield f"{where}: {room} must not import {target_room} ({target})"


def test_no_import_crosses_a_forbidden_boundary() -> None:
    assert list(_violations()) == []


#: Run-time modules: they read the settings the group handed their tasks, never the group or the compiler.
RUN_TIME = ("operators/runtime.py", "operators/lifecycle.py", "operators/observability.py", "operators/failures.py",
            "sensors", "triggers", "hooks", "lineage.py", "assets.py")


def test_run_time_code_does_not_import_the_compiler() -> None:
    found = []
    for entry in RUN_TIME:
        target = PACKAGE / entry
        for path in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            found += [f"{path.relative_to(PACKAGE.parent)}:{line}: {module}" for module, line in _imports(path)
                      if module.startswith(f"{NAME}.compiler") and module != f"{NAME}.compiler.assets"]
    assert found == []


def test_the_rule_catches_a_crossing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The checker itself, on a made-up engine module that reaches into Airflow and the operators.
    fake = PACKAGE / "local" / "_architecture_probe.py"
    fake.write_text("def f():\n    from airflow_sagemaker_mlops.operators import runtime\n    import airflow\n")
    try:
        found = [v for v in _violations() if "_architecture_probe" in v]
    finally:
        fake.unlink()
    assert found == ["airflow_sagemaker_mlops/local/_architecture_probe.py:2: local must not import operators "
                     "(airflow_sagemaker_mlops.operators)",
                     "airflow_sagemaker_mlops/local/_architecture_probe.py:3: local must not import airflow (airflow)"]


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\n"
             "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent)
    return out.stdout.split()


def test_the_engine_runs_without_airflow() -> None:
    loaded = _loaded_after(
        "from airflow_sagemaker_mlops.local.server import LocalEngine\n"
        "from airflow_sagemaker_mlops.local.state import EngineConfig\n"
        "engine = LocalEngine(EngineConfig()).start()\n"
        "engine.client('sagemaker').list_pipelines()\n"
        "engine.stop()\n")
    assert "airflow" not in loaded and "moto" in loaded


def test_the_packages_that_need_no_airflow_import_without_it() -> None:
    # docker/create_example_resources.py imports the examples' settings (image_uri) with boto3 alone.
    loaded = _loaded_after("import airflow_sagemaker_mlops, airflow_sagemaker_mlops.compiler.assets\n"
                           "from airflow_sagemaker_mlops.builders import image_uri, s3_input\n"
                           "from airflow_sagemaker_mlops import Join, conditions")
    assert "airflow" not in loaded


def test_the_policy_generator_is_pure() -> None:
    loaded = _loaded_after("import airflow_sagemaker_mlops.iam.policy, airflow_sagemaker_mlops.iam.roles")
    assert not {"airflow", "boto3", "botocore", "moto"} & set(loaded)


def test_a_dag_file_with_a_group_loads_no_aws_client_library_while_it_is_parsed() -> None:
    loaded = _loaded_after(
        "from airflow_sagemaker_mlops.compat import DAG\n"
        "from airflow_sagemaker_mlops import SageMakerPipelineGroup, FailStep\n"
        "with DAG('d', schedule=None), SageMakerPipelineGroup(group_id='g', pipeline_name='p',\n"
        "        role_arn='arn:aws:iam::123456789012:role/R', botocore_config={'connect_timeout': 5}):\n"
        "    FailStep(task_id='f', error_message='x')\n")
    assert "airflow" in loaded
    assert not {"boto3", "aiobotocore", "moto", "sagemaker"} & set(loaded)


#: What a step runner may not reach: the engine and its scheduling (it gets a StepContext instead).
ENGINE_INTERNALS = {f"{NAME}.local.{m}" for m in ("executor", "scheduler", "api", "server")}


def _all_imports(path: Path) -> set[str]:
    """Every module ``path`` imports, ``if TYPE_CHECKING:`` blocks included (a type is a dependency too)."""
    package = _module_name(path).split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - (node.level - 1)]) if node.level else ""
            target = ".".join(p for p in (base, node.module or "") if p)
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["steps.py", "context.py"])
def test_step_runners_do_not_import_the_engine(module: str) -> None:
    imported = _all_imports(PACKAGE / "local" / module)
    assert f"{NAME}.local.state" in imported  # the walk sees the module's relative imports
    assert imported & ENGINE_INTERNALS == set()


def test_step_runners_take_no_engine_lock() -> None:
    # What a runner changes while it runs goes through the context's callables, which lock for it.
    tree = ast.parse((PACKAGE / "local" / "steps.py").read_text())
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert "publish_metadata" in names and "lock" not in names


def test_every_step_runner_takes_only_the_context() -> None:
    import inspect

    from airflow_sagemaker_mlops.local import steps

    runners = {name: fn for name, fn in vars(steps).items()
               if name.startswith("run_") and inspect.isfunction(fn) and fn.__module__ == steps.__name__}
    # (That every step type the engine runs has a runner is the registry's test, tests/definition/test_step_kinds.py.)
    assert set(steps.RUNNERS.values()) <= set(runners.values())
    for name, fn in runners.items():
        parameters = list(inspect.signature(fn).parameters.values())
        assert [(p.name, p.annotation) for p in parameters] == [("ctx", "StepContext")], name


def test_the_event_scheduled_example_dag_parses_without_aws_client_libraries() -> None:
    # The AssetWatcher's trigger (Airflow 3) or the sensor (2.11) and the asset's URI are built at parse time:
    # none of them may pull in boto3 (the dag-processor parses this file every few minutes).
    dags = PACKAGE.parent / "dags"
    loaded = _loaded_after(
        f"sys.path.insert(0, {str(dags)!r})\n"
        "import runpy\n"
        f"namespace = runpy.run_path({str(dags / 'on_pipeline_events.py')!r})\n"
        "assert 'trained' in namespace or 'wait' in namespace\n")  # the watched asset (3) or the sensor (2.11)
    assert "airflow" in loaded
    assert not {"boto3", "botocore", "aiobotocore", "moto", "sagemaker"} & set(loaded)
