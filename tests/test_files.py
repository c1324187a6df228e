"""d2lstyle.files: every file a user can pass where a PyTorch file is expected gets one line saying what it is;
nothing in it is run and nothing is changed."""

import pickle

import pytest
import torch
from PIL import Image

from d2lstyle import files
from d2lstyle.errors import CheckpointError, ImageError

RAN = []


def record(note):
    RAN.append(note)


class Exploit:
    """Unpickling this would call record(): the test fails if it ever runs."""

    def __reduce__(self):
        return (record, ("the file's code ran",))


def make_picture(path, kind):
    Image.new("RGB", (8, 6), (200, 30, 30)).save(path, format=kind)


@pytest.mark.parametrize("name, kind, said", [
    ("photo.png", "PNG", "is a picture (PNG)"),
    ("photo.jpg", "JPEG", "is a picture (JPEG)"),
    ("photo.webp", "WEBP", "is a picture (WEBP)"),
])
def test_a_picture_is_named_as_a_picture(tmp_path, name, kind, said):
    path = tmp_path / name
    make_picture(path, kind)
    before = path.read_bytes()
    with pytest.raises(CheckpointError) as caught:
        files.load_torch_file(path, "d2lstyle checkpoint", CheckpointError)
    message = str(caught.value)
    assert message == f"{path}: {said}, not a d2lstyle checkpoint"
    assert path.read_bytes() == before


@pytest.mark.parametrize("protocol", [2, 4, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_that_names_code_is_refused_unrun_at_every_protocol(tmp_path, protocol):
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps(Exploit(), protocol=protocol))
    with pytest.raises(CheckpointError) as caught:
        files.load_torch_file(path, "model file", CheckpointError)
    message = str(caught.value)
    assert "refused" in message and "would run code" in message and "record" in message
    assert "weights_only=False" not in message and len(message.splitlines()) == 1
    assert RAN == []


def test_a_torch_save_of_an_object_is_refused_unrun(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"weights": torch.ones(2), "extra": Exploit()}, path)
    with pytest.raises(CheckpointError, match=r"refused: .*\(test_files.record\), so loading it would run code"):
        files.load_torch_file(path, "model file", CheckpointError)
    assert RAN == []


@pytest.mark.parametrize("content, said", [
    (b"", "the file is empty (0 bytes), not a model file"),
    ("hello\n".encode(), "is a text file, not a model file"),
    (bytes(range(256)) * 4, "is damaged, or a file of another kind, not a model file"),
])
def test_empty_text_and_garbage_files_each_get_their_line(tmp_path, content, said):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as caught:
        files.load_torch_file(path, "model file", CheckpointError)
    assert str(caught.value) == f"{path}: {said}"


def test_a_truncated_torch_file_is_damaged(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(100)}, path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="not a model file"):
        files.load_torch_file(path, "model file", CheckpointError)


def test_missing_and_folder_paths_say_so_with_the_hint(tmp_path):
    with pytest.raises(CheckpointError, match=r"no such file \(expected a model file\); train one first"):
        files.load_torch_file(tmp_path / "none.pt", "model file", CheckpointError, hint="train one first")
    with pytest.raises(CheckpointError, match="is a folder, not a model file"):
        files.load_torch_file(tmp_path, "model file", CheckpointError)


def test_a_file_of_tensors_loads_and_names_no_code(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"w": torch.arange(3.0), "b": torch.ones(2, dtype=torch.int64)}, path)
    loaded = files.load_torch_file(path, "weights file")
    assert torch.equal(loaded["w"], torch.arange(3.0)) and loaded["b"].dtype == torch.int64
    # torch.save names torch's own rebuilders (torch._utils._rebuild_tensor_v2, ...): those are no code to refuse
    assert files.pickled_names(files._pickle_in_zip(path)) == []
    assert files.describe_file(path) == "a PyTorch file (weights or a checkpoint)"


def test_a_damaged_pytorch_file_is_named_so(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"w": torch.ones(1000)}, path)
    data = bytearray(path.read_bytes())
    data[-400:-300] = bytes(100)  # damage the archive's directory, keep its pickle
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as caught:
        files.load_torch_file(path, "model file", CheckpointError)
    assert "not a model file" in str(caught.value) and "(weights or a checkpoint), not" not in str(caught.value)


def test_a_long_pickle_that_names_code_is_refused_from_its_start(tmp_path):
    path = tmp_path / "big.pt"
    path.write_bytes(pickle.dumps([Exploit(), bytes(3 * files.SNIFF_BYTES)], protocol=4))
    with pytest.raises(CheckpointError, match=r"refused: .*test_files.record"):
        files.load_torch_file(path, "model file", CheckpointError)
    assert RAN == []


def test_a_model_path_with_an_image_extension_or_over_an_input_is_refused(tmp_path):
    photo = tmp_path / "photo.jpg"
    make_picture(photo, "JPEG")
    with pytest.raises(ImageError, match="should not have an image extension"):
        files.validate_model_path(tmp_path / "starry.png")
    twin = tmp_path / "model.pt"
    twin.write_bytes(b"x")
    with pytest.raises(ImageError, match="refusing to overwrite an input"):
        files.validate_model_path(twin, protect=[twin])
    assert files.validate_model_path(tmp_path / "new" / "starry.pt") == tmp_path / "new" / "starry.pt"
