"""The bootstrap that runs a function step or a notebook step inside its SageMaker Processing job.

This file is shipped, as it is, with the step's code (``compiler/functions.py`` bundles it) and run as
``python3 /opt/ml/processing/input/code/_sagemaker_mlops_runner.py --manifest .../manifest.json --value 0
v:<resolved argument> ...``. It runs on any image with Python 3.8+: the standard library only, nothing of
this package, no AWS client. It downloads nothing itself: the code and other function steps' results are
ProcessingInputs SageMaker mounts, and what it writes under the output directory SageMaker uploads.

manifest.json (written at parse time, static):
  ``{"kind": "function", "module": "function.py", "function": "train", "args": [...], "kwargs": {...},
  "requirements": "requirements.txt" | null, "source_dir": "src" | null, "output": "/opt/ml/processing/output/result"}``
  ``{"kind": "notebook", "notebook": "analysis.ipynb", "parameters": {...}, "outputs": [...], ...}``
Argument templates are JSON where ``{"$sm": ...}`` objects stand for values known only at run time:
  ``{"$sm": "value", "index": 0, "type": "Integer"}``: the ``--value 0 v:<text>`` pair SageMaker resolved
  (a pipeline parameter, a step property, ``Join``, ``JsonGet``), converted to the type;
  ``{"$sm": "result", "path": "/opt/ml/processing/input/fn-prepare/result.json", "keys": ["a", 0]}``:
  another function step's return value (its output mounted as an input), indexed by ``keys``;
  ``{"$sm": "literal", "value": {...}}``: a literal dict that itself has a ``$sm`` key.
The return value (or a notebook's ``outputs`` variables) goes to ``<output>/result.json`` as
``{"Result": value}``, the key SageMaker SDK v3's ``@step`` writes (its results.json), so ``JsonGet`` paths read
``Result['key']``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import html
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import time
import traceback
from typing import Any

RESULT_FILE = "result.json"
RETURN_KEY = "Result"
#: Where SageMaker takes a processing job's ExitMessage from.
EXIT_MESSAGE_FILE = "/opt/ml/output/message"


class RunnerError(Exception):
    """A problem with the step's inputs (not with the user's code): reported in one line."""


# ---- run-time values ------------------------------------------------------------------------------


def convert(text: str, type_name: str) -> Any:
    """A resolved ``--value`` as the type the compiler recorded (SageMaker passes every value as text)."""
    if type_name == "String":
        return text
    if type_name == "Integer":
        return int(float(text)) if re.fullmatch(r"-?\d+\.0*", text) else int(text)
    if type_name == "Float":
        return float(text)
    if type_name == "Boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise RunnerError(f"{text!r} is not a Boolean")
    # "Auto": a step property or JsonGet of unknown type: JSON when it parses, the text otherwise.
    try:
        return json.loads(text)
    except ValueError:
        return text


def resolve(template: Any, values: dict[int, str]) -> Any:
    """An argument template with its run-time values filled in."""
    if isinstance(template, list):
        return [resolve(item, values) for item in template]
    if not isinstance(template, dict):
        return template
    kind = template.get("$sm")
    if kind is None:
        return {key: resolve(item, values) for key, item in template.items()}
    if kind == "literal":
        return template["value"]
    if kind == "value":
        index = int(template["index"])
        if index not in values:
            raise RunnerError(f"argument value {index} was not passed (--value {index} v:...)")
        try:
            return convert(values[index], template.get("type", "Auto"))
        except (ValueError, RunnerError) as exc:
            raise RunnerError(f"argument value {index}: {exc}") from None
    if kind == "result":
        path = template["path"]
        if not os.path.isfile(path):
            raise RunnerError(f"the result of step {template.get('step')!r} is not at {path}")
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle).get(RETURN_KEY)
        for key in template.get("keys") or []:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                raise RunnerError(f"the result of step {template.get('step')!r} has no [{key!r}]") from None
        return value
    raise RunnerError(f"unknown argument template {kind!r}")


def parse_values(pairs: list[list[str]] | None) -> dict[int, str]:
    values: dict[int, str] = {}
    for index, text in pairs or []:
        if not text.startswith("v:"):  # the compiler prefixes every value, so '' and '--x' pass unharmed
            raise RunnerError(f"--value {index}: expected 'v:<text>', got {text!r}")
        values[int(index)] = text[2:]
    return values


# ---- requirements -----------------------------------------------------------------------------------

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def missing_requirements(path: str) -> list[str]:
    """Requirement lines whose distribution is not installed (versions are left to pip)."""
    from importlib import metadata

    missing = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            match = _NAME.match(line)
            if match is None:
                missing.append(line)
                continue
            try:
                metadata.version(match.group(1))
            except metadata.PackageNotFoundError:
                missing.append(line)
    return missing


def install_requirements(path: str) -> None:
    missing = missing_requirements(path)
    if not missing:
        print(f"[runner] requirements already installed: {path}", flush=True)
        return
    if os.environ.get("SAGEMAKER_LOCAL_ENGINE"):
        # The local engine runs jobs with its own interpreter: installing would change the engine's environment.
        raise RunnerError(f"requirements not installed in the local engine's Python: {', '.join(missing)}; "
                          "install them there (the local engine never installs a job's requirements)")
    print(f"[runner] installing {', '.join(missing)}", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-input", "-r", path], check=True)


# ---- function steps ----------------------------------------------------------------------------------


def run_function(manifest: dict[str, Any], code_dir: str, values: dict[int, str]) -> Any:
    for extra in (manifest.get("source_dir"), None):
        entry = os.path.join(code_dir, extra) if extra else code_dir
        if entry not in sys.path:
            sys.path.insert(0, entry)
    args = resolve(manifest.get("args") or [], values)
    kwargs = resolve(manifest.get("kwargs") or {}, values)
    path = os.path.join(code_dir, manifest["module"])
    spec = importlib.util.spec_from_file_location("_sagemaker_function", path)
    if spec is None or spec.loader is None:
        raise RunnerError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    function = getattr(module, manifest["function"])
    print(f"[runner] calling {manifest['function']}({_describe(args, kwargs)})", flush=True)
    return function(*args, **kwargs)


def _describe(args: list[Any], kwargs: dict[str, Any]) -> str:
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---- notebook steps ----------------------------------------------------------------------------------


def parameters_cell(parameters: dict[str, Any]) -> dict[str, Any]:
    """The cell injected after the one tagged ``parameters`` (papermill's convention and tag names)."""
    lines = ["# Parameters", *(f"{name} = {value!r}" for name, value in parameters.items())]
    return {"cell_type": "code", "execution_count": None, "id": "injected-parameters",
            "metadata": {"tags": ["injected-parameters"]}, "outputs": [],
            "source": "\n".join(lines) + "\n"}


def inject_parameters(notebook: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    cells = notebook.setdefault("cells", [])
    cells[:] = [c for c in cells if "injected-parameters" not in (c.get("metadata") or {}).get("tags", [])]
    at = next((i + 1 for i, c in enumerate(cells) if "parameters" in (c.get("metadata") or {}).get("tags", [])), 0)
    cells.insert(at, parameters_cell(parameters))
    return notebook


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source") or ""
    return "".join(source) if isinstance(source, list) else source


def _translate(source: str) -> str:
    """``!command`` lines run through the shell; IPython magics (``%``) are not supported without IPython."""
    out = []
    for line in source.splitlines():
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith("!"):
            # stdout=PIPE, stderr=STDOUT: the command's output becomes the cell's stream, as in Jupyter.
            out.append(f"{indent}print(__import__('subprocess').run({stripped[1:]!r}, shell=True, check=True, "
                       "stdout=-1, stderr=-2, text=True).stdout, end='')")
        elif stripped.startswith("%"):
            raise RunnerError(f"IPython magic {stripped.split()[0]!r} is not supported by the notebook runner "
                              "(it executes cells with plain Python)")
        else:
            out.append(line)
    return "\n".join(out)


def execute_cell(source: str, namespace: dict[str, Any]) -> tuple[list[dict[str, Any]], BaseException | None]:
    """Run one code cell in ``namespace`` as a kernel would: streams captured, the last expression's value
    shown as the cell's result. Returns (nbformat outputs, the exception that stopped it)."""
    outputs: list[dict[str, Any]] = []
    stdout, stderr = io.StringIO(), io.StringIO()
    error: BaseException | None = None
    result: Any = None
    try:
        tree = ast.parse(_translate(source), mode="exec")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            exec(compile(tree, "<cell>", "exec"), namespace)
            if last is not None:
                result = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
    except BaseException as exc:
        error = exc
    for name, stream in (("stdout", stdout), ("stderr", stderr)):
        if stream.getvalue():
            outputs.append({"output_type": "stream", "name": name, "text": stream.getvalue()})
    if error is None and result is not None:
        outputs.append({"output_type": "execute_result", "execution_count": None, "metadata": {},
                        "data": {"text/plain": repr(result)}})
    if error is not None:
        outputs.append({"output_type": "error", "ename": type(error).__name__, "evalue": str(error),
                        "traceback": traceback.format_exception(type(error), error, error.__traceback__)})
    return outputs, error


def run_notebook(notebook: dict[str, Any], parameters: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any],
                                                                                  BaseException | None]:
    """Execute ``notebook`` with ``parameters`` injected; returns (executed notebook, namespace, error)."""
    inject_parameters(notebook, parameters)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    error: BaseException | None = None
    count = 0
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "code":
            continue
        if error is not None:  # cells after a failure stay unexecuted, as papermill leaves them
            cell["execution_count"], cell["outputs"] = None, []
            continue
        count += 1
        started = time.time()
        cell["execution_count"] = count
        cell["outputs"], error = execute_cell(_source(cell), namespace)
        for output in cell["outputs"]:
            if output["output_type"] == "execute_result":
                output["execution_count"] = count
        cell.setdefault("metadata", {})["execution"] = {"duration_seconds": round(time.time() - started, 3)}
    notebook.setdefault("metadata", {})["sagemaker_mlops"] = {
        "parameters": parameters, "status": "failed" if error else "completed"}
    return notebook, namespace, error


def notebook_html(notebook: dict[str, Any], title: str) -> str:
    """A self-contained HTML view of an executed notebook (sources, streams, results, errors)."""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:auto}pre{background:#f6f6f6;"
             "padding:.5em;overflow-x:auto}.out{background:#fff;border-left:3px solid #ccc}"
             ".err{background:#fdd}.md{white-space:pre-wrap}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for cell in notebook.get("cells") or []:
        source = html.escape(_source(cell))
        if cell.get("cell_type") == "markdown":
            parts.append(f"<div class='md'>{source}</div>")
            continue
        if cell.get("cell_type") != "code":
            continue
        count = cell.get("execution_count")
        parts.append(f"<p>In [{count if count is not None else ' '}]:</p><pre>{source}</pre>")
        for output in cell.get("outputs") or []:
            kind = output.get("output_type")
            if kind == "stream":
                text = output.get("text", "")
            elif kind in ("execute_result", "display_data"):
                text = (output.get("data") or {}).get("text/plain", "")
            elif kind == "error":
                text = "".join(output.get("traceback") or [f"{output.get('ename')}: {output.get('evalue')}"])
                parts.append(f"<pre class='out err'>{html.escape(text)}</pre>")
                continue
            else:
                continue
            text = "".join(text) if isinstance(text, list) else text
            parts.append(f"<pre class='out'>{html.escape(text)}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def notebook_step(manifest: dict[str, Any], code_dir: str, values: dict[int, str]) -> Any:
    """Run the step's notebook, write ``<name>.ipynb`` and ``<name>.html`` to the output directory; the
    ``outputs`` variables are its return value. A failing cell fails the step after both files are written."""
    parameters = resolve(manifest.get("parameters") or {}, values)
    source_dir = manifest.get("source_dir")
    if source_dir:
        sys.path.insert(0, os.path.join(code_dir, source_dir))
    name = manifest["notebook"]
    with open(os.path.join(code_dir, name), encoding="utf-8") as handle:
        notebook = json.load(handle)
    print(f"[runner] executing {name} with parameters {_short(parameters)}", flush=True)
    previous = os.getcwd()
    os.chdir(os.path.join(code_dir, source_dir) if source_dir else code_dir)  # relative paths as in Jupyter
    try:
        executed, namespace, error = run_notebook(notebook, parameters)
    finally:
        os.chdir(previous)
    output = manifest["output"]
    os.makedirs(output, exist_ok=True)
    stem = os.path.splitext(os.path.basename(name))[0]
    with open(os.path.join(output, f"{stem}.ipynb"), "w", encoding="utf-8") as handle:
        json.dump(executed, handle, indent=1)
    with open(os.path.join(output, f"{stem}.html"), "w", encoding="utf-8") as handle:
        handle.write(notebook_html(executed, name))
    if error is not None:
        raise error
    result = {}
    for variable in manifest.get("outputs") or []:
        if variable not in namespace:
            raise RunnerError(f"the notebook defines no variable {variable!r} (listed in outputs)")
        result[variable] = namespace[variable]
    return result


# ---- main -----------------------------------------------------------------------------------------------


def write_result(output: str, value: Any) -> None:
    os.makedirs(output, exist_ok=True)
    try:
        text = json.dumps({RETURN_KEY: value})
    except (TypeError, ValueError) as exc:
        raise RunnerError(f"the return value is not JSON-serialisable: {exc}") from None
    with open(os.path.join(output, RESULT_FILE), "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"[runner] result: {_short(value)} -> {os.path.join(output, RESULT_FILE)}", flush=True)


def _exit_message(text: str) -> None:
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(EXIT_MESSAGE_FILE), exist_ok=True)
        with open(EXIT_MESSAGE_FILE, "w", encoding="utf-8") as handle:
            handle.write(text[:1024])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run a function or notebook step (airflow-sagemaker-mlops)")
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--value", nargs=2, action="append", metavar=("INDEX", "v:TEXT"))
    options = parser.parse_args(argv)
    code_dir = os.path.dirname(os.path.abspath(options.manifest))
    try:
        with open(options.manifest, encoding="utf-8") as handle:
            manifest = json.load(handle)
        values = parse_values(options.value)
        if manifest.get("requirements"):
            install_requirements(os.path.join(code_dir, manifest["requirements"]))
        if manifest.get("kind") == "notebook":
            value = notebook_step(manifest, code_dir, values)
        else:
            value = run_function(manifest, code_dir, values)
        write_result(manifest["output"], value)
    except RunnerError as exc:
        print(f"[runner] {exc}", file=sys.stderr, flush=True)
        _exit_message(str(exc))
        return 2
    except BaseException as exc:
        traceback.print_exc()
        _exit_message(f"{type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
