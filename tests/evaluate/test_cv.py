import json

import pytest
import torch
from torch_geometric.data import Data

import gnnkit.evaluate.cv as cv
from gnnkit.data.dataset import GraphDataset
from gnnkit.data.shipped import load_dataset
from gnnkit.evaluate.cv import cross_validate
from gnnkit.train.config import TrainConfig
from gnnkit.train.predict import predict

FAST = TrainConfig(epochs=3, progress_bar=False)


@pytest.fixture(scope="module")
def mutag():
    return load_dataset("MUTAG")


@pytest.fixture(scope="module")
def mutag_cv(mutag):
    return cross_validate(mutag, "gin", folds=3, train_config=FAST,
                          model_kwargs=dict(hidden_channels=16),
                          progress_bar=False)


def test_cross_validate_folds_partition_dataset(mutag_cv):
    assert len(mutag_cv.folds) == 3
    tests = sorted(i for f in mutag_cv.folds for i in f.test_index)
    assert tests == list(range(188))
    assert mutag_cv.summary["accuracy"]["n_folds"] == 3
    assert mutag_cv.model_config["pooling"] == "sum"


def test_cross_validate_fold_model_reproduces_scores(mutag, mutag_cv):
    fold = mutag_cv.folds[1]
    model = mutag_cv.model(1)
    probs = predict(model, mutag.subset(fold.test_index)).softmax(-1)
    assert torch.allclose(probs, torch.tensor(fold.scores), atol=1e-6)
    assert 1 <= fold.best_epoch <= 3


def test_cross_validate_to_dict_is_json(mutag_cv):
    out = json.loads(json.dumps(mutag_cv.to_dict()))
    assert out["dataset"] == "MUTAG" and len(out["folds"]) == 3
    assert 0.0 <= out["pooled_roc_auc"] <= 1.0
    assert "state_dict" not in out["folds"][0]
    assert repr(mutag_cv).startswith("CVResult(dataset='MUTAG', "
                                     "model='gin', folds=3, accuracy=")


def test_cross_validate_never_trains_or_validates_on_test(mutag,
                                                           monkeypatch):
    seen = []

    class Spy(cv.GraphTask):
        def __init__(self, train, val, **kwargs):
            seen.append({id(g) for g in train} | {id(g) for g in val})
            super().__init__(train, val, **kwargs)

    monkeypatch.setattr(cv, "GraphTask", Spy)
    result = cross_validate(mutag, "mlp", folds=2, train_config=FAST,
                            progress_bar=False)
    for used, fold in zip(seen, result.folds):
        test_ids = {id(mutag.graphs[i]) for i in fold.test_index}
        assert used.isdisjoint(test_ids)
        assert len(used) == 188 - len(test_ids)


def test_cross_validate_regression_in_original_units():
    gen = torch.Generator().manual_seed(0)
    graphs = []
    for i in range(20):
        x = torch.rand(3, 2, generator=gen)
        graphs.append(Data(x=x, edge_index=torch.tensor([[0, 1], [1, 2]]),
                           y=torch.tensor([100.0 + 10 * float(x.sum())])))
    dataset = GraphDataset(graphs, name="toy")
    result = cross_validate(dataset, "gcn", folds=2, train_config=FAST,
                            progress_bar=False)
    fold = result.folds[0]
    assert result.task == "regression"
    assert min(fold.y_true) > 100 and min(fold.scores) > 50
    assert result.summary["rmse"]["n_defined"] == 2


def test_cross_validate_rejects_node_level(mutag):
    node = GraphDataset(mutag.graphs[:1], level="node", name="one")
    with pytest.raises(ValueError, match="needs a graph-level dataset"):
        cross_validate(node)


def test_cross_validate_repeats_scores_mean_of_members(mutag):
    result = cross_validate(mutag, "gin", folds=2, train_config=FAST,
                            model_kwargs=dict(hidden_channels=8),
                            repeats=2, progress_bar=False)
    fold = result.folds[0]
    assert result.repeats == 2 and len(fold.member_states) == 2
    assert len(fold.member_best_epochs) == 2
    assert fold.state_dict is fold.member_states[0]
    test = mutag.subset(fold.test_index)
    members = []
    for state in fold.member_states:
        member = cv.build_model(**result.model_config)
        member.load_state_dict(state)
        members.append(predict(member, test).softmax(-1))
    # the two members differ, and the fold is scored on their mean
    assert not torch.allclose(members[0], members[1])
    mean = (members[0] + members[1]) / 2
    assert torch.allclose(torch.tensor(fold.scores), mean, atol=1e-6)
    ensemble = result.model(0)
    assert type(ensemble).__name__ == "Ensemble"
    assert torch.allclose(predict(ensemble, test).softmax(-1), mean,
                          atol=1e-6)
    accuracy = float((mean.argmax(-1) == test.y).float().mean())
    assert fold.metrics["accuracy"] == pytest.approx(accuracy)
    assert json.loads(json.dumps(result.to_dict()))["repeats"] == 2


