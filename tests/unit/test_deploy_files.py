"""The deployment files, checked without a Docker engine (none runs here): docker-compose.yml
parses, every command it gives the image is a valid CLI invocation, every variable it sets is
a setting; the Dockerfile installs the locked runtime on the project's Python with a torch
built for the CUDA major CTranslate2 needs; the Python version is stated once."""
from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from server.__main__ import build_parser
from server.settings import Settings
from tests.support import ROOT

SETTINGS = {f.validation_alias for f in Settings.model_fields.values()}
COMPOSE_ENV = {"POSTGRES_PASSWORD": "secret"}        # what a deployer puts in .env


def interpolate(value, env: dict[str, str]):
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} over a parsed document."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""
    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


@pytest.fixture(scope="module")
def compose() -> dict:
    return interpolate(yaml.safe_load((ROOT / "docker-compose.yml").read_text()), COMPOSE_ENV)


def _app_services(compose: dict) -> dict:
    return {name: s for name, s in compose["services"].items() if s.get("image") == "clips:latest"}


def test_compose_has_every_process_type(compose):
    services = compose["services"]
    assert re.fullmatch(r"postgres:\d+", services["postgres"]["image"])
    assert {"migrate", "web", "worker-cpu", "worker-gpu", "cron"} <= set(_app_services(compose))
    gpu = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["driver"] == "nvidia" and "gpu" in gpu["capabilities"]
    for name in ("web", "worker-cpu", "worker-gpu"):
        assert "media:/data" in services[name]["volumes"]
    assert set(compose["volumes"]) >= {"media", "pgdata"}


def test_compose_postgres_is_the_major_version_supabase_runs(compose):
    config = tomllib.loads((ROOT / "supabase" / "config.toml").read_text())
    assert compose["services"]["postgres"]["image"] == f"postgres:{config['db']['major_version']}"


def test_compose_needs_the_database_password():
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(yaml.safe_load((ROOT / "docker-compose.yml").read_text()), {})


def test_every_compose_command_is_a_valid_cli_invocation(compose):
    parser = build_parser("clips")
    checked = 0
    for name, service in _app_services(compose).items():
        if "entrypoint" in service:               # the cron caller runs scripts/cron.sh
            assert "/app/scripts/cron.sh" in " ".join(service["entrypoint"])
            continue
        args = parser.parse_args(service["command"])   # SystemExit on a bad command or step
        assert args.fn.__module__.startswith("server."), name
        checked += 1
    assert checked >= 4
    steps = parser.parse_args(compose["services"]["worker-gpu"]["command"]).steps
    assert steps == ("transcribe",)


def test_every_variable_compose_sets_is_a_setting(compose):
    for name, service in _app_services(compose).items():
        unknown = set(service.get("environment") or {}) - SETTINGS
        assert not unknown, f"{name} sets {unknown}, which no setting reads"


def test_dockerfile_installs_the_locked_runtime_on_the_projects_python():
    text = (ROOT / "Dockerfile").read_text()
    assert "requirements.lock" in text and "--require-hashes" in text
    assert "requirements-dev" not in text.replace("requirements-dev.txt", "")   # no dev tools
    assert "python3." not in text and "$(cat .python-version)" in text
    assert re.search(r"^ENV[^#]*\bPORT=8000", text, re.M | re.S)
    assert not re.search(r"^\s*BIND=", text, re.M), "leave the listen address to PORT"
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for copied in re.findall(r"^COPY (?!--)(.+) \S+$", text, re.M):
        for path in copied.split():
            assert path not in ignored and path.split("/")[0] not in ignored, path


def test_dockerfile_torch_and_ctranslate2_agree_on_cuda_12():
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG BASE_IMAGE=nvidia/cuda:(\d+)\.\S*cudnn", text, re.M)
    index = re.search(r"^ARG TORCH_INDEX=https://download\.pytorch\.org/whl/cu(\d\d)\d$", text, re.M)
    assert base and index and base.group(1) == index.group(1) == "12"
    # CTranslate2's wheel declares the CUDA it was built for.
    from importlib.metadata import metadata
    classifiers = metadata("ctranslate2").get_all("Classifier") or []
    assert any(c.startswith("Environment :: GPU :: NVIDIA CUDA :: 12") for c in classifiers)


def test_the_python_version_is_stated_once():
    version = (ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.\d+", version)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={version}"
    assert "python_version" not in pyproject["tool"]["mypy"]     # mypy checks the venv's Python
    for path in ("Dockerfile", "scripts/setup.sh", "scripts/lock.sh", ".ci/run"):
        assert not re.search(r"python3\.\d+|3\.1[0-9]\b", (ROOT / path).read_text()), path
