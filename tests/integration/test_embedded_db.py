"""The embedded Postgres under DATA_DIR: `db status|stop` show and stop it, and a script
with a throwaway DATA_DIR leaves no server behind."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib

from server.db.embedded import pgdata_of, status
from tests.support import ROOT


def _cli(data_dir, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _postgres_serving(data_dir) -> list[int]:
    """Pids of postgres processes whose command line names this DATA_DIR's pgdata."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"/postgres") and str(pgdata_of(data_dir)).encode() in cmdline:
            found.append(int(pid))
    return found


def test_db_status_and_stop(tmp_path):
    data = tmp_path / "data"
    r = _cli(data, "db", "status")
    assert r.returncode == 3 and "created on first use" in r.stdout
    assert _cli(data, "migrate").returncode == 0            # starts it, and leaves it up
    r = _cli(data, "db", "status")
    assert r.returncode == 0 and "running, pid" in r.stdout, r.stdout + r.stderr
    assert _postgres_serving(data)
    try:
        r = _cli(data, "db", "stop")
        assert r.returncode == 0 and r.stdout.startswith("stopped"), r.stdout + r.stderr
        assert _postgres_serving(data) == []
        r = _cli(data, "db", "status")
        assert r.returncode == 3 and "not running" in r.stdout
        assert _cli(data, "db", "stop").stdout.startswith("not running")
        assert _cli(data, "migrate").returncode == 0        # the next command starts it again
        assert status(data).running
    finally:
        _cli(data, "db", "stop")
    assert _postgres_serving(data) == []


def test_a_script_with_a_throwaway_data_dir_stops_its_database(tmp_path):
    data = tmp_path / "data"
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        os.environ.pop("DATABASE_URL", None)
        os.environ["DATA_DIR"] = {str(data)!r}
        from server.db.embedded import stopped_on_exit
        with stopped_on_exit(Path({str(data)!r})):
            from server import open_services
            from server.settings import load_settings
            services = open_services(load_settings())
            assert services.videos.status("none") is None
            print("pids", os.getpid())
            raise SystemExit(7)                 # however the script ends
    """)
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 7 and "pids" in r.stdout, r.stderr
    assert status(data).created and not status(data).running
    assert _postgres_serving(data) == []


def test_the_clips_command_is_the_cli():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["clips"].partition(":")
    import importlib
    entry = getattr(importlib.import_module(module), name)
    from server.__main__ import build_parser
    assert entry.__module__ == "server.__main__"
    assert {"serve", "worker", "submit", "migrate", "db"} <= set(
        build_parser("clips")._subparsers._group_actions[0].choices)
