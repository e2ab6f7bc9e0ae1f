"""Fixtures shared across the test folders."""

from pathlib import Path

import pytest
import torch

from gnnkit.data.tables import read_csv_graph
from gnnkit.testing.tiny_lm import tiny_bert

CASES = Path(__file__).parent / "cases"


@pytest.fixture
def one_thread():
    """Run a test on one torch thread: on tiny matrices a second thread
    only adds synchronisation cost."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def bert_path(tmp_path_factory):
    """A config-initialised tiny BERT saved like a Hugging Face model."""
    return str(tiny_bert(tmp_path_factory.mktemp("tiny_bert")))


@pytest.fixture(scope="module")
def c14():
    """Case C14: a small text graph (LoRA + GNN saved and reloaded)."""
    case = CASES / "C14"
    return read_csv_graph(case / "edges.csv", case / "nodes.csv",
                          text="text", name="C14")
