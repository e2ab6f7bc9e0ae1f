import pandas as pd
import pytest

from gnnkit.errors import DataError
from gnnkit.viz.columns import (
    column_menus,
    guess_columns,
    guess_roles,
    numeric_columns,
)


def frame(**columns):
    return pd.DataFrame({k: [str(v) for v in vs] for k, vs in columns.items()})


def test_names_decide_each_role_once():
    nodes = frame(id=[1, 2, 3], label=["a", "b", "a"],
                  abstract=["x y", "y z", "z x"])
    edges = frame(id=[1, 2], src=[1, 2], dst=[2, 3])
    assert guess_columns(nodes, edges) == {
        "node_id": "id", "label": "label", "text": "abstract",
        "source": "src", "target": "dst"}
    edges = frame(to=[2, 3], **{"from": [1, 2]})
    assert guess_roles(edges, ["source", "target"]) == {
        "source": "from", "target": "to"}


def test_cells_decide_when_names_do_not():
    nodes = frame(paper=["p1", "p2", "p3", "p4"],
                  topic=["ml", "db", "ml", "ml"],
                  title=["Graph networks for all", "Query plans at scale",
                         "Attention is needed", "Kernels on graphs"])
    edges = frame(citing=["p1", "p2"], cited=["p2", "p3"])
    assert guess_columns(nodes, edges) == {
        "node_id": "paper", "label": "topic", "text": "title",
        "source": "citing", "target": "cited"}


def test_numbers_only_table_has_no_text_and_no_shared_roles():
    nodes = frame(id=[0, 1, 2, 3], f1=[0.5, 0.1, 0.2, 0.9],
                  f2=[1, 0, 1, 1], y=[0, 1, 0, 1])
    guesses = guess_roles(nodes, ["node_id", "label", "text"])
    assert guesses == {"node_id": "id", "label": "y", "text": None}
    # a table whose id column is not named: the unique column is the id
    guesses = guess_roles(frame(a=["x", "y", "z"], b=["1", "1", "2"]),
                          ["node_id", "label", "text"])
    assert guesses == {"node_id": "a", "label": "b", "text": None}


def test_menus_offer_no_text_and_never_repeat_a_column():
    nodes = frame(key=["a", "b"], score=["0.1", "0.2"])
    edges = frame(left=["a"], right=["b"])
    menus = column_menus(nodes, edges)
    values = {role: menu.value for role, menu in menus.items()}
    assert values == {"node_id": "key", "label": "score", "text": None,
                      "source": "left", "target": "right"}
    assert menus["text"].options == (
        ("(none)", None), ("key", "key"), ("score", "score"))
    assert menus["source"].options == ("left", "right")


def test_numeric_columns_skip_roles_and_words():
    nodes = frame(id=[0, 1], f1=[0.5, "x"], f2=[1, 2], y=[0, 1],
                  note=["a", "b"])
    columns = {"node_id": "id", "label": "y", "text": None}
    assert numeric_columns(nodes, columns) == ["f2"]


def test_repeated_or_missing_columns_are_named():
    edges = frame(src=[1], dst=[2])
    nodes = pd.DataFrame([["1", "a", "b"]], columns=["id", "label", "label"])
    with pytest.raises(DataError, match=r"field 'label': column 'label' "
                                        "appears twice"):
        guess_columns(nodes, edges)
    with pytest.raises(DataError, match=r"needs a source and a target "
                                        r"column; it has \['src'\]"):
        guess_columns(frame(id=[1, 2]), frame(src=[1]))


def test_unnamed_columns_and_menus_per_table():
    # Integer column names (a table read without a header) and a fallback
    # label menu that only avoids the node table's own roles.
    nodes = pd.DataFrame([["1", "a"], ["2", "b"]])
    edges = pd.DataFrame([["1", "2"]])
    assert guess_columns(nodes, edges) == {
        "node_id": "0", "label": None, "text": None,
        "source": "0", "target": "1"}
    menus = column_menus(nodes, edges)
    assert menus["label"].value == "1"
    assert numeric_columns(pd.DataFrame([["1", "2.5"]]),
                           {"node_id": "0"}) == ["1"]
