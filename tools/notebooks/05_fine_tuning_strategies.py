# %% [markdown]
# # 05 · Fine-tuning strategies
#
# Notebook 04 trained a language model (LM) jointly with a GNN through
# LoRA adapters. That was one choice among several. How much of a
# pretrained LM should train -- nothing, the top layers, everything, a
# low-rank update, or a learned prefix? At what learning rate, and with
# what warm-up? What if only a handful of nodes are labelled, or the
# labels live on another graph?
#
# This notebook counts what each strategy trains (by hand first), shows
# why an LM wants a learning rate one or two orders of magnitude below a
# fresh GNN's, and runs the strategies, few-label splits and a transfer
# between two citation graphs at small settings.
#
# Every exercise cell holds a working answer. Change it to your own and
# run the cell: a green tick means right, otherwise you get a hint.

# %% [markdown]
# ## Setup
#
# Small settings: a few hundred nodes, titles of at most `MAX_LENGTH`
# tokens, `EPOCHS` epochs of `STEPS` joint training steps. Raise them
# (`STEPS = None` for full epochs) for a real run.

# %%
import copy

import plotly.graph_objects as go
import torch

from gnnkit.data.shipped import load_dataset
from gnnkit.evaluate.compare import compare
from gnnkit.evaluate.modes import CompareSettings
from gnnkit.evaluate.splits import per_class_split, random_split
from gnnkit.evaluate.transfer import transfer
from gnnkit.models.backbones import build_model
from gnnkit.models.peft_strategies import (
    LMStrategy,
    apply_strategy,
    count_parameters,
)
from gnnkit.text.encoder import TextEncoder, encode_dataset
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.joint import JointSettings
from gnnkit.train.predict import predict
from gnnkit.train.schedule import lr_factor
from gnnkit.train.tasks import NodeTask
from gnnkit.viz.exercises import check_answer, node_subgraph

MAX_LENGTH, EPOCHS, STEPS = 32, 3, 4
base = TextEncoder(max_length=MAX_LENGTH).lm  # BertModel, 6 layers

# %% [markdown]
# ## 1. What each strategy trains
#
# `apply_strategy` takes a copy of the LM and decides which weights get
# gradients: none (**frozen**), the top *k* transformer layers
# (**top-k**), all of them (**full**), small low-rank matrices beside the
# attention weights (**LoRA**, through Hugging Face PEFT), or a few
# learned key/value vectors prepended at every layer (**prefix tuning**).

# %%
counts = {}
for name in ["frozen", "top-2", "full", "lora", "prefix"]:
    lm = apply_strategy(copy.deepcopy(base), LMStrategy.parse(name))
    counts[name] = count_parameters(lm)
    print(f"{name:7s} {counts[name]:>11,d} trainable "
          f"({counts[name] / count_parameters(base, False):.2%})")

# %% [markdown]
# From 0 to all 22.7 million weights. LoRA and prefix tuning train a
# fraction of a percent, yet both can change what the LM computes: LoRA
# adds a learned low-rank update to the attention weights, prefix tuning
# gives every layer extra "virtual tokens" to attend to.
#
# ### LoRA by hand
#
# LoRA (Hu et al., 2022) replaces a weight $W$ ($d_{out} \times d_{in}$)
# by $W + \frac{\alpha}{r} B A$ with $A$ of shape $r \times d_{in}$ and
# $B$ of shape $d_{out} \times r$; only $A$ and $B$ train. For BERT-like
# models PEFT adapts the `query` and `value` projections (384 by 384
# here) in each of the 6 layers, so with rank $r = 8$:
#
# $$6 \times 2 \times r\,(384 + 384) = 73{,}728.$$

# %%
layers, adapted, d = 6, 2, 384
lora_by_hand = layers * adapted * 8 * (d + d)
print(f"LoRA by hand {lora_by_hand:,d} | counted {counts['lora']:,d}")
assert lora_by_hand == counts["lora"]

# %% [markdown]
# The count matches. $B$ starts at zero, so a freshly wrapped model
# computes exactly what the base model computes: training starts from the
# pretrained function and moves away only as far as the data asks.

