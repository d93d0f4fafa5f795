"""The OpenAI analyzer against a local OpenAI-compatible server (scripts/fake_openai_server.py):
the happy path, every injected failure, and the whole pipeline through an outage."""
from __future__ import annotations

import time

import psycopg
import pytest

from tests.support import INTERNAL_TOKEN, copy_to
from scripts.fake_openai_server import FakeOpenAI
from scripts.eval_clips import labelled_talks, whole_title
from server.analysis.titles import TITLE_MAX
from server.adapters.analyzer_openai import WINDOW_S, OpenAIAnalyzer, windows
from server.adapters.llm_client import LLMClient, estimate_cost_usd
from server.adapters.llm_schema import CLIP_REFINEMENT, SchemaError, validate
from server.settings import Settings
from server.core.failures import StepError
from server.pipeline.sentences import split_sentences
from server.core.model import ClipBounds, Classification
from scripts.synthetic_transcript import make_transcript
from tests.support.talks import TOPICS

AUTH = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def make_analyzer(fake, timeout_s=5.0, retries=2, max_wait_s=20.0, window_s=WINDOW_S):
    """An analyzer whose backoff sleeps are recorded, not slept."""
    cfg = Settings.with_overrides({"openai_api_key": "sk-test", "openai_base_url": fake.url,
                               "openai_model": "gpt-4o"})
    waits = []
    llm = LLMClient(cfg.openai_api_key, cfg.openai_base_url, cfg.openai_model, timeout_s,
                    retries, max_wait_s, sleep=waits.append)
    return OpenAIAnalyzer(cfg, llm, window_s), waits


@pytest.fixture(scope="module")
def long_talk():
    """Seven minutes on eight topics (the evaluation's labelled set); with two-minute
    windows it stands in for an hour-long talk with six-minute windows."""
    transcript, _ = labelled_talks(1)[0]
    return transcript


def short():
    return make_transcript(TOPICS)


def find(analyzer, transcript, progress=None):
    return analyzer.find_clips(transcript, Classification("lecture", 0.9), ClipBounds(),
                               progress or (lambda _: None))


# --- happy path ------------------------------------------------------------------------------

def test_windows_overlap_and_cover_everything(long_talk):
    sentences = split_sentences(long_talk)
    spans = windows(sentences, 120.0, 30.0)
    assert len(spans) > 3 and spans[0][0] == 0 and spans[-1][1] == len(sentences) - 1
    for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
        assert a0 < b0 <= a1 < b1                                  # overlapping, advancing
        assert sentences[a1].end - sentences[b0].start >= 20       # by a real margin
    assert all(sentences[b].end - sentences[a].start <= 120 for a, b in spans)


def test_long_talk_clips_cover_its_whole_length(fake, long_talk):
    analyzer, waits = make_analyzer(fake, window_s=120.0)
    seen = []
    result = find(analyzer, long_talk, seen.append)
    sentences = split_sentences(long_talk)
    starts = {s.start for s in sentences}
    ends = {s.end for s in sentences}
    clips = result.clips
    assert 4 <= len(clips) <= 10
    assert all(c.start_s in starts and c.end_s in ends for c in clips)
    assert all(15 <= c.end_s - c.start_s <= 90 and c.title and c.hook and c.reason for c in clips)
    # The fake model titles a clip with its whole first sentence, often too long: titles are
    # held to the rules (whole words, no ellipsis), and no two clips share a reason.
    texts = [" ".join(s.text for s in sentences if c.start_s <= s.start and s.end <= c.end_s)
             for c in clips]
    assert all(whole_title(c.title, text) for c, text in zip(clips, texts))
    assert any(len(c["title"]) > TITLE_MAX for r in result.raw["refined"] for c in r["clips"])
    assert len({c.reason for c in clips}) == len(clips)
    spans = sorted((c.start_s, c.end_s) for c in clips)
    assert all(a1 <= b0 for (_, a1), (b0, _) in zip(spans, spans[1:]))
    # Every third of the talk holds a clip: no front bias.
    thirds = {min(2, int(3 * c.start_s / long_talk.duration_s)) for c in clips}
    assert thirds == {0, 1, 2}
    schemas = [r["schema"] for r in fake.requests]
    n_windows = len(result.raw["windows"])
    assert n_windows > 3 and schemas.count("window_scores") == n_windows
    assert 1 <= schemas.count("clip_refinement") <= n_windows
    assert result.tokens_used > 0 and result.cost_usd > 0 and waits == []
    assert result.raw["prompt_versions"]["clip_refine"] == "v3" and result.raw["model"] == "gpt-4o"
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


def test_classify(fake):
    analyzer, _ = make_analyzer(fake)
    result = analyzer.classify(make_transcript(TOPICS), "Three things")
    assert result.content_type in ("podcast", "lecture", "tutorial", "news", "commentary", "other")
    assert 0 <= result.confidence <= 1 and result.rationale and result.topics
    assert result.language == "en" and result.analyzer == "openai"
    assert result.tokens_used > 0 and result.cost_usd == pytest.approx(abs=1e-6, expected=
        estimate_cost_usd("gpt-4o", result.raw["prompt_tokens"], result.raw["completion_tokens"]))


# --- failures --------------------------------------------------------------------------------

