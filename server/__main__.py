"""Command line: serve, worker, migrate, step-limit, submit, settings, db, keys."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from server.cli_keys import add_keys_parser
from server.core.steps import Step
from server.usecases import Refused
from server.settings import SettingsError, env_example, load_settings, markdown_table

log = logging.getLogger("server")


def cmd_serve(args) -> int:
    load_settings()            # a bad value stops here, named, not inside gunicorn
    os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "-c",
                               str(Path(__file__).with_name("gunicorn.py"))])


def cmd_migrate(args) -> int:
    from server.db import resolve_database_url
    from server.db.migrate import migrate_when_reachable
    cfg = load_settings()
    applied = migrate_when_reachable(resolve_database_url(cfg.database_url, cfg.data_dir),
                                     cfg.db_startup_wait_s)
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


def _steps(value: str) -> tuple[str, ...]:
    steps = tuple(s.strip() for s in value.split(",") if s.strip())
    bad = [s for s in steps if s not in set(Step)]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown step(s) {bad}; choose from {', '.join(Step)}")
    return steps


def cmd_worker(args) -> int:
    from server import open_services
    from server.logs import setup_logging
    from server.worker import Worker
    cfg = load_settings()
    setup_logging(cfg.log_level)
    worker = Worker(open_services(cfg), steps=args.steps, concurrency=args.concurrency,
                    pipeline=args.pipeline)

    def on_signal(signum, frame):
        log.info("signal %s: stopping (grace %.0f s)", signum, args.grace)
        worker.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.run_forever()
    worker.shutdown(grace_s=args.grace)
    return 0


def cmd_step_limit(args) -> int:
    """Sets (or clears) the cluster-wide cap on concurrently running jobs of one step."""
    from server import open_services
    s = open_services(load_settings().model_copy(update={"db_pool_size": 1}))
    try:
        if args.max_running is None:
            s.jobs.clear_step_limit(args.step)
            print(f"{args.step}: no limit")
        else:
            s.jobs.set_step_limit(args.step, args.max_running)
            print(f"{args.step}: at most {args.max_running} running in the cluster")
    finally:
        s.close()
    return 0


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def cmd_submit(args) -> int:
    """The options go through the API's request model, so they are checked alike."""
    from pydantic import ValidationError

    from server.api.schemas import SubmitOptionsIn, describe
    from server.cli_submit import submit
    chosen = {k: getattr(args, k) for k in ("priority", "force", "format", "captions", "enhance",
                                            "min_clip_s", "max_clip_s", "max_clips", "topic",
                                            "allow_short", "language")
              if getattr(args, k) is not None}
    if args.caption_style is not None:
        chosen["caption_style"] = {"preset": args.caption_style}
    try:
        opts = SubmitOptionsIn.model_validate(chosen).to_options(idempotency_key=None)
    except ValidationError as e:
        print(f"error: {describe(e)}", file=sys.stderr)
        return 2
    return submit(args.source, work=not args.no_work, opts=opts)


def cmd_settings(args) -> int:
    """Checks the settings, or prints the documents generated from them."""
    if args.env_example:
        print(env_example(), end="")
    elif args.markdown:
        print(markdown_table(), end="")
    else:
        cfg = load_settings()
        for name, field in type(cfg).model_fields.items():
            value = getattr(cfg, name)
            secret = any(w in name for w in ("token", "key", "database_url")) and value
            print(f"{field.validation_alias}={'<set>' if secret else value}")
    return 0


def build_parser(prog: str = "python -m server") -> argparse.ArgumentParser:
    """Every subcommand and its options (tests check deployment files' commands against it)."""
    from server.cli_db import add_db_parser
    p = argparse.ArgumentParser(prog=prog, description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the web API under gunicorn").set_defaults(fn=cmd_serve)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(fn=cmd_migrate)
    w = sub.add_parser("worker", help="claim and run pipeline steps until SIGTERM")
    w.add_argument("--steps", type=_steps, default=None, help="comma-separated steps to serve")
    w.add_argument("--concurrency", type=int, default=None)
    w.add_argument("--grace", type=float, default=30.0, help="seconds to finish running steps on SIGTERM")
    w.add_argument("--pipeline", choices=("real", "noop"), default="real",
                   help="noop: trivial steps for queue tests and benchmarks")
    w.set_defaults(fn=cmd_worker)
    lim = sub.add_parser("step-limit", help="cap how many jobs of a step run at once, cluster-wide")
    lim.add_argument("step", choices=tuple(Step))
    lim.add_argument("max_running", type=_positive, nargs="?", default=None,
                     help="omit to remove the cap")
    lim.set_defaults(fn=cmd_step_limit)
    s = sub.add_parser("submit", help="submit a URL or file, show progress, list the clips")
    s.add_argument("source")
    s.add_argument("--priority", type=int, default=None, help="-100..100, higher first")
    s.add_argument("--force", action="store_true", default=None,
                   help="redo download and transcript even if an earlier submission has them")
    s.add_argument("--format", default=None, help="landscape, vertical or square")
    s.add_argument("--captions", action=argparse.BooleanOptionalAction, default=None)
    s.add_argument("--enhance", action=argparse.BooleanOptionalAction, default=None)
    s.add_argument("--caption-style", default=None, help="a caption preset: classic, bold, minimal, headline")
    s.add_argument("--min-clip-s", type=float, default=None, help="shortest clip, seconds")
    s.add_argument("--max-clip-s", type=float, default=None, help="longest clip, seconds")
    s.add_argument("--max-clips", type=int, default=None, help="most clips")
    s.add_argument("--topic", default=None, help="a subject the clips should be about")
    s.add_argument("--allow-short", action="store_true", default=None,
                   help="speech shorter than a clip gives one clip of all of it")
    s.add_argument("--language", default=None, help="the spoken language (en, de, ...); unset: detected")
    s.add_argument("--no-work", action="store_true", help="only enqueue; let running workers do it")
    s.set_defaults(fn=cmd_submit)
    st = sub.add_parser("settings", help="check the settings (a bad value names its variable)")
    st.add_argument("--env-example", action="store_true", help="print .env.example")
    st.add_argument("--markdown", action="store_true", help="print the README's settings table")
    st.set_defaults(fn=cmd_settings)
    add_db_parser(sub)
    add_keys_parser(sub)
    return p


def main(argv: list[str] | None = None, prog: str = "python -m server") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        return args.fn(args) or 0
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Refused as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 1


def clips() -> int:
    """The `clips` console command (pyproject.toml), the same CLI as `python -m server`."""
    return main(prog="clips")


if __name__ == "__main__":
    sys.exit(main())
