"""`.env.example` works as `docker run --env-file` and as a `.env` for the server, before and
after a deployer uncomments its lines; and where gunicorn listens (BIND, PORT)."""
from __future__ import annotations

import io

import pytest
from dotenv import dotenv_values

from server.settings import Settings, env_example
from tests.support import ROOT
from tests.support.docker_env import EnvFileError, parse_docker_env_file

NAMES = [f.validation_alias for f in Settings.model_fields.values()]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    for name in NAMES:
        monkeypatch.delenv(str(name), raising=False)
    monkeypatch.chdir(tmp_path)                       # no stray .env is read


def _uncommented(text: str) -> str:
    """What a deployer does: uncomment every `# NAME=value` line, keep the prose comments."""
    names = tuple(f"# {n}=" for n in NAMES)
    return "\n".join(line[2:] if line.startswith(names) else line for line in text.splitlines()) + "\n"


def _settings_from(values: dict[str, str | None], monkeypatch) -> Settings:
    """The settings a process gets with these variables in its environment, as Docker
    passes them (an empty value is still set)."""
    for name, value in values.items():
        monkeypatch.setenv(name, value or "")
    return Settings(_env_file=None)


def _defaults() -> dict:
    return Settings(_env_file=None).model_dump()


def test_the_parser_follows_docker_rules():
    # The rules that broke the old file: Docker keeps everything after `=`, comments included.
    assert parse_docker_env_file("A=1   # one\n  # note\n\nB= x \n") == {"A": "1   # one", "B": " x "}
    assert parse_docker_env_file("C\n", environ={"C": "from env"}) == {"C": "from env"}
    with pytest.raises(EnvFileError):
        parse_docker_env_file("BAD NAME=1\n")


def test_the_example_as_shipped_sets_nothing():
    text = (ROOT / ".env.example").read_text()
    assert text == env_example()
    assert parse_docker_env_file(text) == {}
    assert dotenv_values(stream=io.StringIO(text)) == {}


def test_every_line_uncommented_reads_the_same_in_docker_and_dotenv_and_changes_nothing(monkeypatch):
    text = _uncommented((ROOT / ".env.example").read_text())
    docker = parse_docker_env_file(text)
    dotenv = dotenv_values(stream=io.StringIO(text))
    assert set(docker) == set(NAMES)                  # every setting is there, once
    # python-dotenv reads `NAME=` as "", like Docker; the values agree byte for byte.
    assert docker == {k: (v if v is not None else "") for k, v in dotenv.items()}
    defaults = _defaults()
    assert _settings_from(docker, monkeypatch).model_dump() == defaults
    assert _settings_from(dotenv, monkeypatch).model_dump() == defaults


def test_no_listen_address_is_fixed_by_the_example():
    docker = parse_docker_env_file(_uncommented((ROOT / ".env.example").read_text()))
    assert docker["BIND"] == "" and docker["PORT"] == ""


@pytest.mark.parametrize("env,listen", [
    ({}, "127.0.0.1:8000"),
    ({"PORT": "9000"}, "0.0.0.0:9000"),
    ({"BIND": "unix:/run/clips.sock", "PORT": "9000"}, "unix:/run/clips.sock"),
    ({"BIND": "", "PORT": "8080"}, "0.0.0.0:8080"),          # empty counts as unset
])
def test_listen_honours_bind_then_port(monkeypatch, env, listen):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None).listen == listen
