"""deploy/kubernetes (docs/kubernetes.md): everything about it that can be checked without a cluster.

No Kubernetes cluster, Docker or Helm is available where the tests run. What stands in for them:
- the worker pod template goes through the cncf-kubernetes provider's own code, as the KubernetesExecutor
  reads it (``PodGenerator.deserialize_model_file``) and builds a task's pod from it (``construct_pod``);
- every manifest is checked against the Kubernetes client's models (kind, required fields, no unknown
  field anywhere: a typo is an error here, as ``kubectl apply --validate=strict`` would make it);
- the engine's container args are parsed by this package's own CLI parser, and the local engine's request
  guard is asked about the requests the cluster will send (kubelet probes, the Airflow pods' signed calls);
- the Helm values, the connection Secrets and the Dockerfile are checked for agreeing with each other and
  with the Airflow versions the project tests (tests/mwaa/constraints/).
The Helm chart's values.schema.json is not on PyPI or npm, so the values are not validated against it.
"""

from __future__ import annotations

import io
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from packaging.requirements import Requirement

from airflow_sagemaker_mlops.cli import build_parser
from airflow_sagemaker_mlops.local.guard import Guard

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "kubernetes"
CONSTRAINTS = REPO / "tests" / "mwaa" / "constraints"
NAMESPACE = "airflow"
RELEASE = "airflow"
CONNECTION_ENV = "AIRFLOW_CONN_AWS_DEFAULT"
PROVIDER_MISSING = ("apache-airflow-providers-cncf-kubernetes is not installed: it is what reads the pod template "
                    "(add it to the test extra of pyproject.toml)")


