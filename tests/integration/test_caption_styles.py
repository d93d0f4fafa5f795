"""Caption styles reach the burned-in captions: each preset's size, the colour of the word
being spoken and the position, in the ASS script libass draws and in the rendered frames."""
from __future__ import annotations

import av
import numpy as np
import pytest

from server.adapters.renderer_ffmpeg import FfmpegRenderer
from server.core.model import CAPTION_PRESETS, CaptionStyle, ClipPlan, RenderOptions, Segment, Transcript, Word
from server.media import captions
from tests.support.render_media import INDEX_FPS, indexed_video

WORDS = [(2.2, 2.6, "Bees"), (2.7, 3.1, "vote")]


def test_the_layout_follows_the_style():
    assert captions.Layout(1080, 1920).size == round(1080 * 0.072)                   # classic
    big_top = captions.Layout(1080, 1920, CaptionStyle("large", "#F472B6", "top"))
    assert big_top.size == round(1080 * 0.09)
    assert big_top.centre_y < 1920 * 0.25
    assert captions.Layout(1080, 1920, CaptionStyle(position="middle")).centre_y == 960
    assert captions.Layout(1080, 1920, CaptionStyle(position="bottom")).centre_y == round(1920 * 0.68)


def test_the_script_lights_the_spoken_word_in_the_styles_colour():
    cs = captions.cues([captions.Word(0.0, 0.5, "one"), captions.Word(0.6, 1.0, "two")])
    frames = [i / 25 for i in range(30)]
    pink = captions.to_ass(cs, 1080, 1920, frames, CaptionStyle("medium", "#F472B6", "bottom"))
    assert "{\\c&H00B672F4&}ONE" in pink and "&H0000D6FF&" not in pink
    assert "{\\c&H0000D6FF&}ONE" in captions.to_ass(cs, 1080, 1920, frames)              # classic yellow


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return indexed_video(tmp_path_factory.mktemp("idx") / "indexed.mp4")


def _lit_box(frame, rgb, tolerance=45):
    diff = np.abs(frame.astype(int) - np.array(rgb)).max(axis=2)
    ys, xs = np.nonzero(diff < tolerance)
    return (xs.min(), ys.min(), xs.max(), ys.max()) if len(xs) > 200 else None


def _render_word(indexed, tmp_path, style):
    transcript = Transcript("en", 1.0, 10.0, "test", "test",
                            [Segment(2.0, 4.0, "Bees vote", [Word(s, e, w) for s, e, w in WORDS])])
    out = tmp_path / f"{style.highlight[1:]}.mp4"
    FfmpegRenderer().render(indexed, ClipPlan(2.0, 4.0, "t", "r", 50.0), out, tmp_path / "clip.jpg", transcript,
                            RenderOptions(format="vertical", caption_style=style))
    with av.open(str(out)) as c:
        return next(f.to_ndarray(format="rgb24") for f in c.decode(video=0)
                    if round(f.time * INDEX_FPS) == round(0.4 * INDEX_FPS))    # "Bees" is spoken


def test_rendered_captions_take_the_presets_place_size_and_colour(indexed, tmp_path):
    classic, headline = CAPTION_PRESETS["classic"], CAPTION_PRESETS["headline"]
    frames = {s: _render_word(indexed, tmp_path, s) for s in (classic, headline)}
    boxes = {s: _lit_box(frames[s], s.highlight_rgb) for s in frames}
    assert None not in boxes.values(), boxes
    for s, box in boxes.items():
        centre = (box[1] + box[3]) / 2
        assert abs(centre - captions.Layout(1080, 1920, s).centre_y) < 90, (s, box)
    assert _lit_box(frames[classic], headline.highlight_rgb) is None        # each in its own colour
    assert _lit_box(frames[headline], classic.highlight_rgb) is None
    height = {s: box[3] - box[1] for s, box in boxes.items()}
    assert height[headline] > height[classic] * 1.15                        # large against medium
