"""One source of truth per contract: the step and status enums against the database's
check constraints, and the settings model against `.env.example`, the README and every
place that reads the environment."""
from __future__ import annotations

import re

import psycopg
import pytest

from tests.support import ROOT
from server.core.failures import failure_table
from server.core.steps import DONE, PIPELINES, Kind, Status, Step
from server.settings import Settings, env_example, markdown_table


def _check_values(url: str, table: str, column: str) -> set[str]:
    """The values a check constraint on table.column admits (`col in ('a', 'b')` or
    `col = any (array['a', 'b'])` as Postgres prints it)."""
    with psycopg.connect(url) as conn:
        defs = [r[0] for r in conn.execute(
            """select pg_get_constraintdef(c.oid) from pg_constraint c
               join pg_class t on t.oid = c.conrelid
               where t.relname = %s and c.contype = 'c'""", (table,))]
    mine = [d for d in defs if re.search(rf"\b{column}\b", d) and "ANY" in d.upper()]
    assert len(mine) == 1, defs
    return set(re.findall(r"'([^']+)'", mine[0]))


@pytest.mark.parametrize("table,column,extra", [
    ("video_processing_queue", "pipeline_step", {DONE}),
    ("step_runs", "step", set()),
    ("step_limits", "step", set()),
])
def test_step_constraints_match_the_enum(database_url, table, column, extra):
    assert _check_values(database_url, table, column) == set(Step) | extra


def test_kinds_match_the_enum_and_every_step_has_one_kind(database_url):
    assert _check_values(database_url, "video_processing_queue", "kind") == set(Kind)
    owned = [step for steps in PIPELINES.values() for step in steps]
    assert sorted(owned) == sorted(Step) and set(PIPELINES) == set(Kind)


def test_each_query_has_one_owner_module():
    """Named queries stay in queries.sql, and only the store that owns a table calls
    them: every query name appears in exactly one module of server/db/, and nowhere
    else in server/."""
    from server.db import load_queries
    names = set(load_queries())
    callers: dict[str, set[str]] = {n: set() for n in names}
    for path in (ROOT / "server").rglob("*.py"):
        text = path.read_text()
        for name in re.findall(r"""\.(?:one|all|run)\(\s*["']([a-z_]+)["']""", text):
            assert name in names, f"{path.relative_to(ROOT)} calls unknown query {name}"
            callers[name].add(str(path.relative_to(ROOT)))
        for name in re.findall(r"""["']((?:reuse)_[a-z_]+)["']""", text):
            callers.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    unused = sorted(n for n, c in callers.items() if not c)
    assert unused == [], f"queries nobody calls: {unused}"
    shared = {n: sorted(c) for n, c in callers.items() if len(c) > 1}
    assert shared == {}, f"queries called from more than one module: {shared}"
    outside = {n: sorted(c) for n, c in callers.items() if not all(p.startswith("server/db/") for p in c)}
    assert outside == {}, f"queries called outside server/db: {outside}"


def test_status_constraint_matches_the_enum(database_url):
    assert _check_values(database_url, "video_processing_queue", "status") == set(Status)


def test_env_example_is_generated_from_the_settings():
    assert (ROOT / ".env.example").read_text() == env_example(), \
        "regenerate: python -m server settings --env-example > .env.example"


def _between(text: str, name: str) -> str:
    m = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert m, f"the README has no {name} markers"
    return m.group(1)


def test_readme_tables_are_generated():
    readme = (ROOT / "README.md").read_text()
    assert _between(readme, "settings") == markdown_table(), \
        "regenerate: python -m server settings --markdown"
    assert _between(readme, "failure-causes") == failure_table()


def test_only_the_settings_model_reads_the_environment():
    readers = [str(p.relative_to(ROOT)) for p in (ROOT / "server").rglob("*.py")
               if re.search(r"os\.environ|os\.getenv", p.read_text())]
    assert readers == []


def test_cron_script_reads_only_declared_settings():
    names = {f.validation_alias for f in Settings.model_fields.values()}
    used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", (ROOT / "scripts" / "cron.sh").read_text()))
    assert used and used <= names, used - names


def test_a_bad_value_names_its_variable(monkeypatch):
    from server.settings import SettingsError, load_settings
    monkeypatch.setenv("LEASE_SECONDS", "soon")
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "ture")
    with pytest.raises(SettingsError) as e:
        load_settings()
    assert "LEASE_SECONDS='soon'" in str(e.value) and "ALLOW_PRIVATE_URLS='ture'" in str(e.value)
