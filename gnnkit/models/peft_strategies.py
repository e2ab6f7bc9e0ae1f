"""One switch for how much of a language model trains.

``"frozen"``, the top k transformer layers, ``"full"`` fine-tuning, LoRA
(Hu et al., 2021) or prefix tuning (Li and Liang, 2021), the last two
through Hugging Face PEFT.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from safetensors.torch import load_file as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

from gnnkit._io import atomic_write_bytes
from gnnkit.errors import ModelError

STRATEGIES = ("frozen", "top-k", "full", "lora", "prefix")
PEFT_STRATEGIES = ("lora", "prefix")

# The prefix-tuned BertModel receives ``past_key_values``, which newer
# transformers releases announce as deprecated on every call.
_PAST_KV_WARNING = r".*past_key_values.*deprecated.*"
# PEFT asks for ``is_gradient_checkpointing``, renamed in transformers 5.
_CHECKPOINTING_WARNING = r".*is_gradient_checkpointing.*deprecated.*"


@dataclass
class LMStrategy:
    """Which parameters of a language model train, and how.

    Args:
        name (str): ``"frozen"`` (no LM parameter trains), ``"top-k"``
            (only the top ``top_k`` transformer layers), ``"full"``,
            ``"lora"`` or ``"prefix"``. ``"top-2"`` is short for
            ``name="top-k", top_k=2``. (default: ``"lora"``)
        top_k (int): layers trained by ``"top-k"``. (default: ``2``)
        lora_r (int): LoRA rank. (default: ``8``)
        lora_alpha (int): LoRA scaling numerator. (default: ``16``)
        lora_dropout (float): dropout on the LoRA input.
            (default: ``0.1``)
        target_modules (list[str], optional): modules LoRA adapts
            (default: PEFT's choice for the model type, ``query`` and
            ``value`` for BERT-like models).
        num_virtual_tokens (int): prefix length of ``"prefix"``.
            (default: ``8``)

    Example:
        >>> LMStrategy.parse("top-2")
        LMStrategy(name='top-k', top_k=2, ...)
    """

    name: str = "lora"
    top_k: int = 2
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    target_modules: list[str] | None = field(default=None)
    num_virtual_tokens: int = 8

    def __post_init__(self) -> None:
        match = re.fullmatch(r"top-?(\d+)", str(self.name))
        if match:
            self.name, self.top_k = "top-k", int(match.group(1))
        if self.name not in STRATEGIES:
            raise ValueError(
                f"Unknown LM strategy {self.name!r}; choose one of "
                f"{list(STRATEGIES)} (or 'top-<k>', e.g. 'top-2')."
            )
        for key in ("top_k", "lora_r", "num_virtual_tokens"):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"LMStrategy.{key} must be an integer >= 1 "
                    f"(got {value!r})."
                )

    @classmethod
    def parse(cls, strategy: "str | LMStrategy | dict | None",
              **overrides: Any) -> "LMStrategy":
        """An :class:`LMStrategy` from a name, a dict or a strategy."""
        if strategy is None:
            strategy = "frozen"
        if isinstance(strategy, LMStrategy):
            return cls(**{**asdict(strategy), **overrides})
        if isinstance(strategy, dict):
            return cls(**{**strategy, **overrides})
        return cls(name=str(strategy), **overrides)

    @property
    def uses_peft(self) -> bool:
        """Whether the strategy wraps the LM in a PEFT model."""
        return self.name in PEFT_STRATEGIES

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy."""
        return asdict(self)


def count_parameters(module: nn.Module, trainable: bool = True) -> int:
    """Number of parameters of ``module`` (only trainable ones by default).

    Args:
        module (nn.Module): the model.
        trainable (bool): count only parameters with ``requires_grad``.
            (default: ``True``)
    """
    return sum(
        p.numel() for p in module.parameters()
        if p.requires_grad or not trainable
    )


