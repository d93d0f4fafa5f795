"""API keys, the job list and webhooks through HTTP: `Authorization: Bearer` in any case,
401s that say why, 429s with Retry-After for a key's rate and quotas, anonymous
submission as a setting, idempotency keys bound to the request and the key, the job list
page by page, and a webhook from submission to a verified delivery."""
from __future__ import annotations

import threading

import pytest

from server import create_app
from server.usecases import keys
from server.worker import Worker
from tests.support.noop_workers import wait_for
from tests.support.webhook_receiver import WebhookReceiver

VIDEO = "https://example.com/talk.mp4"


def bearer(key: str, scheme: str = "Bearer") -> dict:
    return {"Authorization": f"{scheme} {key}"}


@pytest.fixture
def key(services):
    return keys.create(services, "acme")


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_a_key_is_taken_in_any_case_of_the_scheme(client, key, scheme):
    r = client.post("/public/video", json={"video_url": VIDEO}, headers=bearer(key.key, scheme))
    assert r.status_code == 202, r.json
    listed = client.get("/public/videos", headers=bearer(key.key, scheme)).json
    assert [v["token"] for v in listed["videos"]] == [r.json["token"]]


@pytest.mark.parametrize("header, words", [
    ("Bearer ck_" + "A" * 43, "not valid"),
    ("Bearer some-other-token", "not an API key"),
    ("Basic dXNlcjpwYXNz", "Bearer <API key>"),
])
def test_a_bad_key_is_a_401_that_says_why(client, clean_db, header, words):
    for r in (client.post("/public/video", json={"video_url": VIDEO}, headers={"Authorization": header}),
              client.get("/public/video/status?token=abc", headers={"Authorization": header})):
        assert r.status_code == 401 and words in r.json["error"]
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_is_refused(client, services, key):
    keys.revoke(services, "acme")
    r = client.post("/public/video", json={"video_url": VIDEO}, headers=bearer(key.key))
    assert (r.status_code, r.json["error"]) == (401, "this API key was revoked")


def test_the_internal_token_is_not_a_key_and_a_key_does_not_open_internal(client, key):
    from tests.support import AUTH
    assert client.post("/public/video", json={"video_url": VIDEO}, headers=AUTH).status_code == 401
    assert client.post("/internal/perform-video-processing", headers=bearer(key.key)).status_code == 401


def test_anonymous_submission_is_a_setting(app_config, clean_db):
    app = create_app({**app_config, "allow_anonymous_submit": False})
    try:
        client, s = app.test_client(), app.extensions["services"]
        r = client.post("/public/video", json={"video_url": VIDEO})
        assert r.status_code == 401 and "API key only" in r.json["error"]
        assert client.post("/public/uploads", json={"filename": "a.mp4", "size": 10}).status_code == 401
        made = keys.create(s, "acme")
        r = client.post("/public/video", json={"video_url": VIDEO}, headers=bearer(made.key))
        assert r.status_code == 202
        assert client.get(f"/public/video/status?token={r.json['token']}").status_code == 200
    finally:
        app.extensions["services"].close()


def test_a_keys_rate_replaces_the_per_address_limit(app_config, clean_db):
    app = create_app({**app_config, "rate_limit_submit_per_min": 1})
    try:
        client, s = app.test_client(), app.extensions["services"]
        assert client.post("/public/video", json={"video_url": VIDEO + "?1"}).status_code == 202
        assert client.post("/public/video", json={"video_url": VIDEO + "?2"}).status_code == 429
        made = keys.create(s, "acme", rate_per_min=3)
        codes = [client.post("/public/video", json={"video_url": f"{VIDEO}?k{i}"},
                             headers=bearer(made.key)).status_code for i in range(4)]
        assert codes == [202, 202, 202, 429]
        r = client.get("/public/videos", headers=bearer(made.key))
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 20
        assert "request rate" in r.json["error"]
    finally:
        app.extensions["services"].close()


def test_a_spent_quota_is_a_429_with_retry_after(client, services):
    made = keys.create(services, "small", videos_per_day=1)
    assert client.post("/public/video", json={"video_url": VIDEO}, headers=bearer(made.key)).status_code == 202
    r = client.post("/public/video", json={"video_url": VIDEO + "?2"}, headers=bearer(made.key))
    assert r.status_code == 429 and "1 videos a day" in r.json["error"]
    assert 1 <= int(r.headers["Retry-After"]) <= 86400


def test_a_resumable_upload_is_refused_at_creation_when_the_quota_is_spent(client, services):
    made = keys.create(services, "tiny", videos_per_day=1)
    create = lambda: client.post("/public/uploads", json={"filename": "talk.mp4", "size": 10_000_000},
                                 headers=bearer(made.key))
    assert create().status_code == 201
    assert client.post("/public/video", json={"video_url": VIDEO}, headers=bearer(made.key)).status_code == 202
    r = create()
    assert r.status_code == 429 and "1 videos a day" in r.json["error"]
    assert 1 <= int(r.headers["Retry-After"]) <= 86400


def test_idempotency_keys_are_bound_to_the_request_and_the_key(client, services, key):
    other = keys.create(services, "other")
    post = lambda body, k, idem="order-1": client.post(
        "/public/video", json=body, headers={**bearer(k), "Idempotency-Key": idem})
    first = post({"video_url": VIDEO}, key.key)
    assert first.status_code == 202
    assert post({"video_url": VIDEO}, key.key).json == first.json
    refused = post({"video_url": VIDEO + "?evil"}, key.key)
    assert refused.status_code == 422 and "different request" in refused.json["error"]
    assert first.json["token"] not in refused.get_data(as_text=True)
    assert post({"video_url": VIDEO, "priority": 5}, key.key).status_code == 422
    theirs = post({"video_url": VIDEO}, other.key)            # another key's scope
    assert theirs.status_code == 202 and theirs.json["token"] != first.json["token"]
    anonymous = client.post("/public/video", json={"video_url": VIDEO + "?evil"},
                            headers={"Idempotency-Key": "order-1"})
    assert anonymous.status_code == 202 and anonymous.json["token"] != first.json["token"]


