"""helpers.runtime: the device and precision chosen once, the set-up cell's report, and the GPU
paths that the CPU machines running these tests can still reach (precision per device, no
per-step host sync)."""
from __future__ import annotations

import importlib.metadata

import pytest
import torch

from helpers import models, runtime
from helpers.taught import lesson06 as taught06


@pytest.fixture
def fresh_choice(monkeypatch):
    """Forget the process's device decision for one test."""
    monkeypatch.setattr(runtime, "_CHOSEN", None)


def test_device_is_chosen_once_and_printed_once(capsys, fresh_choice):
    chosen = runtime.device()
    assert chosen == torch.device("cpu")  # no GPU on the machines the tests run on
    assert "Using device: cpu" in capsys.readouterr().out
    assert runtime.choose() is runtime.choose() and runtime.device() == chosen
    assert capsys.readouterr().out == "", "the decision is printed once, not by every lesson cell"


def test_cpu_runtime_has_no_amp_and_a_no_op_autocast(fresh_choice):
    chosen = runtime.choose(verbose=False)
    assert not chosen.amp and chosen.amp_dtype is None and not chosen.channels_last
    with chosen.autocast():
        out = torch.nn.Linear(3, 2)(torch.ones(1, 3))
    assert out.dtype == torch.float32, "AMP is off on the CPU: autocast must not change the dtype"


@pytest.mark.filterwarnings("ignore:CUDA is not available")
def test_cuda_gets_float16_autocast_and_channels_last_mps_gets_neither():
    cuda = runtime.Runtime(torch.device("cuda"), "a GPU", torch.float16, True)
    context = cuda.autocast()
    assert isinstance(context, torch.autocast) and context.fast_dtype == torch.float16 and cuda.amp
    mps = runtime.for_device("mps")  # builds no tensor, so it runs without an Apple GPU
    assert not mps.amp and not mps.channels_last
    assert not isinstance(mps.autocast(), torch.autocast), \
        "torch 2.4 rejects torch.autocast('mps', enabled=False): AMP off must be a plain no-op context"


def test_report_setup_names_what_pip_changed(capsys, fresh_choice):
    now = {name: importlib.metadata.version(name) for name in ("torch", "numpy")}
    assert runtime.report_setup({"Torch": now["torch"]}) == []
    out = capsys.readouterr().out
    assert "Restart" not in out and f"torch {now['torch']}" in out and "Using device" in out
    changed = runtime.report_setup({"NumPy": "0.1", "not-installed-anywhere": "1.0"})
    out = capsys.readouterr().out
    assert changed == ["numpy"] and f"numpy 0.1 -> {now['numpy']}" in out and "Restart the runtime" in out


def test_labels_on_a_device_are_not_read_back_in_forward():
    """Checking label values on a GPU would stall every step; the range is checked on the CPU only.
    (A 'meta' tensor has no values: reading one back raises, as a GPU read would cost a sync.)"""
    generator = taught06.ConditionalGenerator(latent_dim=4, num_classes=3, hidden_dim=8, image_shape=(1, 2, 2))
    models._check_labels(torch.tensor([0, 5], device="meta"), 3, 2)  # no read-back: passes
    with pytest.raises(ValueError, match=r"labels must lie in 0..2, got values from 0 to 5"):
        generator(torch.zeros(2, 4), torch.tensor([0, 5]))



@pytest.mark.parametrize("error, expected", [
    (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
    (RuntimeError("MPS backend out of memory (MPS allocated: 8.00 GB)"), True),
    (RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"), False),
    (ValueError("out of memory"), False),
])
def test_out_of_memory_is_recognised_on_cuda_and_mps_only(error, expected):
    assert runtime.is_out_of_memory(error) is expected


def test_release_memory_empties_the_cache_of_that_device_only(monkeypatch):
    emptied = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append("cuda"))
    monkeypatch.setattr(torch.mps, "empty_cache", lambda: emptied.append("mps"))
    for device in ("cpu", "cuda", "mps"):
        runtime.release_memory(device)
    assert emptied == ["cuda", "mps"]
