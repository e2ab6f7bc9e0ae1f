import json
import subprocess
import sys

import pytest
import torch
from torch import nn

from gnnkit.errors import ModelError
from gnnkit.models.backbones import build_model
from gnnkit.models.persist import load_model, register_kind, save_model

X = torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0],
                  [0.5, 0.0, 0.0]])
EDGE_INDEX = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
BATCH = torch.tensor([0, 0, 1, 1])

FRESH = """
import sys, torch
from gnnkit.models.persist import load_model
model, info = load_model(sys.argv[1])
x, edge_index, batch = torch.load(sys.argv[2])
torch.save(model(x, edge_index, batch), sys.argv[3])
print(info["classes"], info["extra"]["features"])
"""


def saved_gin(tmp_path):
    torch.manual_seed(0)
    model = build_model("gin", 3, 2, hidden_channels=8, edge_dim=None)
    model.train()
    model(X, EDGE_INDEX, BATCH)  # update BatchNorm running statistics
    model.eval()
    save_model(tmp_path / "m", model, classes=[-1, 1],
               extra={"features": "one-hot"})
    return model


def test_save_model_fresh_process_gives_identical_logits(tmp_path):
    model = saved_gin(tmp_path)
    torch.save((X, EDGE_INDEX, BATCH), tmp_path / "inputs.pt")
    proc = subprocess.run(
        [sys.executable, "-c", FRESH, str(tmp_path / "m"),
         str(tmp_path / "inputs.pt"), str(tmp_path / "out.pt")],
        capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[-1, 1] one-hot"
    assert torch.equal(torch.load(tmp_path / "out.pt"),
                       model(X, EDGE_INDEX, BATCH))


def test_save_model_writes_config(tmp_path):
    saved_gin(tmp_path)
    info = json.loads((tmp_path / "m" / "config.json").read_text())
    assert info["kind"] == "graph_model"
    assert info["config"]["name"] == "gin"
    assert info["classes"] == [-1, 1]
    assert info["gnnkit_version"] == "0.1.0"
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "config.json", "model.safetensors"]


def test_load_model_returns_eval_model(tmp_path):
    saved_gin(tmp_path)
    model, info = load_model(tmp_path / "m")
    assert not model.training and info["extra"] == {"features": "one-hot"}


@pytest.mark.parametrize("name", ["config.json", "model.safetensors"])
def test_load_model_missing_file(tmp_path, name):
    saved_gin(tmp_path)
    (tmp_path / "m" / name).unlink()
    with pytest.raises(ModelError, match=f"{name}: .* missing"):
        load_model(tmp_path / "m")


def test_load_model_corrupt_weights(tmp_path):
    saved_gin(tmp_path)
    path = tmp_path / "m" / "model.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelError, match="model.safetensors: weights file "
                       "is corrupt"):
        load_model(tmp_path / "m")


def test_load_model_corrupt_config(tmp_path):
    saved_gin(tmp_path)
    (tmp_path / "m" / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="config.json: not valid JSON"):
        load_model(tmp_path / "m")


def test_load_model_missing_head_named(tmp_path):
    saved_gin(tmp_path)
    headless = build_model("gin", 3, 2, hidden_channels=8)
    headless.head = nn.Identity()
    from safetensors.torch import save_file
    save_file(headless.state_dict(), tmp_path / "m" / "model.safetensors")
    with pytest.raises(ModelError, match=r"missing 4 tensors in part\(s\) "
                       r"\['head'\]"):
        load_model(tmp_path / "m")


def test_load_model_unknown_kind(tmp_path):
    saved_gin(tmp_path)
    path = tmp_path / "m" / "config.json"
    info = json.loads(path.read_text())
    info["kind"] = "hologram"
    path.write_text(json.dumps(info))
    with pytest.raises(ModelError, match="unknown model kind 'hologram'"):
        load_model(tmp_path / "m")


def _edit_config(folder, drop=(), **fields):
    path = folder / "config.json"
    info = {k: v for k, v in json.loads(path.read_text()).items()
            if k not in drop}
    path.write_text(json.dumps({**info, **fields}))


def test_load_model_missing_folder(tmp_path):
    with pytest.raises(ModelError, match="^model folder not found: .*nope$"):
        load_model(tmp_path / "nope")


