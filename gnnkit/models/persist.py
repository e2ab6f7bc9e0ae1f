"""Save and load models as a folder holding safetensors weights and JSON.

``model.safetensors`` holds every tensor of the state dict and
``config.json`` the model kind and config, label names, gnnkit version and
free-form feature settings. A registry maps each kind to a builder, so
other model families (e.g. LM+GNN) plug in with :func:`register_kind`.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

import gnnkit
from gnnkit._io import atomic_write_bytes, atomic_write_json
from gnnkit.errors import ModelError
from gnnkit.models.backbones import build_model
from gnnkit.models.base import GraphModel

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
FORMAT = 1

Builder = Callable[[dict[str, Any]], nn.Module]
Saver = Callable[[nn.Module, Path], Any]
Loader = Callable[[Path], nn.Module]


@dataclass(frozen=True)
class _Kind:
    builder: Builder | None = None
    saver: Saver | None = None
    loader: Loader | None = None


_KINDS: dict[str, _Kind] = {}
#: kinds with their own saver and loader: kind -> (module, saver, loader)
#: function names, imported only when such a model or folder is met
_LAZY = {
    "lm_gnn": ("gnnkit.models.fusion_io", "save_lm_gnn", "load_lm_gnn"),
    "lm_node_classifier": ("gnnkit.models.lm_classifier",
                           "save_lm_classifier", "load_lm_classifier"),
}
#: kinds whose module registers them on import, imported when met
_REGISTERED_BY = {
    "ensemble": "gnnkit.models.ensemble",
    "link_model": "gnnkit.models.link",
    "relational_link_model": "gnnkit.models.kg",
    "molecule_text": "gnnkit.models.molecule_fusion",
}


def register_kind(
    kind: str,
    builder: Builder | None = None,
    *,
    saver: Saver | None = None,
    loader: Loader | None = None,
) -> None:
    """Teach :func:`save_model` and :func:`load_model` a model ``kind``.

    A model is saved under ``type(model).kind`` (a class attribute). With
    a ``builder``, gnnkit writes the model's ``config`` dict and all
    weights, and on load ``builder(config)`` must return a model with the
    same state-dict keys. A family with its own folder layout (e.g. an
    LM with an adapter) gives ``saver(model, directory)`` and
    ``loader(directory) -> model`` instead, and writes ``kind`` into its
    own ``config.json``.

    Args:
        kind (str): the value of the model class's ``kind`` attribute.
        builder (callable, optional): ``config -> nn.Module``.
        saver (callable, optional): ``(model, directory) -> None``.
        loader (callable, optional): ``directory -> nn.Module``.
    """
    if builder is None and (saver is None or loader is None):
        raise ValueError(
            f"register_kind({kind!r}) needs a builder, or both a saver "
            "and a loader."
        )
    _KINDS[kind] = _Kind(builder, saver, loader)


register_kind(GraphModel.kind, lambda config: build_model(**config))


def save_model(
    directory: str | os.PathLike,
    model: nn.Module,
    *,
    classes: list[Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` to ``directory`` (created if needed), atomically.

    Args:
        directory (str or PathLike): target folder.
        model (nn.Module): a model with a ``kind`` class attribute and a
            JSON-able ``config`` (every :class:`GraphModel` has both).
        classes (list, optional): original label values, class ``i`` =
            ``classes[i]``.
        extra (dict, optional): JSON-able settings needed at prediction
            time (feature settings, target scaler, ...).

    Returns:
        Path: the folder.

    Raises:
        ModelError: if the model has no registered ``kind`` or ``config``.
    """
    kind = _kind_of(model)
    directory = Path(directory)
    entry = _KINDS[kind]
    if entry.saver is not None:
        if classes is not None or extra:
            raise ModelError(
                f"models of kind {kind!r} keep their own label names and "
                "settings; save them without classes= and extra=."
            )
        entry.saver(model, directory)
        return directory
    config = _config_of(model)
    tensors = {k: v.detach().cpu().contiguous().clone()
               for k, v in model.state_dict().items()}
    atomic_write_bytes(directory / WEIGHTS, st_save(tensors))
    atomic_write_json(directory / CONFIG, {
        "format": FORMAT,
        "kind": kind,
        "config": config,
        "classes": classes,
        "gnnkit_version": gnnkit.__version__,
        "extra": extra or {},
    })
    return directory


def load_model(directory: str | os.PathLike) -> tuple[nn.Module, dict]:
    """Rebuild a model saved by :func:`save_model`, in eval mode.

    Args:
        directory (str or PathLike): the folder.

    Returns:
        tuple[nn.Module, dict]: the model and the saved info (``kind``,
        ``config``, ``classes``, ``gnnkit_version``, ``extra``).

    Raises:
        ModelError: naming the folder that does not exist, the file that
            is missing or unreadable, a field that is missing or does not
            fit the model, a format newer than this gnnkit, an unknown
            kind, or the weights that are missing or unexpected.
    """
    directory = Path(directory)
    _check_folder(directory)
    info = _read_config(directory / CONFIG)
    entry = _entry(info["kind"], directory / CONFIG)
    if entry.loader is not None:  # a kind that writes its own config
        return entry.loader(directory).eval(), info
    _check_extra(info, directory / CONFIG)
    model = _build(entry, info, directory / CONFIG)
    state = _read_weights(directory / WEIGHTS)
    _load_state(model, state, directory / WEIGHTS)
    model.eval()
    return model, info


def read_model_info(directory: str | os.PathLike) -> dict[str, Any]:
    """The saved info of a model folder (``kind``, ``config``,
    ``classes``, ``extra``), read without loading any weights.

    Raises:
        ModelError: a missing folder or config, a config that is not
            JSON, lacks ``kind`` or ``config``, or has a newer format.
    """
    directory = Path(directory)
    _check_folder(directory)
    return _read_config(directory / CONFIG)


