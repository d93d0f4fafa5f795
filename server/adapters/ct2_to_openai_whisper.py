"""Turn a CTranslate2 Whisper model (what faster-whisper runs) into an openai-whisper checkpoint.

The offline models we ship are CTranslate2 directories (see `whisper_models.py`), but the
openai-whisper engine wants a PyTorch `.pt` file. Both hold the same network, so converting
is reading CTranslate2's `model.bin` and renaming tensors:

    model.bin (little endian, binary version >= 4, written by ctranslate2's ModelSpec._serialize)
      u32 binary version | string spec name | u32 spec revision | u32 variable count
      per variable: string name | u8 rank | u32 dims[rank] | u8 dtype id | u32 byte count | bytes
      u32 alias count | per alias: string alias | string name of the variable it shares
    string = u16 length including a trailing NUL | utf-8 bytes | NUL

The checkpoint is what `whisper.load_model(path)` reads ({"dims", "model_state_dict"}), plus
"alignment_heads": the cross-attention heads config.json names for word timing, in the
base85/gzip mask format of `Whisper.set_alignment_heads`. `load_model(path)` ignores that
key (it only applies heads for official model names), so `load()` below applies it.

    python -m server.adapters.ct2_to_openai_whisper CT2_DIR OUT.pt
"""
from __future__ import annotations

import base64
import gzip
import json
import os
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import whisper

# ctranslate2's DataType enum order (include/ctranslate2/types.h). int8/int16 are quantized
# weights with separate scales; we only convert float models.
_DTYPES = {0: torch.float32, 1: torch.int8, 2: torch.int16, 3: torch.int32,
           4: torch.float16, 5: torch.bfloat16}


def read_ct2(model_bin: Path) -> dict[str, torch.Tensor]:
    """All variables of a CTranslate2 model.bin by name, aliases resolved."""
    data = bytearray(model_bin.read_bytes())  # writable, as torch.frombuffer wants
    pos = 0

    def take(fmt: str) -> int:  # one little-endian integer: "B", "H" or "I"
        nonlocal pos
        (value,) = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return value

    def string() -> str:
        nonlocal pos
        n = take("H")
        pos += n
        return data[pos - n:pos - 1].decode("utf-8")

    version = take("I")
    if not 4 <= version <= 6:  # 4 introduced the dtype id + byte count read here; 6 is current
        raise ValueError(f"{model_bin}: unsupported CTranslate2 binary version {version}")
    spec, _revision = string(), take("I")
    if spec != "WhisperSpec":
        raise ValueError(f"{model_bin}: a {spec} model, not Whisper")
    variables = {}
    for _ in range(take("I")):
        name = string()
        rank = take("B")
        shape = [take("I") for _ in range(rank)]
        dtype, nbytes = _DTYPES[take("B")], take("I")
        count = nbytes // dtype.itemsize
        variables[name] = torch.frombuffer(data, dtype=dtype, count=count, offset=pos).reshape(shape)
        pos += nbytes
    for _ in range(take("I")):
        alias, target = string(), string()
        variables[alias] = variables[target]
    return variables


def _heads_mask(pairs: list[list[int]], n_layer: int, n_head: int) -> bytes:
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in pairs:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0))  # reproducible bytes


