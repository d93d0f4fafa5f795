"""`python -m server keys ...` (and `clips keys ...`): create, list, revoke and rotate API
keys. A new key is printed once; the server keeps only its SHA-256."""
from __future__ import annotations

import argparse

from server.settings import load_settings


def _services():
    from server import open_services
    return open_services(load_settings().model_copy(update={"db_pool_size": 1}))


def _limit(row, field: str, default: float) -> str:
    value = default if row[field] is None else row[field]
    return "unlimited" if not value else f"{value:g}" + ("" if row[field] is not None else " (default)")


def cmd_create(args) -> int:
    from server.usecases import keys
    s = _services()
    try:
        made = keys.create(s, args.name, rate_per_min=args.rate, videos_per_day=args.videos_per_day,
                           source_minutes_per_day=args.minutes_per_day)
    finally:
        s.close()
    print(f"API key {made.row['name']!r} (shown once: only its hash is kept; store it now):")
    print(f"  {made.key}")
    print("Webhook signing secret (verifies the webhooks of this key's videos):")
    print(f"  {made.webhook_secret}")
    return 0


def cmd_list(args) -> int:
    from server.usecases import keys
    s = _services()
    try:
        rows, d = keys.listing(s), s.key_defaults
    finally:
        s.close()
    if not rows:
        print("no API keys yet: python -m server keys create --name NAME")
        return 0
    header = ("name", "key", "rate/min", "videos/day", "minutes/day", "used today", "last used", "state")
    table = [header]
    for r in rows:
        state = "revoked " + r["revoked_at"].strftime("%Y-%m-%d") if r["revoked_at"] else \
            ("live (old key still valid)" if r["previous_valid"] else "live")
        table.append((r["name"], r["prefix"] + "…", _limit(r, "rate_per_min", d.rate_per_min),
                      _limit(r, "videos_per_day", d.videos_per_day),
                      _limit(r, "source_minutes_per_day", d.source_minutes_per_day),
                      f"{r['videos_today']} videos, {r['source_seconds_today'] / 60:.1f} min",
                      r["last_used_at"].strftime("%Y-%m-%d %H:%M") if r["last_used_at"] else "never",
                      state))
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    return 0


def cmd_revoke(args) -> int:
    from server.usecases import keys
    s = _services()
    try:
        keys.revoke(s, args.name)
    finally:
        s.close()
    print(f"revoked {args.name!r}: requests with it now get 401")
    return 0


def cmd_rotate(args) -> int:
    from server.usecases import keys
    s = _services()
    try:
        if args.webhook_secret:
            secret = keys.rotate_webhook_secret(s, args.name)
            print(f"new webhook signing secret of {args.name!r} (the old one no longer signs):")
            print(f"  {secret}")
            return 0
        key = keys.rotate(s, args.name, grace_s=args.grace_hours * 3600)
    finally:
        s.close()
    grace = f"stays valid for {args.grace_hours:g} h" if args.grace_hours > 0 else "stopped working"
    print(f"new API key for {args.name!r} (shown once; the old one {grace}):")
    print(f"  {key}")
    return 0


def _non_negative(kind):
    def parse(value: str):
        n = kind(value)
        if n < 0:
            raise argparse.ArgumentTypeError("must be 0 (unlimited) or more")
        return n
    return parse


def add_keys_parser(sub) -> None:
    k = sub.add_parser("keys", help="create, list, revoke and rotate API keys")
    ks = k.add_subparsers(dest="keys_command", required=True)
    c = ks.add_parser("create", help="make a key and print it once")
    c.add_argument("--name", required=True, help="a label, unique among live keys")
    c.add_argument("--rate", type=_non_negative(float), default=None,
                   help="requests a minute (default API_KEY_RATE_PER_MIN; 0 = unlimited)")
    c.add_argument("--videos-per-day", type=_non_negative(int), default=None,
                   help="videos per UTC day (default API_KEY_VIDEOS_PER_DAY; 0 = unlimited)")
    c.add_argument("--minutes-per-day", type=_non_negative(float), default=None,
                   help="minutes of source video per UTC day (default "
                        "API_KEY_SOURCE_MINUTES_PER_DAY; 0 = unlimited)")
    c.set_defaults(fn=cmd_create)
    ks.add_parser("list", help="every key, its limits and today's use (never the keys)") \
        .set_defaults(fn=cmd_list)
    r = ks.add_parser("revoke", help="stop a key at once")
    r.add_argument("name")
    r.set_defaults(fn=cmd_revoke)
    ro = ks.add_parser("rotate", help="give a key a new secret; its videos stay its own")
    ro.add_argument("name")
    ro.add_argument("--grace-hours", type=_non_negative(float), default=0.0,
                    help="hours the old key keeps working (default 0)")
    ro.add_argument("--webhook-secret", action="store_true",
                    help="rotate the key's webhook signing secret instead")
    ro.set_defaults(fn=cmd_rotate)