def _kind_of(model: nn.Module) -> str:
    kind = getattr(type(model), "kind", None)
    if isinstance(kind, str) and kind not in _KINDS:
        _import_lazy(kind)
    if kind not in _KINDS:
        raise ModelError(
            f"cannot save {type(model).__name__}: it needs a class "
            "attribute 'kind' registered with register_kind() (known: "
            f"{_known()})."
        )
    return kind


def _config_of(model: nn.Module) -> dict[str, Any]:
    config = getattr(model, "config", None)
    try:
        json.dumps(config)
    except TypeError as err:
        config = f"not JSON-able ({err})"
    if not isinstance(config, dict):
        raise ModelError(
            f"cannot save {type(model).__name__}: it needs a JSON-able "
            f"dict 'config' to be rebuilt from (got {config!r})."
        )
    return config


def _entry(kind: str, path: Path) -> _Kind:
    if kind not in _KINDS:
        _import_lazy(kind)
    if kind not in _KINDS:
        raise ModelError(
            f"{path}: unknown model kind {kind!r} (known: {_known()}); "
            "import the module that registers it before loading."
        )
    return _KINDS[kind]


def _import_lazy(kind: str) -> None:
    if kind in _REGISTERED_BY:
        importlib.import_module(_REGISTERED_BY[kind])
    if kind in _LAZY:
        module_name, saver, loader = _LAZY[kind]
        module = importlib.import_module(module_name)
        if kind not in _KINDS:
            register_kind(kind, saver=getattr(module, saver),
                          loader=getattr(module, loader))


def _known() -> list[str]:
    return sorted(set(_KINDS) | set(_LAZY) | set(_REGISTERED_BY))


def _check_folder(directory: Path) -> None:
    """The folder exists and holds a config (a run folder's ``model/``
    is named when that is what was meant)."""
    if not directory.is_dir():
        raise ModelError(f"model folder not found: {directory}")
    if (directory / CONFIG).is_file():
        return
    if (directory / "model" / CONFIG).is_file():
        raise ModelError(
            f"{directory} holds no model, but its model/ folder does; did "
            f"you mean {directory / 'model'}?"
        )
    raise ModelError(
        f"{directory / CONFIG}: model config is missing; give the folder "
        "a model was saved to (e.g. the model/ folder of a run)."
    )


def _read_config(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{path}: not valid JSON ({err}).") from None
    if not isinstance(info, dict):
        raise ModelError(f"{path}: not a JSON object.")
    if "kind" not in info and "model_type" in info:
        from gnnkit.models.lm_classifier import hf_folder_info

        return hf_folder_info(info, path)
    _check_fields(info, path)
    return info


def _check_fields(info: dict[str, Any], path: Path) -> None:
    """The format is one this gnnkit reads; kind and config are there."""
    check_format(info, path)
    for key in ("kind", "config"):
        if key not in info:
            raise ModelError(f"{path}: the field '{key}' is missing.")


def check_format(info: dict[str, Any], path: Path) -> None:
    """The saved ``format`` (absent: the first) is one this gnnkit reads.

    Raises:
        ModelError: naming ``path``, for a format that is not a whole
            number or is newer than :data:`FORMAT`.
    """
    version = info.get("format", FORMAT)
    if not isinstance(version, int):
        raise ModelError(
            f"{path}: the field 'format' must be a whole number (got "
            f"{version!r})."
        )
    if version > FORMAT:
        raise ModelError(
            f"{path}: saved by a newer gnnkit (format {version}, this "
            f"gnnkit reads up to {FORMAT}); upgrade gnnkit to load it."
        )


def _check_extra(info: dict[str, Any], path: Path) -> None:
    """A config written by :func:`save_model`: ``extra`` is there and a
    model recorded as a classifier (``extra["task"]``) has ``classes``."""
    if not isinstance(info.get("extra"), dict):
        raise ModelError(
            f"{path}: the field 'extra' is missing or not an object; it "
            "holds the feature settings predictions need. Save the model "
            "again."
        )
    if info["extra"].get("task") == "classification" \
            and not info.get("classes"):
        raise ModelError(
            f"{path}: the field 'classes' is empty but the model is a "
            "classifier; its label names are needed to read predictions."
        )


def _build(entry: _Kind, info: dict[str, Any], path: Path) -> nn.Module:
    try:
        return entry.builder(info["config"])
    except (TypeError, ValueError) as err:
        raise ModelError(f"{path}: cannot rebuild the model ({err}).") \
            from None


def _read_weights(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ModelError(
            f"{path}: model weights are missing; the folder must hold "
            f"both {CONFIG} and {WEIGHTS}."
        )
    try:
        return st_load(path.read_bytes())
    except (SafetensorError, ValueError, RuntimeError) as err:
        raise ModelError(
            f"{path}: weights file is corrupt or truncated ({err})."
        ) from None


def _load_state(model: nn.Module, state: dict, path: Path) -> None:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        raise ModelError(
            f"{path}: weights do not match the saved config; missing "
            f"{_parts(missing)}, unexpected {_parts(unexpected)}. The file "
            "was not written for this model."
        )
    wrong = [k for k in state if state[k].shape != expected[k].shape]
    if wrong:
        raise ModelError(
            f"{path}: tensor shapes differ from the config for {wrong[:5]}."
        )
    model.load_state_dict(state)


def _parts(keys: list[str]) -> str:
    """Name the top-level parts (e.g. ``head``) and a few keys."""
    if not keys:
        return "none"
    parts = sorted({k.split(".")[0] for k in keys})
    return f"{len(keys)} tensors in part(s) {parts} (e.g. {keys[:3]})"
