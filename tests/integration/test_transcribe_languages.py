"""Every stretch of speech kept, in its own language; coverage measured; the audio track
with speech chosen. Real Whisper (the packaged multilingual `base`) on clips built here."""
from __future__ import annotations

import pytest

from server.adapters.speech_audio import decode_tracks
from server.adapters.transcriber_faster_whisper import FasterWhisperTranscriber
from server.core.model import Transcript
from tests.support.speech_clips import language_switch, silent_first_track


@pytest.fixture(scope="module")
def switch_clip(tmp_path_factory):
    return language_switch(tmp_path_factory.mktemp("switch"))


@pytest.fixture(scope="module")
def base(tmp_path_factory, models_dir):
    data_dir = tmp_path_factory.mktemp("d")
    (data_dir / "models").symlink_to(models_dir, target_is_directory=True)
    return FasterWhisperTranscriber("base", data_dir)


def text_in(transcript: Transcript, language: str) -> str:
    return " ".join(s.text for s in transcript.segments if s.language == language).lower()


@pytest.mark.parametrize("batch_size", [0, 8])
def test_a_talk_that_switches_language_keeps_both_stretches(base, switch_clip, batch_size, monkeypatch):
    monkeypatch.setattr(base, "batch_size", batch_size)
    seen: list[float] = []
    result = base.transcribe(switch_clip.path, seen.append)

    english, german = text_in(result, "en"), text_in(result, "de")
    assert "tides" in english and "sailors" in english, english
    assert all(w in german for w in ("stern", "mitte", "vor allem", "helium")), german
    for s in result.segments:       # each stretch sits on its side of the switch
        if s.language == "en":
            assert s.end <= switch_clip.switch_s + 0.3, s
        else:
            assert s.language == "de" and s.start >= switch_clip.switch_s - 0.5, s

    shares = {x["language"]: x["share"] for x in result.languages}
    assert set(shares) == {"en", "de"}
    spoken = switch_clip.english_s + switch_clip.german_s
    assert shares["en"] == pytest.approx(switch_clip.english_s / spoken, abs=0.08)
    assert result.language == max(shares, key=shares.__getitem__)
    # voice activity: the speech, the pauses under 1 s inside a stretch, 0.4 s of padding
    assert spoken <= result.speech_s <= spoken + 4.0
    assert result.coverage is not None and result.coverage >= 0.9
    assert result.audio_track == {"index": 0, "count": 1, "reason": "the only audio track",
                                  "language": None, "title": None}
    assert seen and seen == sorted(seen) and all(0 <= p < 1 for p in seen)
    assert Transcript.from_dict(result.to_dict()) == result


def test_a_forced_language_is_used_for_every_stretch(base, switch_clip):
    result = base.transcribe(switch_clip.path, lambda p: None, language="de")
    assert result.languages == [{"language": "de", "share": 1.0, "speech_s": pytest.approx(result.speech_s, abs=0.1)}]
    assert {s.language for s in result.segments} == {"de"}
    assert result.language == "de" and result.language_probability == 1.0
    assert result.coverage is not None


def test_the_setting_forces_a_language_when_the_request_does_not(tmp_path, models_dir, switch_clip):
    (tmp_path / "models").symlink_to(models_dir, target_is_directory=True)
    english_only = FasterWhisperTranscriber("base", tmp_path, language="en")
    result = english_only.transcribe(switch_clip.path, lambda p: None)
    assert [x["language"] for x in result.languages] == ["en"]
    assert {s.language for s in result.segments} == {"en"}
    with pytest.raises(ValueError, match="xx"):
        english_only.transcribe(switch_clip.path, lambda p: None, language="xx")


def test_the_audio_track_with_speech_is_transcribed(base, switch_clip, tmp_path):
    two_tracks = silent_first_track(switch_clip.path, tmp_path / "two_tracks.mkv")
    tracks = decode_tracks(two_tracks)
    assert [t.default for t in tracks] == [True, False]        # the file is what we meant
    assert [t.title for t in tracks] == ["silence", "speech"]

    result = base.transcribe(two_tracks, lambda p: None)
    assert result.audio_track is not None
    assert (result.audio_track["index"], result.audio_track["count"]) == (1, 2)
    assert result.audio_track["title"] == "speech"
    assert "loudest" in result.audio_track["reason"]
    assert "tides" in text_in(result, "en") and "helium" in text_in(result, "de")
