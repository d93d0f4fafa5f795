"""The packaged base model is joined from its two halves and checked against a known
SHA-256; other model names and paths pass through to faster-whisper."""
from __future__ import annotations

import hashlib
import shutil

import faster_whisper
import pytest

from server.adapters import whisper_models
from server.adapters.whisper_models import (BASE_MODEL_SHA256, ModelIntegrityError,
                                            resolve_ct2_model)


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def test_the_joined_base_model_has_the_known_digest(tmp_path):
    model_dir = resolve_ct2_model("base", tmp_path)
    assert _sha256(f"{model_dir}/model.bin") == BASE_MODEL_SHA256
    assert sorted(p.name for p in (tmp_path / "models" / "whisper-base").iterdir()) == [
        "config.json", "model.bin", "model.bin.sha256", "tokenizer.json", "vocabulary.txt"]


def test_a_damaged_half_is_refused_and_leaves_no_model(tmp_path, monkeypatch):
    part1, part2 = whisper_models._base_parts()
    bad1, bad2 = tmp_path / "p1", tmp_path / "p2"
    shutil.copytree(part1, bad1)
    bad2.mkdir()
    data = bytearray((part2 / "model.bin.part2").read_bytes())
    data[len(data) // 2] ^= 0xFF                       # one flipped byte
    (bad2 / "model.bin.part2").write_bytes(data)
    monkeypatch.setattr(whisper_models, "_base_parts", lambda: (bad1, bad2))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        resolve_ct2_model("base", tmp_path / "data")
    target = tmp_path / "data" / "models" / "whisper-base"
    assert not (target / "model.bin").exists()
    assert not list(target.glob("model.bin.*"))        # no temporary file or marker left


def test_a_truncated_model_from_an_earlier_join_is_joined_again(tmp_path):
    target = tmp_path / "models" / "whisper-base"
    target.mkdir(parents=True)
    (target / "model.bin").write_bytes(b"\0" * 1000)    # an interrupted copy, no marker
    resolve_ct2_model("base", tmp_path)
    assert _sha256(target / "model.bin") == BASE_MODEL_SHA256


@pytest.mark.parametrize("name", ["large-v3", "large-v3-turbo", "/models/my-ct2-model"])
def test_other_models_pass_through_to_faster_whisper(tmp_path, name):
    assert resolve_ct2_model(name, tmp_path) == name
    if not name.startswith("/"):
        assert name in faster_whisper.available_models()
