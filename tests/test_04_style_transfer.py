"""Lesson 04 helpers: reference answers, bad input, the offline fallback and the checks."""
from __future__ import annotations

import io
import os
import signal
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

import helpers.download
from helpers.checks import CheckFailed, lesson04
from helpers import style_transfer as st
from helpers.taught import lesson04 as taught  # the solution's own functions, generated from its # @save cells

ROOT = Path(__file__).resolve().parents[1]


def test_gram_matrix_matches_einsum():
    features = torch.randn(2, 5, 3, 4)
    expected = torch.einsum("nchw,ndhw->ncd", features, features) / (5 * 3 * 4)
    got = taught.gram_matrix(features)
    assert got.shape == (2, 5, 5)
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(got, got.transpose(1, 2))


def test_losses_against_hand_values():
    assert taught.content_loss(torch.ones(1, 2, 2, 2), torch.zeros(1, 2, 2, 2)).item() == pytest.approx(1.0)
    grams, targets = [torch.full((1, 2, 2), 2.0), torch.ones(1, 3, 3)], [torch.zeros(1, 2, 2), torch.zeros(1, 3, 3)]
    assert taught.style_loss(grams, targets).item() == pytest.approx(4.0 + 1.0)
    image = torch.tensor([[[[0.0, 0.5, 1.0], [0.0, 0.0, 1.0]]]])
    assert taught.tv_loss(image).item() == pytest.approx(1 / 6 + 1 / 2)
    assert taught.tv_loss(torch.ones(1, 3, 8, 8)).item() == 0.0


def test_style_transfer_loss_weights_its_terms_and_computes_the_targets_once():
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    extractor = st.vgg19_features(pretrained=False, calibration_images=[content, style])
    calls = []
    counting = lambda image: calls.append(1) or extractor(image)  # noqa: E731
    loss_fn = taught.style_transfer_loss(counting, content, style, (2.0, 10.0, 3.0), st.CONTENT_LAYER, st.STYLE_LAYERS)
    assert len(calls) == 2  # the photo's features and the painting's, once each
    total, parts = loss_fn(style)
    assert len(calls) == 3 and set(parts) == {"total", "content", "style", "tv"}
    assert parts["total"] == pytest.approx(2 * parts["content"] + 10 * parts["style"] + 3 * parts["tv"], rel=1e-5)
    assert loss_fn(content)[1]["content"] == 0.0 and total.requires_grad is False  # the images are no leaves


def test_load_image_from_sample_bytes_and_array(tmp_path):
    from PIL import Image
    image = st.load_image("chelsea", size=64)
    assert image.shape[:2] == (1, 3) and max(image.shape[2:]) == 64 and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    buffer = io.BytesIO()
    Image.fromarray((np.random.rand(40, 30, 3) * 255).astype(np.uint8)).save(buffer, format="PNG")
    from_bytes = st.load_image(buffer.getvalue(), size=20, square=True)
    assert from_bytes.shape == (1, 3, 20, 20)
    path = tmp_path / "x.png"
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(path)  # greyscale becomes RGB
    assert st.load_image(path, size=None).shape == (1, 3, 10, 12)


def test_load_image_bad_input():
    with pytest.raises(FileNotFoundError, match="sample"):
        st.load_image("no_such_picture.jpg")
    with pytest.raises(ValueError, match="not an image"):
        st.load_image(b"definitely not a png")
    with pytest.raises(ValueError, match="size"):
        st.load_image("chelsea", size=4)
    with pytest.raises(ValueError, match="path, a sample name"):
        st.load_image(3.14)


def test_every_sample_loads():
    for name in st.SAMPLES:
        assert st.load_image(name, size=32).shape[1] == 3, name


def test_vgg_layers_match_torchvision_indices():
    from torchvision.models.vgg import cfgs, make_layers
    ours = st.vgg19_features(pretrained=False).layers
    theirs = make_layers(cfgs["E"])
    assert len(ours) == 30  # up to conv5_1's ReLU
    for a, b in zip(ours, theirs):
        assert type(a) is type(b) or (type(a), type(b)) == (nn.AvgPool2d, nn.MaxPool2d)
        if isinstance(a, nn.Conv2d):
            assert a.weight.shape == b.weight.shape
    for name, (relu, items) in st.VGG19_RELUS.items():  # each name's ReLU, and the cfg that builds up to it
        assert isinstance(theirs[relu], nn.ReLU) and isinstance(theirs[relu - 1], nn.Conv2d), name
        assert len(make_layers(cfgs["E"][:items])) == relu + 1, name
    assert list(st.VGG19_RELUS)[:3] == ["conv1_1", "conv1_2", "conv2_1"] and st.VGG19_RELUS["conv5_1"][0] == 29


