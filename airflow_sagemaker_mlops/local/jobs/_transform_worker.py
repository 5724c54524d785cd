"""Runs a SageMaker inference entry point over prepared batch-transform requests.

Started by the transform runner inside the job sandbox as ``python _transform_worker.py <manifest>``;
it uses the standard library only (the user's environment need not have this package). It follows the
SageMaker inference toolkit's handler conventions: ``model_fn(model_dir)``, ``input_fn(body,
content_type)``, ``predict_fn(data, model)``, ``output_fn(prediction, accept)`` or a single
``transform_fn(model, body, content_type, accept)``, with defaults for the ones the script leaves out.

Manifest: {"code_dir", "program", "model_dir", "requests": [{"body", "response", "content_type",
"accept"}]} with file paths for the request and response bodies.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pickle
import sys
import traceback

_UTF8_TYPES = ("application/json", "text/csv")  # bodies the toolkit hands over as str


def _base_type(content_type):
    return (content_type or "").split(";")[0].strip().lower()


def _load_module(code_dir, program):
    sys.path.insert(0, code_dir)
    path = os.path.join(code_dir, program)
    name = os.path.splitext(os.path.basename(program))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load inference entry point {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def default_model_fn(model_dir):
    candidates = sorted(
        f for f in os.listdir(model_dir) if f.endswith((".joblib", ".pkl", ".pickle"))
    )
    if not candidates:
        raise RuntimeError(
            "the entry point defines no model_fn and the model directory has no .joblib/.pkl file"
        )
    path = os.path.join(model_dir, candidates[0])
    if path.endswith(".joblib"):
        import joblib

        return joblib.load(path)
    with open(path, "rb") as handle:
        return pickle.load(handle)


def default_input_fn(body, content_type):
    kind = _base_type(content_type)
    if kind == "application/json":
        return json.loads(body)
    if kind == "application/jsonlines":
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if kind == "text/csv":
        rows = [[float(v) for v in line.split(",")] for line in body.splitlines() if line.strip()]
        try:
            import numpy

            return numpy.array(rows)
        except ImportError:
            return rows
    if kind == "application/x-npy":
        import numpy

        return numpy.load(io.BytesIO(body), allow_pickle=False)
    if kind.startswith("text/"):
        return body.decode("utf-8") if isinstance(body, bytes) else body
    raise ValueError(f"the default input_fn cannot decode content type {content_type!r}")


def default_predict_fn(data, model):
    if hasattr(model, "predict"):
        return model.predict(data)
    if callable(model):
        return model(data)
    raise RuntimeError("the default predict_fn needs a model with .predict() or a callable model")


def _plain(value):
    return value.tolist() if hasattr(value, "tolist") else value


def default_output_fn(prediction, accept):
    kind = _base_type(accept)
    prediction = _plain(prediction)
    if kind in ("application/json", ""):
        return json.dumps(prediction)
    if kind == "application/jsonlines":
        rows = prediction if isinstance(prediction, list) else [prediction]
        return "\n".join(json.dumps(r) for r in rows)
    if kind == "text/csv":
        rows = prediction if isinstance(prediction, list) else [prediction]
        return "\n".join(",".join(str(v) for v in r) if isinstance(r, list) else str(r) for r in rows)
    if kind == "application/x-npy":
        import numpy

        buf = io.BytesIO()
        numpy.save(buf, numpy.asarray(prediction))
        return buf.getvalue()
    return str(prediction)


def _to_bytes(result):
    if isinstance(result, tuple) and len(result) == 2:  # (body, content_type) as the toolkit allows
        result = result[0]
    if isinstance(result, bytes):
        return result
    if isinstance(result, bytearray):
        return bytes(result)
    if isinstance(result, str):
        return result.encode("utf-8")
    return json.dumps(_plain(result)).encode("utf-8")


def main(manifest_path):
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    module = _load_module(manifest["code_dir"], manifest["program"])
    model_fn = getattr(module, "model_fn", default_model_fn)
    model = model_fn(manifest["model_dir"])
    transform_fn = getattr(module, "transform_fn", None)
    input_fn = getattr(module, "input_fn", default_input_fn)
    predict_fn = getattr(module, "predict_fn", default_predict_fn)
    output_fn = getattr(module, "output_fn", default_output_fn)
    for request in manifest["requests"]:
        with open(request["body"], "rb") as handle:
            body = handle.read()
        content_type, accept = request.get("content_type"), request.get("accept")
        if _base_type(content_type) in _UTF8_TYPES:
            body = body.decode("utf-8")
        if transform_fn is not None:
            result = transform_fn(model, body, content_type, accept)
        else:
            result = output_fn(predict_fn(input_fn(body, content_type), model), accept)
        with open(request["response"], "wb") as handle:
            handle.write(_to_bytes(result))
    print(f"[local] transformed {len(manifest['requests'])} request(s)", flush=True)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception:
        traceback.print_exc()
        sys.stdout.flush()
        sys.exit(1)
