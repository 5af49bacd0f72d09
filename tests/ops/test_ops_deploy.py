"""Deploy files, validated without a cluster: Kubernetes manifests against the Kubernetes schemas
(kubernetes-validate) and KEDA's CRD schemas (vendored in deploy/k8s/schemas), compose, Prometheus
rules and the Grafana dashboard against the series the code defines."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from prometheus_client import REGISTRY

import app.metrics  # noqa: F401 - registers every series

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S_VERSION = "1.31"
KEDA_SCHEMAS = {(s["group"], s["version"], s["kind"]): s["openAPIV3Schema"] for s in (
    json.loads(p.read_text()) for p in sorted((DEPLOY / "k8s" / "schemas").glob("keda-*.json")))}


def _kustomize(path: Path) -> list[dict[str, Any]]:
    """The rendered base (kubectl's built-in kustomize), else the listed resources as they are."""
    kubectl = shutil.which("kubectl")
    if kubectl:
        out = subprocess.run([kubectl, "kustomize", str(path)], check=True, capture_output=True, text=True).stdout
        return [d for d in yaml.safe_load_all(out) if d]
    docs: list[dict[str, Any]] = []
    for name in yaml.safe_load((path / "kustomization.yaml").read_text())["resources"]:
        docs += [d for d in yaml.safe_load_all((path / name).read_text()) if d]
    return docs


MANIFESTS = _kustomize(DEPLOY / "k8s" / "base")


def _id(doc: dict[str, Any]) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


@pytest.mark.parametrize("doc", MANIFESTS, ids=_id)
def test_manifest_is_valid(doc: dict[str, Any]) -> None:
    group, _, version = doc["apiVersion"].rpartition("/")
    if group == "keda.sh":
        jsonschema.validate(doc, KEDA_SCHEMAS[(group, version, doc["kind"])])
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_every_kind_the_issue_asks_for_is_there() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in MANIFESTS}
    for wanted in [("Deployment", "recap-api"), ("HorizontalPodAutoscaler", "recap-api"),
                   ("PodDisruptionBudget", "recap-api"), ("Deployment", "recap-worker-cpu"),
                   ("ScaledObject", "recap-worker-cpu"), ("ScaledJob", "recap-worker-gpu"), ("Job", "recap-migrate"),
                   ("Secret", "recap-secrets"), ("NetworkPolicy", "default-deny")]:
        assert wanted in kinds
    assert len(MANIFESTS) >= 18


def _by(kind: str, name: str) -> dict[str, Any]:
    return next(d for d in MANIFESTS if d["kind"] == kind and d["metadata"]["name"] == name)


