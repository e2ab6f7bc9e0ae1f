import os

import pytest
import torch

from gnnkit.data.knowledge import read_kg
from gnnkit.models.kg import RelationalLinkModel, kg_text_features
from gnnkit.testing.kg import TableModel, triple_graph
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.kg_tasks import KGTask


def test_kg_task_filtered_ranks_by_hand():
    # train (0,r,1), (0,r,2); valid (2,r,3); test (0,r,3).
    triples = torch.tensor([[0, 0, 1], [0, 0, 2]])
    data = triple_graph(triples, torch.tensor([[2, 0, 3]]),
                        torch.tensor([[0, 0, 3]]))
    table = torch.zeros(8, 4)
    table[0] = torch.tensor([0.9, 0.8, 0.7, 0.6])  # (0, r, ?): 1, 2 known
    table[3 + 4] = torch.tensor([0.1, 0.5, 0.9, 0.2])  # (3, r^-1, ?): 2
    task = KGTask(data, torch.zeros(4, 1))
    out = task.evaluate(TableModel(table))
    assert out["tail"]["mean_rank"] == 2.0  # only 0 is left above 3
    assert out["head"]["mean_rank"] == 3.0  # 1 and 3 are above 0
    assert out["mrr"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert out["hits@1"] == 0.0 and out["hits@3"] == 1.0


def test_kg_task_umls_short_run_well_above_chance():
    from gnnkit.text.encoder import TextEncoder

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    kg = read_kg("UMLS_KG")
    x, relation_x = kg_text_features(
        kg, TextEncoder(max_length=32), progress_bar=False
    )
    assert x.shape == (135, 384) and relation_x.shape == (92, 384)
    task = KGTask(kg, x, batch_size=1024, val_limit=200)
    torch.manual_seed(0)  # the initialisation, whatever ran before
    model = RelationalLinkModel(
        384, 135, 46, relation_x=relation_x, hidden_channels=64, num_bases=8
    )
    fit(
        model,
        task,
        TrainConfig(epochs=4, lr=0.01, weight_decay=0.0, progress_bar=False),
    )
    out = task.evaluate(model)
    assert out["count"] == 2 * 661
    # chance is about 10 / 135 = 0.07
    assert out["hits@10"] > 0.6
