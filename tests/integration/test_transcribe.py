"""faster-whisper with the packaged models: language detection, word timings, batching."""
from __future__ import annotations

import pytest

from server.adapters.transcriber_faster_whisper import FasterWhisperTranscriber


@pytest.mark.parametrize("model, batch_size", [("base", 0), ("tiny.en", 0), ("tiny.en", 4)])
def test_packaged_models_transcribe_with_word_timings(models_dir, tmp_path, tiny_video, model, batch_size):
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    (data_dir / "models").symlink_to(models_dir, target_is_directory=True)
    seen = []
    t = FasterWhisperTranscriber(model, data_dir, batch_size=batch_size)
    result = t.transcribe(tiny_video, seen.append)
    text = result.text.lower()
    assert "moon" in text and "tide" in text
    assert result.language == "en" and result.model == model
    words = [w for s in result.segments for w in s.words]
    assert words and all(a.start <= b.start for a, b in zip(words, words[1:]))
    assert all(0 <= w.start <= w.end <= result.duration_s + 0.5 for w in words)
    assert seen and all(0 <= p <= 1 for p in seen)


def test_progress_callback_can_stop_a_transcription(models_dir, tmp_path, sample_video):
    class Stop(Exception):
        pass

    def stop(_):
        raise Stop()

    data_dir = tmp_path / "d"
    data_dir.mkdir()
    (data_dir / "models").symlink_to(models_dir, target_is_directory=True)
    with pytest.raises(Stop):
        FasterWhisperTranscriber("tiny.en", data_dir).transcribe(sample_video, stop)