def load_all(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [doc for doc in docs if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    return yaml.safe_load((K8S / "values.yaml").read_text())


@pytest.fixture(scope="module")
def engine() -> list[dict[str, Any]]:
    return load_all("local-engine.yaml")


@pytest.fixture(scope="module")
def pod_generator() -> Any:
    module = pytest.importorskip("airflow.providers.cncf.kubernetes.pod_generator", reason=PROVIDER_MISSING)
    return module.PodGenerator


@pytest.fixture(scope="module")
def k8s_models() -> Any:
    return pytest.importorskip("kubernetes.client", reason=PROVIDER_MISSING)


def worker_image(values: dict[str, Any]) -> str:
    # What the chart writes to [kubernetes_executor] worker_container_repository/_tag.
    image = values["images"]["airflow"]
    return f"{image['repository']}:{image['tag']}"


def connection(secret: dict[str, Any]) -> dict[str, Any]:
    return json.loads(secret["stringData"][CONNECTION_ENV])


def env_of(container: Any) -> dict[str, Any]:
    return {item.name: item for item in container.env or []}


# ---- the worker pod template, as the KubernetesExecutor uses it -----------------------------------------


def test_pod_template_is_plain_yaml_the_executor_can_read() -> None:
    text = (K8S / "pod-template.yaml").read_text()
    # The chart passes podTemplate through `tpl`: plain YAML comes out unchanged, and the provider reads it as is.
    assert "{{" not in text
    assert yaml.safe_load(text)["kind"] == "Pod"


def build_worker_pod(pod_generator: Any, values: dict[str, Any], pod_override: Any = None) -> Any:
    base = pod_generator.deserialize_model_file(str(K8S / "pod-template.yaml"))
    return pod_generator.construct_pod(
        dag_id="churn_training", task_id="train.fit", pod_id="churn-training-train-fit", try_number=1,
        kube_image=worker_image(values), date=None,
        args=["airflow", "tasks", "run", "churn_training", "train.fit", "manual__2026-01-01"],
        pod_override_object=pod_override, base_worker_pod=base, namespace=NAMESPACE, scheduler_job_id="1",
        run_id="manual__2026-01-01", map_index=-1,
    )


def test_worker_pod_built_from_the_template(pod_generator: Any, values: dict[str, Any]) -> None:
    template = pod_generator.deserialize_model_file(str(K8S / "pod-template.yaml"))
    assert template.spec.containers, "the provider read no container: the file did not parse as a Pod"
    # Airflow requires the worker container of a pod template to be the first one and named "base".
    assert template.spec.containers[0].name == "base"
    pod = build_worker_pod(pod_generator, values)

    [base] = pod.spec.containers
    assert base.name == "base"  # the executor merges its args and image into the container named "base"
    assert base.image == worker_image(values) == template.spec.containers[0].image
    assert base.args[:3] == ["airflow", "tasks", "run"]
    assert pod.spec.restart_policy == "Never"
    assert pod.spec.service_account_name == values["workers"]["serviceAccount"]["name"]
    assert pod.metadata.labels["release"] == RELEASE  # what the engine's NetworkPolicy lets in

    env = env_of(base)
    assert env["AIRFLOW_IS_K8S_EXECUTOR_POD"].value == "True"  # the executor's own, merged with ours
    assert env["AIRFLOW__CORE__EXECUTOR"].value == values["executor"]
    [secret] = [s for s in values["secret"] if s["envName"] == CONNECTION_ENV]
    ref = env[CONNECTION_ENV].value_from.secret_key_ref
    assert (ref.name, ref.key) == (secret["secretName"], secret["secretKey"])
    for name, value_name, key in (("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", values["data"]["metadataSecretName"],
                                   "connection"),
                                  ("AIRFLOW__CORE__FERNET_KEY", values["fernetKeySecretName"], "fernet-key")):
        ref = env[name].value_from.secret_key_ref
        assert (ref.name, ref.key) == (value_name, key), name
    region = {e["name"]: e["value"] for e in values["env"]}["AWS_DEFAULT_REGION"]
    assert env["AWS_DEFAULT_REGION"].value == region

    mounts = {m.mount_path: m for m in base.volume_mounts}
    volumes = {v.name: v for v in pod.spec.volumes}
    config = mounts["/opt/airflow/airflow.cfg"]
    assert config.sub_path == "airflow.cfg" and config.read_only
    assert volumes[config.name].config_map.name == f"{RELEASE}-config"  # the chart's airflow.cfg
    assert "/opt/airflow/logs" in mounts and volumes[mounts["/opt/airflow/logs"].name].empty_dir is not None
    assert base.resources.requests["memory"] and base.resources.limits["memory"]
    # DAGs are baked into the image: no git-sync here (values.yaml keeps gitSync off to match).
    assert not pod.spec.init_containers and not values["dags"]["gitSync"]["enabled"]


def test_a_task_pod_override_keeps_the_template(pod_generator: Any, values: dict[str, Any],
                                                k8s_models: Any) -> None:
    # executor_config={"pod_override": ...} on a task (docs/kubernetes.md): only what it names changes.
    override = k8s_models.V1Pod(spec=k8s_models.V1PodSpec(containers=[k8s_models.V1Container(
        name="base", resources=k8s_models.V1ResourceRequirements(requests={"cpu": "1", "memory": "2Gi"},
                                                                 limits={"memory": "4Gi"}))]))
    pod = build_worker_pod(pod_generator, values, override)
    [base] = pod.spec.containers
    assert base.resources.requests == {"cpu": "1", "memory": "2Gi"}
    assert base.image == worker_image(values)
    assert CONNECTION_ENV in env_of(base)
    assert pod.spec.service_account_name == values["workers"]["serviceAccount"]["name"]


# ---- every manifest against the Kubernetes client's models ----------------------------------------------

MODELS = {"Pod": "V1Pod", "Deployment": "V1Deployment", "Service": "V1Service",
          "NetworkPolicy": "V1NetworkPolicy", "Secret": "V1Secret"}


def unknown_fields(data: Any, type_name: str, client: Any, where: str = "") -> list[str]:
    """Paths of keys no field of the model declares (the client's deserializer drops them silently)."""
    if type_name.startswith("list[") and isinstance(data, list):
        inner = type_name[5:-1]
        return [p for i, item in enumerate(data) for p in unknown_fields(item, inner, client, f"{where}[{i}]")]
    model = getattr(client, type_name, None)
    if model is None or not isinstance(data, dict):
        return []  # str, int, dict(str, str), object (IntOrString, quantities): nothing to descend into
    fields = {json_key: model.openapi_types[attr] for attr, json_key in model.attribute_map.items()}
    problems = []
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in fields:
            problems.append(f"{path} (not a field of {type_name})")
        else:
            problems.extend(unknown_fields(value, fields[key], client, path))
    return problems


def test_manifests_are_valid_kubernetes_objects(k8s_models: Any) -> None:
    api = k8s_models.ApiClient()
    seen = []
    for name in ("pod-template.yaml", "local-engine.yaml", "aws-connection.yaml"):
        for doc in load_all(name):
            type_name = MODELS[doc["kind"]]
            assert unknown_fields(doc, type_name, k8s_models) == [], f"{name}: {doc['kind']}"
            # Required fields and types: the client's models raise on a missing one.
            obj = api._ApiClient__deserialize(doc, type_name)
            assert obj.kind == doc["kind"]
            seen.append(doc["kind"])
            if doc["kind"] != "Pod":
                assert doc["metadata"]["namespace"] == NAMESPACE, f"{name}: {doc['kind']}"
    assert sorted(seen) == ["Deployment", "NetworkPolicy", "Pod", "Secret", "Secret", "Service"]


def test_the_model_check_finds_a_typo(k8s_models: Any, engine: list[dict[str, Any]]) -> None:
    deployment = json.loads(json.dumps(one(engine, "Deployment")))
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPorts"] = 8765
    deployment["spec"]["strategy"]["typ"] = "Recreate"
    problems = unknown_fields(deployment, "V1Deployment", k8s_models)
    assert problems == ["spec.strategy.typ (not a field of V1DeploymentStrategy)",
                        "spec.template.spec.containers[0].ports[0].containerPorts (not a field of V1ContainerPort)"]


# ---- the local engine as a Service ----------------------------------------------------------------------


def engine_container(engine: list[dict[str, Any]]) -> dict[str, Any]:
    [container] = one(engine, "Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def serve_args(engine: list[dict[str, Any]]) -> Any:
    container = engine_container(engine)
    assert "command" not in container  # the image's entrypoint runs `python ...` (and forwards signals)
    args = container["args"]
    assert args[:3] == ["python", "-m", "airflow_sagemaker_mlops"]
    parsed = build_parser().parse_args(args[3:])  # the real CLI: an unknown or misspelt option fails here
    assert (parsed.command, parsed.local_command) == ("local", "serve")
    return parsed


def service_dns_name(engine: list[dict[str, Any]]) -> str:
    service = one(engine, "Service")
    return f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc.cluster.local"


def test_engine_ports_agree(engine: list[dict[str, Any]]) -> None:
    args = serve_args(engine)
    container = engine_container(engine)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    [service_port] = one(engine, "Service")["spec"]["ports"]
    target = service_port["targetPort"]
    assert service_port["port"] == ports.get(target, target) == args.port == 8765
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/_local/health", probe
        assert ports.get(get["port"], get["port"]) == args.port, probe


def test_engine_listens_beyond_loopback_only_for_the_service(engine: list[dict[str, Any]]) -> None:
    args = serve_args(engine)
    assert args.host == "0.0.0.0" and args.allow_non_loopback  # the pod's loopback is unreachable from Airflow
    assert service_dns_name(engine) in args.allowed_hosts
    service = one(engine, "Service")
    assert service["spec"]["type"] == "ClusterIP"
    deployment = one(engine, "Deployment")
    assert deployment["spec"]["replicas"] == 1  # state is in memory, per process
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    policy = one(engine, "NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    [rule] = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"release": RELEASE}}}]
    assert [p["port"] for p in rule["ports"]] == [args.port]


def environ_of(request: AWSRequest, host: str) -> dict[str, Any]:
    split = urllib.parse.urlsplit(request.url)
    body = request.body or b""
    environ: dict[str, Any] = {"REQUEST_METHOD": request.method, "PATH_INFO": split.path or "/",
                               "QUERY_STRING": split.query, "RAW_URI": split.path or "/",
                               "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    environ["HTTP_HOST"] = host
    return environ


def test_the_engine_guard_admits_the_cluster_and_nothing_else(engine: list[dict[str, Any]]) -> None:
    args = serve_args(engine)
    guard = Guard(bound_host=args.host, port=args.port, allowed_hosts=args.allowed_hosts)
    # kubelet probes: Host is the pod IP, no signature, no token (a wildcard bind serves every IP literal).
    probe = {"REQUEST_METHOD": "GET", "PATH_INFO": "/_local/health", "QUERY_STRING": "",
             "HTTP_HOST": f"10.244.1.17:{args.port}", "HTTP_USER_AGENT": "kube-probe/1.31",
             "wsgi.input": io.BytesIO(b"")}
    assert guard.check(probe) is None

    # An Airflow pod, through the dev connection: signed with its credentials, to the Service's name.
    conn = connection(one(engine, "Secret"))
    endpoint = conn["extra"]["endpoint_url"]
    request = AWSRequest(method="POST", url=endpoint + "/", data=b"{}",
                         headers={"X-Amz-Target": "SageMaker.ListPipelines",
                                  "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials(conn["login"], conn["password"]), "sagemaker", conn["extra"]["region_name"]).add_auth(request)
    netloc = urllib.parse.urlsplit(endpoint).netloc
    assert guard.check(environ_of(request, netloc)) is None

    unsigned = environ_of(AWSRequest(method="POST", url=endpoint + "/", data=b"{}",
                                     headers={"X-Amz-Target": "SageMaker.ListPipelines"}), netloc)
    refusal = guard.check(unsigned)
    assert refusal is not None and refusal.status == 403  # reaching the Service is not enough
    foreign = guard.check(environ_of(request, f"evil.example:{args.port}"))
    assert foreign is not None and "Host" in foreign.message  # DNS rebinding through a page on another name
    assert guard.check({**probe, "HTTP_ORIGIN": "http://evil.example"}) is not None  # a browser page


# ---- the Helm values and the connection Secrets -------------------------------------------------------


def test_values_run_the_kubernetes_executor_with_a_triggerer(values: dict[str, Any]) -> None:
    assert values["executor"] == "KubernetesExecutor"
    # Step tasks defer by default: without a triggerer they would never resume.
    assert values["triggerer"]["enabled"] is True and values["triggerer"]["replicas"] >= 1
    assert values["triggerer"]["resources"]["requests"]["memory"]
    assert values["config"]["kubernetes_executor"]["delete_worker_pods"] == "True"
    assert values["images"]["airflow"]["tag"] == values["airflowVersion"] == values["defaultAirflowTag"]
    template = yaml.safe_load((K8S / "pod-template.yaml").read_text())
    assert template["spec"]["containers"][0]["image"] == worker_image(values)
    engine_image = engine_container(load_all("local-engine.yaml"))["image"]
    assert engine_image == worker_image(values) + "-dev"  # the same build, with PACKAGE_EXTRAS="[demo]"


def test_irsa_role_on_every_component_that_calls_aws(values: dict[str, Any]) -> None:
    # Workers (start and step tasks), the triggerer (the shared poller), the api-server (the pipeline tab).
    roles = set()
    for component in ("workers", "triggerer", "apiServer"):
        account = values[component]["serviceAccount"]
        assert account["create"] is True and account["name"].startswith("airflow-sagemaker-"), component
        roles.add(account["annotations"]["eks.amazonaws.com/role-arn"])
    [role] = roles
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", role)
    names = [values[c]["serviceAccount"]["name"] for c in ("workers", "triggerer", "apiServer")]
    assert len(set(names)) == 3  # the chart creates one account per component: names must not clash


def test_connection_secrets(values: dict[str, Any], engine: list[dict[str, Any]]) -> None:
    [entry] = [s for s in values["secret"] if s["envName"] == CONNECTION_ENV]
    [production] = load_all("aws-connection.yaml")
    development = one(engine, "Secret")
    for secret in (production, development):
        assert secret["metadata"]["name"] == entry["secretName"]
        assert entry["secretKey"] in secret["stringData"]
        assert connection(secret)["conn_type"] == "aws"
    on_aws = connection(production)
    # Credentials come from IRSA; any key or endpoint here would override them.
    assert "login" not in on_aws and "password" not in on_aws and "endpoint_url" not in on_aws["extra"]
    local = connection(development)
    endpoint = urllib.parse.urlsplit(local["extra"]["endpoint_url"])
    args = serve_args(engine)
    assert (endpoint.scheme, endpoint.hostname, endpoint.port) == ("http", service_dns_name(engine), args.port)
    assert endpoint.hostname in args.allowed_hosts
    assert on_aws["extra"]["region_name"] == local["extra"]["region_name"]


# ---- the image ----------------------------------------------------------------------------------------


def dockerfile_args() -> dict[str, str]:
    text = (K8S / "Dockerfile").read_text()
    return dict(re.findall(r'^ARG (\w+)="?([^"\n]*)"?$', text, flags=re.M))


def supported(version: str) -> bool:
    major, minor, *_ = (int(part) for part in version.split("."))
    return (major, minor) == (2, 11) or major == 3


def test_dockerfile_extends_the_official_image_under_airflows_constraints(values: dict[str, Any]) -> None:
    text = (K8S / "Dockerfile").read_text()
    args = dockerfile_args()
    assert "FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}" in text
    assert args["PYTHON_VERSION"] == "3.12"
    version = args["AIRFLOW_VERSION"]
    assert supported(version) and version == values["airflowVersion"]
    url = args["CONSTRAINTS_URL"].replace("${AIRFLOW_VERSION}", version).replace("${PYTHON_VERSION}", "3.12")
    assert url == f"https://raw.githubusercontent.com/apache/airflow/constraints-{version}/constraints-3.12.txt"
    # A version the MWAA matrix tests under exactly this file (its copy names the URL it came from).
    copy = CONSTRAINTS / f"constraints-{version}.txt"
    assert copy.exists(), f"{version} is not a tested version (no {copy.name})"
    assert f"# {url}" in copy.read_text().splitlines()[:10]
    run = re.search(r"^RUN pip install .*?(?=^\S|\Z)", text, flags=re.M | re.S).group(0)
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in run and '--constraint "${CONSTRAINTS_URL}"' in run
    assert '"/opt/airflow-sagemaker-mlops${PACKAGE_EXTRAS}"' in run and args["PACKAGE_EXTRAS"] == ""


def pins(version: str) -> dict[str, str]:
    lines = (CONSTRAINTS / f"constraints-{version}.txt").read_text().splitlines()
    return dict(line.split("==", 1) for line in lines if "==" in line and not line.startswith("#"))


def unsatisfied(requirements: list[str], pinned: dict[str, str]) -> list[str]:
    bad = []
    for text in requirements:
        req = Requirement(text)
        version = pinned.get(req.name) or pinned.get(req.name.replace("-", "_"))
        if version is not None and not req.specifier.contains(version, prereleases=True):
            bad.append(f"{req.name}=={version} (needs {req.specifier})")
    return bad


@pytest.mark.parametrize("version", ["2.11.0", "3.0.6", "3.3.1"])
def test_the_package_installs_under_each_tested_constraints_file(version: str) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert unsatisfied(project["dependencies"], pins(version)) == []
    # The development image's [demo] extra: moto for the engine, numpy for the example step scripts.
    local = project["optional-dependencies"]["local"] + ["numpy>=1.26"]
    problems = unsatisfied(local, pins(version))
    if version == "2.11.0":  # documented in the Dockerfile and docs/kubernetes.md: no engine image on 2.11
        assert problems == ["moto==5.0.11 (needs >=5.1.10)"]
    else:
        assert problems == []


def test_dockerfile_copies_only_what_exists_and_the_dockerignore_keeps() -> None:
    text = (K8S / "Dockerfile").read_text()
    sources = [src for line in re.findall(r"^COPY (?:--\S+ )*(.+)$", text, flags=re.M)
               for src in line.split()[:-1]]
    assert sources, "no COPY found"
    kept = [line[1:].rstrip("/") for line in (K8S / "Dockerfile.dockerignore").read_text().splitlines()
            if line.startswith("!")]
    for src in sources:
        assert (REPO / src).exists(), src
        assert any(src.rstrip("/") == k or src.startswith(k + "/") for k in kept), f"{src} is ignored"
    assert "dags" in sources  # baked-in DAGs: the start task uploads step code from the DAG folder