def test_429_honours_retry_after(fake):
    analyzer, waits = make_analyzer(fake)
    fake.script("429:2")
    assert analyzer.classify(short(), None).content_type
    assert waits == [2.0]
    assert [r["behaviour"] for r in fake.requests] == ["429:2", "ok"]


def test_500_is_retried_with_backoff(fake):
    analyzer, waits = make_analyzer(fake)
    fake.script("500", "503")
    assert analyzer.classify(short(), None).content_type
    assert waits == [1.0, 2.0]


def test_outage_fails_the_step_as_retryable(fake):
    analyzer, waits = make_analyzer(fake, retries=2)
    fake.script("500", "500", "500")
    with pytest.raises(StepError) as err:
        analyzer.classify(short(), None)
    assert err.value.cause == "llm_unavailable" and err.value.retryable
    assert len(fake.requests) == 3 and len(waits) == 2


def test_long_retry_after_is_left_to_the_queue(fake):
    analyzer, waits = make_analyzer(fake, max_wait_s=20)
    fake.script("429:120")
    with pytest.raises(StepError) as err:
        find(analyzer, short())
    assert err.value.cause == "rate_limited" and err.value.retry_after_s == 120
    assert waits == []


def test_timeout_is_retried(fake):
    analyzer, waits = make_analyzer(fake, timeout_s=0.5)
    fake.script("slow:3")
    assert analyzer.classify(short(), None).content_type
    assert len(waits) == 1 and [r["behaviour"] for r in fake.requests] == ["slow:3", "ok"]


@pytest.mark.parametrize("bad", ["malformed", "schema"])
def test_invalid_output_is_re_asked_once(fake, bad):
    analyzer, _ = make_analyzer(fake)
    fake.script(bad)
    result = find(analyzer, short())
    assert result.clips
    assert [r["behaviour"] for r in fake.requests][:2] == [bad, "ok"]


@pytest.mark.parametrize("bad", ["malformed", "schema"])
def test_invalid_output_twice_fails_as_retryable(fake, bad):
    analyzer, _ = make_analyzer(fake)
    fake.script(bad, bad)
    with pytest.raises(StepError) as err:
        find(analyzer, short())
    assert err.value.cause == "llm_bad_output" and err.value.retryable
    assert len(fake.requests) == 2


def test_client_errors_fail_the_job(fake):
    analyzer, waits = make_analyzer(fake)
    fake.script("401")
    with pytest.raises(StepError) as err:
        analyzer.classify(short(), None)
    assert err.value.cause == "llm_rejected" and not err.value.retryable and waits == []


def test_validator_names_the_problem():
    good = {"clips": [{"start_sentence": 1, "end_sentence": 2, "title": "t", "hook": "h",
                       "reason": "r", "score": 50, "on_topic": False}]}
    validate(good, CLIP_REFINEMENT)
    cases = [({"clips": [{**good["clips"][0], "score": 101}]}, "score must be <= 100"),
             ({"clips": [{**good["clips"][0], "extra": 1}]}, "unexpected field"),
             ({"clips": [{"title": "t"}]}, "lacks required"),
             ({"clips": [{**good["clips"][0], "start_sentence": True}]}, "must be integer")]
    for answer, message in cases:
        with pytest.raises(SchemaError, match=message):
            validate(answer, CLIP_REFINEMENT)


def test_cost_estimate():
    assert estimate_cost_usd("gpt-4o", 1_000_000, 0) == pytest.approx(2.5)
    assert estimate_cost_usd("gpt-4o-mini-2024-07-18", 0, 1_000_000) == pytest.approx(0.6)
    assert estimate_cost_usd("llama3", 1000, 1000) == 0.0


# --- the whole pipeline ----------------------------------------------------------------------

@pytest.fixture
def llm_fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def app_config(app_config, llm_fake):
    return {**app_config, "openai_api_key": "sk-test", "openai_base_url": llm_fake.url,
            "openai_retries": 1}


def test_pipeline_waits_out_an_outage_then_finishes(client, clean_db, llm_fake, media_server,
                                                   media_dir, sample_video):
    from tests.support.pipeline_checks import check_clips
    # classify meets an outage longer than its in-step retries.
    llm_fake.script("500", "502")
    token = client.post("/public/video", json={
        "video_url": media_server.url(copy_to(media_dir, sample_video))}).json["token"]
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        # The cron's part: claim whatever is due, including the job once its backoff ends.
        client.post("/internal/perform-video-processing", headers=AUTH)
        body = client.get(f"/public/video/status?token={token}").json
        if body["status"] in ("completed", "failed"):
            break
        time.sleep(0.5)
    assert body["status"] == "completed", body
    with psycopg.connect(clean_db) as c:
        runs = c.execute("select step, outcome, failure_cause from step_runs order by id").fetchall()
    assert runs[2:4] == [("classify", "retrying", "llm_unavailable"),
                         ("classify", "succeeded", None)]
    assert [r["behaviour"] for r in llm_fake.requests][:3] == ["500", "502", "ok"]
    assert body["usage"]["tokens"] > 0 and body["usage"]["cost_usd"] > 0
    clips = body["clips"]
    assert len(clips) >= 2
    transcript = client.get(f"/public/video/transcript?token={token}").json
    check_clips(client, body, transcript)
    # Clips come from both halves of the talk.
    half = body["video"]["duration_s"] / 2
    assert any(c["start_s"] < half for c in clips) and any(c["start_s"] >= half for c in clips)
