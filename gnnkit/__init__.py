"""gnnkit: graph neural networks joined with pretrained language models."""

__version__ = "0.1.0"
