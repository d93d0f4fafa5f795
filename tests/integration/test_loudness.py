"""Loudness normalisation beyond the target: one signal stored in two channels is kept as
one, measured as dual mono (ffmpeg's ebur128 agrees), and the limiter's stretch-by-stretch
filtering equals filtering the whole signal."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from server.media import loudness


@pytest.fixture(scope="module")
def speech(sample_video, tmp_path_factory) -> np.ndarray:
    """20 s of the sample talk's speech, one channel, 48 kHz float32."""
    wav = tmp_path_factory.mktemp("speech") / "speech.wav"
    loudness.decode(["-ss", "50", "-t", "20", "-i", str(sample_video)], wav, channels=1)
    x, _ = soundfile.read(str(wav), always_2d=True, dtype="float32")
    return x[:, 0]


def _write(path, x: np.ndarray):
    soundfile.write(str(path), x, loudness.RATE, subtype="FLOAT")
    return path


def test_one_signal_in_two_channels_is_kept_as_one_as_loud_as_the_stereo(speech, tmp_path, monkeypatch):
    quiet = speech * 10 ** (-12 / 20)
    stereo = _write(tmp_path / "in.wav", np.stack([quiet, quiet], axis=1))
    out, as_stereo = tmp_path / "out.wav", tmp_path / "stereo.wav"
    reached = loudness.normalise(stereo, out)
    y, _ = soundfile.read(str(out), always_2d=True, dtype="float32")
    assert y.shape[1] == 1
    assert reached == pytest.approx(loudness.TARGET_LUFS, abs=0.3)
    integrated, true_peak = loudness.ebur128(["-i", str(out)])     # dualmono=true
    assert integrated == pytest.approx(loudness.TARGET_LUFS, abs=0.5) and true_peak <= -1.0
    # what the stereo would have become, kept as two channels: each channel is the mono
    monkeypatch.setattr(loudness, "as_mono", lambda x: None)
    loudness.normalise(stereo, as_stereo)
    z, _ = soundfile.read(str(as_stereo), always_2d=True, dtype="float32")
    assert z.shape[1] == 2
    assert np.abs(z[:, 0] - y[:, 0]).max() < 2 / 32768          # the same to the last bit or so


def test_two_different_channels_stay_two(speech, tmp_path):
    other = np.roll(speech, loudness.RATE // 3)          # the other channel a third of a second late
    out = tmp_path / "out.wav"
    loudness.normalise(_write(tmp_path / "in.wav", np.stack([speech, other], axis=1) * 0.3), out)
    assert soundfile.info(str(out)).channels == 2


def test_quiet_differences_between_channels_still_count_as_one_signal(speech):
    hiss = np.random.default_rng(1).normal(0, 1, len(speech)).astype(np.float32)
    hiss *= np.sqrt(np.mean(speech ** 2) / np.mean(hiss ** 2))        # as loud as the speech
    for side_db, one in ((-50, True), (-30, False)):
        x = np.stack([speech, speech + hiss * 10 ** (side_db / 20)], axis=1)
        assert (loudness.as_mono(x) is not None) == one


def test_mono_is_measured_as_dual_mono(speech):
    assert loudness.integrated_lufs(speech[:, None]) == pytest.approx(
        loudness.integrated_lufs(np.stack([speech, speech], axis=1)), abs=1e-4)


def test_aac_rate_is_per_channel(speech, tmp_path):
    mono = _write(tmp_path / "mono.wav", speech[:, None])
    stereo = _write(tmp_path / "stereo.wav", np.stack([speech, speech], axis=1))
    assert loudness.aac_args(mono)[-1] == "96k" and loudness.aac_args(stereo)[-1] == "192k"


def test_the_limiter_filtered_by_stretches_equals_the_whole(speech):
    size = 2 * int(loudness.LIMITER_WINDOW_S * loudness.RATE) + 1
    for gain in (2.0, 4.0, 8.0):
        x = np.stack([speech, np.roll(speech, 100)], axis=1) * gain
        peak = np.max(np.abs(x), axis=1)
        need = np.minimum(1.0, loudness.CEILING / np.maximum(peak, 1e-9))
        whole = np.minimum(uniform_filter1d(minimum_filter1d(need, size), size), need)
        ours = loudness.limiter_gain(x)
        assert ours is not None and 0 < (ours < 1).mean() < 1
        np.testing.assert_array_equal(ours, whole)
