"""SSRF: hostile URLs are refused at submission, and downloads re-check every address they
connect to (redirects, DNS answers that change after the submission check)."""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import copy_to
from server.adapters.downloader_ytdlp import YtDlpDownloader
from server.core.urls import UnsafeUrl, check_url, is_public_address
from server.core.failures import StepError

# Names a test resolver answers; everything else must be an IP literal.
TEST_DNS = {
    "internal.example": ["10.1.2.3"],
    "metadata.google.internal": ["169.254.169.254"],
    "localhost": ["127.0.0.1", "::1"],
    "localhost.": ["127.0.0.1"],
    "half-private.example": ["93.184.216.34", "192.168.0.10"],
    "v6-loopback.example": ["::1"],
    "v6-mapped.example": ["::ffff:10.0.0.7"],
    "cgnat.example": ["100.64.12.1"],
    "public.example": ["93.184.216.34", "2606:2800:220:1::1"],
}


def _info(addr: str, port: int):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sockaddr = (addr, port, 0, 0) if family == socket.AF_INET6 else (addr, port)
    return (family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)


def fake_resolver(host, port, *args, **kwargs):
    """Answers TEST_DNS names; parses IP literals (decimal, octal, hex...) as the C library does."""
    if host in TEST_DNS:
        return [_info(a, port) for a in TEST_DNS[host]]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    return [_info(i[4][0], port) for i in infos]


HOSTILE = [
    # IPv4 spellings of loopback
    "http://127.0.0.1/a.mp4", "http://127.1/a.mp4", "http://2130706433/a.mp4",
    "http://0x7f000001/a.mp4", "http://0177.0.0.1/a.mp4", "http://0x7f.0.0.1/a.mp4",
    "http://017700000001/a.mp4", "https://127.0.0.1:8443/a.mp4",
    # unspecified, private, link-local, CGNAT, multicast, broadcast, metadata
    "http://0/a.mp4", "http://0.0.0.0/a.mp4", "http://10.0.0.1/a.mp4", "http://172.16.5.4/a.mp4",
    "http://192.168.1.1/a.mp4", "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/a.mp4", "http://100.100.100.200/latest/meta-data",
    "http://224.0.0.1/a.mp4", "http://255.255.255.255/a.mp4",
    # IPv6 forms, including those that carry an IPv4 address
    "http://[::1]/a.mp4", "http://[::]/a.mp4", "http://[::ffff:127.0.0.1]/a.mp4",
    "http://[::ffff:7f00:1]/a.mp4", "http://[0:0:0:0:0:ffff:10.0.0.1]/a.mp4",
    "http://[::127.0.0.1]/a.mp4", "http://[fe80::1]/a.mp4", "http://[fc00::1]/a.mp4",
    "http://[fd00:ec2::254]/latest/meta-data", "http://[ff02::1]/a.mp4",
    "http://[2002:7f00:1::]/a.mp4", "http://[64:ff9b::a00:1]/a.mp4",
    # DNS names that resolve to non-public addresses
    "http://internal.example/a.mp4", "http://metadata.google.internal/computeMetadata/v1/",
    "http://localhost/a.mp4", "http://localhost./a.mp4", "http://LOCALHOST/a.mp4",
    "http://half-private.example/a.mp4", "http://v6-loopback.example/a.mp4",
    "http://v6-mapped.example/a.mp4", "http://cgnat.example:8080/a.mp4",
]

BAD_FORM = [
    ("file:///etc/passwd", "http or https"), ("gopher://127.0.0.1:25/", "http or https"),
    ("ftp://example.com/a.mp4", "http or https"), ("dict://127.0.0.1:11211/", "http or https"),
    ("javascript:alert(1)", "http or https"), ("http://user:pw@public.example/", "credentials"),
    ("http:///a.mp4", "no host"), ("http://public.example:0x50/", "malformed"),
]


def test_table_is_large_enough():
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_urls_are_refused(url):
    with pytest.raises(UnsafeUrl, match="non-public"):
        check_url(url, allow_private=False, resolve=fake_resolver)


@pytest.mark.parametrize("url, reason", BAD_FORM)
def test_malformed_and_foreign_schemes_are_refused(url, reason):
    with pytest.raises(UnsafeUrl, match=reason):
        check_url(url, allow_private=False, resolve=fake_resolver)


def test_public_names_pass_and_the_setting_allows_private():
    assert check_url("https://PUBLIC.example/v?b=2&a=1#x", allow_private=False,
                     resolve=fake_resolver) == "https://public.example/v?a=1&b=2"
    assert check_url("http://10.0.0.1/a.mp4", allow_private=True, resolve=fake_resolver)


