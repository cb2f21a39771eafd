"""Conditional masked language model with mask-predict decoding (Ghazvininejad et al. 2019).

Training: the encoder reads the source; a small classifier on the mean-pooled encoder states predicts
the target length as an *offset* from the source length (offsets generalise across sentence lengths
far better than absolute lengths, and source and target lengths are strongly correlated); the
decoder sees the target with a uniformly random number (1..len) of random tokens replaced by MASK
and is trained to predict the masked tokens (label smoothing). Total loss = token loss + 0.1 × length
loss. Optionally (``glancing_mix``) a fraction of the batches instead masks the GLAT way (glancing_mask):
reveal a number of target tokens proportional to how many the model gets wrong from an all-masked input.

Decoding (mask-predict): take the ``length_beam`` most likely lengths; iteration 1 predicts every
token from an all-MASK input; iteration t > 1 re-masks the n = len·(T−t+1)/T tokens with the lowest
probability and predicts them again (keeping the other tokens and their probabilities); the length
candidate with the best average log-probability wins. Output lengths are clamped to
[1, min(max_positions, 2·source + 10)], so the length predictor can never give an empty or absurd
output. Optionally (``dedup``, on by default) consecutive identical tokens are merged in the final
output: the conditional independence of NAT decoders makes "the the" style repetitions their most
common error, and real translations rarely need an immediate repeat of a subword.

Masked inputs: the paper's decoder reads one learned MASK embedding at every masked position, so at
iteration 1 the decoder input carries nothing but positions. With ``masked_input: source_copy`` a masked
position reads instead the embedding of the source token at the same relative position (uniform copy,
Gu et al. 2018) — what a CTC-GLAT decoder reads — so a CMLM can start from a trained CTC-GLAT model of
the same backbone. Training and mask-predict are otherwise unchanged.

Data convention: the shared data loader hands ``batch.tgt`` WITH a trailing EOS (and PAD after it);
this model strips EOS and PAD itself (``targets_with_eos = False`` just documents that it does not
use the EOS). Sources end with EOS; the EOS counts towards the source length.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..tokenizer import EOS, MASK, PAD
from .base import NAR_FAMILY, SHARED_DEFAULTS, Batch, TranslationModel
from .nat_layers import NATBackbone, random_ranks

NUM_SPECIALS = 6  # ids 0..5 (pad, eos, unk, mask, blank, bos) are never produced

DEFAULTS = dict(
    **SHARED_DEFAULTS,
    label_smoothing=0.1,
    length_loss_weight=0.1,
    max_length_offset=64,  # the length classifier predicts target_len - source_len in [-64, 64]
    # Length candidates are ranked by average token log-prob + this × length log-prob (0 = the paper).
    length_score_weight=1.0,
    # What the decoder reads at a masked position: "mask", the learned MASK embedding (the paper), or
    # "source_copy", the embedding of the source token at the same relative position (see uniform_copy).
    masked_input="mask",
    # Glancing masks (Qian et al. 2021) for this fraction of training batches (0 = the paper's CMLM): see glancing_mask.
    glancing_mix=0.0,
    glancing_ratio=0.5,
)


def strip_eos(tgt: torch.Tensor) -> torch.Tensor:
    """Targets arrive as ``y1 … yn EOS PAD…``; NAR models want ``y1 … yn PAD…``."""
    return tgt.masked_fill(tgt.eq(EOS), PAD)


def dedup_consecutive(ids: list[int]) -> list[int]:
    return [t for i, t in enumerate(ids) if i == 0 or t != ids[i - 1]]


def random_mask(lengths_mask: torch.Tensor) -> torch.Tensor:
    """True at the positions to mask: per row a uniform number in 1..len of random real positions."""
    lengths = lengths_mask.sum(1, keepdim=True)
    ranks = random_ranks(lengths_mask)
    n = (torch.rand(lengths.shape, device=lengths.device) * lengths).long() + 1  # uniform 1..len
    return (ranks < n) & lengths_mask


def glancing_mask(predicted: torch.Tensor, tgt: torch.Tensor, tgt_mask: torch.Tensor, ratio: float) -> torch.Tensor:
    """True at the positions to mask, chosen the GLAT way: reveal ⌊ratio · d⌋ random target tokens, where d
    is the number of positions the model got wrong when it read no target token at all (``predicted``).

    Uniform masking (the paper) spends as many batches on nearly-revealed targets as on empty ones. Glancing
    adapts to the model: a sentence it already gets right is trained from an all-masked input (the first
    mask-predict iteration), a sentence it gets badly wrong is shown more of its target, so the decoder
    learns the dependencies between target tokens it still lacks.
    """
    wrong = (predicted != tgt) & tgt_mask
    n_reveal = (wrong.sum(1, keepdim=True).float() * ratio).long()
    revealed = random_ranks(tgt_mask) < n_reveal
    return tgt_mask & ~revealed


def uniform_copy(src: torch.Tensor, tgt_mask: torch.Tensor) -> torch.Tensor:
    """Source ids laid out over the target positions: position j of T reads source token ⌊j·S/T⌋.

    S counts the real source tokens without the final EOS (an EOS-only source gives EOS). This is the
    "uniform copy" decoder input of Gu et al. 2018; padding positions get PAD.
    """
    src_len = (src.ne(PAD).sum(1) - 1).clamp(min=1)  # drop the EOS
    tgt_len = tgt_mask.sum(1).clamp(min=1)
    positions = torch.arange(tgt_mask.size(1), device=src.device).unsqueeze(0)
    index = (positions * src_len.unsqueeze(1)) // tgt_len.unsqueeze(1)
    index = index.minimum(src_len.unsqueeze(1) - 1)
    return src.gather(1, index).masked_fill(~tgt_mask, PAD)


class CMLM(TranslationModel):
    architecture = "cmlm"
    family = NAR_FAMILY
    decoding_defaults = {"iterations": 10, "length_beam": 3, "dedup": True}
    targets_with_eos = False  # batch.tgt still carries EOS: stripped in loss()

    def __init__(self, config: dict):
        config = {**DEFAULTS, **config}
        super().__init__(config)
        c = self.config
        self.backbone = NATBackbone(c)
        self.length_head = nn.Linear(c["d_model"], 2 * c["max_length_offset"] + 1)

    # ----------------------------------------------------------------------------------------- parts
    def _encode(self, src: torch.Tensor):
        src_mask = src.ne(PAD)
        memory = self.backbone.encode(src, src_mask)
        # Mean-pool the real positions: the length prediction sees the whole sentence.
        pooled = (memory * src_mask.unsqueeze(-1)).sum(1) / src_mask.sum(1, keepdim=True).clamp(min=1)
        length_logits = self.length_head(pooled).float()
        return memory, src_mask, length_logits

    def _decoder_input(self, tokens: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
        """Embeddings of the decoder's input tokens; with ``masked_input: source_copy`` a MASK position reads
        the uniformly copied source token instead (the input a CTC-GLAT decoder reads, so a CMLM can start
        from a trained CTC-GLAT model, and every position knows which source words it stands for)."""
        if self.config["masked_input"] == "source_copy":
            tokens = torch.where(tokens.eq(MASK), uniform_copy(src, tokens.ne(PAD)), tokens)
        return self.backbone.token_embeddings(tokens)

    def _decode_states(self, tokens: torch.Tensor, src: torch.Tensor, memory, src_mask) -> torch.Tensor:
        x = self._decoder_input(tokens, src)
        return self.backbone.decode_states(x, tokens.ne(PAD), memory, src_mask)

    def _decode(self, tokens: torch.Tensor, src: torch.Tensor, memory, src_mask) -> torch.Tensor:
        return self.backbone.project(self._decode_states(tokens, src, memory, src_mask))

    def _max_lengths(self, src_mask: torch.Tensor) -> torch.Tensor:
        src_len = src_mask.sum(1)
        return (2 * src_len + 10).clamp(max=self.config["max_positions"])

    # -------------------------------------------------------------------------------------- training
    def loss(self, batch: Batch, step: int):
        tgt = strip_eos(batch.tgt)
        tgt_mask = tgt.ne(PAD)
        memory, src_mask, length_logits = self._encode(batch.src)

        length_loss = self._length_loss(length_logits, tgt_mask, src_mask)

        mix = self.config["glancing_mix"]
        glancing = mix > 0 and float(torch.rand(())) < mix  # no draw at 0: the paper's runs stay reproducible
        if glancing:
            with torch.no_grad():
                all_masked = tgt.masked_fill(tgt_mask, MASK)
                first_pass = self._decode(all_masked, batch.src, memory.detach(), src_mask)
                first_pass[..., :NUM_SPECIALS] = float("-inf")
                masked = glancing_mask(first_pass.argmax(-1), tgt, tgt_mask, self.config["glancing_ratio"])
        else:
            masked = random_mask(tgt_mask)
        states = self._decode_states(tgt.masked_fill(masked, MASK), batch.src, memory, src_mask)
        logits = self.backbone.project(states[masked])  # the loss reads only the masked positions
        n_masked = int(masked.sum())
        token_loss = F.cross_entropy(
            logits.float(), tgt[masked], label_smoothing=self.config["label_smoothing"], reduction="sum"
        ) / max(n_masked, 1)
        loss = token_loss + self.config["length_loss_weight"] * length_loss
        return loss, {
            "tokens": int(tgt_mask.sum()),
            "masked_tokens": n_masked,
            "token_loss": float(token_loss.detach()),
            "length_loss": float(length_loss.detach()),
            "glancing": glancing,
        }

    def _length_loss(self, length_logits, tgt_mask, src_mask) -> torch.Tensor:
        offset = tgt_mask.sum(1) - src_mask.sum(1)
        k = self.config["max_length_offset"]
        return F.cross_entropy(length_logits, offset.clamp(-k, k) + k)

    # -------------------------------------------------------------------------------------- decoding
    def predict_lengths(self, src: torch.Tensor, length_beam: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``length_beam`` best target lengths (B, l) and their log-probabilities, all in [1, max]."""
        memory, src_mask, length_logits = self._encode(src)
        return self._length_candidates(src_mask, length_logits, length_beam)

    def _length_candidates(self, src_mask, length_logits, length_beam: int):
        k = self.config["max_length_offset"]
        src_len = src_mask.sum(1, keepdim=True)
        lengths = src_len + torch.arange(-k, k + 1, device=src_mask.device)  # (B, 2k+1)
        logp = length_logits.log_softmax(-1)
        # Lengths outside [1, max] are impossible, whatever the classifier says.
        valid = (lengths >= 1) & (lengths <= self._max_lengths(src_mask).unsqueeze(1))
        logp = logp.masked_fill(~valid, float("-inf"))
        beam = max(1, min(int(length_beam), logp.size(1)))
        best_logp, best = logp.topk(beam, dim=1)
        chosen = lengths.gather(1, best)
        # A row with fewer valid lengths than the beam (or none at all, for an absurdly long source)
        # falls back to its best valid length, or to the clamped source length.
        fallback = src_len.clamp(min=1).squeeze(1).minimum(self._max_lengths(src_mask).clamp(min=1))
        first = torch.where(best_logp[:, 0].isfinite(), chosen[:, 0], fallback)
        chosen = torch.where(best_logp.isfinite(), chosen, first.unsqueeze(1))
        return chosen, best_logp

    def _mask_predict(self, src: torch.Tensor, iterations: int, length_beam: int, record: bool = False):
        """Run mask-predict on every length candidate; return tokens, candidate scores, lengths, history."""
        memory, src_mask, length_logits = self._encode(src)
        lengths, length_logp = self._length_candidates(src_mask, length_logits, length_beam)
        beam = lengths.size(1)
        lengths = lengths.reshape(-1)  # (B·l,)
        memory = memory.repeat_interleave(beam, dim=0)
        src_mask = src_mask.repeat_interleave(beam, dim=0)
        src = src.repeat_interleave(beam, dim=0)
        width = int(lengths.max())
        real = torch.arange(width, device=src.device).unsqueeze(0) < lengths.unsqueeze(1)

        tokens = torch.full(real.shape, MASK, dtype=torch.long, device=src.device).masked_fill(~real, PAD)
        probs = torch.zeros(real.shape, device=src.device)
        masked = real.clone()
        history = []
        iterations = max(1, int(iterations))
        used = 0
        for t in range(iterations):
            if t > 0:
                # Linear decay: re-mask the n lowest-probability tokens, n = len·(T−t)/T.
                n = (lengths * (iterations - t)) // iterations
                if int(n.max()) == 0:
                    break  # nothing left to re-predict for any sentence
                ranks = probs.masked_fill(~real, float("inf")).argsort(1).argsort(1)
                masked = ranks < n.unsqueeze(1)
                tokens = tokens.masked_fill(masked, MASK)
            states = self._decode_states(tokens, src, memory, src_mask)
            # Project only the re-predicted positions onto the vocabulary: the kept tokens' logits are
            # never read, and the V-wide projection and softmax dominate an iteration's cost.
            logits = self.backbone.project(states[masked]).float()  # (masked positions, V)
            logits[:, :NUM_SPECIALS] = float("-inf")  # never produce specials
            new_probs, new_tokens = logits.log_softmax(-1).max(-1)
            tokens = tokens.masked_scatter(masked, new_tokens)
            probs = probs.masked_scatter(masked, new_probs.to(probs.dtype))
            used = t + 1
            if record:
                history.append((t + 1, tokens.clone(), masked.clone()))
        score = self._candidate_scores(probs, real, length_logp)
        return tokens, score, lengths, beam, used, history

    def _candidate_scores(self, probs, real, length_logp):
        """Average token log-probability per length candidate, plus the weighted length log-probability.

        The pure average (the paper's rule) over-rates wrong lengths: the decoder never saw a wrong
        length in training, so it fills one with confident, self-consistent tokens (on the synthetic
        copy task a 3-length beam chose a wrong length for a quarter of the sentences whose best
        length was right). Adding log p(length | source) lets the length classifier veto those.
        """
        avg = (probs * real).sum(1) / real.sum(1)
        weight = float(self.config["length_score_weight"])
        length_logp = length_logp.reshape(-1).masked_fill(~length_logp.reshape(-1).isfinite(), -1e4)
        return avg + weight * length_logp if weight else avg

    @staticmethod
    def _pick_best(score, beam, B):
        return score.view(B, beam).argmax(1) + torch.arange(B, device=score.device) * beam

    @staticmethod
    def _iterations_used(length: int, iterations: int) -> int:
        return 1 + sum(1 for t in range(1, iterations) if (length * (iterations - t)) // iterations > 0)

    @torch.no_grad()
    def generate(  # type: ignore[override]  # decoding options are keyword arguments of each family
        self, src: torch.Tensor, iterations: int = 10, length_beam: int = 3, dedup: bool = True
    ):
        B = src.size(0)
        iterations = max(1, int(iterations))
        tokens, score, lengths, beam, _, _ = self._mask_predict(src, iterations, length_beam)
        best = self._pick_best(score, beam, B)
        outputs, details = [], []
        for row in best.tolist():
            length = int(lengths[row])
            ids = tokens[row, :length].tolist()
            if dedup:
                ids = dedup_consecutive(ids)
            outputs.append(ids)
            details.append(
                {
                    "iterations": self._iterations_used(length, iterations),
                    "length_beam": beam,
                    "predicted_length": length,
                }
            )
        return outputs, details

    @torch.no_grad()
    def refine_steps(
        self, src: torch.Tensor, iterations: int = 10, length_beam: int = 3, dedup: bool = True, **_
    ) -> Iterator[tuple[int, list[int], list[int]]]:
        """(iteration, ids, re-predicted positions) per iteration, for the winning length candidate.

        Only the first source of the batch is shown. The ids are the raw decoder output of each
        iteration, except that with ``dedup`` the last step is de-duplicated like ``generate``'s output
        (its positions mapped onto the merged tokens), so the last step always equals the translation.
        """
        tokens, score, lengths, beam, _, history = self._mask_predict(src[:1], iterations, length_beam, record=True)
        yield from self._refinement_view(score, lengths, beam, history, dedup)

    def _refinement_view(self, score, lengths, beam, history, dedup: bool):
        """The recorded steps of the winning length candidate of one source, as ``refine_steps`` yields them."""
        row = int(self._pick_best(score, beam, 1)[0])
        length = int(lengths[row])
        for k, (iteration, step_tokens, step_masked) in enumerate(history):
            ids = step_tokens[row, :length].tolist()
            masked = step_masked[row, :length].nonzero().flatten().tolist()
            if dedup and k == len(history) - 1:
                run = [0] * len(ids)  # index of each raw position in the merged output
                for i in range(1, len(ids)):
                    run[i] = run[i - 1] + (ids[i] != ids[i - 1])
                ids, masked = dedup_consecutive(ids), sorted({run[p] for p in masked})
            yield iteration, ids, masked

    @torch.no_grad()
    def sequence_score(self, src: torch.Tensor, hyps: list[list[int]]) -> torch.Tensor:
        """Model score of each hypothesis: mean over its tokens of log p(y_i | x, y with y_i masked).

        This pseudo-log-likelihood is the quantity mask-predict climbs: every token is judged by the
        CMLM given the source and all other tokens of the final sequence. One decoder row per token
        (each row masks one position), batched per hypothesis. Empty hypotheses score -inf.
        """
        scores = []
        for b, hyp in enumerate(hyps):
            if not hyp:
                scores.append(float("-inf"))
                continue
            L = len(hyp)
            memory, src_mask, _ = self._encode(src[b : b + 1])
            target = torch.tensor(hyp, device=src.device)
            rows = target.unsqueeze(0).repeat(L, 1)
            rows[torch.arange(L), torch.arange(L)] = MASK
            logits = self._decode(
                rows, src[b : b + 1].expand(L, -1), memory.expand(L, -1, -1), src_mask.expand(L, -1)
            ).float()
            logits[..., :NUM_SPECIALS] = float("-inf")
            logp = logits.log_softmax(-1)[torch.arange(L), torch.arange(L), target]
            scores.append(float(logp.mean()))
        return torch.tensor(scores)
