"""compose.yaml and the Dockerfile: valid, non-root, read-only, no secrets, pinned.

The compose file is checked by two validators written by others: Debian's
``docker-compose`` (v1.29, ``config``) when installed, and the current
compose-spec JSON schema (tests/data/schemas/compose-spec.json, from
github.com/compose-spec/compose-spec) with jsonschema. The image itself is
not built here (no Docker engine): these tests read its Dockerfile.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from .conftest import DEPLOY

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "schemas" / "compose-spec.json"
SECRET_WORDS = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE", re.IGNORECASE)
OURS = ("worker", "prometheus", "grafana")


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())  # type: ignore[no-any-return]


def test_compose_matches_the_compose_spec_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(compose())


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (Debian: apt-get install docker-compose)",
)
@pytest.mark.parametrize("profile", [[], ["--profile", "dcgm"]])
def test_docker_compose_config_accepts_it(tmp_path: Path, profile: list[str]) -> None:
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    (copy / "grafana.env").write_text("GF_SECURITY_ADMIN_PASSWORD=only-for-this-test\n")
    done = subprocess.run(
        ["docker-compose", "-f", str(copy / "compose.yaml"), *profile, "config", "--services"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == {*OURS, "dcgm-exporter"}  # v1 lists profiled ones too


@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is not installed"
)
def test_compose_refuses_to_start_without_the_grafana_env_file(tmp_path: Path) -> None:
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    (copy / "grafana.env").unlink(missing_ok=True)
    done = subprocess.run(
        ["docker-compose", "-f", str(copy / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "grafana.env" in done.stderr


def test_services_run_as_non_root_with_a_read_only_root() -> None:
    services = compose()["services"]
    for name in OURS:
        service = services[name]
        user = str(service["user"]).split(":")[0]
        assert user not in ("0", "root", ""), f"{name} runs as root"
        assert service["read_only"] is True, f"{name} has a writable root filesystem"
        assert service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]
    assert "/data" in {v.split(":")[1] for v in services["worker"]["volumes"]}
    assert services["worker"]["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == (
        "nvidia"
    )
    assert services["dcgm-exporter"]["profiles"] == ["dcgm"]


def test_compose_holds_no_secret_and_listens_on_loopback_only() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    for name, service in compose()["services"].items():
        for key in service.get("environment") or {}:
            assert not SECRET_WORDS.search(key), f"{name} sets {key} in the compose file"
        assert "ports" not in service, f"{name} publishes ports"
    assert compose()["services"]["grafana"]["env_file"] == ["grafana.env"]
    assert "--web.listen-address=127.0.0.1:9090" in compose()["services"]["prometheus"]["command"]
    assert compose()["services"]["grafana"]["environment"]["GF_SERVER_HTTP_ADDR"] == "127.0.0.1"
    assert "grafana.env" in (DEPLOY.parent / ".gitignore").read_text()
    assert not re.search(
        r"(?i)password\s*[:=]\s*\S", text.replace("GF_SECURITY_ADMIN_PASSWORD=%s", "")
    )


def dockerfile_stages() -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by stage name."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    stages: dict[str, list[str]] = {"": []}
    current = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            current = match.group(1)
            stages[current] = []
        stages[current].append(line)
    return stages


@pytest.mark.parametrize("target", ["gpu", "cpu"])
def test_each_image_runs_non_root_with_a_healthcheck_and_a_data_volume(target: str) -> None:
    stage = dockerfile_stages()[target]
    users = [line.split()[1] for line in stage if line.startswith("USER ")]
    assert users, f"{target} sets no USER"
    assert users[-1].split(":")[0] not in ("0", "root")
    health = [line for line in stage if line.startswith("HEALTHCHECK")]
    assert health
    assert '"dgx-pixels", "ping"' in health[0]
    assert 'VOLUME ["/data"]' in stage
    env = " ".join(line for line in stage if line.startswith("ENV"))
    assert "HF_HOME=/data/" in env  # the model cache lives in the volume, not the image
    assert "DGX_PIXELS_DATA_DIR=/data" in env


def test_the_dockerfile_pins_its_bases_and_bakes_no_secret() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    bases = re.findall(r"^ARG \w+_IMAGE=(\S+)", text, re.MULTILINE)
    assert len(bases) == 2
    for base in bases:
        assert re.search(r":[\w.-]+@sha256:[0-9a-f]{64}$", base), f"{base} is not pinned"
    for line in text.splitlines():
        if line.startswith(("ENV", "ARG")):
            assert not SECRET_WORDS.search(line), line
    assert "COPY . " not in text  # only pyproject, README and src go in: no keys, no .env


def test_the_healthcheck_command_exists() -> None:
    from click.testing import CliRunner

    from dgx_pixels.cli import cli

    result = CliRunner().invoke(cli, ["ping", "--help"])
    assert result.exit_code == 0
    nobody = CliRunner().invoke(cli, ["ping", "--worker", "tcp://127.0.0.1:9", "--timeout", "0.2"])
    assert nobody.exit_code == 7
    assert "no worker answered at tcp://127.0.0.1:9" in nobody.output