def test_cross_validate_repeats_use_own_inner_splits(mutag, monkeypatch):
    seen = []

    class Spy(cv.GraphTask):
        def __init__(self, train, val, **kwargs):
            seen.append({id(g) for g in val})
            super().__init__(train, val, **kwargs)

    monkeypatch.setattr(cv, "GraphTask", Spy)
    result = cross_validate(mutag, "mlp", folds=2, train_config=FAST,
                            repeats=2, progress_bar=False)
    assert len(seen) == 4 and seen[0] != seen[1]
    for used, fold in zip(seen, [f for f in result.folds for _ in "ab"]):
        assert used.isdisjoint({id(mutag.graphs[i])
                                for i in fold.test_index})


def test_cross_validate_repeats_regression_share_scaler():
    gen = torch.Generator().manual_seed(1)
    graphs = []
    for i in range(20):
        x = torch.rand(3, 2, generator=gen)
        graphs.append(Data(x=x, edge_index=torch.tensor([[0, 1], [1, 2]]),
                           y=torch.tensor([50.0 + 10 * float(x.sum())])))
    dataset = GraphDataset(graphs, name="toy")
    result = cross_validate(dataset, "mlp", folds=2, train_config=FAST,
                            repeats=3, progress_bar=False)
    fold = result.folds[1]
    test = dataset.subset(fold.test_index)
    outs = []
    for state in fold.member_states:
        member = cv.build_model(**result.model_config)
        member.load_state_dict(state)
        outs.append(fold.target_scaler.inverse_transform(
            predict(member, test)).view(-1))
    mean = torch.stack(outs).mean(0)
    assert torch.allclose(torch.tensor(fold.scores), mean, atol=1e-4)


@pytest.mark.parametrize("repeats", [0, 1.5])
def test_cross_validate_rejects_bad_repeats(mutag, repeats):
    with pytest.raises(ValueError, match="repeats must be an integer"):
        cross_validate(mutag, repeats=repeats)


def test_cross_validate_ensemble_of_backbones_averages_all(mutag):
    options = dict(folds=2, train_config=FAST, repeats=2,
                   model_kwargs=dict(hidden_channels=8, edge_dim=4),
                   progress_bar=False)
    both = cross_validate(mutag, "gin+mlp", **options)
    gin = cross_validate(mutag, "gin", **options)
    config = both.model_config
    assert config["name"] == "gin+mlp" and config["task"] == "classification"
    assert [c["name"] for c in config["members"]] == ["gin", "mlp"]
    assert config["members"][1]["num_layers"] == 2  # CV_MODEL per backbone
    fold = both.folds[1]
    assert len(fold.member_states) == 4 and len(fold.member_best_epochs) == 4
    # within each repeat the GIN is the one cross_validate("gin") trains
    for k, r in ((0, 0), (2, 1)):
        for key, value in gin.folds[1].member_states[r].items():
            assert torch.equal(fold.member_states[k][key], value)
    test = mutag.subset(fold.test_index)
    probs = []
    for k, state in enumerate(fold.member_states):
        member = cv.build_model(**config["members"][k % 2])
        member.load_state_dict(state)
        probs.append(predict(member, test).softmax(-1))
    mean = torch.stack(probs).mean(0)
    assert torch.allclose(torch.tensor(fold.scores), mean, atol=1e-6)
    ensemble = both.model(1)
    assert repr(ensemble) == ("Ensemble(2 x GIN + 2 x MLP, "
                              "task='classification')")
    assert torch.allclose(predict(ensemble, test).softmax(-1), mean,
                          atol=1e-6)
    assert repr(both).startswith("CVResult(dataset='MUTAG', "
                                 "model='gin+mlp', folds=2")


@pytest.mark.parametrize("model", ["gin+foo", "gin+", "transformer"])
def test_cross_validate_rejects_unknown_backbone(mutag, model):
    with pytest.raises(ValueError, match="unknown backbone .* joined by"):
        cross_validate(mutag, model)
