"""Save and load a whole LM+GNN model as a folder a fresh process rebuilds.

Never a random re-initialisation: a missing part raises ``ModelError``
naming it (PEFT issue #310: a reloaded LoRA classifier lost its head).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from safetensors.torch import load_file as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

import gnnkit
from gnnkit._io import atomic_write_bytes, atomic_write_json
from gnnkit.errors import ModelError
from gnnkit.models.backbones import build_model
from gnnkit.models.base import GraphModel
from gnnkit.models.fusion import LMGNN
from gnnkit.models.peft_strategies import LMStrategy, save_lm
from gnnkit.models.peft_strategies import load_lm as load_adapted_lm
from gnnkit.models.persist import FORMAT, check_format
from gnnkit.text.cache import state_digest
from gnnkit.text.encoder import TextEncoder, default_model_path, load_lm

CONFIG = "config.json"
GNN_WEIGHTS = "gnn.safetensors"
HEAD_WEIGHTS = "head.safetensors"
TOKENIZER_DIR = "tokenizer"


def save_lm_gnn(model: LMGNN, directory: str | os.PathLike) -> Path:
    """Save a whole :class:`LMGNN` so a fresh process can rebuild it.

    The folder holds ``config.json`` (kind ``"lm_gnn"``, label mapping,
    base LM name and weight digest, pooling, maximum length, LM strategy,
    GNN config), ``tokenizer/``, the LM part the strategy changed (PEFT
    adapter in ``lm_adapter/`` via ``save_pretrained``, or
    ``lm.safetensors``), ``gnn.safetensors`` and ``head.safetensors``. It
    is written beside the target and swapped in, so an existing model is
    replaced whole or not at all.

    Args:
        model (LMGNN): the model.
        directory (str or PathLike): target folder.

    Returns:
        Path: the folder.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=".tmp-"))
    try:
        _write_parts(model, tmp)
        _swap_in(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def _write_parts(model: LMGNN, folder: Path) -> None:
    encoder = model.encoder
    encoder.tokenizer.save_pretrained(str(folder / TOKENIZER_DIR))
    lm_part = save_lm(encoder.lm, model.strategy, folder)
    state = {k: v.detach().contiguous().clone()
             for k, v in model.gnn.state_dict().items()}
    head = {k: v for k, v in state.items() if k.startswith("head.")}
    gnn = {k: v for k, v in state.items() if not k.startswith("head.")}
    atomic_write_bytes(folder / GNN_WEIGHTS, save_safetensors(gnn))
    atomic_write_bytes(folder / HEAD_WEIGHTS, save_safetensors(head))
    name = encoder.name_or_path
    atomic_write_json(folder / CONFIG, {
        "format": FORMAT,
        "kind": LMGNN.kind,
        "config": {
            "encoder": {
                "name_or_path": None if name == default_model_path()
                else name,
                "pooling": encoder.pooling,
                "max_length": encoder.max_length,
                "base_digest": model.base_digest,
            },
            "strategy": model.strategy.to_dict(),
            "gnn": dict(model.gnn.config),
            "parts": {"lm": lm_part, "gnn": GNN_WEIGHTS,
                      "head": HEAD_WEIGHTS, "tokenizer": TOKENIZER_DIR},
        },
        "classes": [_plain(c) for c in model.classes],
        "gnnkit_version": gnnkit.__version__,
    })


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _swap_in(tmp: Path, directory: Path) -> None:
    if not directory.exists():
        os.replace(tmp, directory)
        return
    old = Path(tempfile.mkdtemp(dir=directory.parent, prefix=".old-"))
    os.replace(directory, old / "model")
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)


def load_lm_gnn(directory: str | os.PathLike,
                trainable: bool = False) -> LMGNN:
    """Rebuild an :class:`LMGNN` saved by :func:`save_lm_gnn`, in eval mode.

    The base LM is loaded by name and must have the saved weight digest;
    the adapter (or LM weights), GNN and head come from the folder.

    Args:
        directory (str or PathLike): the folder.
        trainable (bool): leave the LM strategy's parameters trainable to
            fine-tune further. (default: ``False``)

    Raises:
        ModelError: naming the part that is missing (config, tokenizer,
            LM adapter, GNN or head weights) or a base LM whose weights
            differ; a missing part is never initialised at random.
    """
    directory = Path(directory)
    info = _read_config(directory)
    config = info["config"]
    strategy = LMStrategy.parse(config["strategy"])
    encoder = _load_encoder(directory, config, strategy, trainable)
    graph_model = _load_gnn(directory, config["gnn"])
    model = LMGNN.from_parts(encoder, graph_model, strategy,
                             info.get("classes"),
                             config["encoder"]["base_digest"])
    return model.eval()


def _read_config(directory: Path) -> dict[str, Any]:
    path = directory / CONFIG
    if not path.is_file():
        raise ModelError(
            f"{path} is missing: {directory} is not a saved LM+GNN model "
            "(write one with LMGNN.save())."
        )
    info = json.loads(path.read_text(encoding="utf-8"))
    check_format(info, path)
    if info.get("kind") != LMGNN.kind:
        raise ModelError(
            f"{path}: model kind is {info.get('kind')!r}, not "
            f"{LMGNN.kind!r}; load it with gnnkit.models.persist.load_model."
        )
    return info


def _load_encoder(directory: Path, config: dict, strategy: LMStrategy,
                  trainable: bool) -> TextEncoder:
    settings = config["encoder"]
    tokenizer_dir = directory / TOKENIZER_DIR
    if not tokenizer_dir.is_dir():
        raise ModelError(
            f"The saved model at {directory} has no tokenizer "
            f"({TOKENIZER_DIR}/ is missing); save the model again."
        )
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    base, _ = load_lm(settings["name_or_path"])
    if strategy.name in ("frozen", "lora", "prefix"):
        _check_digest(base, settings)
    lm = load_adapted_lm(base, strategy, directory, trainable)
    return TextEncoder(
        settings["name_or_path"], model=lm, tokenizer=tokenizer,
        pooling=settings["pooling"], max_length=settings["max_length"],
    )


def _check_digest(base: nn.Module, settings: dict) -> None:
    if state_digest(base.state_dict()) != settings["base_digest"]:
        name = settings["name_or_path"] or default_model_path()
        raise ModelError(
            f"The base language model {name!r} does not have the weights "
            "this model was trained on (weight digest differs); the saved "
            "adapter would give wrong outputs on top of it. Load the "
            "model where the original base model is available."
        )


def _load_gnn(directory: Path, config: dict) -> GraphModel:
    graph_model = build_model(**config)
    state = {}
    for name, what in ((GNN_WEIGHTS, "GNN weights"),
                       (HEAD_WEIGHTS, "classification head weights")):
        path = directory / name
        if not path.is_file():
            raise ModelError(
                f"The saved model at {directory} has no {what} ({name} is "
                "missing); it cannot be rebuilt, and gnnkit never fills a "
                "missing part with random weights. Save the trained model "
                "again with LMGNN.save()."
            )
        state.update(load_safetensors(str(path)))
    result = graph_model.load_state_dict(state, strict=False)
    absent = list(result.missing_keys) + list(result.unexpected_keys)
    if absent:
        part = "head" if absent[0].startswith("head.") else "GNN"
        raise ModelError(
            f"The {part} weights in {directory} do not match the saved "
            f"config: {len(result.missing_keys)} missing and "
            f"{len(result.unexpected_keys)} unexpected tensor(s), e.g. "
            f"{absent[0]!r}; save the model again with LMGNN.save()."
        )
    return graph_model
