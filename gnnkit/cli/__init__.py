"""The ``gnnkit`` command: one sub-command per job, each a thin caller of
the package."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
import traceback
import warnings
from typing import Sequence

from gnnkit.cli.checks import check_numbers
from gnnkit.errors import GnnkitError

# Sub-command modules; each offers ``add_parser(subparsers)`` and ``run``.
COMMANDS = ("run", "compare", "link", "explain", "predict", "summary")
#: Reader keywords in error messages that the CLI spells as a flag.
_KEYWORD = re.compile(r"\b(encoding|label|nodes|graphs|graph_id|text|source"
                      r"|target|node_id)=('[^']*'|\.\.\.)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="gnnkit",
        description="Graph neural networks joined with language models.",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log every epoch"
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"gnnkit.cli.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(handler=module.run)
        # also after the sub-command; SUPPRESS keeps a -v given before it
        sub.add_argument("-v", "--verbose", action="store_true",
                         default=argparse.SUPPRESS, help="log every epoch")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gnnkit`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    shown = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return _run(args)
    finally:
        warnings.showwarning = shown


def _run(args: argparse.Namespace) -> int:
    """Run the chosen sub-command; errors become one line and status 2."""
    try:
        check_numbers(args)
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:  # e.g. `gnnkit summary ... | head`
        return _closed_pipe()
    except (GnnkitError, OSError) as error:
        print(f"gnnkit {args.command}: error: {cli_wording(str(error))}",
              file=sys.stderr)
        return 2
    except ValueError as error:  # settings refused by a lower room
        if args.verbose:
            traceback.print_exc()
        print(f"gnnkit {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gnnkit: interrupted", file=sys.stderr)
        return 130


def cli_wording(message: str) -> str:
    """``message`` with the reader keywords that have a flag written as
    the flag: ``encoding='latin-1'`` becomes ``--encoding latin-1``."""
    return _KEYWORD.sub(
        lambda m: f"--{m[1].replace('_', '-')} {m[2].strip(chr(39))}",
        message,
    )


def _show_warning(message, category, filename, lineno, file=None,
                  line=None) -> None:
    """Print a warning as one line, ``gnnkit: warning: <message>``,
    without the source file and line it was raised from."""
    stream = sys.stderr if file is None else file
    try:
        stream.write(f"gnnkit: warning: {message}\n")
    except OSError:  # stderr is closed: nowhere to warn
        pass


def _closed_pipe() -> int:
    """The reader of stdout went away: stop quietly, as ``cat`` does.

    Standard output is pointed at ``os.devnull`` so the interpreter's
    final flush does not report the broken pipe again; the exit status
    is 141, what a shell reports for a process ended by SIGPIPE.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file
        pass
    return 141


if __name__ == "__main__":
    sys.exit(main())
