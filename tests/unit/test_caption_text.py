"""How caption words are joined: scripts written without spaces get none between their
words, everything else a space (the burned-in captions, the .srt and the .vtt alike)."""
from __future__ import annotations

import pytest

from server.media import captions


@pytest.mark.parametrize("words, text", [
    (["Bees", "vote", "with", "dances"], "Bees vote with dances"),
    (["我们", "今天", "讨论"], "我们今天讨论"),
    (["使用", "AI", "技术"], "使用 AI 技术"),
    (["これは", "ペン", "です。"], "これはペンです。"),
    (["안녕하세요", "여러분"], "안녕하세요 여러분"),
    (["สวัสดี", "ครับ"], "สวัสดีครับ"),
    (["Привет,", "мир"], "Привет, мир"),
    (["", "x"], " x"),
])
def test_words_are_joined_as_their_script_is_written(words, text):
    assert captions.joined(words) == text
    assert captions.Cue(0.0, 1.0, [captions.Word(0.0, 1.0, w) for w in words]).text == text


def test_burned_in_chinese_captions_have_no_spaces_between_words():
    words = [captions.Word(0.1 + 0.4 * i, 0.4 + 0.4 * i, w) for i, w in enumerate(["我们", "今天", "讨论"])]
    ass = captions.to_ass(captions.cues(words), 1080, 1920, [i / 30 for i in range(60)])
    bodies = [line.split(",,", 2)[-1].split("}", 1)[1] for line in ass.splitlines() if line.startswith("Dialogue:")]
    assert bodies and all(" " not in b for b in bodies)
    assert any("{\\c&H0000D6FF&}今天{\\c&H00FFFFFF&}" in b for b in bodies)      # the spoken word lit


def test_a_long_unspaced_line_is_measured_without_spaces():
    texts = ["我们", "今天", "讨论"]
    f = captions.font(90)
    assert captions.Layout.line_width(texts, 90) == pytest.approx(sum(f.getlength(t) for t in texts))
    latin = ["Bees", "vote"]
    assert captions.Layout.line_width(latin, 90) == pytest.approx(
        f.getlength("Bees") + f.getlength(" ") + f.getlength("vote"))


def _timed(texts: list[str], step: float = 0.25) -> list[captions.Word]:
    return [captions.Word(i * step, (i + 0.9) * step, t) for i, t in enumerate(texts)]


def test_cues_hold_three_words_or_six_characters_of_an_unspaced_script():
    english = captions.cues(_timed("bees vote with dances and scouts fly out".split()))
    assert [len(c.words) for c in english] == [3, 3, 2]
    chinese = captions.cues(_timed(list("蜜蜂用舞蹈投票侦察蜂飞出去")))      # one character a token
    assert [c.text for c in chinese] == ["蜜蜂用舞蹈投", "票侦察蜂飞出", "去"]
    tokens = captions.cues(_timed(["我们", "今天", "讨论", "蜜蜂"]))             # two characters a token
    assert [c.text for c in tokens] == ["我们今天讨论", "蜜蜂"]
    mixed = captions.cues(_timed(["使用", "AI", "技术", "很好"]))
    assert [c.text for c in mixed] == ["使用 AI 技术", "很好"]


def test_a_sentence_end_closes_its_cue():
    english = captions.cues(_timed(["Bees", "vote.", "Scouts", "fly", "out,", "then", "dance!\"", "Yes"]))
    assert [c.text for c in english] == ["Bees vote.", "Scouts fly out,", "then dance!\"", "Yes"]
    chinese = captions.cues(_timed(["蜜蜂", "投票。", "侦察", "蜂", "飞出去"]))
    assert [c.text for c in chinese] == ["蜜蜂投票。", "侦察蜂飞出去"]
    assert [c.text for c in captions.cues(_timed(["It", "costs", "3.5", "euros"]))] == ["It costs 3.5", "euros"]
