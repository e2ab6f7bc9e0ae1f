# %% [markdown]
# # 04 · Language models meet graphs
#
# In many graphs the nodes carry text: papers have abstracts, products
# have descriptions, users write posts. A pretrained language model (LM)
# reads that text far better than a bag of words; a GNN reads the edges.
# This notebook puts the two together in the three ways the literature
# compares (Chen et al., 2023):
#
# - **LM alone**: fine-tune the LM to classify each node from its own
#   text; edges are ignored;
# - **cascade**: encode every text once with a frozen LM and give the
#   vectors to a GNN as node features;
# - **joint**: train the LM (here through LoRA adapters) and the GNN
#   together, end to end.
#
# First we open up the encoder on three sentences, by hand.
#
# Every exercise cell holds a working answer. Change it to your own and
# run the cell: a green tick means right, otherwise you get a hint.

# %% [markdown]
# ## Setup
#
# The LM is the shipped all-MiniLM-L6-v2 (6 layers, 384 dimensions, 22.7
# million parameters), loaded from disk; nothing is downloaded. Settings
# are small so that the notebook runs in about a minute on a CPU: raise
# `HOPS` (graph size), `MAX_LENGTH` (tokens per text), `EPOCHS` and
# `STEPS` (joint training steps per epoch; `None` for all) for a larger
# run.

# %%
import torch
import torch.nn.functional as F

from gnnkit.data.shipped import load_dataset
from gnnkit.data.summary import summarize, summary_table
from gnnkit.evaluate.compare import compare
from gnnkit.evaluate.metrics import classification_metrics
from gnnkit.evaluate.modes import CompareSettings
from gnnkit.evaluate.splits import random_split
from gnnkit.models.backbones import build_model
from gnnkit.text.encoder import TextEncoder, encode_dataset
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.joint import JointSettings
from gnnkit.train.predict import predict
from gnnkit.train.tasks import NodeTask
from gnnkit.viz.exercises import check_answer, node_subgraph

HOPS, MAX_LENGTH, EPOCHS, STEPS = 3, 32, 10, 3
encoder = TextEncoder(max_length=MAX_LENGTH)
print(encoder)

# %% [markdown]
# ## 1. From text to tokens
#
# The tokenizer cuts a text into word pieces from a fixed vocabulary and
# adds two markers: `[CLS]` at the start and `[SEP]` at the end. Texts of
# different lengths are padded to the longest in the batch, and the
# `attention_mask` marks which positions are real (1) and which padding
# (0).

# %%
sentences = ["Graph neural networks pass messages.",
             "Message passing on molecular graphs.",
             "Slow-cooked tomato soup with basil."]
batch = encoder.tokenize(sentences)
for ids, mask in zip(batch["input_ids"], batch["attention_mask"]):
    tokens = encoder.tokenizer.convert_ids_to_tokens(ids)
    print([t for t, m in zip(tokens, mask) if m], mask.tolist())

# %% [markdown]
# Every word here is in the vocabulary (a word that is not would be
# built from pieces marked `##`); punctuation and the hyphen of
# "slow-cooked" get tokens of their own, and the two shorter sentences
# carry zeros at the end of their mask.

# %% [markdown]
# ### Exercise 1
#
# How many tokens, markers included, does the tokenizer make of
# `"graph neural networks"`? Each of the three words is in the
# vocabulary.

# %%
answer = 5  # your answer

check_answer("tokens of 'graph neural networks'", answer,
             len(encoder.tokenizer("graph neural networks")["input_ids"]),
             hint="three words, plus [CLS] and [SEP].")

# %% [markdown]
# ## 2. From tokens to one vector per text
#
# The LM turns every token into a 384-dimensional vector that depends on
# its context. To get one vector per text, the encoder takes the **mean
# over the real tokens** -- the pooling all-MiniLM-L6-v2 was trained with.
# Here is that mean written by hand, checked against `encoder.encode`.

# %%
with torch.no_grad():
    hidden = encoder.lm(**batch).last_hidden_state     # [3, L, 384]
mask = batch["attention_mask"].unsqueeze(-1).float()  # [3, L, 1]
by_hand = (hidden * mask).sum(dim=1) / mask.sum(dim=1)  # [3, 384]
vectors = encoder.encode(sentences, progress_bar=False)
print(hidden.shape, "->", vectors.shape)
assert torch.allclose(by_hand, vectors, atol=1e-5)

