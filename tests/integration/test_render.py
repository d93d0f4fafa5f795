"""Clip rendering: frame-exact cuts and A/V sync (read back with PyAV), loudness (ffmpeg's
ebur128), a crop that follows a real face, burned-in captions timed to the words."""
from __future__ import annotations

import json
import re

import av
import numpy as np
import pytest

from tests.support.frame_pipe import render_frame_pipe
from tests.support.render_media import BEEP_AT_S, INDEX_FPS, beep_onset, frame_indices, indexed_video, moving_face_video
from server.adapters.renderer_ffmpeg import FfmpegRenderer
from server.core import subtitles
from server.media import captions, encoder, framed, loudness, reframe
from server.media.frames import cut_window
from server.core.model import ClipPlan, RenderOptions, Segment, Transcript, Word


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return indexed_video(tmp_path_factory.mktemp("idx") / "indexed.mp4")


def _render(src, tmp_path, start, end, transcript=None, **options):
    out = tmp_path / "clip.mp4"
    result = FfmpegRenderer().render(src, ClipPlan(start, end, "A title", "A reason", 77.0), out,
                                     tmp_path / "clip.jpg", transcript, RenderOptions(**options))
    return out, result


def _durations(path):
    with av.open(str(path)) as c:
        return {s.type: float(s.duration * s.time_base) for s in c.streams}


@pytest.mark.parametrize("start,end", [(1.3, 7.72), (2.0, 5.0), (0.0, 3.53)])
def test_smart_cut_is_frame_exact_and_in_sync(indexed, tmp_path, start, end):
    out, result = _render(indexed, tmp_path, start, end)
    assert result.method == "smart_cut"
    first = int(np.ceil(start * INDEX_FPS - 0.25))
    last = int(np.ceil(end * INDEX_FPS - 0.25)) - 1
    idx, times = frame_indices(out)
    assert idx == list(range(first, last + 1))           # no frame missing, doubled or extra
    assert times[0] == pytest.approx(0.0, abs=1e-3)
    assert np.allclose(np.diff(times), 1 / INDEX_FPS, atol=2e-3)
    d = _durations(out)
    assert d["audio"] == pytest.approx(d["video"], abs=1.5 / INDEX_FPS)
    if start < BEEP_AT_S < end:
        # the beep starts on frame 100 in the source and must do so in the clip
        assert beep_onset(out) == pytest.approx(times[idx.index(100)], abs=0.015)


def test_stream_copy_keeps_the_source_packets(indexed, tmp_path):
    """Between the first and last keyframe the clip holds the source's own coded frames
    (the MPEG-TS step adds access unit delimiters, so each is compared by its slice)."""
    out, _ = _render(indexed, tmp_path, 1.3, 7.72)
    half = 0.5 / INDEX_FPS

    def packets(path, lo, hi):
        with av.open(str(path)) as c:
            v = c.streams.video[0]
            found = [(p.pts * v.time_base, bytes(p), p.is_keyframe) for p in c.demux(v)
                     if p.pts is not None and lo - half <= p.pts * v.time_base < hi - half]
        return sorted(found)
    w = cut_window(indexed, 1.3, 7.72)
    keys = [k for k in w.keyframes if k >= w.first_pts]
    source = packets(indexed, keys[0], keys[-1])
    clip = packets(out, keys[0] - w.first_pts, keys[-1] - w.first_pts)
    assert len(source) == len(clip) > 2 * INDEX_FPS
    for (_, src, key), (_, dst, _) in zip(source, clip):
        if not key:
            assert src[4:] in dst          # the slice, without its 4-byte length prefix


def test_other_codecs_get_an_exact_full_reencode(tmp_path):
    src = indexed_video(tmp_path / "mpeg4.mp4", seconds=6, codec=["-c:v", "mpeg4", "-q:v", "2", "-g", "25"])
    out, result = _render(src, tmp_path, 1.1, 4.5)
    assert result.method == "full_encode"
    idx, _ = frame_indices(out)
    assert idx == list(range(28, 113))