# %%
lora_lm = apply_strategy(copy.deepcopy(base), LMStrategy.parse("lora"))
tokens = TextEncoder(max_length=MAX_LENGTH).tokenize(["graph learning"])
with torch.no_grad():
    before = base(**tokens).last_hidden_state
    after = lora_lm.eval()(**tokens).last_hidden_state
print("largest difference at initialisation:",
      (before - after).abs().max().item())

# %% [markdown]
# Zero: LoRA is a no-op until it trains.

# %% [markdown]
# ### Exercise 1
#
# How many weights does LoRA train with rank $r = 4$ instead of 8? The
# cell checks your number against PEFT's own count.

# %%
answer = 6 * 2 * 4 * (384 + 384)  # your answer

rank4 = apply_strategy(copy.deepcopy(base),
                       LMStrategy.parse("lora", lora_r=4))
check_answer("LoRA weights at r = 4", answer, count_parameters(rank4),
             hint="layers x adapted matrices x r x (d_in + d_out).")

# %% [markdown]
# ### Exercise 2
#
# Prefix tuning learns, for every layer, a key and a value vector (each
# 384 wide) for each of its `num_virtual_tokens = 8` virtual tokens. How
# many weights is that for 6 layers?

# %%
answer = 6 * 2 * 8 * 384  # your answer

check_answer("prefix-tuning weights", answer, counts["prefix"],
             hint="layers x (key and value) x virtual tokens x 384.")

# %% [markdown]
# ## 2. Learning rates: why the LM wants a small one
#
# Notebook 02 showed that AdamW's first step moves **every** weight by
# about the learning rate, whatever its gradient. What that step means
# depends on how large the weights are. Compare the typical weight size of
# the pretrained LM with that of a freshly initialised GNN.

# %%
def typical(module):
    weights = [p.detach().abs().flatten() for p in module.parameters()
               if p.dim() > 1]
    return torch.cat(weights).median().item()

gnn = build_model("gcn", 384, 7, level="node", hidden_channels=64)
for name, w in [("pretrained LM", typical(base)), ("fresh GCN", typical(gnn))]:
    print(f"{name:13s} median |w| = {w:.4f}: one step at lr 1e-2 changes "
          f"{1e-2 / w:.0%}, at 2e-5 {2e-5 / w:.2%}")

# %% [markdown]
# At the GNN's usual rate of $10^{-2}$, one step would move each LM
# weight by a large fraction of its own size -- enough to wipe out what
# pretraining put there ("catastrophic forgetting") long before the new
# task is learnt. At $2 \times 10^{-5}$ to $5 \times 10^{-4}$ the LM is
# nudged, not overwritten, while the fresh GNN, whose weights carry no
# knowledge yet, can move fast. Hence two learning rates in one model:
# `TrainConfig(param_groups=...)` gives the LM (`encoder.`) and the GNN
# (`gnn.`) their own.

# %% [markdown]
# ### Exercise 3
#
# A weight of size 0.04 takes one AdamW step at learning rate $5 \times
# 10^{-4}$. By what fraction of its size does it change? An answer
# within 5 % counts.

# %%
answer = 5e-4 / 0.04  # your answer

weight = torch.nn.Parameter(torch.tensor([0.04]))
weight.grad = torch.tensor([0.3])
torch.optim.AdamW([weight], lr=5e-4, weight_decay=0.0).step()
check_answer("relative change of one step", answer,
             (0.04 - weight.item()) / 0.04, rtol=0.05,
             hint="the first AdamW step moves a weight by about the "
                  "learning rate; divide by the weight's size.")

# %% [markdown]
# ### Warm-up
#
# Adam's running averages are noisy in the first steps, and a pretrained
# model is most fragile then. A **warm-up** raises the learning rate
# linearly from almost zero to its peak, after which a schedule decays it.
# `lr_factor` is the multiplier gnnkit's `fit` applies at each step.

# %%
total, warm = 100, 10
steps = list(range(total))
fig = go.Figure()
for schedule in ["cosine", "linear", "constant"]:
    factors = [lr_factor(s, warmup_steps=warm, total_steps=total,
                         schedule=schedule) for s in steps]
    fig.add_scatter(x=steps, y=factors, name=schedule)