# %% [markdown]
# Mean pooling over the mask means padding never changes a text's vector:
# the same sentence gets the same embedding in any batch. Texts with
# similar meaning end up close together, which cosine similarity measures.

# %%
unit = F.normalize(vectors, dim=1)
similarity = unit @ unit.T
print(similarity.round(decimals=2))

# %% [markdown]
# The two sentences about message passing are far more similar to each
# other than either is to the soup, although they share almost no words
# ("messages" and "message" aside). That is what the LM adds over a bag
# of words.

# %% [markdown]
# ### Exercise 2
#
# Which pair of sentences is most similar? Give it as a sorted pair of
# indices, e.g. `(0, 2)`.

# %%
answer = (0, 1)  # your answer

off_diagonal = similarity - 2 * torch.eye(3)
i, j = divmod(int(off_diagonal.argmax()), 3)
check_answer("most similar pair", answer, tuple(sorted((i, j))),
             hint="read the largest value off the diagonal of the "
                  "similarity matrix.")

# %% [markdown]
# ## 3. A small text-attributed graph
#
# Cora holds 2,708 papers with title and abstract. Encoding all abstracts
# with the LM takes minutes on a CPU, so we keep the papers within
# `HOPS` citations of two papers and only their titles. `node_subgraph`
# keeps the original ids, labels and texts.

# %%
cora = load_dataset("Cora_TAG")
small = node_subgraph(cora, [0, 1000], hops=HOPS)
small.texts = [[t.split(":")[0].strip(" .") for t in small.texts[0]]]
print(summary_table(summarize(small)))
print("\ntext of node", small.node_ids[0][0], ":", small.texts[0][0])

# %% [markdown]
# About 220 papers in seven topics, dominated by Rule_Learning and
# Theory; titles are short, so `MAX_LENGTH = 32` tokens cuts nothing.
#
# ## 4. The cascade, step by step
#
# Encode every title once (the on-disk cache makes a second run free),
# and look at what the frozen LM already knows: the papers whose titles
# are closest to paper 0's.

# %%
encoded = encode_dataset(small, encoder, cache=True, progress_bar=False)
x = F.normalize(encoded[0].x, dim=1)
closest = (x @ x[0]).argsort(descending=True)[1:4]
topic = small.meta["label_names"]
print("paper 0:", small.texts[0][0], f"({topic[small.y[0]]})")
for i in closest.tolist():
    print(f"  {small.texts[0][i]} ({topic[small.y[i]]})")

# %% [markdown]
# Before any training, titles close in embedding space tend to share a
# topic with paper 0. A classifier on these vectors starts from a good
# place, and a GNN can add what the citations say.
#
# We split the nodes 60/20/20, stratified by topic, and train two models
# on the LM vectors: an MLP that reads each title alone, and a GCN that
# also averages over cited and citing papers.

# %%
data = encoded[0]
train, val, test = random_split(data.num_nodes, (0.6, 0.2, 0.2), seed=0,
                                stratify=data.y)
task = NodeTask(data, train, val)
for name in ["mlp", "gcn"]:
    torch.manual_seed(0)
    model = build_model(name, 384, small.num_classes, level="node",
                        hidden_channels=64, num_layers=2)
    fit(model, task, TrainConfig(epochs=100, patience=20,
                                 progress_bar=False))
    m = classification_metrics(data.y[test], predict(model, data)[test])
    print(f"{name}: test accuracy {m['accuracy']:.3f}")

# %% [markdown]
# The edges help: averaging the title vectors of neighbouring papers
# smooths out titles that are vague on their own. That is the cascade --
# cheap, because the LM runs once per text and never trains.
#
# ## 5. Cascade, joint and LM alone, on the same splits
#
# `compare` trains each way of combining text and graph on identical
# splits, picks each run's epoch on validation and tests once. We add a
# TF-IDF bag-of-words GCN (no LM at all) as the classic baseline. The
# settings below are deliberately small; `EPOCHS` and the joint settings
# are the variables to raise.