def transformer_layers(lm: nn.Module) -> nn.ModuleList:
    """The stack of transformer blocks of a Hugging Face encoder.

    It is the longest :class:`~torch.nn.ModuleList` whose name ends in
    ``layer`` or ``layers`` (``encoder.layer`` in BERT,
    ``transformer.layer`` in DistilBERT).

    Raises:
        ModelError: if the model has no such list.
    """
    found = [
        module for name, module in lm.named_modules()
        if isinstance(module, nn.ModuleList)
        and name.split(".")[-1] in ("layer", "layers")
    ]
    if not found:
        raise ModelError(
            f"Cannot find the transformer layers of {type(lm).__name__} "
            "(no ModuleList named 'layer' or 'layers'); use the 'full', "
            "'lora' or 'prefix' strategy for this model."
        )
    return max(found, key=len)


def apply_strategy(lm: nn.Module, strategy: LMStrategy) -> nn.Module:
    """Set which parameters of ``lm`` train; wrap it for LoRA or prefix.

    Args:
        lm (nn.Module): a Hugging Face encoder (e.g. ``BertModel``).
        strategy (LMStrategy): the strategy.

    Returns:
        nn.Module: ``lm`` itself (frozen, top-k, full) or a PEFT model
        around it (lora, prefix) that is called the same way.

    Raises:
        ModelError: if the strategy does not fit the model (more layers
            than it has, no LoRA target modules known).
    """
    if strategy.uses_peft:
        return _peft_model(lm, strategy)
    for param in lm.parameters():
        param.requires_grad_(strategy.name == "full")
    if strategy.name == "top-k":
        layers = transformer_layers(lm)
        if strategy.top_k > len(layers):
            raise ModelError(
                f"Strategy 'top-k' asks for the top {strategy.top_k} "
                f"layers but {type(lm).__name__} has {len(layers)}; use "
                f"top_k <= {len(layers)} or strategy 'full'."
            )
        for layer in layers[len(layers) - strategy.top_k:]:
            layer.requires_grad_(True)
    return lm


def peft_config(strategy: LMStrategy) -> Any:
    """The PEFT configuration of a ``"lora"`` or ``"prefix"`` strategy.

    Prefix tuning on a bare encoder (``BertModel``) needs PEFT's
    ``FEATURE_EXTRACTION`` task type, which prepends trained key/value
    vectors to every layer and leaves the output length unchanged; LoRA
    uses the same task type so both load back the same way.
    """
    from peft import LoraConfig, PrefixTuningConfig, TaskType

    if strategy.name == "lora":
        return LoraConfig(
            task_type=TaskType.FEATURE_EXTRACTION,
            r=strategy.lora_r,
            lora_alpha=strategy.lora_alpha,
            lora_dropout=strategy.lora_dropout,
            target_modules=strategy.target_modules,
        )
    return PrefixTuningConfig(
        task_type=TaskType.FEATURE_EXTRACTION,
        num_virtual_tokens=strategy.num_virtual_tokens,
    )


def _peft_model(lm: nn.Module, strategy: LMStrategy) -> nn.Module:
    from peft import get_peft_model

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning,
                                    message=_CHECKPOINTING_WARNING)
            model = get_peft_model(lm, peft_config(strategy))
    except ValueError as err:
        raise ModelError(
            f"PEFT cannot apply {strategy.name!r} to "
            f"{type(lm).__name__}: {err} Pass target_modules=[...] naming "
            "the attention projections of this model."
        ) from err
    return QuietPeft(model)


class QuietPeft(nn.Module):
    """A PEFT model called like the bare encoder.

    It silences the deprecation warning transformers raises on every
    prefix-tuned call.

    Args:
        peft_model (PeftModel): the wrapped model, kept as ``.peft``.
    """

    is_peft = True

    def __init__(self, peft_model: nn.Module) -> None:
        super().__init__()
        self.peft = peft_model

    @property
    def config(self) -> Any:
        """The configuration of the base transformer."""
        return self.peft.get_base_model().config

    @property
    def embeddings(self) -> nn.Module | None:
        """The base transformer's embedding block, if it has one."""
        return getattr(self.peft.get_base_model(), "embeddings", None)

    def get_input_embeddings(self) -> nn.Module:
        """The token-embedding layer (what word attributions hook)."""
        return self.peft.get_input_embeddings()

    def forward(self, **kwargs: Any) -> Any:
        """Run the PEFT model on the encoder's keyword inputs."""
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=_PAST_KV_WARNING, category=FutureWarning
            )
            return self.peft(**kwargs)

    def save_pretrained(self, directory: Any) -> None:
        """Save only the adapter (PEFT ``save_pretrained``)."""
        self.peft.save_pretrained(str(directory))