fig.update_layout(height=320, xaxis_title="optimizer step",
                  yaxis_title="learning-rate factor")

# %% [markdown]
# All three climb over the first 10 steps; then cosine and linear decay
# to zero at step 100 and constant stays at the peak. In joint training,
# gnnkit warms up the LM group (half an epoch by default) while the GNN
# starts at full speed.

# %% [markdown]
# ### Exercise 4
#
# With a warm-up of 10 steps, which factor does the very first step
# (step 0) use?

# %%
answer = 0.1  # your answer

check_answer("factor at step 0", answer,
             lr_factor(0, warmup_steps=10, total_steps=100),
             hint="step s of the warm-up uses (s + 1) / warmup_steps.")

# %% [markdown]
# ## 3. The strategies head to head
#
# The same small citation graph as in notebook 04 (papers within three
# citations of two Cora papers, titles only), the same split, and one
# joint LM+GCN run per strategy. The LM learning rate is `lm_lr`, the
# GNN's `gnn_lr`; the LM group warms up for half an epoch.

# %%
cora = load_dataset("Cora_TAG")
small = node_subgraph(cora, [0, 1000], hops=3)
small.texts = [[t.split(":")[0].strip(" .") for t in small.texts[0]]]
joint = JointSettings(max_length=MAX_LENGTH, epochs=EPOCHS,
                      num_neighbors=(2, 2), batch_size=8,
                      steps_per_epoch=STEPS, hidden_channels=64,
                      lm_lr=5e-4, gnn_lr=1e-2)
settings = CompareSettings(epochs=100, patience=20, max_length=MAX_LENGTH,
                           joint=joint)
modes = ["cascade_gcn", "joint_frozen", "joint_top-2", "joint_lora",
         "joint_prefix"]
strategies = compare(small, modes, seeds=[0], settings=settings)
print(strategies.format_table())

# %% [markdown]
# Read the columns together. `joint_frozen` is the same kind of model as
# the cascade, trained through the joint loop instead: a few sampled
# steps per epoch rather than full-graph epochs, and an LM forward pass
# at every step although the LM never changes -- so at this budget it
# lands below the cascade and costs more time. The strategies that train
# the LM also pay for a backward pass through the transformer; in
# `EPOCHS` x `STEPS` steps on 130 labelled titles they have little room
# to beat a frozen encoder -- a row near 41 %, the share of the largest
# topic, has not learnt beyond the majority yet -- and the ranking
# between them moves with the seed. The `trainable` column is the
# lasting difference: top-2 trains millions of weights, LoRA and prefix
# tuning tens of thousands. With
# larger graphs, longer texts and more steps (`STEPS = None`), the
# adapters are where joint training earns its cost.

# %% [markdown]
# ### Exercise 5
#
# Which strategy trained the fewest parameters while still training the
# LM (so not `frozen` and not the cascade)? Give its mode name.

# %%
lm_modes = [r for r in strategies.rows
            if r["mode"] not in ("cascade_gcn", "joint_frozen")]
answer = min(lm_modes, key=lambda r: r["trainable_parameters"])["mode"]

smallest = sorted(lm_modes, key=lambda r: r["trainable_parameters"])
check_answer("fewest trainable weights", answer, smallest[0]["mode"],
             hint="compare the 'trainable' column of the joint modes "
                  "other than joint_frozen.")

# %% [markdown]
# ## 4. Few labels
#
# Labels are often scarce. The Planetoid protocol gives *k* labelled
# nodes per class (`per_class_split`); the rest are for validation and
# test. On the small graph we train the text-only MLP and the cascade GCN
# on the same frozen LM vectors (cached) with one and with two labels per
# topic -- 7 and 14 labelled papers instead of about 130.

# %%
encoder = TextEncoder(max_length=MAX_LENGTH)
data = encode_dataset(small, encoder, cache=True, progress_bar=False)[0]
few = {}
for k in [1, 2]:  # the rarest topic has only 2 papers
    train, val, test = per_class_split(data.y, k, seed=0, val_size=40)
    task = NodeTask(data, train, val)
    for name in ["mlp", "gcn"]:
        torch.manual_seed(0)
        model = build_model(name, 384, small.num_classes, level="node",
                            hidden_channels=64)
        fit(model, task, TrainConfig(epochs=100, patience=20,
                                     progress_bar=False))
        pred = predict(model, data)[test].argmax(-1)
        few[k, name] = (pred == data.y[test]).float().mean().item()
