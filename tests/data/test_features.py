import pytest

from gnnkit.data.features import encode_labels, typed_labels


def test_typed_labels_plain_ints_become_ints():
    assert typed_labels(["2", "10", " -1 "]) == [2, 10, -1]


@pytest.mark.parametrize("values", [["01", "1"], ["007", "7", "8"]])
def test_typed_labels_zero_padded_stay_words(values):
    # "01" and "1" are two classes as written, never merged into class 1.
    labels = typed_labels(values)
    assert labels == values
    _, classes = encode_labels(labels)
    assert len(classes) == len(set(values))
