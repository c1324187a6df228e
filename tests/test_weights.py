"""Where VGG-19's weights come from: random, a file, or the (offline-tested) download."""

import email.message
import hashlib
import io
import os
import urllib.error

import pytest
import torch
import torchvision

import d2lstyle
from d2lstyle import weights
from d2lstyle.errors import WeightsError, WeightsUnavailableError


def torchvision_vgg19_state():
    """A state dict laid out like a whole torchvision VGG-19: the real ``features`` part
    (built by torchvision, random values) and a small stand-in for the classifier,
    which d2lstyle drops anyway."""
    torch.manual_seed(1)
    features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["E"])
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 7)
    return state


@pytest.fixture(scope="module")
def full_state():
    return torchvision_vgg19_state()


def features_only(state):
    return {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}


# --- random weights --------------------------------------------------------------


def test_random_weights_are_seeded_and_he_initialised():
    first, again, other = weights.random_state_dict(0), weights.random_state_dict(0), weights.random_state_dict(1)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(first["0.weight"], other["0.weight"])
    assert {k: tuple(v.shape) for k, v in first.items()} == weights.expected_shapes()
    # He initialisation: std = sqrt(2 / (9 * in_channels)); conv3_2 has 256 input channels.
    assert first["12.weight"].std().item() == pytest.approx((2 / (9 * 256)) ** 0.5, rel=0.02)
    assert all(first[k].abs().sum() == 0 for k in first if k.endswith("bias"))


def test_expected_shapes_match_torchvision(full_state):
    assert weights.expected_shapes() == {k: tuple(v.shape) for k, v in features_only(full_state).items()}


# --- a weights file ----------------------------------------------------------------


@pytest.mark.parametrize("layout", ["full", "features", "module-prefixed", "nested"])
def test_state_dict_files_in_every_layout_load(tmp_path, full_state, layout):
    state = {
        "full": full_state,
        "features": features_only(full_state),
        "module-prefixed": {f"module.{k}": v for k, v in full_state.items()},
        "nested": {"state_dict": full_state, "epoch": torch.tensor(3)},
    }[layout]
    path = tmp_path / "vgg.pth"
    torch.save(state, path)
    vgg = d2lstyle.load_vgg19(path)
    assert torch.equal(vgg[21].weight, full_state["features.21.weight"])  # conv4_2
    assert torch.equal(vgg[34].bias, full_state["features.34.bias"])  # conv5_4
    assert "file" in vgg.weights_description


def test_missing_weights_file(tmp_path):
    with pytest.raises(WeightsError, match="no such weights file"):
        d2lstyle.load_vgg19(tmp_path / "nowhere.pth")


def test_corrupt_weights_file(tmp_path):
    path = tmp_path / "garbage.pth"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(WeightsError, match="not a readable PyTorch weights file"):
        d2lstyle.load_vgg19(path)
    assert path.stat().st_size == 4096  # left as it was


def test_a_tensor_is_not_a_state_dict(tmp_path):
    path = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), path)
    with pytest.raises(WeightsError, match="expected a state dict"):
        d2lstyle.load_vgg19(path)


def test_wrong_keys_and_wrong_shapes_are_named(tmp_path, full_state):
    resnet_like = {"conv1.weight": torch.zeros(64, 3, 7, 7)}
    torch.save(resnet_like, tmp_path / "resnet.pth")
    with pytest.raises(WeightsError, match=r"not VGG-19 weights: missing 0\.weight.*unexpected conv1\.weight"):
        d2lstyle.load_vgg19(tmp_path / "resnet.pth")

    state = features_only(full_state)
    state["21.weight"] = torch.zeros(512, 512, 1, 1)
    torch.save(state, tmp_path / "shapes.pth")
    with pytest.raises(WeightsError, match=r"21\.weight is \(512, 512, 1, 1\), expected \(512, 512, 3, 3\)"):
        d2lstyle.load_vgg19(tmp_path / "shapes.pth")


def test_nan_weights_are_refused(tmp_path, full_state):
    state = features_only(full_state)
    state["0.bias"] = torch.full((64,), float("nan"))
    torch.save(state, tmp_path / "nan.pth")
    with pytest.raises(WeightsError, match="NaN or infinite values in 0.bias"):
        d2lstyle.load_vgg19(tmp_path / "nan.pth")


