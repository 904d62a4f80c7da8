"""docker-compose.yaml, checked statically (there is no Docker engine here).

Debian's ``docker-compose`` (v1) validates the file when it is installed; the structural checks always
run: every service of the official layout, dependencies with health/completion conditions, volumes,
variables, the image, and that the containers run what tools/native_stack.py runs (``make stack-test``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import native_stack
import pytest
import yaml
from stack_support import ROOT

COMPOSE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
OFFICIAL_SERVICES = {
    "postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
    "airflow-worker", "airflow-triggerer",
}
PROJECT_SERVICES = {"genesys-sandbox", "local-s3"}
# compose service → native_stack component
COMPONENT_OF = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "worker",
}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?err}; `$${...}` is an escaped literal for the shell.
VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if "=" in line
             and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's substitution with .env.example as the .env."""
    def one(m: re.Match[str]) -> str:
        name, op, default = m.group(1), m.group(2), m.group(3) or ""
        got = env.get(name)
        if op == ":-":
            return got or default
        if op == "-":
            return default if got is None else got
        return got or ""
    return VAR.sub(one, value).replace("$$", "$")


def _environment(service: dict[str, Any], env: dict[str, str]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {k: _interpolate(str(v), env) for k, v in raw.items()}


def _command_words(command: Any) -> list[str]:
    return command.split() if isinstance(command, str) else [str(c) for c in command]


def test_every_service_of_the_layout_exists(compose: dict[str, Any]) -> None:
    assert OFFICIAL_SERVICES | PROJECT_SERVICES <= set(compose["services"])


def test_dependencies_wait_for_health_or_completion(compose: dict[str, Any]) -> None:
    services = compose["services"]
    checked = 0
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on must use conditions, not a bare list"
        for target, rule in depends.items():
            assert target in services, f"{name} depends on unknown service {target}"
            condition = rule.get("condition")
            assert condition in ("service_healthy", "service_completed_successfully"), (name, target, condition)
            if condition == "service_healthy":
                assert services[target].get("healthcheck", {}).get("test"), f"{target} has no healthcheck"
            # a service that always starts must not wait for one that only a profile starts
            if not service.get("profiles"):
                assert not services[target].get("profiles"), f"{name} depends on profiled {target}"
            checked += 1
    assert checked >= 10
    for name in (OFFICIAL_SERVICES | PROJECT_SERVICES) - {"airflow-init"}:
        assert services[name].get("healthcheck"), f"{name} has no healthcheck"


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used = set()
    for service in compose["services"].values():
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source and not source.startswith((".", "/", "$")):
                used.add(source)
    assert used, "no named volume (postgres data, logs) is used"
    assert used <= declared, f"undeclared volumes: {used - declared}"
    assert {"postgres-db-volume", "airflow-logs"} <= used


def test_every_variable_is_defined_or_defaulted(env_example: dict[str, str]) -> None:
    missing = sorted({m.group(1) for m in VAR.finditer(COMPOSE.read_text())
                      if m.group(2) is None and m.group(1) not in env_example})
    assert not missing, f"variables without default and not in .env.example: {missing}"
    # the shared secrets the components must agree on come from .env
    for name in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY"):
        assert name in env_example


def test_image_is_the_official_airflow_with_the_lock_and_the_project(compose: dict[str, Any]) -> None:
    dockerfile = DOCKERFILE.read_text()
    pinned = re.search(r"^apache-airflow==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pinned and pinned.group(1).startswith("3.3.")
    assert re.search(rf"^FROM apache/airflow:{re.escape(pinned.group(1))}-python3\.11 AS base\s*$", dockerfile, re.M)
    assert re.search(r"pip install .*-r \S*requirements\.txt", dockerfile)
    assert re.search(r"pip install .*--no-deps .*/opt/genesys", dockerfile)
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in COMPOSE.read_text() + ENV_EXAMPLE.read_text()
    assert ".venv" in (ROOT / ".dockerignore").read_text().split()
    airflow_services = [s for n, s in compose["services"].items() if n.startswith("airflow-")]
    assert [s.get("build") for s in airflow_services] == [{"context": ".", "target": "runtime"}] * len(airflow_services)
    # the local S3 emulator lives only in the `local` target (issue 16: moto out of the runtime image)
    for name in ("genesys-sandbox", "local-s3"):
        assert compose["services"][name]["build"] == {"context": ".", "target": "local"}
    assert re.search(r"^FROM base AS local\nRUN pip install .*-r \S*requirements-local\.txt", dockerfile, re.M)
    assert dockerfile.rstrip().splitlines()[-1] == "FROM base AS runtime"  # the default target
    assert len({s.get("image") for s in airflow_services}) == 1


def test_components_run_what_the_native_stack_runs(compose: dict[str, Any], env_example: dict[str, str]) -> None:
    native = native_stack.component_commands(api_port=8080, worker_concurrency=2)
    assert set(COMPONENT_OF.values()) == set(native_stack.COMPONENTS)
    for service, component in COMPONENT_OF.items():
        words = _command_words(compose["services"][service]["command"])
        subcommand = [w for w in native[component] if not w.startswith("--")][: len(words)]
        assert words == subcommand, (service, words, native[component])
    init = "\n".join(_command_words(compose["services"]["airflow-init"]["command"]))
    position = 0
    for step in native_stack.INIT_COMMANDS:  # each step found after the previous one, in order
        found = init.find(" ".join(step), position)
        assert found >= position, (step, init)
        position = found + len(" ".join(step))


def test_only_the_ui_port_is_published_and_init_fails_closed(compose: dict[str, Any]) -> None:
    """Issue 16: the sandbox (it lists the tokens it issued) and the local S3 are never published on the
    host; airflow-init checks the environment before anything else."""
    published = {name: service["ports"] for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"airflow-apiserver": ["8080:8080"]}
    init = "\n".join(_command_words(compose["services"]["airflow-init"]["command"]))
    assert init.find("tools/bootstrap.py --check") < init.find("airflow db migrate")


def test_settings_match_the_native_run(compose: dict[str, Any], env_example: dict[str, str],
                                       tmp_path: Path) -> None:
    common = _environment(compose["services"]["airflow-scheduler"], env_example)
    native = native_stack.airflow_env(home=tmp_path, database="db", api_port=8080, redis_db=0,
                                      devstack_env={}, bucket="genesys-pipelines", worker_concurrency=2)
    native_airflow = {k: v for k, v in native.items() if k.startswith("AIRFLOW__")}
    compose_airflow = {k: v for k, v in common.items() if k.startswith("AIRFLOW__")}
    assert set(compose_airflow) - set(native_airflow) == set(), "compose sets what the native run does not"
    assert set(native_airflow) - set(compose_airflow) <= set(native_stack.NATIVE_ONLY)
    # connections live in the metadata DB only (created by the init step's bootstrap), as in compose: an
    # AIRFLOW_CONN_* variable would be read before the DB and hide every UI edit
    assert [k for k in native if k.startswith("AIRFLOW_CONN_")] == []
    assert [k for k in common if k.startswith("AIRFLOW_CONN_")] == []
    assert ("python", "tools/bootstrap.py") in native_stack.INIT_COMMANDS
    same_value = ("EXECUTOR", "AUTH_MANAGER", "XCOM_BACKEND", "XCOM_OBJECTSTORAGE_THRESHOLD",
                  "XCOM_OBJECTSTORAGE_COMPRESSION", "LOAD_EXAMPLES", "DAGS_ARE_PAUSED_AT_CREATION",
                  "ENABLE_HEALTH_CHECK", "PARALLELISM", "WORKER_CONCURRENCY", "XCOM_OBJECTSTORAGE_PATH")
    for key in native_airflow.keys() & compose_airflow.keys():
        if key.endswith(same_value):
            assert compose_airflow[key].lower() == native_airflow[key].lower(), key
    # the audit trail goes to PostgreSQL in both, through the same settings-file variables
    assert {k: v for k, v in common.items() if k == "GENESYS_AUDIT_CONN_TYPE"} == {"GENESYS_AUDIT_CONN_TYPE": "postgres"}
    assert {k for k in native if k.startswith("GENESYS_AUDIT_")} <= {k for k in common if k.startswith("GENESYS_AUDIT_")}


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose (v1) not installed")
def test_docker_compose_config_validates(tmp_path: Path) -> None:
    for name in ("docker-compose.yaml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    result = subprocess.run(["docker-compose", "config", "-q"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