def test_load_model_run_folder_names_its_model(tmp_path):
    saved_gin(tmp_path / "run")
    (tmp_path / "run" / "m").rename(tmp_path / "run" / "model")
    with pytest.raises(ModelError, match=r"did you mean .*run/model\?"):
        load_model(tmp_path / "run")


def test_load_model_newer_format(tmp_path):
    saved_gin(tmp_path)
    _edit_config(tmp_path / "m", format=2)
    with pytest.raises(ModelError, match=r"saved by a newer gnnkit \(format "
                       r"2, this gnnkit reads up to 1\)"):
        load_model(tmp_path / "m")


def test_load_model_missing_extra_names_file_and_field(tmp_path):
    saved_gin(tmp_path)
    _edit_config(tmp_path / "m", drop=("extra",))
    with pytest.raises(ModelError, match=r"m/config.json: the field 'extra' "
                       "is missing"):
        load_model(tmp_path / "m")


def test_load_model_classifier_without_classes(tmp_path):
    saved_gin(tmp_path)
    _edit_config(tmp_path / "m", classes=None,
                 extra={"task": "classification"})
    with pytest.raises(ModelError, match="'classes' is empty but the model "
                       "is a classifier"):
        load_model(tmp_path / "m")


class Scaled(nn.Module):
    kind = "test_scaled"

    def __init__(self, factor):
        super().__init__()
        self.config = {"factor": factor}
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        return self.lin(x) * self.config["factor"]


def test_register_kind_round_trips_custom_model(tmp_path):
    register_kind("test_scaled", lambda config: Scaled(**config))
    model = Scaled(3.0)
    save_model(tmp_path / "s", model)
    loaded, info = load_model(tmp_path / "s")
    x = torch.ones(1, 2)
    assert info["kind"] == "test_scaled"
    assert torch.equal(loaded(x), model(x))


def test_save_model_unregistered_class(tmp_path):
    with pytest.raises(ModelError, match="cannot save Linear: it needs"):
        save_model(tmp_path / "x", nn.Linear(2, 2))


class Folder(nn.Module):
    kind = "test_folder"

    def __init__(self, value=0.0):
        super().__init__()
        self.value = nn.Parameter(torch.tensor([value]))


def _save_folder(model, directory):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(
        {"kind": "test_folder",
         "config": {"value": model.value.item()}}))


def _load_folder(directory):
    info = json.loads((directory / "config.json").read_text())
    return Folder(info["config"]["value"])


def test_register_kind_with_own_saver_and_loader(tmp_path):
    register_kind("test_folder", saver=_save_folder, loader=_load_folder)
    save_model(tmp_path / "f", Folder(2.5))
    loaded, info = load_model(tmp_path / "f")
    assert isinstance(loaded, Folder) and loaded.value.tolist() == [2.5]
    assert info["kind"] == "test_folder" and not loaded.training
    with pytest.raises(ModelError, match="keep their own label names"):
        save_model(tmp_path / "g", Folder(), classes=["a"])


def test_register_kind_needs_builder_or_both_hooks():
    with pytest.raises(ValueError, match="needs a builder, or both"):
        register_kind("half", saver=_save_folder)


LINK_FRESH = """
import sys, torch
from gnnkit.models.persist import load_model
model, info = load_model(sys.argv[1])
x, edge_index = torch.load(sys.argv[2])
torch.save(model.encode(x, edge_index), sys.argv[3])
print(type(model).__name__)
"""


def test_link_model_loads_in_a_fresh_process(tmp_path):
    from gnnkit.models.link import build_link_model

    torch.manual_seed(0)
    model = build_link_model("gcn", 3, out_channels=4,
                             hidden_channels=8).eval()
    save_model(tmp_path / "m", model)
    torch.save((X, EDGE_INDEX), tmp_path / "inputs.pt")
    proc = subprocess.run(
        [sys.executable, "-c", LINK_FRESH, str(tmp_path / "m"),
         str(tmp_path / "inputs.pt"), str(tmp_path / "out.pt")],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert proc.stdout.strip() == "LinkModel"
    assert torch.equal(torch.load(tmp_path / "out.pt"),
                       model.encode(X, EDGE_INDEX))
