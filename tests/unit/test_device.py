"""WHISPER_DEVICE=auto and WHISPER_COMPUTE_TYPE=auto: the device is found at run time and
the compute type follows what that device supports."""
from __future__ import annotations

import ctranslate2

from server.adapters.transcriber_faster_whisper import pick_device


def test_auto_without_a_gpu_is_cpu_int8(monkeypatch):
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    assert pick_device("auto", "auto") == ("cpu", "int8")


def test_auto_with_a_gpu_is_cuda_float16(monkeypatch):
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    monkeypatch.setattr(ctranslate2, "get_supported_compute_types",
                        lambda device: {"float32", "int8", "int8_float32", "float16", "int8_float16"})
    assert pick_device("auto", "auto") == ("cuda", "float16")


def test_a_gpu_without_float16_falls_back(monkeypatch):
    monkeypatch.setattr(ctranslate2, "get_supported_compute_types",
                        lambda device: {"float32", "int8", "int8_float32"})   # e.g. a Pascal card
    assert pick_device("cuda", "auto") == ("cuda", "float32")


def test_explicit_settings_are_kept():
    assert pick_device("cpu", "float32") == ("cpu", "float32")
