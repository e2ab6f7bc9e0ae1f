import pytest
import torch

from gnnkit.data.shipped import load_dataset
from gnnkit.evaluate.cv import backbone_names
from gnnkit.evaluate.recipes import (
    RECIPES,
    Recipe,
    best_recipe,
    keep_features,
    recipe_features,
)


def test_keep_features_keeps_named_columns_in_order():
    dataset = load_dataset("PROTEINS")
    before = [g.x.clone() for g in dataset.graphs[:3]]
    keep_features(dataset, "node_label")
    assert dataset.feature_names == ["node_label=0", "node_label=1",
                                     "node_label=2"]
    assert dataset.num_features == 3
    for x, graph in zip(before, dataset.graphs):
        assert torch.equal(graph.x, x[:, :3])


def test_recipe_features_keeps_prefix_then_adds_random_walks():
    recipe = Recipe("gin", feature_prefix="node_label", rwse=2)
    dataset = recipe_features(load_dataset("PROTEINS"), recipe)

    assert dataset.feature_names == ["node_label=0", "node_label=1",
                                     "node_label=2", "rwse_1", "rwse_2"]
    graph = dataset.graphs[0]
    row, col = graph.edge_index
    degree = torch.bincount(row, minlength=graph.num_nodes).float()
    # back in 2 steps: out to a neighbour v (1/deg u), back (1/deg v)
    back = torch.zeros(graph.num_nodes).index_add_(
        0, row, 1 / (degree[row] * degree[col]))
    assert torch.allclose(graph.x[:, 4], back)


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
