"""`python -m server db status|stop`: the embedded Postgres under DATA_DIR."""
from __future__ import annotations

import argparse

from server.settings import load_settings

NOT_RUNNING = 3          # like `systemctl status`: the exit status says "not running"


def cmd_db_status(args) -> int:
    from server.db.embedded import status
    cfg = load_settings()
    if cfg.database_url:
        print("DATABASE_URL is set: the server uses that database, not an embedded one")
    state = status(cfg.data_dir)
    print(state.describe())
    return 0 if state.running else NOT_RUNNING


def cmd_db_stop(args) -> int:
    from server.db.embedded import stop
    cfg = load_settings()
    print("stopped" if stop(cfg.data_dir) else "not running", end="")
    print(f": embedded Postgres in {cfg.data_dir / 'postgres'}")
    return 0


def add_db_parser(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="the embedded Postgres under DATA_DIR (when DATABASE_URL is unset)")
    what = db.add_subparsers(dest="db_command", required=True)
    what.add_parser("status", help="is it running, and since when (exit status 3: not running)"
                    ).set_defaults(fn=cmd_db_status)
    what.add_parser("stop", help="stop it; the next command that needs it starts it again"
                    ).set_defaults(fn=cmd_db_stop)