# %%
settings = CompareSettings(
    epochs=100, patience=20, max_length=MAX_LENGTH,
    lm_max_length=MAX_LENGTH, lm_epochs=EPOCHS, lm_lr=2e-4,
    lm_batch_size=16,
    joint=JointSettings(max_length=MAX_LENGTH, epochs=EPOCHS,
                        num_neighbors=(2, 2), batch_size=8,
                        steps_per_epoch=STEPS, hidden_channels=64),
)
modes = ["tfidf_gcn", "mlp_lm", "cascade_gcn", "joint_lora", "lm"]
result = compare(small, modes, seeds=[0], settings=settings)
print(result.format_table())

# %% [markdown]
# Read the table column by column:
#
# - **accuracy**: the cascade GCN is the one to beat. The LM alone is
#   fine-tuned on about 130 labelled titles and reads words only: compare
#   it with `mlp_lm`, which reads the same titles through the frozen LM,
#   and with `tfidf_gcn`. The joint model must learn its GNN while its LM
#   adapters move, in only `EPOCHS` x `STEPS` sampled steps; compare each
#   row with the share of the largest topic (about 40 %), the score of a
#   model that has not learnt anything yet.
# - **train s**: the cascade's training is a GNN on fixed vectors; joint
#   training and the LM alone run the transformer forwards *and
#   backwards* at every step.
# - **trainable**: the LM alone fine-tunes all 22.7 million weights; LoRA
#   trains only small adapters next to the frozen weights (notebook 05).
#
# With one seed and about 45 test nodes, one node is 2.2 points; run
# `seeds=[0, 1, 2]` for an error bar. Chen et al. (2023) find the same
# pattern at scale: a cascade with a good sentence encoder is a strong,
# cheap default, and joint training pays off with more data and compute.

# %% [markdown]
# ### Exercise 3
#
# How many times more parameters does the LM alone train than the joint
# LoRA model? Compute the ratio from `result.rows`.

# %%
trained = {row["mode"]: row["trainable_parameters"] for row in result.rows}
answer = trained["lm"] / trained["joint_lora"]  # your answer

check_answer("trainable-parameter ratio", answer,
             result.runs[-1]["trainable_parameters"]
             / result.runs[-2]["trainable_parameters"],
             hint="divide the 'trainable' column of 'lm' by that of "
                  "'joint_lora'.", atol=1e-3)

# %% [markdown]
# ### Exercise 4
#
# By how many accuracy points does the cascade GCN beat the MLP on the
# same LM vectors? Give the difference of the two test accuracies (a
# fraction, e.g. 0.05 for five points).

# %%
acc = {row["mode"]: row["accuracy_mean"] for row in result.rows}
answer = acc["cascade_gcn"] - acc["mlp_lm"]  # your answer

check_answer("gain from the edges", answer,
             result.runs[2]["accuracy"] - result.runs[1]["accuracy"],
             hint="subtract the mlp_lm accuracy from the cascade_gcn "
                  "accuracy in the table.")

# %% [markdown]
# ## Conclusion
#
# - A sentence encoder turns each node's text into one vector: tokens,
#   contextual token vectors, then a mean over the attention mask.
# - The **cascade** (frozen LM vectors into a GNN) is cheap -- the LM runs
#   once per text and its vectors are cached -- and usually strong.
# - **Joint** training adapts the LM to the graph task, at the price of an
#   LM forward and backward pass per step; parameter-efficient adapters
#   (LoRA) keep the trained part small.
# - The **LM alone** ignores the edges and needs more labelled text than a
#   small graph offers.
#
# Next: **05 · Fine-tuning strategies**, which opens the box of how much
# of the LM trains and at what learning rate.
#
# ## References
#
# - Z. Chen et al. *Exploring the Potential of Large Language Models
#   (LLMs) in Learning on Graphs*. SIGKDD Explorations, 2023.
# - N. Reimers, I. Gurevych. *Sentence-BERT: Sentence Embeddings using
#   Siamese BERT-Networks*. EMNLP 2019.
# - W. Wang et al. *MiniLM: Deep Self-Attention Distillation for
#   Task-Agnostic Compression of Pre-Trained Transformers*. NeurIPS 2020.
# - E. Hu et al. *LoRA: Low-Rank Adaptation of Large Language Models*.
#   ICLR 2022.
# - X. He et al. *Harnessing Explanations: LLM-to-LM Interpreter for
#   Enhanced Text-Attributed Graph Representation Learning* (TAPE). ICLR
#   2024.
