"""DAG parse time of a SageMakerPipelineGroup, against a plain Airflow DAG and against SageMaker SDK v3.

Usage: ``.venv/bin/python bench/parse_time.py [--reps 5] [--sdk-reps 3] [--steps 50] [--no-sdk] [--profile]``

Measures, each in fresh interpreters (one subprocess per measurement, median of the repetitions):

(a) importing a DAG file with one 50-step SageMakerPipelineGroup (chained ProcessingSteps, each reading the
    previous step's output through a property reference; the group compiles when its ``with`` block ends);
(b) the same DAG shape (one DAG, one TaskGroup, 50 chained tasks) built from EmptyOperators;
(c) a file that builds the same 50-step pipeline with SageMaker SDK v3 offline and serialises
    ``Pipeline.definition()`` (what a DAG file would do if it used the SDK at parse time).

"Parsing" is what Airflow's DAG processor does: import the file in a fresh interpreter. Two figures per
variant: the file's own import time, measured inside the process after ``import airflow.sdk`` has been
done there (Airflow has it imported before it parses anything), and the whole-process wall time (interpreter
start, ``import airflow.sdk``, the file, exit), measured from outside. Each variant runs once unmeasured
first, so ``.pyc`` files and the OS file cache are warm for all of them alike.

Also the compile time of 250/500/1,000/2,000-step groups in one process (``group.compile()`` on a built
group), to show linear growth. With ``--profile`` (or when a target is missed) a cProfile of compiling the
1,000-step group is printed.

Results go to stdout as a markdown table and to ``bench/results/parse_time.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "parse_time.md"

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::111122223333:role/SmPipeline"

TARGET_VS_PLAIN = 1.2  # (a) at most 1.2x (b)
TARGET_VS_SDK = 10.0  # (c) at least 10x (a)
TARGET_COMPILE_1000_S = 0.3

# -- generated files ------------------------------------------------------------------------------------
GROUP_DAG = '''
from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_sagemaker_mlops import PipelineParameter, ProcessingStep, SageMakerPipelineGroup

IMAGE = {image!r}
ROLE = {role!r}


def job(i, source):
    return {{
        "ProcessingResources": {{"ClusterConfig": {{"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                                 "VolumeSizeInGB": 30}}}},
        "AppSpecification": {{"ImageUri": IMAGE}},
        "RoleArn": ROLE,
        "ProcessingInputs": [{{"InputName": "in", "S3Input": {{
            "S3Uri": source, "LocalPath": "/opt/ml/processing/input", "S3DataType": "S3Prefix",
            "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated", "S3CompressionType": "None"}}}}],
        "ProcessingOutputConfig": {{"Outputs": [{{"OutputName": "out", "S3Output": {{
            "S3Uri": f"s3://bucket/bench/{{i}}", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}}}]}},
    }}


with DAG("bench_group", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(group_id="pipeline", pipeline_name="bench", role_arn=ROLE,
                                parameters={{"InputData": PipelineParameter.string("s3://bucket/raw/")}}) as g:
        prev = None
        for i in range({steps}):
            source = (g.parameter("InputData") if prev is None
                      else prev.properties.ProcessingOutputConfig.Outputs["out"].S3Output.S3Uri)
            step = ProcessingStep(task_id=f"step_{{i:04d}}", job=job(i, source))
            if prev is not None:
                prev >> step
            prev = step
'''

PLAIN_DAG = '''
from __future__ import annotations

import pendulum
from airflow_sagemaker_mlops.compat import EmptyOperator
from airflow.sdk import DAG, TaskGroup

with DAG("bench_plain", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with TaskGroup(group_id="pipeline"):
        prev = None
        for i in range({steps}):
            step = EmptyOperator(task_id=f"step_{{i:04d}}")
            if prev is not None:
                prev >> step
            prev = step
'''

# Offline as in tests/compiler/test_sdk_equivalence.py: a closed endpoint port, no role validation, telemetry
# sends replaced by a no-op (the SDK's own opt-out is a defaults config, which makes it ~3x slower).
SDK_BUILD = '''
from __future__ import annotations

import json
import os
import warnings

os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
os.environ["SAGEMAKER_VALIDATE_ROLE"] = "false"
warnings.simplefilter("ignore")

import boto3
import sagemaker.core.telemetry.telemetry_logging as telemetry
from sagemaker.core.processing import Processor
from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
from sagemaker.core.workflow.parameters import ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep

telemetry._send_telemetry_request = lambda *args, **kwargs: None
IMAGE = {image!r}
ROLE = {role!r}
session = PipelineSession(boto_session=boto3.Session(region_name="us-east-1"), default_bucket="bucket")
input_data = ParameterString("InputData", "s3://bucket/raw/")
steps = []
prev = None
for i in range({steps}):
    source = input_data if prev is None else prev.properties.ProcessingOutputConfig.Outputs["out"].S3Output.S3Uri
    processor = Processor(role=ROLE, image_uri=IMAGE, instance_count=1, instance_type="ml.m5.large",
                          sagemaker_session=session)
    args = processor.run(
        inputs=[ProcessingInput(input_name="in", s3_input=ProcessingS3Input(
            s3_uri=source, local_path="/opt/ml/processing/input", s3_data_type="S3Prefix"))],
        outputs=[ProcessingOutput(output_name="out", s3_output=ProcessingS3Output(
            s3_uri=f"s3://bucket/bench/{{i}}", local_path="/opt/ml/processing/output", s3_upload_mode="EndOfJob"))],
    )
    prev = ProcessingStep(name=f"step_{{i:04d}}", step_args=args)
    steps.append(prev)
DEFINITION = Pipeline(name="bench", parameters=[input_data], steps=steps, sagemaker_session=session).definition()
assert len(json.loads(DEFINITION)["Steps"]) == {steps}
'''

# Runs in the measured subprocess: import airflow.sdk first (Airflow's parser has it), then time the file.
DRIVER = '''
import importlib.util, json, sys, time
started = time.perf_counter()
import airflow.sdk  # noqa: F401
imported = time.perf_counter()
cpu = time.process_time()
spec = importlib.util.spec_from_file_location("bench_dag_file", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["bench_dag_file"] = module
spec.loader.exec_module(module)
done = time.perf_counter()
print(json.dumps({"airflow_sdk_import": imported - started, "file_import": done - imported,
                  "file_cpu": time.process_time() - cpu}))
'''

# Compile time in one process: build each group once, then time group.compile() on it.
COMPILE = '''
import cProfile, io, json, pstats, statistics, sys, time
import pendulum
from airflow.sdk import DAG
from airflow_sagemaker_mlops import PipelineParameter, ProcessingStep, SageMakerPipelineGroup

sizes, reps, profile = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
IMAGE, ROLE = {image!r}, {role!r}


def job(i, source):
    return {{
        "ProcessingResources": {{"ClusterConfig": {{"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                                 "VolumeSizeInGB": 30}}}},
        "AppSpecification": {{"ImageUri": IMAGE}},
        "RoleArn": ROLE,
        "ProcessingInputs": [{{"InputName": "in", "S3Input": {{"S3Uri": source, "LocalPath": "/opt/ml/processing/input",
                                                            "S3DataType": "S3Prefix"}}}}],
        "ProcessingOutputConfig": {{"Outputs": [{{"OutputName": "out", "S3Output": {{
            "S3Uri": f"s3://bucket/bench/{{i}}", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}}}]}},
    }}


def build(n):
    started = time.perf_counter()
    with DAG(f"bench_{{n}}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        with SageMakerPipelineGroup(group_id="pipeline", pipeline_name="bench", role_arn=ROLE,
                                    parameters={{"InputData": PipelineParameter.string("s3://bucket/raw/")}}) as g:
            prev = None
            for i in range(n):
                source = (g.parameter("InputData") if prev is None
                          else prev.properties.ProcessingOutputConfig.Outputs["out"].S3Output.S3Uri)
                step = ProcessingStep(task_id=f"step_{{i:05d}}", job=job(i, source))
                if prev is not None:
                    prev >> step
                prev = step
    return g, time.perf_counter() - started


out = {{}}
for n in sizes:
    group, with_block = build(n)
    times, cpu = [], []
    for _ in range(reps):
        started, cpu_started = time.perf_counter(), time.process_time()
        compiled = group.compile()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    assert len(compiled.definition.all_steps()) == n
    started = time.perf_counter()
    compiled.definition.to_json()
    to_json = time.perf_counter() - started
    out[n] = {{"compile": statistics.median(times), "compile_min": min(times), "compile_cpu": statistics.median(cpu),
              "with_block": with_block,
              "to_json": to_json}}
    if profile and n == 1000:
        profiler = cProfile.Profile()
        profiler.enable()
        group.compile()
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        out["profile"] = text.getvalue()
print(json.dumps(out))
'''


# -- running --------------------------------------------------------------------------------------------
def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    })
    # The warm-up run must be able to write .pyc files, or every measured run would compile sources again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 600) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return wall, proc.stdout.strip().splitlines()[-1]


def measure_file(path: Path, reps: int, env: dict[str, str]) -> dict[str, Any]:
    cmd = [sys.executable, "-c", DRIVER, str(path)]
    _run(cmd, env)  # warm-up: .pyc files, OS file cache, airflow.cfg in the fresh AIRFLOW_HOME
    samples = []
    for _ in range(reps):
        wall, line = _run(cmd, env)
        samples.append({**json.loads(line), "process_wall": wall})
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]} | {"reps": reps}


def measure_compile(sizes: list[int], reps: int, profile: bool, env: dict[str, str]) -> dict[str, Any]:
    code = COMPILE.format(image=IMAGE, role=ROLE)
    _, line = _run([sys.executable, "-c", code, json.dumps(sizes), str(reps), "1" if profile else "0"], env)
    return json.loads(line)


def _load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"
    except OSError:  # pragma: no cover - not on every platform
        return "load average n/a"


def report(files: dict[str, dict[str, Any]], compile_times: dict[str, Any], steps: int, started: str) -> str:
    a, b, c = files["a"], files["b"], files.get("c")
    lines = [
        "# DAG parse time: SageMakerPipelineGroup vs plain Airflow vs SageMaker SDK v3",
        "",
        f"Generated by `bench/parse_time.py` on {started}; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {_load()} at the end of the run. Median of {a['reps']} fresh processes per "
        f"row (SDK: {c['reps'] if c else 0}). Other processes share this machine: compare rows of one run.",
        "",
        f"## Parsing a DAG file ({steps} steps)",
        "",
        "| variant | file import (after `import airflow.sdk`) | file import CPU | whole process wall |",
        "|---|---:|---:|---:|",
        f"| (a) SageMakerPipelineGroup, {steps} chained ProcessingSteps | {a['file_import']:.3f} s "
        f"| {a['file_cpu']:.3f} s | {a['process_wall']:.2f} s |",
        f"| (b) plain TaskGroup, {steps} chained EmptyOperators | {b['file_import']:.3f} s "
        f"| {b['file_cpu']:.3f} s | {b['process_wall']:.2f} s |",
    ]
    if c:
        lines.append(f"| (c) SageMaker SDK v3: build {steps} ProcessingSteps + `definition()` | "
                     f"{c['file_import']:.3f} s | {c['file_cpu']:.3f} s | {c['process_wall']:.2f} s |")
    lines += ["", "| ratio | file import | whole process | target |", "|---|---:|---:|---|",
              f"| a / b | {a['file_import'] / b['file_import']:.2f}x | "
              f"{a['process_wall'] / b['process_wall']:.2f}x | <= {TARGET_VS_PLAIN}x |"]
    if c:
        lines.append(f"| c / a | {c['file_import'] / a['file_import']:.1f}x | "
                     f"{c['process_wall'] / a['process_wall']:.1f}x | >= {TARGET_VS_SDK:.0f}x |")
    lines += [
        "",
        f"`import airflow.sdk` itself took {a['airflow_sdk_import']:.2f} s (a) / {b['airflow_sdk_import']:.2f} s "
        "(b) of the whole-process time.",
        "",
        "## Compiling a group in one process",
        "",
        "Wall time is disturbed by whatever else runs on the machine; the minimum and the CPU time less so.",
        "",
        "| steps | `group.compile()` median | min | CPU (median) | min per step | `with` block (operators + "
        "compile) | `to_json()` |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, t in compile_times.items():
        if n == "profile":
            continue
        lines.append(f"| {int(n):,} | {t['compile'] * 1000:.0f} ms | {t['compile_min'] * 1000:.0f} ms | "
                     f"{t['compile_cpu'] * 1000:.0f} ms | {t['compile_min'] / int(n) * 1e6:.0f} us | "
                     f"{t['with_block']:.2f} s | {t['to_json'] * 1000:.0f} ms |")
    lines.append(f"\nTarget: compiling 1,000 steps in under {TARGET_COMPILE_1000_S} s, growing linearly.")
    if "profile" in compile_times:
        lines += ["", "## cProfile of compiling the 1,000-step group", "", "```",
                  compile_times["profile"].strip(), "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="fresh processes per variant (a, b)")
    parser.add_argument("--sdk-reps", type=int, default=3, help="fresh processes for the SDK variant (c)")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--compile-sizes", default="250,500,1000,2000")
    parser.add_argument("--compile-reps", type=int, default=7)
    parser.add_argument("--no-sdk", action="store_true", help="skip (c), e.g. without the sdk extra")
    parser.add_argument("--profile", action="store_true", help="always print the cProfile of compiling 1,000 steps")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    with tempfile.TemporaryDirectory(prefix="parse-time-") as tmp:
        tmp_path = Path(tmp)
        env = _env(tmp_path / "airflow-home")
        sources = {
            "a": GROUP_DAG.format(image=IMAGE, role=ROLE, steps=args.steps),
            "b": PLAIN_DAG.format(steps=args.steps),
            "c": SDK_BUILD.format(image=IMAGE, role=ROLE, steps=args.steps),
        }
        if args.no_sdk:
            del sources["c"]
        files: dict[str, dict[str, Any]] = {}
        for key, source in sources.items():
            path = tmp_path / f"bench_{key}.py"
            path.write_text(textwrap.dedent(source).lstrip())
            reps = args.sdk_reps if key == "c" else args.reps
            print(f"measuring ({key}) {path.name}: {reps} fresh processes ...", file=sys.stderr)
            files[key] = measure_file(path, reps, env)
        sizes = [int(s) for s in args.compile_sizes.split(",")]
        print(f"measuring compile of {sizes} steps ...", file=sys.stderr)
        compile_times = measure_compile(sizes, args.compile_reps, args.profile, env)
        slow = compile_times.get("1000", {}).get("compile_min", 0) > TARGET_COMPILE_1000_S
        if slow and "profile" not in compile_times:
            compile_times = measure_compile(sizes, args.compile_reps, True, env)

    text = report(files, compile_times, args.steps, started)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
