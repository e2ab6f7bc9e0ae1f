"""``gnnkit summary``: print the summary of a dataset."""

from __future__ import annotations

import argparse
from typing import Any

from gnnkit.cli.run import add_data_options, read_data
from gnnkit.data.summary import summarize, summary_table


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``summary`` and its options."""
    parser = subparsers.add_parser(
        "summary", help="graphs, nodes, edges, classes and degrees of a "
        "dataset",
    )  # fmt: skip
    add_data_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the summary table."""
    print(summary_table(summarize(read_data(args))))
    return 0
