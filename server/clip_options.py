"""Per-request clip options: what a client may ask for at submit time, checked there, and
filled in from the configuration's defaults."""
from __future__ import annotations

from server.core.model import FORMATS, RenderOptions

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")



def _flag(name: str, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{name} must be true or false")


def parse_options(raw: dict, cfg) -> RenderOptions:
    """Options from a request (JSON values or form strings); ValueError names the bad one."""
    opts = RenderOptions(cfg.clip_format, cfg.clip_captions, cfg.clip_enhance)
    if raw.get("format") is not None:
        if raw["format"] not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        opts.format = raw["format"]
    for name in ("captions", "enhance"):
        if raw.get(name) is not None:
            setattr(opts, name, _flag(name, raw[name]))
    return opts


def render_options(stored: dict, cfg) -> RenderOptions:
    """Options saved with the video (checked at submit); defaults fill what is missing."""
    return parse_options({k: stored.get(k) for k in ("format", "captions", "enhance")}, cfg)