def test_the_job_list_pages_newest_first_with_the_status_summary(client, services, key):
    tokens = [client.post("/public/video", json={"video_url": f"{VIDEO}?{i}"},
                          headers=bearer(key.key)).json["token"] for i in range(5)]
    client.post("/public/video", json={"video_url": VIDEO + "?anonymous"})
    client.post("/public/video/cancel", json={"token": tokens[1]})
    seen, cursor = [], None
    while True:
        r = client.get("/public/videos", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                       headers=bearer(key.key))
        assert r.status_code == 200, r.json
        assert len(r.json["videos"]) <= 2
        seen += r.json["videos"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            break
    assert [v["token"] for v in seen] == tokens[::-1]
    for item in seen:                                  # the same summary the status endpoint gives
        assert item == client.get(f"/public/video/status?token={item['token']}").json
    cancelled = client.get("/public/videos?status=cancelled,failed", headers=bearer(key.key)).json
    assert [v["token"] for v in cancelled["videos"]] == [tokens[1]] and cancelled["next_cursor"] is None


@pytest.mark.parametrize("query, words", [
    ("status=done", "unknown status done"), ("limit=0", "limit"), ("limit=101", "limit"),
    ("cursor=bm90LWEtY3Vyc29y", "cursor is not one this server handed out"),
])
def test_bad_list_queries_are_400(client, key, query, words):
    r = client.get(f"/public/videos?{query}", headers=bearer(key.key))
    assert r.status_code == 400 and words in r.json["error"]


def test_the_list_needs_a_key(client, clean_db):
    r = client.get("/public/videos")
    assert r.status_code == 401 and "needs an API key" in r.json["error"]


def test_a_webhook_on_a_private_address_is_refused_at_submission(client, services, key):
    services.cfg.allow_private_urls = False
    for url in ("http://127.0.0.1:8080/hook", "http://169.254.169.254/latest", "http://[::1]/x",
                "http://10.0.0.1/hook"):
        r = client.post("/public/video", json={"video_url": "https://93.184.216.34/a.mp4",
                                               "webhook_url": url}, headers=bearer(key.key))
        assert r.status_code == 400 and "webhook_url" in r.json["error"], (url, r.json)
    r = client.post("/public/video", json={"video_url": "https://93.184.216.34/a.mp4",
                                           "webhook_url": "https://93.184.216.34/hook",
                                           "webhook_events": ["video.finished"]}, headers=bearer(key.key))
    assert r.status_code == 400 and "webhook_events" in r.json["error"]


def test_a_submission_with_a_webhook_reaches_a_verifying_receiver(client, services, key):
    with WebhookReceiver(key.webhook_secret) as rx:
        r = client.post("/public/video", json={"video_url": VIDEO, "webhook_url": rx.url,
                                               "webhook_events": ["video.completed", "video.step_completed"]},
                        headers=bearer(key.key))
        token = r.json["token"]
        worker = Worker(services, concurrency=2, pipeline="noop")
        thread = threading.Thread(target=worker.run_forever, kwargs={"poll_s": 0.05}, daemon=True)
        thread.start()
        try:
            wait_for(lambda: len(rx.new_events) == 6, timeout=60)
            status = wait_for(lambda: (lambda b: b if all(d["state"] == "delivered" for d in b.get("webhooks", []))
                                       and len(b.get("webhooks", [])) == 6 else None)(
                client.get(f"/public/video/status?token={token}").json), timeout=30)
        finally:
            worker.stopping.set()
            thread.join(10)
            worker.shutdown(grace_s=5)
    events = sorted((e["type"], e["data"].get("step")) for e in rx.new_events)
    assert events == sorted([("video.completed", None)] + [
        ("video.step_completed", s) for s in ("download", "transcribe", "classify", "find_clips", "render")])
    assert all(r.verified for r in rx.received)
    assert {d["event"] for d in status["webhooks"]} == {"video.completed", "video.step_completed"}
    assert all(d["attempts"][-1]["status_code"] == 200 for d in status["webhooks"])


def test_the_document_describes_keys_the_list_and_webhooks(client):
    doc = client.get("/openapi.json").json
    assert doc["components"]["securitySchemes"]["apiKey"] == {
        **doc["components"]["securitySchemes"]["apiKey"], "type": "http", "scheme": "bearer"}
    assert doc["paths"]["/public/videos"]["get"]["security"] == [{"apiKey": []}]
    assert doc["paths"]["/public/video"]["post"]["security"] == [{}, {"apiKey": []}]
    assert doc["paths"]["/internal/perform-video-processing"]["post"]["security"] == [{"internalToken": []}]
    for path, ops in doc["paths"].items():
        for op in ops.values():
            if path.startswith("/public/"):
                assert {"401", "429"} <= set(op["responses"]), path
    schemas = doc["components"]["schemas"]
    assert {"webhook_url", "webhook_events"} <= set(schemas["SubmitUrlIn"]["properties"])
    assert "webhooks" in schemas["StatusOut"]["properties"]
    for name in ("VideoListOut", "WebhookDeliveryOut", "WebhookAttemptOut"):
        assert schemas[name]["additionalProperties"] is False, name
