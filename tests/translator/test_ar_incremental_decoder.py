"""Our KV-cache decoding loop (the default AR decoder) against transformers' generate() as reference."""

from translator.models.ar_transformer import ARTransformer

from .test_models_synthetic import TINY, build, held_out, train


def partly_trained():
    model = build(ARTransformer, TINY, seed=3)
    snapshot = train(model, 150, seed=3)
    del snapshot
    model.eval()
    return model


def decode(model, src, hf: bool, **options):
    model.use_hf_generate = hf
    try:
        return model.generate(src, **options)[0]
    finally:
        model.use_hf_generate = False


def test_incremental_decoder_matches_generate_and_is_batch_invariant():
    model = partly_trained()
    batch, _ = held_out(60, seed=11)
    src = batch.src
    # Greedy: identical tokens to transformers' generate (one sentence at a time, so both see the
    # same length budget), with and without n-gram blocking.
    for ngram in (0, 2):
        ours = decode(model, src, False, beam=1, no_repeat_ngram_size=ngram)
        reference = [
            decode(model, src[i : i + 1], True, beam=1, no_repeat_ngram_size=ngram)[0] for i in range(len(src))
        ]
        assert ours == reference
    # Beam: never a worse model score than generate's beam (the two differ only in tie-breaking
    # and in when length normalisation is applied).
    ours = decode(model, src, False, beam=4, no_repeat_ngram_size=0, length_penalty=0.0)
    reference = [
        decode(model, src[i : i + 1], True, beam=4, no_repeat_ngram_size=0, length_penalty=0.0)[0]
        for i in range(len(src))
    ]
    ours_score = model.sequence_score(src, ours)
    ref_score = model.sequence_score(src, reference)
    assert bool((ours_score >= ref_score - 1e-3).all()), (ours_score - ref_score).min()
    # A sentence's output does not depend on the batch it is decoded in.
    for beam in (1, 4):
        together = decode(model, src, False, beam=beam)
        alone = [decode(model, src[i : i + 1], False, beam=beam)[0] for i in range(len(src))]
        assert together == alone


def test_ngram_blocking_really_blocks():
    model = partly_trained()
    batch, _ = held_out(40, seed=5)
    outputs = decode(model, batch.src, False, beam=4, no_repeat_ngram_size=2)
    for out in outputs:
        bigrams = list(zip(out, out[1:], strict=False))
        assert len(bigrams) == len(set(bigrams)), out