ADAPTER_DIR = "lm_adapter"
LM_WEIGHTS = "lm.safetensors"


def save_lm(lm: nn.Module, strategy: LMStrategy, directory: Path) -> str:
    """Write what a strategy changed in the LM into ``directory``.

    LoRA and prefix tuning save the PEFT adapter (``save_pretrained``) in
    ``lm_adapter/``; ``"full"`` and ``"top-k"`` save every LM weight in
    ``lm.safetensors``; ``"frozen"`` saves nothing, since the base model
    is referenced by name and weight digest.

    Returns:
        str: the file or folder written (``""`` for ``"frozen"``).
    """
    if strategy.uses_peft:
        lm.save_pretrained(directory / ADAPTER_DIR)
        return ADAPTER_DIR
    if strategy.name == "frozen":
        return ""
    state = {k: v.detach().contiguous() for k, v in lm.state_dict().items()}
    atomic_write_bytes(directory / LM_WEIGHTS, save_safetensors(state))
    return LM_WEIGHTS


def load_lm(
    base: nn.Module,
    strategy: LMStrategy,
    directory: Path,
    trainable: bool = False,
) -> nn.Module:
    """Rebuild a saved, adapted LM from its freshly loaded ``base``.

    Args:
        base (nn.Module): the base encoder, as loaded from its name.
        strategy (LMStrategy): the strategy it was trained with.
        directory (Path): the artifact folder written by :func:`save_lm`.
        trainable (bool): leave the strategy's parameters trainable
            (to fine-tune further). (default: ``False``)

    Raises:
        ModelError: if the adapter or the LM weights are missing or
            incomplete; nothing is ever initialised at random.
    """
    if strategy.uses_peft:
        return _load_adapter(base, directory / ADAPTER_DIR, trainable)
    if strategy.name != "frozen":
        _load_weights(base, directory / LM_WEIGHTS)
    if trainable:
        return apply_strategy(base, strategy)
    return base.requires_grad_(False)


def _missing_part(path: Path, what: str) -> ModelError:
    return ModelError(
        f"The saved model at {path.parent} has no {what} ({path.name} is "
        "missing); it cannot be rebuilt, and gnnkit never fills a missing "
        "part with random weights. Save the trained model again with "
        "LMGNN.save()."
    )


def _load_adapter(base: nn.Module, path: Path, trainable: bool):
    from peft import PeftModel
    from peft.utils import get_peft_model_state_dict, load_peft_weights

    if not (path / "adapter_config.json").is_file():
        raise _missing_part(path, "PEFT adapter of the language model")
    try:
        saved = load_peft_weights(str(path))
    except (OSError, ValueError) as err:
        raise _missing_part(path, "PEFT adapter weights") from err
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning,
                                message=_CHECKPOINTING_WARNING)
        model = PeftModel.from_pretrained(base, str(path),
                                          is_trainable=trainable)
    expected = get_peft_model_state_dict(model)
    absent = sorted(set(expected) - set(saved))
    if absent:
        raise ModelError(
            f"The PEFT adapter in {path} lacks {len(absent)} weight(s), "
            f"e.g. {absent[0]!r}; it was not saved from this model. Save "
            "the trained model again with LMGNN.save()."
        )
    if not trainable:  # PEFT leaves a loaded prefix encoder trainable
        model.requires_grad_(False)
    return QuietPeft(model)


def _load_weights(base: nn.Module, path: Path) -> None:
    if not path.is_file():
        raise _missing_part(path, "fine-tuned language-model weights")
    state = load_safetensors(str(path))
    result = base.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        names = result.missing_keys or result.unexpected_keys
        raise ModelError(
            f"{path} does not match the language model: "
            f"{len(result.missing_keys)} missing and "
            f"{len(result.unexpected_keys)} unexpected weight(s), e.g. "
            f"{names[0]!r}. It was saved from a different model."
        )