def test_random_fallback_features_and_rescaling():
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    extractor = st.vgg19_features(pretrained=False, calibration_images=[content, style], seed=3)
    assert not extractor.pretrained and "random" in extractor.description
    assert not any(p.requires_grad for p in extractor.parameters())
    assert isinstance(extractor.layers[4], nn.AvgPool2d) and len(extractor.layers) == 30
    features = extractor(torch.cat([content, style]))
    assert set(features) == {*st.STYLE_LAYERS, st.CONTENT_LAYER}
    assert features["conv5_1"].shape == (2, 512, 2, 2)
    for name, value in features.items():  # the calibration makes each layer's mean square 1
        assert value.pow(2).mean().item() == pytest.approx(1.0, rel=1e-3), name
    again = st.vgg19_features(pretrained=False, calibration_images=[content, style], seed=3)
    assert torch.equal(again.layers[0].weight, extractor.layers[0].weight)  # seeded: reproducible



def test_features_of_fewer_layers_share_the_weights_and_stop_at_the_deepest():
    image = torch.rand(1, 3, 32, 32)
    extractor = st.vgg19_features(pretrained=False, calibration_images=[image], seed=0)
    short = st.VGGFeatures(extractor.layers, ("conv1_1", "conv2_1"), extractor.description, extractor.pretrained)
    ran = []
    hooks = [layer.register_forward_hook(lambda *_, i=i: ran.append(i)) for i, layer in enumerate(extractor.layers)]
    with torch.no_grad():
        few = short(image)
    assert ran == list(range(7)), ran  # conv1_1, relu, conv1_2, relu, pool, conv2_1, relu: nothing deeper
    for hook in hooks:
        hook.remove()
    with torch.no_grad():
        full = extractor(image)
    assert set(few) == {"conv1_1", "conv2_1"} and all(torch.equal(few[k], full[k]) for k in few)


def test_gram_and_picture_helpers_draw_what_they_are_given():
    import helpers.diagrams
    fig = helpers.diagrams.show_gram_matrices({"a": torch.eye(4), "b": torch.ones(4, 4)})
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["a", "b"]
    assert np.array_equal(fig.axes[0].images[0].get_array(), np.eye(4))
    fig = helpers.plotting.show_image_row({"x": torch.zeros(1, 3, 8, 8), "y": torch.ones(1, 3, 8, 8)}, title="t",
                                          value_range=(0, 1))
    assert fig.axes[1].images[0].get_array().shape == (8, 8, 3) and fig.axes[1].images[0].get_array().min() == 1

def test_building_the_network_keeps_the_global_seed():
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    st.vgg19_features(pretrained=False)
    assert torch.equal(torch.rand(1), expected)


def test_features_of_layers_the_network_lacks_are_refused():
    layers = st.vgg19_features(pretrained=False).layers
    with pytest.raises(ValueError, match=r"layers \['conv5_2', 'conv9_9'\] are not in this network of 30 modules"):
        st.VGGFeatures(layers, ("conv1_1", "conv9_9", "conv5_2"), "", False)


def test_style_transfer_lowers_the_loss_with_both_optimizers():
    torch.manual_seed(0)
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32).pow(3)
    extractor = st.vgg19_features(pretrained=False, calibration_images=[content, style])
    loss_fn = taught.style_transfer_loss(extractor, content, style, (1.0, 1e3, 0.1), st.CONTENT_LAYER, st.STYLE_LAYERS)
    start = loss_fn(content)[1]["total"]
    image, log = st.run_style_transfer(loss_fn, content, 8, taught.make_closure)
    assert len(log) >= 8 and log[-1]["total"] < start
    assert image.min() >= 0 and image.max() <= 1 and not image.requires_grad
    adam_image = content.clone().requires_grad_(True)  # Adam as the lesson's loop runs it
    adam = st.make_optimizer("adam", adam_image)
    closure = taught.make_closure(adam, lambda: loss_fn(adam_image)[0])
    for _ in range(8):
        adam.step(closure)
    assert loss_fn(adam_image)[1]["total"] < start


