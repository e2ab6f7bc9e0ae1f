import logging

import torch

from gnnkit.models.lm_classifier import LMNodeClassifier, _FreshHeadFilter

REPORT = (
    "\x1b[1mBertForSequenceClassification LOAD REPORT\x1b[0m from: m\n"
    "Key               | Status  | \n"
    "------------------+---------+-\n"
    "{rows}\n\nNotes:\n- MISSING:\tnewly initialized."
)


def record(rows):
    return logging.LogRecord("transformers.modeling_utils", logging.WARNING,
                             __file__, 1, REPORT.format(rows=rows), None,
                             None)


def test_filter_drops_only_a_report_of_the_new_head():
    quiet = _FreshHeadFilter()
    head = ("classifier.bias   | MISSING | \n"
            "classifier.weight | MISSING | ")
    assert quiet.filter(record(head)) is False
    other = head + "\nbert.pooler.weight | UNEXPECTED | "
    assert quiet.filter(record(other)) is True
    assert quiet.filter(record("classifier.weight | MISMATCH | ")) is True
    plain = logging.LogRecord("t", logging.WARNING, __file__, 1,
                              "something else", None, None)
    assert quiet.filter(plain) is True


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_building_the_classifier_hides_the_expected_report():
    torch.set_num_threads(1)
    logger = logging.getLogger("transformers.modeling_utils")
    collect = Collect()
    logger.addHandler(collect)
    try:
        model = LMNodeClassifier(num_classes=3, max_length=16)
        logger.warning("after loading: still visible")
    finally:
        logger.removeHandler(collect)
    assert model.num_classes == 3
    assert not any("LOAD REPORT" in m for m in collect.messages)
    assert collect.messages[-1] == "after loading: still visible"
    assert logger.filters == []
