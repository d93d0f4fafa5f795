"""Which submitted URLs the server may fetch.

Only http(s) URLs whose host resolves to public addresses; private, loopback, link-local,
CGNAT, multicast and reserved ranges are refused (the server must not become a way into
its own network). ALLOW_PRIVATE_URLS turns the address check off for development and tests.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit, parse_qsl, urlencode

MAX_URL_LENGTH = 2048


class UnsafeUrl(ValueError):
    pass


def normalise(url: str) -> str:
    """The same video submitted twice should compare equal: lower-case scheme and host,
    no default port, no fragment, query parameters sorted."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, 80 if parts.scheme == "http" else 443) else f"{host}:{port}"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", query, ""))


_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")        # deprecated ::a.b.c.d
_NAT64 = ipaddress.ip_network("64:ff9b::/96")            # well-known NAT64 prefix


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries and a router may deliver to."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(addr: str) -> bool:
    ip = ipaddress.ip_address(addr.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool, resolve=socket.getaddrinfo,
              name: str = "video_url") -> str:
    """Returns the normalised URL or raises UnsafeUrl naming the reason (and the field
    `name`: the same rules serve video URLs and webhook URLs)."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeUrl(f"{name} must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"{name} is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url.strip())
        parts.port  # raises on a malformed port
    except ValueError as e:
        raise UnsafeUrl(f"{name} is malformed: {e}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeUrl(f"{name} must use http or https")
    if not parts.hostname:
        raise UnsafeUrl(f"{name} has no host")
    if parts.username or parts.password:
        raise UnsafeUrl(f"{name} must not carry credentials")
    if not allow_private:
        try:
            infos = resolve(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            raise UnsafeUrl(f"the host {parts.hostname!r} does not resolve") from None
        for info in infos:
            if not is_public_address(info[4][0]):
                raise UnsafeUrl(f"the host {parts.hostname!r} resolves to a non-public address")
    return normalise(url)