print({key: round(acc, 3) for key, acc in few.items()})

# %% [markdown]
# Compare these with the cascade GCN's accuracy in the table of section 3,
# trained on about 130 labels: a handful of labels costs a lot of
# accuracy, and a single unlucky labelled paper moves the result. Read
# the gap between GCN and MLP at each *k*: the GCN also spreads what the
# few labelled papers teach to the papers they cite and are cited by,
# which is why graph methods are the usual choice when labels are scarce
# (Kipf and Welling, 2017). For an error bar, repeat with `seed=1, 2, ...`
# in `per_class_split`.
#
# ## 5. Transfer from one graph to another
#
# Can what the model learns on one citation graph help on another? We
# pre-train an LM+GNN (LoRA) on a small part of **CiteSeer**, give it a
# new head for Cora's topics, and compare on the small Cora graph:
# training only the new head (*before* fine-tuning), fine-tuning
# everything (*after*), and the same fine-tuning from the base LM
# (*scratch*). All three are scored on the same Cora test nodes.

# %%
citeseer = node_subgraph(load_dataset("CiteSeer_TAG"), [29, 47, 49], 2)
citeseer.texts = [[t.split(" . ")[0][:120] for t in citeseer.texts[0]]]
y_src, y_tgt = citeseer.y, small.y
moved = transfer(
    citeseer, small, strategy="lora", settings=joint,
    source_split=random_split(len(y_src), (0.6, 0.2, 0.2), 0, y_src),
    target_split=random_split(len(y_tgt), (0.6, 0.2, 0.2), 0, y_tgt),
)
print(citeseer.name, "->", small.name)
print({k: round(v, 3) for k, v in moved.to_dict().items()
       if k in ("source_accuracy", "before", "after", "scratch")})

# %% [markdown]
# *Before* tells how much of the new task the carried-over LM adapter
# and GNN already solve with only a new head; *after* minus *scratch* is
# the gain from pre-training on the other graph, under identical
# fine-tuning. At these tiny settings the numbers are noisy -- a
# difference of one or two test nodes -- and transfer between two
# citation graphs with different topic sets is modest at best. The same
# call with `split="k_per_class"` on the full datasets is the real
# experiment.

# %% [markdown]
# ## Conclusion
#
# - Strategies differ in what trains: frozen (nothing), top-k (the last
#   layers), full (everything), LoRA ($r(d_{in} + d_{out})$ per adapted
#   matrix, starting as a no-op) and prefix tuning (virtual key/value
#   tokens per layer).
# - A pretrained LM needs a learning rate one or two orders of magnitude
#   below a fresh GNN's, and a warm-up; gnnkit gives each its own
#   parameter group.
# - With few labels every label counts; a GNN spreads what they teach
#   along the edges.
# - Transfer is measured as before/after fine-tuning against the same
#   fine-tuning from scratch, on the same test nodes.
#
# Next: **06 · Explain**.
#
# ## References
#
# - E. Hu et al. *LoRA: Low-Rank Adaptation of Large Language Models*.
#   ICLR 2022.
# - X. L. Li, P. Liang. *Prefix-Tuning: Optimizing Continuous Prompts for
#   Generation*. ACL 2021.
# - J. Howard, S. Ruder. *Universal Language Model Fine-tuning for Text
#   Classification* (discriminative learning rates, warm-up). ACL 2018.
# - I. Loshchilov, F. Hutter. *Decoupled Weight Decay Regularization*.
#   ICLR 2019.
# - Z. Yang, W. Cohen, R. Salakhutdinov. *Revisiting Semi-Supervised
#   Learning with Graph Embeddings* (the Planetoid split). ICML 2016.
# - S. Mangrulkar et al. *PEFT: State-of-the-art Parameter-Efficient
#   Fine-Tuning methods*, Hugging Face, 2022.