def test_loudness_is_normalised(sample_video, tmp_path):
    out, _ = _render(sample_video, tmp_path, 20.0, 35.0)
    integrated, true_peak = loudness.ebur128(["-i", str(out)])
    source, _ = loudness.ebur128(["-ss", "20", "-t", "15", "-i", str(sample_video)])
    assert abs(source - loudness.TARGET_LUFS) > 3       # the test means something
    assert abs(integrated - loudness.TARGET_LUFS) <= 1.0
    assert true_peak <= -1.0
    with av.open(str(out)) as c:            # the sample's one voice, stored in two channels
        assert c.streams.audio[0].codec_context.channels == 1


def test_crop_follows_a_moving_face(tmp_path):
    src, face_x = moving_face_video(tmp_path / "face.mp4")
    w = cut_window(src, 0.0, 4.0)
    crop_w = round(w.height * 9 / 16)
    path = reframe.crop_path(reframe.face_samples(src, w), [t - w.first_pts for t in w.frame_times], w.width, crop_w)
    centres = np.array(path) + crop_w / 2
    truth = np.array([face_x(t) for t in w.frame_times])
    inner = slice(len(truth) // 10, -len(truth) // 10)     # the ends are held by the smoothing
    assert np.abs(centres[inner] - truth[inner]).max() < 0.1 * crop_w
    assert centres[-1] - centres[0] > 0.5 * w.width       # it travelled with the face
    assert np.all(np.diff(centres) >= -0.5)                # and never jerked back


def test_crop_holds_still_on_a_still_face(tmp_path):
    src, face_x = moving_face_video(tmp_path / "still.mp4", seconds=3, moving=False)
    w = cut_window(src, 0.0, 3.0)
    crop_w = round(w.height * 9 / 16)
    path = reframe.crop_path(reframe.face_samples(src, w), [t - w.first_pts for t in w.frame_times], w.width, crop_w)
    assert max(path) - min(path) < 1.0
    assert abs(path[0] + crop_w / 2 - face_x(0)) < 0.1 * crop_w


def test_vertical_clip_of_a_face_is_reframed(tmp_path):
    src, _ = moving_face_video(tmp_path / "face.mp4", seconds=2)
    out, result = _render(src, tmp_path, 0.0, 2.0, format="vertical", captions=False)
    assert result.method == "reframe"
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (1080, 1920)


def test_a_speaker_who_holds_still_is_reframed(tmp_path):
    """A crop that never moves has no commands to send (ffmpeg's sendcmd refuses an empty
    script): the most common case, a speaker standing still."""
    src, face_x = moving_face_video(tmp_path / "still.mp4", seconds=2, moving=False)
    out, result = _render(src, tmp_path, 0.0, 2.0, format="vertical", captions=True,
                          transcript=_transcript(SPOKEN))
    assert result.method == "reframe"
    assert len(_decoded(out)) == 30
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (1080, 1920)


def test_without_a_face_the_frame_is_fitted_over_a_blurred_background(indexed, tmp_path):
    out, result = _render(indexed, tmp_path, 1.0, 2.0, format="square", captions=False)
    assert result.method == "blurred_fit"
    with av.open(str(out)) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert frame.shape == (1080, 1080, 3)
    # frame 25: top half grey 116, bottom half 16. The whole frame, fitted to the width,
    # fills rows 236..843; above it lies a darkened (halved), blurred copy of its top.
    assert abs(frame[400].mean() - 116) < 8 and abs(frame[700].mean() - 16) < 8
    assert abs(frame[100].mean() - 58) < 8


def _transcript(words):
    return Transcript("en", 1.0, 10.0, "test", "test",
                      [Segment(words[0][0], words[-1][1], " ".join(w for _, _, w in words),
                               [Word(s, e, w) for s, e, w in words])])


WORDS = [(2.2, 2.6, "Bees"), (2.7, 3.1, "vote"), (3.2, 3.6, "with"), (4.6, 5.0, "dances")]


def test_caption_cues_follow_the_words():
    words = captions.clip_words(_transcript(WORDS), 2.0, 6.0)
    assert [(round(w.start, 3), w.text) for w in words] == [(0.2, "Bees"), (0.7, "vote"), (1.2, "with"), (2.6, "dances")]
    cs = captions.cues(words)
    assert [c.text for c in cs] == ["Bees vote with", "dances"]
    assert captions.active(cs, 0.1) is None
    assert captions.active(cs, 0.3) == (0, 0)
    assert captions.active(cs, 0.95) == (0, 1)
    assert captions.active(cs, 1.3) == (0, 2)
    assert captions.active(cs, 2.0) is None              # the pause between cues
    assert captions.active(cs, 2.7) == (1, 0)
    assert "00:00:00,200 --> 00:00:01,900\nBees vote with" in subtitles.to_srt(captions.as_subtitles(cs))
    assert subtitles.to_vtt(captions.as_subtitles(cs)).startswith("WEBVTT\n\n00:00:00.200 --> 00:00:01.900\nBees vote with")


def _yellow(frame):
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return int(((r > 200) & (g > 170) & (b < 90)).sum())


def test_burned_in_captions_highlight_the_spoken_word(indexed, tmp_path):
    out, result = _render(indexed, tmp_path, 2.0, 6.0, transcript=_transcript(WORDS), format="square")
    frames = {}
    with av.open(str(out)) as c:
        for f in c.decode(video=0):
            frames[round(f.time * INDEX_FPS)] = f.to_ndarray(format="rgb24")
    lit = {n: _yellow(frames[n]) for n in frames}
    assert lit[round(0.1 * INDEX_FPS)] == 0               # before the first word
    assert lit[round(0.4 * INDEX_FPS)] > 500              # "Bees" is spoken
    assert lit[round(2.2 * INDEX_FPS)] == 0               # the pause
    assert lit[round(2.8 * INDEX_FPS)] > 500              # "dances"
    # the highlighted word moves: "Bees" (left) then "with" (right)
    xs = lambda f: np.nonzero((f[..., 0] > 200) & (f[..., 1] > 170) & (f[..., 2] < 90))[1].mean()
    assert xs(frames[round(1.3 * INDEX_FPS)]) > xs(frames[round(0.4 * INDEX_FPS)]) + 100
    manifest = json.loads(result.sidecars["manifest"].read_text())
    assert manifest["title"] == "A title" and manifest["score"] == 77.0
    assert manifest["source"]["start_s"] == pytest.approx(2.0)
    assert [(w["word"], w["start"], w["source_start"]) for w in manifest["words"]][0] == ("Bees", 0.2, 2.2)
    assert "Bees vote with" in result.sidecars["srt"].read_text()
    assert result.sidecars["vtt"].read_text().startswith("WEBVTT")


def test_loudness_measure_agrees_with_ffmpeg_and_quiet_audio_is_raised(sample_video, tmp_path):
    import soundfile
    wav, quiet, out = tmp_path / "a.wav", tmp_path / "quiet.wav", tmp_path / "out.wav"
    loudness.decode(["-ss", "50", "-t", "20", "-i", str(sample_video)], wav)
    x, _ = soundfile.read(str(wav), always_2d=True, dtype="float32")
    assert loudness.integrated_lufs(x) == pytest.approx(loudness.ebur128(["-i", str(wav)])[0], abs=0.2)
    soundfile.write(str(quiet), x * 10 ** (-25 / 20), loudness.RATE, subtype="PCM_16")
    assert loudness.normalise(quiet, out) == pytest.approx(loudness.TARGET_LUFS, abs=0.3)
    integrated, true_peak = loudness.ebur128(["-i", str(out)])
    assert abs(integrated - loudness.TARGET_LUFS) <= 0.5 and true_peak <= -1.0
    silent = tmp_path / "silent.wav"
    soundfile.write(str(silent), np.zeros((48000, 1)), loudness.RATE, subtype="PCM_16")
    assert loudness.normalise(silent, out) is None


# --- the one-pass render against today's frame pipe (tests/support/frame_pipe.py) ---

def _decoded(path):
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]


