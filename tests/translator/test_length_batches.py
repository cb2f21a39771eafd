"""TorchEngine's batching of a call's sentences (translator/models/torch_engine.py): sorted by length and cut where
padding would waste more than PADDING_TOLERANCE, so a batch of mixed lengths never costs more than its sentences."""

from __future__ import annotations

import random

from translator.models.torch_engine import MAX_BATCH_SENTENCES, PADDING_TOLERANCE, length_batches


def test_every_sentence_once_in_length_order_with_bounded_padding():
    random.seed(0)
    lengths = [random.randint(2, 80) for _ in range(300)]
    batches = length_batches(lengths)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths)
    for batch in batches:
        assert len(batch) <= MAX_BATCH_SENTENCES
        padded, real = max(lengths[i] for i in batch) * len(batch), sum(lengths[i] for i in batch)
        assert len(batch) == 1 or padded <= (1 + PADDING_TOLERANCE) * real


def test_equal_lengths_fill_whole_batches_and_outliers_go_alone():
    assert [len(b) for b in length_batches([10] * 150)] == [64, 64, 22]
    assert length_batches([3, 3, 3, 90]) == [[0, 1, 2], [3]]
    assert length_batches([]) == []
