import threading
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.viz.dashboard import PLOTLY_MIME, READY, TrainingDashboard

SMALL = dict(epochs=3, hidden_channels=16, num_layers=2)


def _points(dash):
    return [list(trace.x) for trace in dash.figure.data]


def _values(dash, index):
    return list(dash.figure.data[index].y)


def _shown(dash):
    """The traces' x values in the plotly bundle the Output widget shows."""
    (output,) = dash.plot.output.outputs
    return [trace["x"] for trace in output["data"][PLOTLY_MIME]["data"]]


def test_training_dashboard_run_draws_one_point_per_epoch():
    dash = TrainingDashboard("MUTAG", "gin", **SMALL)
    assert dash.status.value == READY
    assert dash.lm_strategy.options == ("none",)
    result = dash.run()
    history = result.history
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert _points(dash) == [[1, 2, 3]] * 3
    assert _shown(dash) == [[1, 2, 3]] * 3
    assert _values(dash, 0) == [r["loss"] for r in history]
    assert _values(dash, 1) == [r["val_loss"] for r in history]
    assert _values(dash, 2) == [r["val_accuracy"] for r in history]
    assert result.best_score == max(r["val_accuracy"] for r in history)
    assert dash.status.value == (
        f"Done: best val accuracy {result.best_score:.4f} "
        f"at epoch {result.best_epoch}")
    assert dash.figure.data[2].name == "val accuracy"
    assert not dash.run_button.disabled and dash.stop_button.disabled


def test_training_dashboard_stop_after_epoch_two_keeps_best_model():
    states = {}

    def snapshot_then_stop(epoch, record):
        model = dash.prepared.model
        states[epoch] = {k: v.clone() for k, v in model.state_dict().items()}
        if epoch == 2:
            dash.stop_button.click()

    dash = TrainingDashboard("MUTAG", "gcn", epochs=20, lr=0.05,
                             hidden_channels=16, num_layers=2,
                             callbacks=[snapshot_then_stop])
    result = dash.run()
    assert len(result.history) == 2 and result.stopped_by_callback
    assert _points(dash) == [[1, 2]] * 3 == _shown(dash)
    accs = [r["val_accuracy"] for r in result.history]
    best = 1 if accs[0] >= accs[1] else 2
    if accs[0] == accs[1]:
        losses = [r["val_loss"] for r in result.history]
        best = 2 if losses[1] < losses[0] else 1
    assert result.best_epoch == best
    held = dash.prepared.model.state_dict()
    assert all(torch.equal(held[k], v) for k, v in states[best].items())
    model = dash.prepared.model.eval()
    with torch.no_grad():
        again = dash.prepared.task.validate(model)["accuracy"]
    assert again == pytest.approx(accs[best - 1])
    assert dash.status.value == (
        f"Stopped after epoch 2: best val accuracy {accs[best - 1]:.4f} "
        f"at epoch {best}")


def test_training_dashboard_background_run_stops_on_click():
    reached = threading.Event()
    dash = TrainingDashboard(
        "MUTAG", "gin", epochs=300, hidden_channels=8, num_layers=1,
        callbacks=[lambda epoch, record: epoch >= 3 and reached.set()],
    )  # fmt: skip
    assert dash.run(block=False) is None
    assert reached.wait(60) and dash.running
    assert dash.run_button.disabled
    with pytest.raises(RuntimeError, match="press Stop first"):
        dash.run()
    dash.stop_button.click()
    dash.wait(60)
    assert not dash.running and dash.error is None
    done = len(dash.result.history)
    assert 3 <= done < 300 and dash.result.stopped_by_callback
    assert _points(dash)[2] == list(range(1, done + 1))
    assert dash.status.value.startswith(f"Stopped after epoch {done}: ")
    assert not dash.run_button.disabled


def test_training_dashboard_bad_setting_shows_error_and_raises():
    dash = TrainingDashboard("MUTAG", val_fraction=1.5, **SMALL)
    with pytest.raises(ValueError, match="fractions must be >= 0"):
        dash.run()
    assert dash.status.value.startswith("Error: fractions must be >= 0")
    assert dash.result is None and _points(dash) == [[]] * 3
    assert _shown(dash) == [[]] * 3
    assert not dash.run_button.disabled and dash.stop_button.disabled


def test_training_dashboard_text_dataset_offers_cascade():
    dash = TrainingDashboard("MUTAG", **SMALL)
    assert dash.lm_lr.disabled
    dash.dataset.value = "Cora_TAG"
    assert dash.lm_strategy.value == "cascade"
    assert "none" in dash.lm_strategy.options
    dash.dataset.value = "MUTAG"
    assert dash.lm_strategy.options == ("none",)