def _yellow_box(frame):
    ys, xs = np.nonzero((frame[..., 0] > 200) & (frame[..., 1] > 170) & (frame[..., 2] < 90))
    return (xs.min(), ys.min(), xs.max(), ys.max(), len(xs)) if len(xs) else None


def _both_paths(src, tmp_path, fmt, transcript, seconds):
    new, _ = _render(src, tmp_path, 0.0, seconds, transcript=transcript, format=fmt)
    w = cut_window(src, 0.0, seconds)
    wav = tmp_path / "audio.wav"
    loudness.decode(["-i", str(src)], wav)
    old = tmp_path / "frame_pipe.mp4"
    render_frame_pipe(src, w, fmt, wav, old, captions.cues(captions.clip_words(transcript, w.first_pts, w.end_pts)))
    return _decoded(new), _decoded(old)


SPOKEN = [(0.2, 0.6, "Bees"), (0.7, 1.1, "vote"), (1.2, 1.6, "with"), (2.2, 2.8, "dances"), (2.9, 3.5, "déjà")]


def test_one_pass_vertical_frames_match_the_frame_pipe(tmp_path):
    """Same crop (to a few pixels) and the same captions, pixel for pixel near enough: a crop
    30 px off doubles the difference, a caption moved or lit on the wrong word fails the box."""
    src, _ = moving_face_video(tmp_path / "face.mp4", seconds=4)
    new, old = _both_paths(src, tmp_path, "vertical", _transcript(SPOKEN), 4.0)
    assert len(new) == len(old) == 60
    above_captions = slice(0, 1150)
    for i in (8, 25, 45):           # "Bees", "with", "déjà" lit
        n, o = new[i][above_captions], old[i][above_captions]
        diff = {s: np.abs(np.roll(n, s, axis=1)[:, 50:-50] - o[:, 50:-50]).mean() for s in range(-40, 41, 2)}
        best = min(diff, key=diff.get)
        assert abs(best) <= 10 and diff[best] < 3.5, (i, best, diff[best])
        assert np.abs(n - o).mean() < 8.0
        nb, ob = _yellow_box(new[i]), _yellow_box(old[i])
        assert nb is not None and ob is not None
        assert np.abs(np.array(nb[:4]) - np.array(ob[:4])).max() <= 3, (i, nb, ob)
        assert 0.85 < nb[4] / ob[4] < 1.15


