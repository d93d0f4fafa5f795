"""Docker's `--env-file` rules, as `docker run` applies them (our own implementation, for
checking files a deployer passes to Docker):

- the file is UTF-8; a byte-order mark at its start is dropped;
- leading whitespace is trimmed from each line; empty lines and lines starting with `#`
  are skipped;
- `NAME=VALUE` splits at the first `=`; VALUE is kept byte for byte: no quote removal, no
  inline comments, trailing spaces included;
- NAME may not contain whitespace or be empty (Docker refuses the whole file);
- a bare `NAME` takes the value from the calling environment, or is dropped when unset.
"""
from __future__ import annotations

import os
from collections.abc import Mapping


class EnvFileError(ValueError):
    """Docker would refuse the file."""


def parse_docker_env_file(text: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env: Mapping[str, str] = os.environ if environ is None else environ
    text = text.removeprefix("\ufeff")
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        name, has_value, value = line.partition("=")
        if not name:
            raise EnvFileError(f"line {number}: no variable name in {raw!r}")
        if any(c.isspace() for c in name):
            raise EnvFileError(f"line {number}: variable {name!r} contains whitespace")
        if has_value:
            out[name] = value
        elif name in env:
            out[name] = env[name]
    return out
