"""The offline analyzer listening to real media files: the soundtrack decoded by ffmpeg as
a stream, laughter and applause feeding the score and the reason, and scores that do not
depend on the recording level."""
from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from scripts import synthetic_sounds as sounds
from server.analysis.audio import CHUNK_FRAMES, HOP, analyse, from_samples
from server.core.model import ClipBounds, Classification, Segment, Transcript, Word

RATE = sounds.RATE


def empty_transcript(seconds: float) -> Transcript:
    return Transcript("en", 1.0, seconds, "x", "x", [])


def test_the_streamed_soundtrack_matches_the_samples(tmp_path):
    # Longer than one read chunk, with events on either side of the chunk edge.
    rng = np.random.default_rng(5)
    parts = [np.zeros(RATE * 55, dtype=np.float32), sounds.applause(3.0, rng=rng),
             np.zeros(RATE * 4, dtype=np.float32), sounds.laughter(8, rng=rng),
             np.zeros(RATE * 20, dtype=np.float32)]
    samples = np.concatenate(parts)
    assert len(samples) > CHUNK_FRAMES * HOP
    path = sounds.write_wav(tmp_path / "a.wav", samples)
    streamed = analyse(path, empty_transcript(len(samples) / RATE))
    quantised = np.round(np.clip(samples, -1, 1) * 32767) / 32768   # what the file holds
    direct = from_samples(quantised, [])
    assert abs(len(streamed.power_db) - len(direct.power_db)) <= 1
    n = min(len(streamed.power_db), len(direct.power_db))
    audible = np.maximum(streamed.power_db[:n], direct.power_db[:n]) > -60   # 1 LSB apart below
    assert np.allclose(streamed.power_db[:n][audible], direct.power_db[:n][audible], atol=0.1)
    assert [(e.kind, e.start) for e in streamed.events] == [(e.kind, e.start) for e in direct.events]
    assert [e.kind for e in streamed.events] == ["applause", "laughter"]


def test_media_without_sound_fails_cleanly_and_the_analyzer_carries_on(tmp_path):
    silent_video = tmp_path / "silent.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "color=c=blue:s=64x64:d=2", "-c:v", "libx264", str(silent_video)], check=True)
    with pytest.raises(RuntimeError, match="no audio"):
        analyse(silent_video, empty_transcript(2.0))
    from server.adapters.analyzer_offline import OfflineAnalyzer
    from scripts.synthetic_transcript import make_transcript
    from tests.support.talks import TOPICS
    result = OfflineAnalyzer().find_clips(make_transcript(TOPICS), Classification("lecture", 0.9),
                                          ClipBounds(), lambda _: None, silent_video)
    assert result.clips and result.raw["audio"] is None


@pytest.fixture(scope="module")
def spoken_talk(tmp_path_factory):
    """Three sections of the sample talk spoken by piper, applause right after the second;
    a transcript with the known word times (spread over each sentence)."""
    from scripts.make_sample import parse_talk
    from tests.support import ROOT
    sections = parse_talk((ROOT / "scripts" / "samples" / "short_talk.txt").read_text())
    rng = np.random.default_rng(11)
    parts, segments, at = [np.zeros(RATE // 2, dtype=np.float32)], [], 0.5
    applause_at = None
    for k, (_, text) in enumerate(sections):
        for sentence in [s for s in text.replace("? ", "?|").replace(". ", ".|").split("|") if s]:
            voice = sounds.speech(sentence)
            tokens = sentence.split()
            step = len(voice) / RATE / len(tokens)
            words = [Word(at + i * step, at + (i + 1) * step, " " + t) for i, t in enumerate(tokens)]
            segments.append(Segment(words[0].start, words[-1].end, sentence, words))
            pause = np.zeros(int(0.5 * RATE), dtype=np.float32)
            parts += [voice, pause]
            at += len(voice) / RATE + 0.5
        if k == 1:
            clap = sounds.applause(3.0, rng=rng)
            applause_at = at
            parts += [clap, np.zeros(RATE, dtype=np.float32)]
            at += len(clap) / RATE + 1.0
        else:
            parts.append(np.zeros(RATE, dtype=np.float32))
            at += 1.0
    samples = np.concatenate(parts)
    transcript = Transcript("en", 1.0, len(samples) / RATE, "synthetic", "none", segments)
    return samples, transcript, applause_at


def test_applause_after_a_passage_raises_its_score_and_is_named_in_its_reason(spoken_talk,
                                                                               tmp_path):
    from server.adapters.analyzer_offline import OfflineAnalyzer
    samples, transcript, applause_at = spoken_talk
    analyzer = OfflineAnalyzer()
    bounds = ClipBounds(min_s=15, max_s=60, max_clips=3)
    heard = analyzer.find_clips(transcript, Classification("lecture", 0.9), bounds,
                                lambda _: None, sounds.write_wav(tmp_path / "talk.wav", samples))
    read = analyzer.find_clips(transcript, Classification("lecture", 0.9), bounds,
                               lambda _: None)
    assert [e["kind"] for e in heard.raw["audio"]["events"]] == ["applause"]
    applauded = next(c for c in heard.clips if c.start_s < applause_at <= c.end_s + 4)
    assert "applause at" in applauded.reason
    same_span = next(c for c in read.clips if c.start_s == applauded.start_s)
    assert "applause" not in same_span.reason
    others = [c for c in heard.clips if c is not applauded]
    assert all("applause" not in c.reason for c in others)


def test_the_recording_level_does_not_change_a_score(spoken_talk, tmp_path):
    from server.adapters.analyzer_offline import OfflineAnalyzer
    samples, transcript, _ = spoken_talk
    analyzer = OfflineAnalyzer()
    results = [analyzer.find_clips(transcript, Classification("lecture", 0.9), ClipBounds(),
                                   lambda _: None, sounds.write_wav(tmp_path / f"{gain}.wav",
                                                             samples * 10 ** (gain / 20)))
               for gain in (0, -18)]
    assert [(c.start_s, c.score, c.reason) for c in results[0].clips] == \
        [(c.start_s, c.score, c.reason) for c in results[1].clips]