def _two_cliques() -> GraphDataset:
    """Two 5-node cliques joined by one edge; class = clique; the node
    feature is a noisy copy of the class."""
    edges = [(i, j) for c in (0, 5) for i in range(c, c + 5)
             for j in range(c, c + 5) if i != j] + [(4, 5), (5, 4)]
    y = torch.tensor([0] * 5 + [1] * 5)
    x = torch.stack([y.float(), torch.ones(10)], dim=1)
    graph = Data(x=x, edge_index=torch.tensor(edges).t(), y=y)
    return GraphDataset([graph], level="node", name="cliques",
                        classes=["a", "b"])


def test_training_dashboard_own_node_dataset_trains():
    dash = TrainingDashboard(_two_cliques(), "sage", epochs=30, lr=0.05,
                             hidden_channels=8, num_layers=1,
                             val_fraction=0.4)
    assert dash.dataset.options[0] == "cliques"
    result = dash.run()
    assert len(dash.prepared.val_index) == 4
    assert result.best_score == 1.0
    assert _points(dash)[0] == list(range(1, 31))


def _cliques_with_texts() -> GraphDataset:
    dataset = _two_cliques()
    words = ["graph pooling readout", "message passing layer"]
    dataset.texts = [[f"{words[int(c)]} {i}"
                      for i, c in enumerate(dataset.graphs[0].y)]]
    return dataset


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    from gnnkit.testing.tiny_lm import tiny_bert

    return str(tiny_bert(tmp_path_factory.mktemp("tiny_bert")))


def test_training_dashboard_cascade_uses_lm_features(tiny_lm):
    dash = TrainingDashboard(_cliques_with_texts(), "gcn", epochs=3,
                             hidden_channels=8, num_layers=1,
                             lm_path=tiny_lm, cache=False, val_fraction=0.4)
    assert dash.lm_strategy.value == "cascade"
    result = dash.run()
    x = dash.prepared.dataset.graphs[0].x
    assert x.shape == (10, 32)  # tiny BERT width, not the 2 raw features
    assert dash.prepared.dataset.meta["text_encoder"]
    assert _points(dash)[0] == [1, 2, 3] and len(result.history) == 3


@pytest.mark.parametrize("strategy", ["lora", "frozen"])
def test_training_dashboard_joint_strategy_trains_lm(tiny_lm, strategy):
    dash = TrainingDashboard(_cliques_with_texts(), "sage", epochs=2,
                             hidden_channels=8, num_layers=1,
                             lm_path=tiny_lm, val_fraction=0.4,
                             batch_size=4, steps_per_epoch=1)
    dash.lm_strategy.value = strategy
    assert dash.lm_lr.disabled == (strategy == "frozen")
    dash.lm_lr.value = 1e-3
    result = dash.run()
    model = dash.prepared.model
    assert model.strategy.name == strategy
    assert model.lm_trains == (strategy == "lora")
    groups = dash.prepared.config.param_groups
    lm_groups = [g for g in groups if g.get("name") == "lm"]
    assert [g["lr"] for g in lm_groups] == ([1e-3] if strategy == "lora"
                                            else [])
    assert _points(dash)[2] == [1, 2] and len(result.history) == 2
    assert dash.status.value.startswith("Done: best val accuracy")


def test_training_dashboard_rejects_bad_dataset_argument():
    with pytest.raises(TypeError, match="shipped dataset name, a path or "
                                        "a GraphDataset"):
        TrainingDashboard(None)
    from gnnkit.errors import DataError

    with pytest.raises(DataError, match="neither a shipped dataset"):
        TrainingDashboard("NO_SUCH_SET")


def test_training_dashboard_reads_names_any_case_and_paths():
    assert TrainingDashboard("mutag").dataset.value == "MUTAG"
    folder = Path(__file__).resolve().parents[1] / "cases" / "C02" / "SIGNED"
    dash = TrainingDashboard(folder, epochs=1)
    assert dash.dataset.options[0] == dash.dataset.value
    assert dash._own[dash.dataset.value].num_features >= 1


def test_training_dashboard_keeps_out_of_range_values_out():
    with pytest.raises(ValueError, match=r"GNN lr must be between 1e-06 "
                                         r"and 1 \(got 5\.0\)"):
        TrainingDashboard("MUTAG", lr=5.0)
    dash = TrainingDashboard("MUTAG", epochs=500, lr=0.5, lm_lr=1e-6)
    assert (dash.epochs.value, dash.lr.value, dash.lm_lr.value) == \
        (500, 0.5, 1e-6)