class RunsCodeWhenUnpickled:
    """Unpickling this would create the file named in ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_that_would_run_code_is_refused_unexecuted(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"0.weight": RunsCodeWhenUnpickled(marker)}, path)
    with pytest.raises(WeightsError, match="would run code"):
        d2lstyle.load_vgg19(path)
    assert not marker.exists()


# --- the ImageNet download, tested without a network ---------------------------------


def serve(tmp_path, state, name=None):
    """Save ``state`` and return a file:// URL to it whose name carries its real hash prefix."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    name = name or f"vgg19-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    source = tmp_path / "server" / name
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(data)
    return source.as_uri()


def test_download_checks_the_hash_and_caches(tmp_path, full_state, empty_torch_cache):
    url = serve(tmp_path, full_state)
    state = weights.imagenet_state_dict(url=url, progress=False)
    assert torch.equal(state["21.weight"], full_state["features.21.weight"])
    cached = weights.cache_path(url)
    assert cached.parent == empty_torch_cache / "checkpoints" and cached.is_file()
    # A second call loads the cached file: the "server" may disappear.
    (tmp_path / "server" / cached.name).unlink()
    assert torch.equal(weights.imagenet_state_dict(url=url, progress=False)["0.bias"], full_state["features.0.bias"])


def test_wrong_hash_saves_nothing(tmp_path, full_state, empty_torch_cache):
    url = serve(tmp_path, full_state, name="vgg19-deadbeef.pth")
    with pytest.raises(WeightsError, match="failed its SHA-256 check"):
        weights.imagenet_state_dict(url=url, progress=False)
    assert list((empty_torch_cache / "checkpoints").iterdir()) == []


def test_offline_download_says_what_to_do(empty_torch_cache, monkeypatch):
    def no_network(request, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "urlopen", no_network)
    with pytest.raises(WeightsUnavailableError) as caught:
        d2lstyle.load_vgg19("imagenet", progress=False)
    message = str(caught.value)
    assert "could not download" in message and weights.IMAGENET_URL in message
    assert str(empty_torch_cache / "checkpoints" / "vgg19-dcbb9e9d.pth") in message
    assert "--weights random" in message and "D2LSTYLE_WEIGHTS=random" in message


class BreaksHalfway(io.BytesIO):
    """A response that sends some bytes and then loses the connection."""

    def info(self):
        return email.message.Message()

    def read(self, size=-1):
        if self.tell() > 0:
            raise ConnectionResetError("connection reset by peer")
        return super().read(1000)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_download_failing_midway_leaves_no_partial_file(empty_torch_cache, monkeypatch):
    monkeypatch.setattr(torch.hub, "urlopen", lambda request, *a, **k: BreaksHalfway(b"x" * 5000))
    with pytest.raises(WeightsUnavailableError, match="connection reset"):
        d2lstyle.load_vgg19("imagenet", progress=False)
    assert list((empty_torch_cache / "checkpoints").iterdir()) == []


def test_a_cached_imagenet_file_is_used_without_network(full_state, empty_torch_cache, monkeypatch):
    cached = empty_torch_cache / "checkpoints" / "vgg19-dcbb9e9d.pth"
    cached.parent.mkdir(parents=True)
    torch.save(full_state, cached)
    monkeypatch.setattr(torch.hub, "urlopen", lambda *a, **k: pytest.fail("the network was used"))
    vgg = d2lstyle.load_vgg19("imagenet", progress=False)
    assert torch.equal(vgg[0].weight, full_state["features.0.weight"])
    assert "pretrained" in vgg.weights_description


def test_a_corrupt_cached_download_says_to_delete_it(empty_torch_cache):
    cached = empty_torch_cache / "checkpoints" / "vgg19-dcbb9e9d.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"PK\x03\x04 truncated zip")
    with pytest.raises(WeightsError, match="delete it and run again"):
        d2lstyle.load_vgg19("imagenet", progress=False)


def test_weights_choice_must_be_known():
    with pytest.raises(WeightsError, match="'imagenet', 'random' or a file path"):
        weights.get_state_dict(42)