def test_one_pass_blurred_fit_matches_the_frame_pipe(tmp_path):
    src = indexed_video(tmp_path / "indexed.mp4", seconds=3)
    new, old = _both_paths(src, tmp_path, "square", _transcript(SPOKEN[:3]), 3.0)
    assert len(new) == len(old) == 75
    for i in (5, 30, 70):
        assert np.abs(new[i] - old[i]).mean() < 3.0, i
        nb, ob = _yellow_box(new[i]), _yellow_box(old[i])
        assert (nb is None) == (ob is None)
        if nb is not None:
            assert np.abs(np.array(nb[:4]) - np.array(ob[:4])).max() <= 3


def test_accented_words_are_drawn_with_their_accents(indexed, tmp_path):
    words = [(2.2, 2.6, "vu"), (2.7, 3.1, "déjà")]
    out, _ = _render(indexed, tmp_path, 2.0, 4.0, transcript=_transcript(words), format="square")
    frames = _decoded(out)
    plain, accented = _yellow_box(frames[round(0.4 * INDEX_FPS)]), _yellow_box(frames[round(1.0 * INDEX_FPS)])
    width = captions.font(captions.Layout(1080, 1080).size).getlength("DÉJÀ")
    assert abs((accented[2] - accented[0]) - width) < 12          # every letter is there
    assert accented[1] < plain[1] - 10                            # and the accents above the capitals


def _has_cjk_font() -> bool:
    import shutil
    import subprocess
    return bool(shutil.which("fc-list")) and bool(
        subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip())