def test_api_probes_and_worker_scaling_are_wired() -> None:
    api = _by("Deployment", "recap-api")["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    scaled = _by("ScaledObject", "recap-worker-cpu")["spec"]
    assert scaled["scaleTargetRef"]["name"] == "recap-worker-cpu"
    [trigger] = scaled["triggers"]
    assert trigger["type"] == "prometheus" and 'state="ready"' in trigger["metadata"]["query"]
    gpu = _by("ScaledJob", "recap-worker-gpu")["spec"]["jobTargetRef"]["template"]["spec"]["containers"][0]
    assert gpu["command"] == ["recap", "worker", "--queue", "gpu", "--burst"]
    assert gpu["resources"]["limits"]["nvidia.com/gpu"] == "1"
    worker = _by("Deployment", "recap-worker-cpu")["spec"]["template"]["spec"]
    config = _by("ConfigMap", "recap-config")["data"]
    assert worker["terminationGracePeriodSeconds"] > int(config["RECAP_WORKER__STOP_WAIT_SECONDS"])
    for doc in MANIFESTS:  # every pod runs as non-root
        spec = doc.get("spec", {})
        pod = (spec.get("template") or spec.get("jobTargetRef", {}).get("template") or {}).get("spec")
        if pod:
            assert pod["securityContext"]["runAsNonRoot"] is True, _id(doc)


def test_a_broken_manifest_is_refused() -> None:
    bad = json.loads(json.dumps(_by("Deployment", "recap-api")))
    bad["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)
    bad_keda = json.loads(json.dumps(_by("ScaledObject", "recap-worker-cpu")))
    bad_keda["spec"]["minReplicaCount"] = "one"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad_keda, KEDA_SCHEMAS[("keda.sh", "v1alpha1", "ScaledObject")])


# --- compose ------------------------------------------------------------------------------------

def test_compose_has_every_service_with_a_health_check() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    for name in ("api-1", "api-2", "proxy", "worker-cpu", "worker-gpu", "postgres", "valkey", "n8n", "prometheus",
                 "grafana"):
        assert "healthcheck" in services[name], name
    assert services["worker-gpu"]["profiles"] == ["gpu"]
    assert services["api-1"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for mounted in ("./proxy/haproxy.cfg", "./prometheus/prometheus.yml", "./prometheus/alerts.yaml",
                    "./grafana/recap.json"):
        assert (DEPLOY / mounted).is_file(), mounted
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        env = DEPLOY / ".env"
        created = not env.exists()
        if created:
            env.write_text("POSTGRES_PASSWORD=x\nGRAFANA_ADMIN_PASSWORD=x\n")
        try:
            subprocess.run([docker, "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "-q"], check=True)
        finally:
            if created:
                env.unlink()


def test_dockerfile_is_multi_stage_and_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 3
    assert re.search(r"^USER 10001", text, re.M) and "slim" in text


# --- Prometheus rules and the dashboard use only series that exist -------------------------------

OUR_SERIES = {m.name for m in REGISTRY.collect() if m.name.startswith("recap_")}
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")
FOREIGN = ("up", "node_filesystem_avail_bytes", "node_filesystem_size_bytes")


def _series_in(expr: str) -> set[str]:
    names = set(re.findall(r"\b(recap_[a-z0-9_]+)", expr))
    return {n for n in names}


def _known(name: str) -> bool:
    return name in OUR_SERIES or any(name.endswith(s) and name[: -len(s)] in OUR_SERIES for s in SUFFIXES)


def test_alert_rules_are_well_formed_and_use_known_series() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
    names = []
    for group in rules["groups"]:
        assert group["name"] and group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}
            assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule["alert"]) and rule["annotations"]["summary"]
            assert rule["labels"]["severity"] in ("page", "ticket")
            if "for" in rule:
                assert re.fullmatch(r"\d+[smh]", rule["for"])
            expr = rule["expr"]
            assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}")
            for series in _series_in(expr):
                assert _known(series), f"{rule['alert']} uses unknown series {series}"
            names.append(rule["alert"])
    assert len(names) == len(set(names))
    joined = " ".join(names)
    for topic in ("Queue", "StageFailure", "Reconciler", "5xx", "Disk"):
        assert topic in joined
    promtool = shutil.which("promtool")
    if promtool:
        subprocess.run([promtool, "check", "rules", str(DEPLOY / "prometheus" / "alerts.yaml")], check=True)


def test_dashboard_panels_use_known_series() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "recap.json").read_text())
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for series in _series_in(target["expr"]):
                assert _known(series), f"panel {panel['title']!r} uses unknown series {series}"
                used.add(series)
    # Every series the issue names is on the dashboard.
    for wanted in ("recap_jobs_started_total", "recap_jobs_finished_total", "recap_stage_duration_seconds_bucket",
                   "recap_queue_messages", "recap_queue_oldest_ready_age_seconds", "recap_stage_runs_in_progress",
                   "recap_worker_slots_busy", "recap_reconciler_actions_total", "recap_upload_bytes_total",
                   "recap_uploads_completed_total", "recap_download_bytes_total", "recap_subscriptions",
                   "recap_alignment_confidence_bucket", "recap_webhook_deliveries_total"):
        assert wanted in used, wanted


def test_series_follow_prometheus_naming() -> None:
    for metric in REGISTRY.collect():
        if not metric.name.startswith("recap_"):
            continue
        for sample in metric.samples:
            assert not {"tenant", "tenant_id", "job_id", "user", "user_id", "email"} & set(sample.labels), sample
        if metric.type == "counter":
            assert not metric.name.endswith("_total")  # the client adds _total to the sample name
        assert not re.search(r"_(ms|milliseconds|minutes|kb|mb|gb)(_|$)", metric.name), metric.name
