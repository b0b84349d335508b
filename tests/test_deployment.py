"""docker-compose.yml, deploy/haproxy.cfg, deploy/prometheus.yml and the Grafana dashboard agree with each
other and with the code: the services the topology needs, private metrics ports, a config HAProxy accepts,
and a dashboard that only asks for metrics the processes have, by labels that identify nobody."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chatbot.metrics import ALLOWED_LABELS
from chatbot.observability import Instruments
from chatbot.settings import PROJECT_ROOT
from tests.topology import HAPROXY_CFG, haproxy_binary

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
DEPLOY = PROJECT_ROOT / "deploy"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_compose_has_the_whole_topology_with_private_metrics() -> None:
    services = _compose()["services"]
    expected = {"gateway1", "gateway2", "console1", "console2", "haproxy", "redis-primary", "redis-replica"}
    expected |= {"sentinel1", "sentinel2", "sentinel3", "prometheus", "grafana"}
    assert expected <= set(services)
    for name in ("gateway1", "gateway2", "console1", "console2"):
        env = services[name]["environment"]
        assert env["REDIS_SENTINELS"] == "sentinel1:26379,sentinel2:26379,sentinel3:26379"
        assert env["REDIS_MASTER_NAME"] == "stodchat" and env["METRICS_PORT"]
        # Only the load balancer is published; a process's own ports (and its metrics) never are.
        assert "ports" not in services[name]
    published = [p for s in services.values() for p in s.get("ports", [])]
    assert all(not re.search(r":(9100|9101|6379|26379)$", p) for p in published)
    staff_only = [p for p in published if p.endswith((":8001", ":9090", ":3000"))]
    assert staff_only and all(p.startswith("127.0.0.1:") for p in staff_only)
    assert "--replicaof" in services["redis-replica"]["command"]


def test_docker_compose_config_when_a_client_can_check_it() -> None:
    """Validated by Docker's own parser where a client with compose exists (no engine needed)."""
    docker = shutil.which("docker")
    if docker is None:
        return
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        return  # a docker client without the compose plugin: the YAML checks above still ran
    env = dict(
        os.environ,
        PUBLIC_ORIGIN="https://chat.example.org",
        SESSION_SECRET="x" * 64,
        CONSOLE_SECRET_KEY="0" * 64,
        GRAFANA_ADMIN_PASSWORD="not-a-real-one",
    )
    done = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "-q"], env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()


def _self_signed(directory: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chat.example.org")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    pem = directory / "chat.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return pem


def test_haproxy_accepts_the_config_as_compose_runs_it(tmp_path: Path) -> None:
    haproxy = haproxy_binary()
    env = dict(os.environ)
    pem = _self_signed(tmp_path)
    for key, value in _compose()["services"]["haproxy"]["environment"].items():
        value = str(value).replace("/etc/haproxy/tls/chat.pem", str(pem))
        # Compose's service names resolve only inside its network; the check needs addresses.
        env[key] = re.sub(r"^(gateway|console)\d:", "127.0.0.1:", value)
    done = subprocess.run([haproxy, "-c", "-f", str(HAPROXY_CFG)], env=env, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


def test_prometheus_scrapes_every_process_on_its_metrics_port() -> None:
    services = _compose()["services"]
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    wanted = {
        f"{name}:{services[name]['environment']['METRICS_PORT']}"
        for name in services
        if name[:-1] in ("gateway", "console")
    }
    assert targets == wanted


async def test_the_dashboard_asks_only_for_metrics_that_exist_by_labels_that_identify_nobody() -> None:
    import json

    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "stodchat.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    rendered = (await Instruments().metrics.render()).decode()
    known = set(re.findall(r"^# TYPE (\S+) (\S+)", rendered, re.M))
    names = {name for name, _ in known}
    histograms = {name for name, kind in known if kind == "histogram"}
    used = {m for e in exprs for m in re.findall(r"\bstodchat_[a-z_]+", e)}
    for metric in used:
        base = re.sub(r"_bucket$", "", metric)
        assert metric in names or base in histograms, metric
    assert {"stodchat_urgent_waiting", "stodchat_queue_length", "stodchat_connections"} <= used
    for expr in exprs:
        for group in re.findall(r"by \(([^)]*)\)", expr):
            labels = {label.strip() for label in group.split(",")}
            assert labels <= ALLOWED_LABELS | {"le", "job", "instance"}, expr
    provisioned = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/stodchat.yml").read_text())
    assert provisioned["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
