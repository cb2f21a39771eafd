"""Autoregressive Transformer encoder–decoder: the baseline every NAR speed-up is measured against.

transformers' Marian classes, trained from scratch: standard post-norm Transformer with sinusoidal
positions and tied embeddings, and ``generate()`` gives greedy and beam search with a KV cache,
length penalty and n-gram blocking. A deep-encoder/shallow-decoder model (e.g. 6–1) is the same
class with ``decoder_layers=1``: the fair fast AR baseline (Kasai et al. 2021).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import MarianConfig, MarianMTModel

from ..tokenizer import EOS, PAD
from .base import AR_FAMILY, Batch, TranslationModel, pad_sequences

DEFAULTS = dict(
    vocab_size=8000,
    d_model=256,
    encoder_layers=6,
    decoder_layers=3,
    heads=4,
    ffn_dim=1024,
    dropout=0.1,
    max_positions=256,
    max_source_tokens=200,
    label_smoothing=0.1,
)


class ARTransformer(TranslationModel):
    architecture = "transformer"
    family = AR_FAMILY
    # no_repeat_ngram_size: out-of-domain and long inputs otherwise loop on repeated words.
    decoding_defaults = {"beam": 4, "length_penalty": 1.0, "no_repeat_ngram_size": 3, "max_len_a": 1.5, "max_len_b": 10}
    targets_with_eos = True

    def __init__(self, config: dict):
        config = {**DEFAULTS, **config}
        super().__init__(config)
        c = self.config
        self.marian = MarianMTModel(
            MarianConfig(
                vocab_size=c["vocab_size"],
                d_model=c["d_model"],
                encoder_layers=c["encoder_layers"],
                decoder_layers=c["decoder_layers"],
                encoder_attention_heads=c["heads"],
                decoder_attention_heads=c["heads"],
                encoder_ffn_dim=c["ffn_dim"],
                decoder_ffn_dim=c["ffn_dim"],
                dropout=c["dropout"],
                activation_function="relu",
                max_position_embeddings=c["max_positions"],
                scale_embedding=True,
                pad_token_id=PAD,
                eos_token_id=EOS,
                forced_eos_token_id=None,
                decoder_start_token_id=PAD,  # Marian convention: decoding starts from PAD
                share_encoder_decoder_embeddings=True,
                tie_word_embeddings=True,
            )
        )

    def loss(self, batch: Batch, step: int):
        tgt = batch.tgt
        # Teacher forcing: the decoder sees <start> y1 … y_{n-1} and predicts y1 … y_n (= … EOS).
        decoder_input = torch.cat([torch.full_like(tgt[:, :1], PAD), tgt[:, :-1]], dim=1)
        logits = self.marian(
            input_ids=batch.src,
            attention_mask=batch.src_mask,
            decoder_input_ids=decoder_input,
            decoder_attention_mask=torch.cat([torch.ones_like(tgt[:, :1], dtype=torch.bool), batch.tgt_mask[:, :-1]], 1),
        ).logits
        tokens = int(batch.tgt_mask.sum())
        loss = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)).float(),
            tgt.reshape(-1),
            ignore_index=PAD,
            label_smoothing=self.config["label_smoothing"],
            reduction="sum",
        ) / max(tokens, 1)
        return loss, {"tokens": tokens}

    @torch.no_grad()
    def generate(self, src: torch.Tensor, beam: int = 4, length_penalty: float = 1.0,
                 no_repeat_ngram_size: int = 3, max_len_a: float = 1.5, max_len_b: int = 10):
        mask = src.ne(PAD)
        max_new = min(int(max_len_a * int(mask.sum(1).max()) + max_len_b), self.config["max_positions"] - 1)
        out = self.marian.generate(
            input_ids=src,
            attention_mask=mask,
            num_beams=int(beam),
            do_sample=False,
            length_penalty=float(length_penalty),
            no_repeat_ngram_size=int(no_repeat_ngram_size),
            max_new_tokens=max_new,
            **({"early_stopping": True} if int(beam) > 1 else {}),
            output_scores=False,
            return_dict_in_generate=False,
            use_cache=True,
        )
        results = []
        for row in out.tolist():
            ids = [t for t in row[1:] if t != PAD]  # drop the start token and padding
            if EOS in ids:
                ids = ids[: ids.index(EOS)]
            results.append(ids)
        return results, [{"beam": int(beam)} for _ in results]

    @torch.no_grad()
    def sequence_score(self, src: torch.Tensor, hyps: list[list[int]]) -> torch.Tensor:
        """Sum of log-probabilities of each hypothesis (+EOS) given its source: the model score."""
        tgt = pad_sequences([h + [EOS] for h in hyps], PAD, src.device)
        decoder_input = torch.cat([torch.full_like(tgt[:, :1], PAD), tgt[:, :-1]], dim=1)
        logits = self.marian(input_ids=src, attention_mask=src.ne(PAD), decoder_input_ids=decoder_input).logits
        logp = logits.float().log_softmax(-1).gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
        return (logp * tgt.ne(PAD)).sum(1)
