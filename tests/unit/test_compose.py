"""docker-compose.yml, the Dockerfile and .env.example, checked without a Docker engine."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config.settings import PROJECT_ROOT
from devstack.run import procfile_commands

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
PROJECT_SERVICES = ("migrate", "web", "worker", "backfill", "beat", "bridge", "flower")
SERVERS = ("kafka", "postgres", "redis")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    return subprocess.run(
        [tool, "--builtin-schema", "vendor.compose-spec", str(path)], capture_output=True, text=True, check=False
    )


def test_the_compose_file_follows_the_compose_specification(tmp_path):
    assert validate(COMPOSE).returncode == 0
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("    restart: unless-stopped\n", "    replicas: 2\n", 1))
    result = validate(broken)
    assert result.returncode == 1 and "'replicas' was unexpected" in result.stdout  # the check can fail


def test_services_are_the_servers_and_the_project_processes(compose):
    assert set(compose["services"]) == set(SERVERS) | set(PROJECT_SERVICES)
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:")
    assert "controller" in compose["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft
    assert not any("zookeeper" in name for name in compose["services"])
    assert compose["services"]["postgres"]["image"].startswith("postgres:")
    assert compose["services"]["redis"]["image"].startswith("redis:")


def test_each_process_runs_the_procfile_command(compose):
    procfile = procfile_commands()
    for name in ("web", "worker", "backfill", "beat", "bridge", "flower"):
        assert compose["services"][name]["command"] == procfile[name], name
    assert compose["services"]["migrate"]["command"] == "flask --app wsgi setup"


def test_one_image_and_one_environment_for_every_project_service(compose):
    services = compose["services"]
    for name in PROJECT_SERVICES:
        assert services[name]["build"] == "." and services[name]["image"] == "stockticker:latest", name
        assert services[name]["env_file"] == [{"path": ".env", "required": False}], name
        assert services[name]["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "${KAFKA_BOOTSTRAP_SERVERS:-kafka:9092}"


def test_only_web_and_flower_publish_ports(compose):
    published = {name for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"web", "flower"}
    assert compose["services"]["web"]["ports"] == ["${WEB_PORT:-8000}:8000"]


def test_start_order_waits_on_health_and_on_the_migration(compose):
    services = compose["services"]
    for name in SERVERS:
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["restart"] == "unless-stopped"
    assert {k: v["condition"] for k, v in services["migrate"]["depends_on"].items()} == dict.fromkeys(
        SERVERS, "service_healthy"
    )
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat", "bridge", "flower"):
        conditions = {k: v["condition"] for k, v in services[name]["depends_on"].items()}
        assert conditions == {"migrate": "service_completed_successfully"} | dict.fromkeys(SERVERS, "service_healthy")
        assert services[name]["restart"] == "unless-stopped"


def test_every_server_keeps_its_data_on_a_named_volume(compose):
    services = compose["services"]
    mounts = {name: services[name]["volumes"][0].split(":") for name in SERVERS}
    assert {name: path for name, (_, path) in mounts.items()} == {
        "kafka": "/var/lib/kafka/data",
        "postgres": "/var/lib/postgresql/data",
        "redis": "/data",
    }
    assert {volume for volume, _ in mounts.values()} == set(compose["volumes"])
    # Redis holds the Celery queue: a restart must not lose the tasks queued in it.
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_exactly_one_beat_and_scalable_workers_and_bridges(compose):
    services = compose["services"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "EXACTLY ONE beat" in COMPOSE.read_text()
    for name in ("worker", "bridge"):  # `--scale` needs no fixed name and no published port
        assert "container_name" not in services[name] and "ports" not in services[name]


def test_web_and_flower_listen_beyond_the_container_only_behind_the_login(compose):
    services = compose["services"]
    assert services["web"]["environment"]["WEB_HOST"] == "0.0.0.0"
    assert services["flower"]["environment"]["FLOWER_HOST"] == "0.0.0.0"
    for name in ("web", "flower"):
        environment = services[name]["environment"]
        for setting in ("AUTH_USERNAME", "AUTH_PASSWORD", "SECRET_KEY"):  # compose refuses to start without them
            assert environment[setting].startswith(f"${{{setting}:?"), (name, setting)


def setting_names() -> set[str]:
    source = (PROJECT_ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r'env_\w+\(env, "([A-Z0-9_]+)"', source))


def test_env_example_and_readme_document_every_setting():
    example = (PROJECT_ROOT / ".env.example").read_text()
    readme = (PROJECT_ROOT / "README.md").read_text()
    names = setting_names()
    assert len(names) >= 20
    for name in sorted(names):
        assert re.search(rf"^#? ?{name}=", example, re.MULTILINE), f"{name} missing from .env.example"
        assert f"| `{name}` |" in readme, f"{name} missing from the README's settings table"


def test_the_image_is_multi_stage_non_root_and_pinned():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    _, build, final = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)
    assert build.startswith("python:3.11-slim AS build")
    assert final.startswith("python:3.11-slim")
    assert re.search(r"^USER stockticker$", final, re.MULTILINE)
    assert not re.search(r"apt-get|gcc|build-essential", final)
    assert "-r /tmp/requirements.txt -c /tmp/constraints.txt" in build
    pins = dict(
        line.split("==") for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines() if "==" in line
    )
    for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line:
            name, version = line.split("==")
            same = name.lower().replace("_", "-")  # PyPI names: case, - and _ do not matter
            matches = {k: v for k, v in pins.items() if k.lower().replace("_", "-") == same}
            assert list(matches.values()) == [version], f"constraints.txt disagrees on {name}"


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((PROJECT_ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".data", "test-artifacts", ".git", ".env"} <= ignored


@pytest.mark.parametrize("service", ["migrate", "web", "worker", "beat", "bridge", "flower"])
def test_every_compose_command_is_a_real_entry_point(compose, service, tmp_path):
    argv = shlex.split(compose["services"][service]["command"])
    argv[0] = str(Path(sys.executable).parent / argv[0]) if argv[0] != "python" else sys.executable
    argv += ["--check-config"] if service == "web" else ["--help"]
    env = {
        "PATH": str(Path(sys.executable).parent),
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql://u:p@db.invalid:5432/x",
        "REDIS_URL": "redis://redis.invalid:6379/0",
        "KAFKA_BOOTSTRAP_SERVERS": "kafka.invalid:9092",
    }
    result = subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    if service != "web":
        assert "usage" in (result.stdout + result.stderr).lower()