def to_openai(ct2: dict[str, torch.Tensor], config: dict) -> dict:
    """The openai-whisper checkpoint dict for CTranslate2 variables + config.json."""
    if any(name.endswith("_scale") for name in ct2):
        raise ValueError("quantized (int8/int16) CTranslate2 models are not supported; "
                         "convert a float16/float32 one")
    n_audio_layer = sum(1 for k in ct2 if k.startswith("encoder/layer_") and k.endswith("ffn/linear_0/weight"))
    n_text_layer = sum(1 for k in ct2 if k.startswith("decoder/layer_") and k.endswith("ffn/linear_0/weight"))
    n_audio_state, n_mels, _ = ct2["encoder/conv1/weight"].shape
    n_vocab, n_text_state = ct2["decoder/embeddings/weight"].shape
    dims = dict(n_mels=n_mels, n_audio_ctx=ct2["encoder/position_encodings/encodings"].shape[0],
                n_audio_state=n_audio_state, n_audio_head=int(ct2["encoder/num_heads"]),
                n_audio_layer=n_audio_layer, n_vocab=n_vocab,
                n_text_ctx=ct2["decoder/position_encodings/encodings"].shape[0],
                n_text_state=n_text_state, n_text_head=int(ct2["decoder/num_heads"]),
                n_text_layer=n_text_layer)
    # openai-whisper ties the output projection to the token embedding; CTranslate2 stores
    # it separately (normally as an alias of the embedding). Refuse an untied model.
    if not torch.equal(ct2["decoder/projection/weight"], ct2["decoder/embeddings/weight"]) \
            or "decoder/projection/bias" in ct2:
        raise ValueError("the output projection is not tied to the token embedding")

    sd: dict[str, torch.Tensor] = {}

    def linear(dst: str, src: str, bias: bool = True):
        sd[f"{dst}.weight"] = ct2[f"{src}/weight"]
        if bias:
            sd[f"{dst}.bias"] = ct2[f"{src}/bias"]

    def norm(dst: str, src: str):
        sd[f"{dst}.weight"], sd[f"{dst}.bias"] = ct2[f"{src}/gamma"], ct2[f"{src}/beta"]

    def attention(dst: str, q: str, kv: str | None, out: str):
        """CTranslate2 fuses projections row-wise: self-attention [q; k; v] in one linear,
        cross-attention q alone and [k; v] in a second. Split them back."""
        weight = ct2[f"{q}/weight"] if kv is None else torch.cat([ct2[f"{q}/weight"], ct2[f"{kv}/weight"]])
        bias = ct2[f"{q}/bias"] if kv is None else torch.cat([ct2[f"{q}/bias"], ct2[f"{kv}/bias"]])
        wq, wk, wv = weight.chunk(3)
        bq, _bk, bv = bias.chunk(3)
        # The key bias is dropped: openai-whisper's key has none (Hugging Face's is zero-filled
        # by the CTranslate2 converter), and a key bias adds q·b to every score of a query
        # alike, which softmax cancels, so dropping it is exact in any case.
        sd.update({f"{dst}.query.weight": wq, f"{dst}.query.bias": bq, f"{dst}.key.weight": wk,
                   f"{dst}.value.weight": wv, f"{dst}.value.bias": bv})
        linear(f"{dst}.out", out)

    for i in (1, 2):
        linear(f"encoder.conv{i}", f"encoder/conv{i}")  # same (out, in, kernel) layout as torch
    # The encoder's fixed sinusoids are a state_dict buffer in openai-whisper; take the stored
    # copy (faster-whisper's exact values) rather than recomputing.
    sd["encoder.positional_embedding"] = ct2["encoder/position_encodings/encodings"]
    for i in range(n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        attention(f"{dst}.attn", f"{src}/self_attention/linear_0", None, f"{src}/self_attention/linear_1")
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
    norm("encoder.ln_post", "encoder/layer_norm")

    sd["decoder.token_embedding.weight"] = ct2["decoder/embeddings/weight"]
    sd["decoder.positional_embedding"] = ct2["decoder/position_encodings/encodings"]  # learned
    for i in range(n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        attention(f"{dst}.attn", f"{src}/self_attention/linear_0", None, f"{src}/self_attention/linear_1")
        norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        attention(f"{dst}.cross_attn", f"{src}/attention/linear_0", f"{src}/attention/linear_1",
                  f"{src}/attention/linear_2")
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
    norm("decoder.ln", "decoder/layer_norm")

    # clone(): own storage per tensor, so the file holds no fused or dropped leftovers.
    checkpoint = {"dims": dims, "model_state_dict": {k: v.clone() for k, v in sd.items()}}
    if config.get("alignment_heads"):
        checkpoint["alignment_heads"] = _heads_mask(config["alignment_heads"], n_text_layer,
                                                    dims["n_text_head"])
    return checkpoint


def convert(ct2_dir: Path, out_pt: Path) -> Path:
    ct2_dir, out_pt = Path(ct2_dir), Path(out_pt)
    config_file = ct2_dir / "config.json"
    config = json.loads(config_file.read_text()) if config_file.exists() else {}
    checkpoint = to_openai(read_ct2(ct2_dir / "model.bin"), config)
    # Load it back into the real model class before publishing: a mapping mistake (missing,
    # extra or misshapen tensor) fails here, not at the first transcription.
    whisper.Whisper(whisper.ModelDimensions(**checkpoint["dims"])).load_state_dict(
        checkpoint["model_state_dict"])
    out_pt.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_pt.with_name(f"{out_pt.name}.{os.getpid()}.tmp")  # never leave a partial file
    torch.save(checkpoint, tmp)
    os.replace(tmp, out_pt)
    return out_pt


def load(pt: Path, device: str = "cpu") -> whisper.Whisper:
    """A checkpoint as a model, with the alignment heads it carries (whisper.load_model
    would silently fall back to "all heads of the last half of the layers")."""
    checkpoint = torch.load(pt, map_location=device, weights_only=True)
    model = whisper.Whisper(whisper.ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    if "alignment_heads" in checkpoint:
        model.set_alignment_heads(checkpoint["alignment_heads"])
    return model.to(device)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m server.adapters.ct2_to_openai_whisper CT2_DIR OUT.pt")
    print(convert(Path(sys.argv[1]), Path(sys.argv[2])))