@pytest.mark.skipif(not _has_cjk_font(), reason="no CJK font installed (the Docker image has one)")
def test_chinese_captions_are_drawn_where_a_cjk_font_is_installed(indexed, tmp_path):
    """libass falls back to a CJK font through fontconfig: two different lit words must
    differ in shape (missing glyphs would be the same empty boxes)."""
    words = [(2.2, 2.6, "今天"), (2.7, 3.1, "讨论")]
    out, _ = _render(indexed, tmp_path, 2.0, 4.0, transcript=_transcript(words), format="square")
    frames = _decoded(out)
    masks = []
    for t in (0.4, 1.0):
        f = frames[round(t * INDEX_FPS)]
        x0, y0, x1, y1, n = _yellow_box(f)
        masks.append(((f[..., 0] > 200) & (f[..., 1] > 170) & (f[..., 2] < 90))[y0:y0 + 60, x0:x0 + 120])
        assert n > 500                                            # a lit word is drawn
    assert (masks[0] != masks[1]).mean() > 0.1


def test_a_word_wider_than_the_margins_is_shrunk_to_fit(indexed, tmp_path):
    long_word = [(2.2, 3.0, "Donaudampfschifffahrtsgesellschaftskapitän")]
    out, _ = _render(indexed, tmp_path, 2.0, 4.0, transcript=_transcript(long_word), format="square")
    box = _yellow_box(_decoded(out)[round(0.5 * INDEX_FPS)])
    margin = captions.Layout(1080, 1080).margin
    assert box is not None and box[0] >= margin - 8 and box[2] <= 1080 - margin + 8


def test_caption_text_cannot_inject_ass_tags():
    cs = captions.cues([captions.Word(0.0, 0.5, r"{\fs200\c&H0000FF&}big"), captions.Word(0.6, 1.0, "a\\Nb")])
    script = captions.to_ass(cs, 1080, 1920, [i / 25 for i in range(30)])
    texts = [line.split(",,0,0,0,,", 1)[1] for line in script.splitlines() if line.startswith("Dialogue:")]
    assert len(texts) == 4                   # two highlight states, each on two lines
    for text in texts:
        blocks = re.findall(r"\{([^}]*)\}", text)
        # only the writer's own override blocks: position and size, then the highlight colour
        assert re.fullmatch(r"\\an8\\pos\(\d+,\d+\)\\fs[\d.]+\\bord\d+", blocks[0])
        assert all(re.fullmatch(r"\\c&H[0-9A-F]{8}&", b) for b in blocks[1:])
        visible = re.sub(r"\{[^}]*\}", "", text)
        assert "\\" not in visible and "{" not in visible
    visible = [re.sub(r"\{[^}]*\}", "", t) for t in texts]
    assert visible == ["(/FS200/C&H0000FF&)BIG", "A/NB"] * 2


def test_forced_nvenc_falls_back_to_libx264_when_its_session_fails(tmp_path, caplog):
    if encoder.nvenc_available():
        pytest.skip("this machine opens NVENC sessions: the fallback cannot be provoked here")
    src, _ = moving_face_video(tmp_path / "face.mp4", seconds=2)
    out = tmp_path / "clip.mp4"
    with caplog.at_level("WARNING"):
        result = FfmpegRenderer(video_encoder="h264_nvenc").render(
            src, ClipPlan(0.0, 2.0, "t", "r", 1.0), out, tmp_path / "clip.jpg", None,
            RenderOptions("vertical", False))
    assert any("h264_nvenc failed" in r.getMessage() for r in caplog.records)
    assert json.loads(result.sidecars["manifest"].read_text())["video_encoder"] == "libx264"
    assert len(_decoded(out)) == 30 and (tmp_path / "clip.jpg").stat().st_size > 1000


