import pytest
import torch

from gnnkit.data.shipped import load_dataset
from gnnkit.evaluate.cv import backbone_names
from gnnkit.evaluate.recipes import RECIPES, best_recipe, keep_features


def test_keep_features_keeps_named_columns_in_order():
    dataset = load_dataset("PROTEINS")
    before = [g.x.clone() for g in dataset.graphs[:3]]
    keep_features(dataset, "node_label")
    assert dataset.feature_names == ["node_label=0", "node_label=1",
                                     "node_label=2"]
    assert dataset.num_features == 3
    for x, graph in zip(before, dataset.graphs):
        assert torch.equal(graph.x, x[:, :3])


def test_keep_features_refuses_a_prefix_nothing_has():
    with pytest.raises(ValueError, match="no node feature starting with "
                       "'atom'"):
        keep_features(load_dataset("MUTAG"), "atom")


def test_recipes_name_real_backbones_and_refuse_other_datasets():
    for recipe in RECIPES.values():
        assert backbone_names(recipe.model) and recipe.repeats >= 1
    assert best_recipe("MUTAG").edge_features
    with pytest.raises(ValueError, match="no best recipe for dataset 'BACE'"):
        best_recipe("BACE")
