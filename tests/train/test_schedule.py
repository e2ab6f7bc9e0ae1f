import pytest
import torch

from gnnkit.train.schedule import build_scheduler, lr_factor


@pytest.mark.parametrize("step, factor", [
    (0, 0.25), (1, 0.5), (3, 1.0), (4, 1.0), (9, 0.5), (14, 0.0),
])
def test_lr_factor_cosine_after_warmup(step, factor):
    got = lr_factor(step, warmup_steps=4, total_steps=14, schedule="cosine")
    assert got == pytest.approx(factor, abs=1e-12)


@pytest.mark.parametrize("step, factor", [(4, 1.0), (6, 0.8), (9, 0.5)])
def test_lr_factor_linear_decay(step, factor):
    got = lr_factor(step, warmup_steps=4, total_steps=14, schedule="linear")
    assert got == pytest.approx(factor)


def test_lr_factor_constant_and_no_warmup():
    assert lr_factor(0, warmup_steps=0, total_steps=10,
                     schedule="constant") == 1.0
    assert lr_factor(0, warmup_steps=0, total_steps=10) == 1.0
    assert lr_factor(5, warmup_steps=0, total_steps=10) == \
        pytest.approx(0.5)


def test_lr_factor_unknown_schedule():
    with pytest.raises(ValueError, match="schedule must be"):
        lr_factor(5, warmup_steps=0, total_steps=10, schedule="step")


def test_build_scheduler_warmup_per_group():
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    optimizer = torch.optim.SGD([{"params": [params[0]], "lr": 1.0},
                                 {"params": [params[1]], "lr": 0.1}])
    scheduler = build_scheduler(optimizer, steps_per_epoch=2, epochs=3,
                                warmup_epochs=[1, 0], schedule="constant")
    seen = []
    for _ in range(4):
        seen += [g["lr"] for g in optimizer.param_groups]
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([0.5, 0.1, 1.0, 0.1, 1.0, 0.1, 1.0, 0.1])
