"""Fully non-autoregressive translation with CTC and glancing training (GLAT + CTC, "Fully-NAT").

Gu & Kong 2021 / Qian et al. 2021 / Libovický & Helcl 2018:

- Decoder input: the source *token embeddings*, each repeated ``upsample`` times (default 3), plus
  positions. Using the embeddings rather than the encoder states keeps the decoder input in the same
  space as the target embeddings that glancing mixes in (the vocabulary and the embedding matrix are
  shared). Upsampling gives CTC room for targets longer than the source and for the blanks it needs
  between repeated tokens.
- Output: the joint vocabulary, whose BLANK (id 4) is the CTC blank. Loss: ``F.ctc_loss`` over the
  upsampled positions. Pairs whose target cannot fit (len + repeats > slots) are left out of the loss.
- Glancing: a no-grad pass finds the best CTC alignment (Viterbi through the CTC lattice, vectorised
  over the batch, below) so every slot has a reference token (or blank); the Hamming distance between
  the greedy prediction and that alignment sets how many slots to reveal: ratio × distance random
  slots get the aligned token's embedding as decoder input. The second pass, with gradients, computes
  the loss. The ratio decays linearly from ``glat_ratio_start`` to ``glat_ratio_end`` over
  ``glat_anneal_steps`` training steps: a lot of help early, less later (test time has none).
- Decoding: one pass, argmax per slot, merge repeats, drop blanks (greedy CTC collapse); or a small
  CTC prefix beam search (``ctc_beam`` > 1; no language model, slow, for comparison). An output is never
  empty (see ``_never_empty``) and never longer than the slots (upsample × source length).
  ``blank_penalty`` (δ ≥ 0) subtracts δ from the blank's logit in every slot before decoding: a
  CTC model that has not converged over-predicts blanks and drops words (outputs markedly shorter than
  the references), and δ trades that back. Its default is the model config's ``blank_penalty``,
  chosen on the validation set (python -m translator tune-decoding), never on a test set.

Data convention: ``batch.tgt`` arrives WITH a trailing EOS from the shared data loader; it is stripped
here (CTC handles length itself).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..tokenizer import BLANK, EOS, PAD
from .base import NAR_FAMILY, SHARED_DEFAULTS, Batch, TranslationModel
from .nat_layers import NATBackbone, random_ranks

NUM_SPECIALS = 6  # ids 0..5; only BLANK (4) may be produced, and collapse removes it

DEFAULTS = dict(
    **SHARED_DEFAULTS,
    upsample=3,
    glat_ratio_start=0.5,
    glat_ratio_end=0.3,
    glat_anneal_steps=50_000,
    blank_penalty=0.0,  # decoding default (see the module docstring)
)


def ctc_collapse(frames: list[int], blank: int = BLANK) -> list[int]:
    """Greedy CTC collapse: merge consecutive repeats, then drop blanks (a blank between repeats keeps both)."""
    out, previous = [], None
    for f in frames:
        if f != previous and f != blank:
            out.append(f)
        previous = f
    return out


def ctc_required_slots(tgt: torch.Tensor, tgt_mask: torch.Tensor) -> torch.Tensor:
    """Minimum CTC input length per target: its length plus one blank between each pair of repeats."""
    repeats = (tgt[:, 1:] == tgt[:, :-1]) & tgt_mask[:, 1:]
    return tgt_mask.sum(1) + repeats.sum(1)


@torch.no_grad()
def ctc_best_alignment(
    log_probs: torch.Tensor,
    input_lengths: torch.Tensor,
    tgt: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int = BLANK,
) -> torch.Tensor:
    """Viterbi (best-path) CTC alignment, vectorised over the batch.

    log_probs (B, U, V); tgt (B, L) padded; returns (B, U) labels: for every input slot the target
    token or blank that the single most likely CTC path emits there (PAD beyond ``input_lengths``).
    Every pair must be feasible (``input_lengths >= ctc_required_slots``).

    The lattice is the usual extended label sequence z = (blank, y1, blank, y2, …, yL, blank) of length
    S = 2L+1; a path moves from state s to s, s+1, or s+2 (the last only onto a token that differs from
    the token two states back, skipping the blank between them). alpha[t, s] is the best path score
    ending in state s at slot t; backpointers (0, 1 or 2 states back) are kept for the backtrace.
    """
    B, U, _ = log_probs.shape
    device = log_probs.device
    L = tgt.size(1)
    S = 2 * L + 1
    z = torch.full((B, S), blank, dtype=torch.long, device=device)
    z[:, 1::2] = tgt
    state_ok = torch.arange(S, device=device).unsqueeze(0) < (2 * target_lengths + 1).unsqueeze(1)
    # Skip transitions s-2 → s are allowed onto a token that differs from the one two states back.
    can_skip = torch.zeros(B, S, dtype=torch.bool, device=device)
    can_skip[:, 2:] = (z[:, 2:] != blank) & (z[:, 2:] != z[:, :-2])

    emit = log_probs.float().gather(2, z.unsqueeze(1).expand(B, U, S))  # (B, U, S)
    neg = torch.tensor(float("-inf"), device=device)
    alpha = torch.full((B, S), float("-inf"), device=device)
    alpha[:, 0] = emit[:, 0, 0]
    if S > 1:
        alpha[:, 1] = torch.where(target_lengths > 0, emit[:, 0, 1], neg)
    alpha = alpha.masked_fill(~state_ok, float("-inf"))
    back = torch.zeros(B, U, S, dtype=torch.uint8, device=device)
    finals = torch.full((B, S), float("-inf"), device=device)
    finals = torch.where((input_lengths == 1).unsqueeze(1), alpha, finals)
    for t in range(1, U):
        stay = alpha
        step1 = F.pad(alpha, (1, 0), value=float("-inf"))[:, :S]
        step2 = F.pad(alpha, (2, 0), value=float("-inf"))[:, :S].masked_fill(~can_skip, float("-inf"))
        best, arg = torch.stack([stay, step1, step2], dim=2).max(dim=2)
        alpha = (best + emit[:, t]).masked_fill(~state_ok, float("-inf"))
        back[:, t] = arg.to(torch.uint8)
        # Remember alpha at each row's own last slot.
        finals = torch.where((input_lengths == t + 1).unsqueeze(1), alpha, finals)

    # A path ends in the last token or the final blank.
    last = 2 * target_lengths  # final blank state
    end_blank = finals.gather(1, last.unsqueeze(1)).squeeze(1)
    end_token = finals.gather(1, (last - 1).clamp(min=0).unsqueeze(1)).squeeze(1)
    end_token = torch.where(target_lengths > 0, end_token, neg)
    state = torch.where(end_token > end_blank, last - 1, last)

    labels = torch.full((B, U), PAD, dtype=torch.long, device=device)
    rows = torch.arange(B, device=device)
    for t in range(U - 1, -1, -1):
        active = t < input_lengths
        labels[:, t] = torch.where(active, z[rows, state], labels[:, t])
        if t > 0:
            step = back[rows, t, state].long()
            state = torch.where(active, state - step, state)
    return labels


def ctc_prefix_beam_search(log_probs: torch.Tensor, beam: int, blank: int = BLANK, prune: int = 8) -> list[int]:
    """CTC prefix beam search for one sentence (U, V) log-probs; no language model. Slow but simple.

    Each prefix keeps two scores: paths ending in blank and paths ending in its last token, so that
    "a a" (repeat merged) and "a <b> a" (two tokens) are counted correctly. Only the ``prune`` best
    tokens per slot are expanded.
    """

    def add(a: float, b: float) -> float:  # log(exp(a) + exp(b))
        if a == -math.inf:
            return b
        if b == -math.inf:
            return a
        return max(a, b) + math.log1p(math.exp(-abs(a - b)))

    beams: dict[tuple[int, ...], tuple[float, float]] = {
        (): (0.0, -math.inf)
    }  # prefix -> (log p ending in blank, log p ending in a token)
    lp = log_probs.float().cpu()
    for t in range(lp.size(0)):
        top = lp[t].topk(min(prune, lp.size(1))).indices.tolist()
        if blank not in top:
            top.append(blank)
        nxt: dict[tuple, list[float]] = {}
        for prefix, (p_b, p_nb) in beams.items():
            total = add(p_b, p_nb)
            for c in top:
                p = lp[t, c].item()
                if c == blank:
                    entry = nxt.setdefault(prefix, [-math.inf, -math.inf])
                    entry[0] = add(entry[0], total + p)
                    continue
                extended = prefix + (c,)
                entry = nxt.setdefault(extended, [-math.inf, -math.inf])
                if prefix and prefix[-1] == c:
                    # Repeating the last token needs a blank in between; without one it merges.
                    entry[1] = add(entry[1], p_b + p)
                    same = nxt.setdefault(prefix, [-math.inf, -math.inf])
                    same[1] = add(same[1], p_nb + p)
                else:
                    entry[1] = add(entry[1], total + p)
        beams = dict(sorted(((k, (v[0], v[1])) for k, v in nxt.items()), key=lambda kv: -add(*kv[1]))[:beam])
    best = max(beams.items(), key=lambda kv: add(*kv[1]))[0]
    return list(best)


class CTCGlat(TranslationModel):
    architecture = "ctc-glat"
    family = NAR_FAMILY
    targets_with_eos = False  # batch.tgt still carries EOS: stripped in loss()

    def __init__(self, config: dict):
        config = {**DEFAULTS, **config}
        super().__init__(config)
        self.backbone = NATBackbone(self.config)

    @property
    def decoding_defaults(self) -> dict:  # type: ignore[override]  # the default blank penalty is per checkpoint
        return {"ctc_beam": 1, "blank_penalty": float(self.config["blank_penalty"])}

    # ----------------------------------------------------------------------------------------- parts
    def _decoder_input(self, src: torch.Tensor):
        """Upsampled source embeddings (B, k·S, d) and their mask: slot j reads source token j // k."""
        k = int(self.config["upsample"])
        src_mask = src.ne(PAD)
        # Padding sits at the end of each row, so repeat_interleave keeps real slots first.
        return self.backbone.token_embeddings(src).repeat_interleave(k, dim=1), src_mask.repeat_interleave(k, dim=1)

    def _logits(self, x, slot_mask, memory, src_mask):
        return self.backbone.decode(x, slot_mask, memory, src_mask).float()

    def glancing_ratio(self, step: int) -> float:
        c = self.config
        progress = min(1.0, max(0, step) / max(1, c["glat_anneal_steps"]))
        return c["glat_ratio_start"] + (c["glat_ratio_end"] - c["glat_ratio_start"]) * progress

    # -------------------------------------------------------------------------------------- training
    def loss(self, batch: Batch, step: int):
        tgt = batch.tgt.masked_fill(batch.tgt.eq(EOS), PAD)
        tgt_mask = tgt.ne(PAD)
        src_mask = batch.src.ne(PAD)
        memory = self.backbone.encode(batch.src, src_mask)
        x, slot_mask = self._decoder_input(batch.src)
        slots = slot_mask.sum(1)
        target_lengths = tgt_mask.sum(1)
        # CTC needs a slot per token plus a blank between repeats: leave out pairs that cannot fit.
        feasible = slots >= ctc_required_slots(tgt, tgt_mask)

        ratio = self.glancing_ratio(step)
        revealed = 0
        if ratio > 0 and bool(feasible.any()):
            with torch.no_grad():
                log_probs = self._logits(x, slot_mask, memory, src_mask).log_softmax(-1)
                idx = feasible.nonzero().flatten()
                aligned_f = ctc_best_alignment(log_probs[idx], slots[idx], tgt[idx], target_lengths[idx])
                aligned = torch.full(slot_mask.shape, PAD, dtype=torch.long, device=tgt.device)
                aligned[idx] = aligned_f
                wrong = (log_probs.argmax(-1) != aligned) & slot_mask & feasible.unsqueeze(1)
                n_reveal = (wrong.sum(1).float() * ratio).long()
                reveal = (random_ranks(slot_mask) < n_reveal.unsqueeze(1)) & slot_mask & feasible.unsqueeze(1)
                revealed = int(reveal.sum())
            x = torch.where(reveal.unsqueeze(-1), self.backbone.token_embeddings(aligned.masked_fill(~reveal, PAD)), x)

        log_probs = self._logits(x, slot_mask, memory, src_mask).log_softmax(-1)
        losses = F.ctc_loss(
            log_probs.transpose(0, 1),  # (U, B, V)
            tgt,
            slots,
            target_lengths,
            blank=BLANK,
            reduction="none",
            zero_infinity=True,
        )
        tokens = int((target_lengths * feasible).sum())
        loss = (losses * feasible).sum() / max(tokens, 1)
        return loss, {
            "tokens": int(tgt_mask.sum()),
            "skipped_pairs": int((~feasible).sum()),
            "glancing_ratio": ratio,
            "revealed_slots": revealed,
        }

    # -------------------------------------------------------------------------------------- decoding
    def _frame_logits(self, src: torch.Tensor):
        """Logits per decoder slot with the special tokens other than blank ruled out, and the slot mask."""
        src_mask = src.ne(PAD)
        memory = self.backbone.encode(src, src_mask)
        x, slot_mask = self._decoder_input(src)
        logits = self._logits(x, slot_mask, memory, src_mask)
        banned = torch.ones(NUM_SPECIALS, dtype=torch.bool, device=src.device)
        banned[BLANK] = False
        logits[..., :NUM_SPECIALS] = logits[..., :NUM_SPECIALS].masked_fill(banned, float("-inf"))
        return logits, slot_mask

    @staticmethod
    def _never_empty(ids: list[int], logits: torch.Tensor) -> list[int]:
        """An all-blank output becomes the single most likely non-blank token (sources are never empty)."""
        if ids:
            return ids
        non_blank = logits.float().log_softmax(-1)
        non_blank[:, BLANK] = float("-inf")
        return [int(non_blank.max(0).values.argmax())]

    @torch.no_grad()
    def generate(  # type: ignore[override]  # decoding options are keyword arguments of each family
        self, src: torch.Tensor, ctc_beam: int = 1, blank_penalty: float = 0.0
    ):
        logits, slot_mask = self._frame_logits(src)
        if float(blank_penalty) < 0:
            raise ValueError("blank_penalty must be >= 0")
        logits[..., BLANK] -= float(blank_penalty)
        # Greedy decoding needs only the argmax per slot: the softmax over the vocabulary is skipped.
        frames = logits.argmax(-1)
        outputs = []
        for b in range(src.size(0)):
            n = int(slot_mask[b].sum())
            if int(ctc_beam) > 1:
                ids = ctc_prefix_beam_search(logits[b, :n].log_softmax(-1), int(ctc_beam))
            else:
                ids = ctc_collapse(frames[b, :n].tolist())
            outputs.append(self._never_empty(ids, logits[b, :n]))
        upsample = int(self.config["upsample"])
        return outputs, [
            {"upsample": upsample, "ctc_beam": int(ctc_beam), "blank_penalty": float(blank_penalty)} for _ in outputs
        ]