@pytest.mark.parametrize("addr, public", [
    ("8.8.8.8", True), ("2606:4700::1111", True), ("::ffff:8.8.8.8", True),
    ("2002:808:808::1", True), ("10.0.0.1", False), ("fe80::1%eth0", False),
])
def test_is_public_address(addr, public):
    assert is_public_address(addr) is public


def test_api_refuses_ip_literals_with_400_naming_the_reason(app_config):
    from server import create_app
    app = create_app({**app_config, "allow_private_urls": False})
    try:
        c = app.test_client()
        for url in HOSTILE[:30]:
            if "example" in url or "internal" in url:
                continue                        # names need the test resolver
            r = c.post("/public/video", json={"video_url": url})
            assert r.status_code == 400, url
            assert "non-public" in r.json["error"], (url, r.json)
    finally:
        app.extensions["services"].db.close()


# --- connect-time enforcement in the downloader ---------------------------------------

class _Counting(BaseHTTPRequestHandler):
    hits = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"\0\0\0\0")


@pytest.fixture
def private_server():
    """A server on 127.0.0.2, which the tests' policy treats as an internal address: it
    counts the requests that reach it (there must be none)."""
    handler = type("Internal", (_Counting,), {"hits": 0})
    srv = ThreadingHTTPServer(("127.0.0.2", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv, handler
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def redirector(private_server):
    """A 'public' server on 127.0.0.1 that redirects /go to the internal server."""
    srv, _ = private_server
    target = f"http://127.0.0.2:{srv.server_address[1]}/secret.mp4"

    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()

    r = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=r.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{r.server_address[1]}/go"
    r.shutdown()
    r.server_close()


def only_first_loopback(addr: str) -> bool:
    """Test policy: 127.0.0.1 stands in for the public internet, everything else is internal."""
    return addr == "127.0.0.1"


def test_policy_lets_a_public_download_through(tmp_path, media_server, media_dir, tiny_video):
    d = YtDlpDownloader(1 << 30, 3600, address_policy=only_first_loopback)
    info = d.download(media_server.url(copy_to(media_dir, tiny_video)), tmp_path / "w", lambda p: None)
    assert info.bytes == tiny_video.stat().st_size


def test_redirect_to_a_private_address_is_refused(tmp_path, redirector, private_server):
    d = YtDlpDownloader(1 << 30, 3600, address_policy=only_first_loopback)
    with pytest.raises(StepError) as e:
        d.download(redirector, tmp_path / "w", lambda p: None)
    assert e.value.cause == "private_url" and not e.value.retryable
    assert "127.0.0.2" in str(e.value)
    assert private_server[1].hits == 0


def test_redirect_is_followed_when_private_addresses_are_allowed(tmp_path, redirector, private_server):
    """The control for the test above: the same redirect does reach the internal server."""
    d = YtDlpDownloader(1 << 30, 3600, address_policy=None)
    assert d.download(redirector, tmp_path / "w", lambda p: None).bytes == 4
    assert private_server[1].hits >= 1


def test_dns_rebinding_is_caught_at_connect_time(tmp_path, private_server):
    """The name resolves to the 'public' address when the URL is checked, then to the
    internal one when the download connects."""
    port = private_server[0].server_address[1]
    answers = iter(["93.184.216.34"] + ["127.0.0.2"] * 100)

    def rebinding(host, p, *args, **kwargs):
        assert host == "rebind.test"
        return [_info(next(answers), p)]

    url = f"http://rebind.test:{port}/a.mp4"
    assert check_url(url, allow_private=False, resolve=rebinding)   # looks public now
    d = YtDlpDownloader(1 << 30, 3600, address_policy=only_first_loopback, resolve=rebinding)
    with pytest.raises(StepError) as e:
        d.download(url, tmp_path / "w", lambda p: None)
    assert e.value.cause == "private_url"
    assert private_server[1].hits == 0


def test_guard_leaves_other_threads_alone(tmp_path, redirector, private_server):
    """The guard is scoped to the downloading thread: the app's own connections elsewhere
    (database, storage) are not filtered."""
    from server.adapters.connect_guard import guarded
    seen = []
    with guarded(only_first_loopback):
        t = threading.Thread(target=lambda: seen.append(socket.getaddrinfo("127.0.0.2", 80)))
        t.start()
        t.join()
        with pytest.raises(OSError, match="non-public"):
            socket.getaddrinfo("127.0.0.2", 80)
    assert seen and seen[0][0][4][0] == "127.0.0.2"