def test_progress_moves_while_a_clip_renders(tmp_path):
    src, _ = moving_face_video(tmp_path / "face.mp4", seconds=6)
    seen = []
    FfmpegRenderer().render(src, ClipPlan(0.0, 6.0, "t", "r", 1.0), tmp_path / "clip.mp4", tmp_path / "clip.jpg",
                            _transcript(SPOKEN), RenderOptions("vertical", True), progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    inside = {round(f, 2) for f in seen if 0.0 < f < 1.0}
    assert len(inside) >= 4                                   # several steps within the clip
    assert any(f > framed.SAMPLING_SHARE + 0.05 for f in inside)  # and from ffmpeg's own progress


def test_a_cancelled_render_stops_ffmpeg(tmp_path):
    src, _ = moving_face_video(tmp_path / "face.mp4", seconds=6)

    class Cancelled(Exception):
        pass

    def progress(f):
        if f > framed.SAMPLING_SHARE + 0.01:
            raise Cancelled()
    with pytest.raises(Cancelled):
        FfmpegRenderer().render(src, ClipPlan(0.0, 6.0, "t", "r", 1.0), tmp_path / "clip.mp4", tmp_path / "clip.jpg",
                                None, RenderOptions("vertical", False), progress=progress)
    assert _child_processes() == []                      # ffmpeg was ended, not left running


def _child_processes():
    import os
    from pathlib import Path
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            children.append(stat.parent.name)
    return children


def test_loudness_of_a_limited_signal_is_measured_from_one_filtering(sample_video, tmp_path):
    """The meter filters the audio once; a limited version is measured by filtering only the
    stretches the limiter touched, and must agree with measuring it whole."""
    import soundfile
    wav = tmp_path / "a.wav"
    loudness.decode(["-ss", "50", "-t", "20", "-i", str(sample_video)], wav)
    x, _ = soundfile.read(str(wav), always_2d=True, dtype="float32")
    meter = loudness.Meter(x)
    for gain in (1.5, 3.0, 6.0):
        limiter = loudness.limiter_gain(x * gain)
        assert limiter is not None and 0.001 < (limiter < 1).mean() < 0.9    # the limiter had work
        whole = loudness.integrated_lufs(x * (gain * limiter)[:, None])
        assert meter.lufs(gain, limiter) == pytest.approx(whole, abs=1e-5)
    assert loudness.limiter_gain(x * 0.1) is None                           # nothing over the ceiling
    assert meter.lufs(0.1) == pytest.approx(loudness.integrated_lufs(x * 0.1), abs=1e-3)


def test_thumbnails_show_the_frame_a_third_into_the_clip(indexed, tmp_path):
    from PIL import Image
    for fmt in ("landscape", "square"):
        out, _ = _render(indexed, tmp_path, 1.3, 7.72, format=fmt, captions=False)
        thumb = np.asarray(Image.open(tmp_path / "clip.jpg").convert("L"), dtype=float)
        # the clip starts at frame 33 (1.32 s) and lasts 6.4 s: a third in is frame 87
        # (3.48 s), whose top half is grey 16 + 4 * 37 and bottom half 16 + 4 * 1
        h, w = thumb.shape
        if fmt == "landscape":
            assert (w, h) == (320, 180)
            top, bottom = thumb[20:70, 40:280].mean(), thumb[110:160, 40:280].mean()
        else:
            assert (w, h) == (640, 640)                 # the fitted frame spans rows 140..500
            top, bottom = thumb[180:290, 40:600].mean(), thumb[350:460, 40:600].mean()
        assert abs(top - 164) < 6 and abs(bottom - 20) < 6, (fmt, top, bottom)


def test_what_ffmpeg_said_reaches_clients_without_server_paths(tmp_path):
    from server.core.failures import StepError
    from server.media.ffmpeg import run
    missing = tmp_path / "work" / "Dk0Tn9UH" / "render" / "source.mp4"
    with pytest.raises(StepError) as e:
        run(["-i", str(missing), "-f", "null", "-"])
    assert e.value.cause == "corrupt_media" and "source.mp4" in str(e.value)
    assert str(tmp_path) not in str(e.value) and "/render/" not in str(e.value)