def test_make_optimizer_bad_input():
    with pytest.raises(ValueError, match="requires_grad"):
        st.make_optimizer("adam", torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="'lbfgs' or 'adam'"):
        st.make_optimizer("sgd", torch.zeros(1, 3, 4, 4, requires_grad=True))


def test_offline_default_images_fall_back_with_a_message(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(helpers.download, "online", lambda url: False)  # no network here
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    content, style, what = st.default_images(size=48, online=True)
    assert "Hubble" in what and content.shape[1] == style.shape[1] == 3
    assert "Offline" in capsys.readouterr().out


def test_pretrained_falls_back_to_random_with_a_message(monkeypatch, capsys):
    def no_weights(*args, **kwargs):
        raise OSError("no network here")
    monkeypatch.setattr(st, "vgg19", no_weights)
    extractor = st.vgg19_features(pretrained=None)
    assert not extractor.pretrained
    assert "RANDOM weights" in capsys.readouterr().out
    with pytest.raises(OSError):
        st.vgg19_features(pretrained=True)


def test_memory_guard(monkeypatch):
    # the machine's free memory varies (CI once had 0.3 GB free): the guard is tested against fixed amounts
    monkeypatch.setattr(st, "_free_memory_gb", lambda device: 16.0)
    assert st.check_size_fits(64, "cpu") == 64
    assert st.check_size_fits(4096, "cpu") == st.MAX_CPU_SIZE
    assert st.estimate_memory_gb(512, 512) > st.estimate_memory_gb(256, 256) * 3.5
    with pytest.raises(ValueError, match="size"):
        st.check_size_fits(0, "cpu")
    monkeypatch.setattr(st, "_free_memory_gb", lambda device: 0.3)
    with pytest.raises(ValueError, match=r"only 0.3 GB is free on cpu; choose a size of at most \d+ px"):
        st.check_size_fits(512, "cpu")


def _gram(f):  # written out: the check fails an answer that calls taught.gram_matrix
    return torch.einsum("nchw,ndhw->ncd", f, f) / (f.shape[1] * f.shape[2] * f.shape[3])


def test_checks_pass_on_the_reference_and_explain_mistakes():
    lesson04.check_gram_matrix(taught.gram_matrix)
    lesson04.check_tv_loss(taught.tv_loss)
    with pytest.raises(AssertionError, match="divide by C\\*H\\*W"):
        lesson04.check_gram_matrix(lambda f: _gram(f) * f.shape[1] * f.shape[2] * f.shape[3])
    with pytest.raises(AssertionError, match="divided by H\\*W only"):
        lesson04.check_gram_matrix(lambda f: _gram(f) * f.shape[1])
    with pytest.raises(AssertionError, match="pairs channels"):
        lesson04.check_gram_matrix(lambda f: f.flatten(2).transpose(1, 2) @ f.flatten(2) / f[0].numel())
    with pytest.raises(AssertionError, match="its own"):
        lesson04.check_gram_matrix(lambda f: _gram(f)[:1].expand(len(f), -1, -1))
    with pytest.raises(AssertionError, match="divided by H\\*W only"):
        lesson04.check_gram_matrix(lambda f: _gram(f) * f.shape[1])
    with pytest.raises(AssertionError, match="squared"):
        lesson04.check_tv_loss(lambda x: (x[:, :, 1:] - x[:, :, :-1]).pow(2).mean()
                             + (x[..., 1:] - x[..., :-1]).pow(2).mean())
    with pytest.raises(AssertionError, match="sum of"):
        lesson04.check_tv_loss(lambda x: (x[:, :, 1:] - x[:, :, :-1]).abs().sum()
                             + (x[..., 1:] - x[..., :-1]).abs().sum())
    with pytest.raises(AssertionError, match="not written yet"):
        lesson04.check_tv_loss(lambda x: (_ for _ in ()).throw(NotImplementedError()))


def _closure_maker(zero=True, backward=True, returns=lambda loss: loss, evaluate_early=False):
    """A make_closure with one step left out or changed, as a student might write it."""
    def make_closure(optimizer, loss_fn):
        early = loss_fn() if evaluate_early else None

        def closure():
            if zero:
                optimizer.zero_grad()
            loss = early if evaluate_early else loss_fn()
            if backward:
                loss.backward()
            return returns(loss)
        return closure
    return make_closure


def test_closure_check_passes_the_reference_and_names_each_mistake(capsys):
    lesson04.check_lbfgs_closure(taught.make_closure)
    assert "make_closure" in capsys.readouterr().out
    mistakes = {
        "accumulated": _closure_maker(zero=False),
        "left the gradients as they were": _closure_maker(zero=False, backward=False),
        "no gradient": _closure_maker(backward=False),  # zero_grad() sets .grad to None
        "not the loss tensor": _closure_maker(returns=lambda loss: loss.item()),
        "copy of the loss": _closure_maker(returns=lambda loss: loss.detach()),
        "when the closure was made": _closure_maker(evaluate_early=True),
        "not written yet": lambda optimizer, loss_fn: (_ for _ in ()).throw(NotImplementedError()),
    }
    for message, make_closure in mistakes.items():
        with pytest.raises(CheckFailed, match=message):
            lesson04.check_lbfgs_closure(make_closure)


def test_run_style_transfer_steps_with_the_closure_it_is_given():
    """run_style_transfer takes the steps an inline closure takes, through the make_closure passed in."""
    target = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    loss_fn = lambda x: (((x - target) ** 2).mean(), {"total": 0.0})  # noqa: E731
    made = []

    def make_closure(optimizer, loss):
        made.append(optimizer)
        return taught.make_closure(optimizer, loss)

    image, log = st.run_style_transfer(loss_fn, torch.zeros(1, 3, 4, 4), 1, make_closure)
    assert len(made) == 1 and len(log) >= 1
    b = torch.zeros(1, 3, 4, 4, requires_grad=True)
    opt_b = st.make_optimizer("lbfgs", b, lbfgs_iterations=1)

    def inline():
        opt_b.zero_grad(set_to_none=True)
        loss = loss_fn(b)[0]
        loss.backward()
        return loss
    opt_b.step(inline)
    assert torch.equal(image, b.detach().clamp(0, 1))


def test_widget_run_button_passes_the_settings():
    from helpers import widgets
    calls = []
    controls = widgets.style_transfer_controls(calls.append, size=128, style_weight=3e3, tv_weight=0.3, steps=50)
    controls["steps"].value = 60
    controls["run"].click()
    assert calls and calls[0]["size"] == 128 and calls[0]["steps"] == 60
    assert calls[0]["style_weight"] == pytest.approx(3e3) and calls[0]["content_bytes"] is None
    with pytest.raises(ValueError, match="size"):
        widgets.style_transfer_controls(calls.append, size=100)




def test_lesson_04_interrupted_optimisation_continues_when_its_cell_runs_again(tmp_path, monkeypatch):
    """Ctrl-C in step 3 stops the side-by-side loop after that step; running the cell again goes on from
    the same pixels and optimiser states (Adam's step count keeps counting) up to STEPS evaluations."""
    from IPython.core.inputtransformer2 import TransformerManager
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    cells = [c for c in nbformat.read(ROOT / "solutions" / "04_style_transfer.ipynb", 4).cells if c.cell_type == "code"]
    loop = next(i for i, c in enumerate(cells) if "for step in steps(STEPS, history" in c.source)
    namespace = {"__name__": "__main__"}
    for cell in cells[:loop]:
        exec(compile(TransformerManager().transform_cell(cell.source), "lesson 04", "exec"), namespace)
        if "parameters" in cell.metadata.get("tags", []):
            namespace["ONLINE"] = False  # no download in a test
    namespace["STEPS"] = 6
    adam_closure, seen = namespace["closures"]["adam"], []

    def closure():
        seen.append(namespace["adam_image"].detach().clone())
        if len(seen) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # Kernel > Interrupt during step 3
        return adam_closure()

    namespace["closures"]["adam"] = closure
    run_loop = compile(cells[loop].source, "lesson 04, optimisation cell", "exec")
    exec(run_loop, namespace)
    history, evaluations, adam = namespace["history"], namespace["evaluations"], namespace["optimizers"]["adam"]
    assert history.done == 3 and evaluations["adam"] == 3 and evaluations["lbfgs"] >= 3
    stopped_at = namespace["adam_image"].detach().clone()
    exec(run_loop, namespace)
    assert history.done == 6 and evaluations["adam"] == 6 and evaluations["lbfgs"] >= 6
    assert torch.equal(seen[3], stopped_at), "the re-run should start from the pixels the interrupted run left"
    assert adam.state[namespace["adam_image"]]["step"] == 6, "the re-run should keep Adam's state, not a fresh one"
    assert history.steps("adam_total") == list(range(1, 7))
