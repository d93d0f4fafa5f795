"""Content-Disposition for files people save: the name in plain ASCII for old clients, and
in full (RFC 6266 / 5987 `filename*`) when it has other letters."""
from __future__ import annotations

import unicodedata
from urllib.parse import quote


def content_disposition(name: str, attachment: bool = True) -> str:
    kind = "attachment" if attachment else "inline"
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    plain = plain.replace("\\", "").replace('"', "") or "download"
    if plain == name:
        return f'{kind}; filename="{name}"'
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
