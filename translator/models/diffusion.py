"""Absorbing-state discrete diffusion with reparameterized decoding (RDM, Zheng et al. 2023), optionally
trained with step-unrolled denoising (SUNDAE, Savinov et al. 2022; UT5).

The model is the CMLM's (this class subclasses :class:`~translator.models.cmlm.CMLM`): the same NAR backbone,
length head, masked-input choice and length beam, with the same parameter names, so ``init_from`` a CMLM
checkpoint copies every tensor and one from a CTC-GLAT checkpoint copies the backbone. What differs is how
the decoder is trained and how its steps are routed.

Forward process: a time t in {1/T, 2/T, …, 1} (T = ``timesteps``) and a schedule γ give the masking rate
γ(t); ⌈γ(t)·N⌉ random positions of an N-token target are replaced by MASK (at least one). Schedules:
``linear`` γ(t) = t, ``cosine`` γ(t) = sin(π t / 2) (more of the training on heavily masked inputs, and in
decoding fewer tokens committed at the first, least informed steps). An exact count rather than one coin per
token: short targets would otherwise often get no mask at all, and with the linear schedule and ``token``
weighting the training is exactly CMLM's.

Loss: cross-entropy (label smoothing) at the masked positions, sentence b weighted by λ(t_b)/N_b; RDM's loss
is λ(t) times the per-sentence mean over all N positions of the masked-token cross-entropy. ``loss_weighting``:
``linear`` λ = 1 − (k−1)/T for t = k/T (RDM's choice for translation: less weight on nearly fully masked
inputs, whose targets are the most ambiguous), ``elbo`` λ = N/n (the ELBO's 1/t weight, with the exact count:
every sentence contributes its mean over the masked tokens), ``none`` λ = 1, ``token`` λ = N (every masked
token weighs the same: CMLM's loss). The weighted sum is divided by the total weight, so the token loss stays
on the cross-entropy scale (and the 0.1 × length loss keeps its relative size) whatever the weighting.

Decoding (reparameterized routing, RDM's "uncond" mode): T' = ``steps`` steps from an all-MASK canvas per
length candidate. Step s predicts every masked position (argmax, with its log-probability as score), then
re-masks the n = ⌊N · γ(1 − s/T')⌋ positions with the lowest score among all positions: a token decoded at an
earlier step can go back to MASK when newer tokens are more confident. ``temperature`` > 0 makes that choice
stochastic: Gumbel noise scaled by temperature · γ(1 − s/T') is added to the scores before ranking (RDM's
"stochastic" top-k; the noise fades to nothing at the last step), 0 is deterministic top-k. One difference
from RDM's code: RDM ranks decoded positions by the model's fresh prediction at those positions, but this
decoder (like RDM's) is trained only at masked positions, so its output at a visible position is not a
calibrated score; a decoded token keeps the score it was decoded with (RDM's ``output_scores``, mask-predict's
rule). With the linear schedule and temperature 0 the routing therefore re-masks exactly what mask-predict
does with as many iterations (tests check the outputs are identical); steps = 1 is one parallel argmax.
Length beam, candidate scores and de-duplication are the CMLM's.

Unrolled denoising (``unroll_steps`` > 0): after the first pass the masked positions are filled with a sample
from the model's own prediction (no gradient through the sample), and the decoder's next step is replayed on
that canvas: of the sampled positions, the ⌊γ(t')·N⌋ with the lowest sampled log-probability (t' uniform in
[0, t)) go back to MASK, as the routing would do, and the decoder predicts them again reading its own, possibly
wrong, tokens around them. The cross-entropy of that pass (at its re-masked positions, against the reference,
unweighted token mean) is added to the loss; each further unroll step repeats this from the previous pass.
SUNDAE/UT5 instead score the second pass at every corrupted position, because their decoders re-predict every
position at every step; ours re-predicts only masked positions, so the replayed step trains what decoding
uses: predicting masked tokens next to the model's own earlier tokens, rather than the ground truth that
plain training shows (exposure bias).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from ..tokenizer import MASK, PAD
from .base import Batch
from .cmlm import CMLM, NUM_SPECIALS, dedup_consecutive, strip_eos
from .cmlm import DEFAULTS as CMLM_DEFAULTS
from .nat_layers import random_ranks

SCHEDULES = ("linear", "cosine")
LOSS_WEIGHTINGS = ("linear", "elbo", "none", "token")

DEFAULTS = dict(
    {k: v for k, v in CMLM_DEFAULTS.items() if not k.startswith("glancing")},  # CMLM's glancing is not used
    noise_schedule="linear",  # γ of the forward process in training (decoding picks its own ``schedule``)
    timesteps=50,  # T: training times t = k/T, k = 1..T
    loss_weighting="linear",  # λ(t), see the module docstring
    unroll_steps=0,  # SUNDAE-style unrolled passes added to the loss (0 = plain diffusion training)
)


def mask_rate(t: torch.Tensor | float, schedule: str):
    """γ(t): the share of masked target positions at time t ∈ [0, 1] (0 = clean, 1 = all MASK)."""
    if schedule == "linear":
        return t
    if schedule == "cosine":
        return torch.sin(t * (math.pi / 2)) if isinstance(t, torch.Tensor) else math.sin(t * math.pi / 2)
    raise ValueError(f"schedule {schedule!r}: use one of {', '.join(SCHEDULES)}")


def masked_after_step(lengths: torch.Tensor, step: int, steps: int, schedule: str) -> torch.Tensor:
    """How many positions are MASK again after decoding step ``step`` of ``steps``: ⌊N · γ(1 − step/steps)⌋."""
    if schedule == "linear":  # integer arithmetic: exactly mask-predict's count, no rounding surprises
        return (lengths * (steps - step)) // steps
    return (lengths.double() * mask_rate(1.0 - step / steps, schedule)).floor().long()


def lowest(scores: torch.Tensor, n: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """True at the n[b] lowest-scored positions of each row among the ``allowed`` ones (mask-predict's ranking)."""
    ranks = scores.masked_fill(~allowed, float("inf")).argsort(1).argsort(1)
    return (ranks < n.unsqueeze(1)) & allowed


class Diffusion(CMLM):
    architecture = "diffusion"
    decoding_defaults = {"steps": 10, "schedule": "linear", "temperature": 0.0, "length_beam": 3, "dedup": True}

    def __init__(self, config: dict):
        super().__init__({**DEFAULTS, **config})
        for key in [k for k in self.config if k.startswith("glancing")]:
            del self.config[key]  # CMLM.__init__ added its glancing defaults back; this family never reads them
        c = self.config
        mask_rate(0.5, c["noise_schedule"])  # fail at construction on an unknown schedule
        if c["loss_weighting"] not in LOSS_WEIGHTINGS:
            raise ValueError(f"loss_weighting {c['loss_weighting']!r}: use one of {', '.join(LOSS_WEIGHTINGS)}")

    # -------------------------------------------------------------------------------------- training
    def _corrupt(self, tgt_mask: torch.Tensor):
        """Sample k ~ U{1..T} per sentence and mask ⌈γ(k/T)·N⌉ random real positions (at least one)."""
        T = int(self.config["timesteps"])
        k = torch.randint(1, T + 1, (tgt_mask.size(0),), device=tgt_mask.device)
        t = k.double() / T
        lengths = tgt_mask.sum(1)
        n = (mask_rate(t, self.config["noise_schedule"]) * lengths).ceil().long().clamp(min=1).minimum(lengths)
        return random_ranks(tgt_mask) < n.unsqueeze(1), k, t

    def _sentence_weights(self, k: torch.Tensor, masked: torch.Tensor, tgt_mask: torch.Tensor) -> torch.Tensor:
        """λ(t_b)/N_b: the weight of each masked token of sentence b (see the module docstring)."""
        lengths = tgt_mask.sum(1).clamp(min=1).float()
        n = masked.sum(1).clamp(min=1).float()
        weighting = self.config["loss_weighting"]
        if weighting == "linear":
            lam = 1.0 - (k.float() - 1.0) / int(self.config["timesteps"])
        elif weighting == "elbo":
            lam = lengths / n
        elif weighting == "token":
            lam = lengths
        else:
            lam = torch.ones_like(lengths)
        return lam / lengths

    def _masked_cross_entropy(self, tokens, masked, tgt, src, memory, src_mask):
        """Decoder pass over ``tokens``; logits and per-token cross-entropy at the ``masked`` positions."""
        states = self._decode_states(tokens, src, memory, src_mask)
        logits = self.backbone.project(states[masked]).float()  # the loss reads only the masked positions
        ce = F.cross_entropy(logits, tgt[masked], label_smoothing=self.config["label_smoothing"], reduction="none")
        return logits, ce

    def loss(self, batch: Batch, step: int):
        tgt = strip_eos(batch.tgt)
        tgt_mask = tgt.ne(PAD)
        memory, src_mask, length_logits = self._encode(batch.src)
        length_loss = self._length_loss(length_logits, tgt_mask, src_mask)

        masked, k, t = self._corrupt(tgt_mask)
        tokens = tgt.masked_fill(masked, MASK)
        logits, ce = self._masked_cross_entropy(tokens, masked, tgt, batch.src, memory, src_mask)
        weights = self._sentence_weights(k, masked, tgt_mask).unsqueeze(1).expand_as(masked)[masked]
        token_loss = (weights * ce).sum() / weights.sum().clamp(min=1e-9)
        loss = token_loss + self.config["length_loss_weight"] * length_loss
        stats = {
            "tokens": int(tgt_mask.sum()),
            "masked_tokens": int(masked.sum()),
            "token_loss": float(token_loss.detach()),
            "length_loss": float(length_loss.detach()),
        }

        unroll_losses = []
        for _ in range(int(self.config["unroll_steps"])):
            if not bool(masked.any()):
                break  # the last pass (re-)masked nothing in any sentence: nothing left to replay
            tokens, masked, t = self._replay_step(tokens, masked, t, logits.detach(), tgt_mask)
            if not bool(masked.any()):
                break
            logits, ce = self._masked_cross_entropy(tokens, masked, tgt, batch.src, memory, src_mask)
            unroll_losses.append(ce.mean())
        if unroll_losses:
            unroll_loss = torch.stack(unroll_losses).sum()
            loss = loss + unroll_loss
            stats["unroll_loss"] = float(unroll_loss.detach())
        return loss, stats

    @torch.no_grad()
    def _replay_step(self, tokens, masked, t, logits, tgt_mask):
        """The decoder's next step on its own sample: fill the masked positions with tokens sampled from
        ``logits`` (never specials), then re-mask the ⌊γ(t')·N⌋ lowest-scored of them, t' ~ U[0, t)."""
        logits = logits.clone()
        logits[:, :NUM_SPECIALS] = float("-inf")
        logp = logits.log_softmax(-1)
        sample = torch.multinomial(logp.exp(), 1).squeeze(1)
        tokens = tokens.masked_scatter(masked, sample)
        scores = torch.zeros(tokens.shape, device=tokens.device).masked_scatter(masked, logp.gather(1, sample[:, None]))
        t_next = t * torch.rand_like(t)
        lengths = tgt_mask.sum(1)
        n = (mask_rate(t_next, self.config["noise_schedule"]) * lengths).floor().long().minimum(masked.sum(1))
        remask = lowest(scores, n, masked)
        return tokens.masked_fill(remask, MASK), remask, t_next

    # -------------------------------------------------------------------------------------- decoding
    def _denoise(self, src, steps: int, length_beam: int, schedule: str, temperature: float, record: bool = False):
        """Run the reverse process on every length candidate; return tokens, candidate scores, lengths, beam,
        steps used and (with ``record``) the history: (step, tokens after the step's prediction, predicted)."""
        mask_rate(0.5, schedule)  # an unknown schedule fails before any work
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        steps = max(1, int(steps))
        memory, src_mask, length_logits = self._encode(src)
        lengths, length_logp = self._length_candidates(src_mask, length_logits, length_beam)
        beam = lengths.size(1)
        lengths = lengths.reshape(-1)  # (B·l,)
        memory = memory.repeat_interleave(beam, dim=0)
        src_mask = src_mask.repeat_interleave(beam, dim=0)
        src = src.repeat_interleave(beam, dim=0)
        real = torch.arange(int(lengths.max()), device=src.device).unsqueeze(0) < lengths.unsqueeze(1)

        tokens = torch.full(real.shape, MASK, dtype=torch.long, device=src.device).masked_fill(~real, PAD)
        scores = torch.zeros(real.shape, device=src.device)
        masked = real.clone()
        history, used = [], 0
        for s in range(1, steps + 1):
            states = self._decode_states(tokens, src, memory, src_mask)
            logits = self.backbone.project(states[masked]).float()  # only the masked positions are predicted
            logits[:, :NUM_SPECIALS] = float("-inf")
            new_scores, new_tokens = logits.log_softmax(-1).max(-1)
            tokens = tokens.masked_scatter(masked, new_tokens)
            scores = scores.masked_scatter(masked, new_scores.to(scores.dtype))
            used = s
            if record:
                history.append((s, tokens.clone(), masked.clone()))
            n = masked_after_step(lengths, s, steps, schedule)
            if int(n.max()) == 0:
                break  # every candidate is fully decoded: further steps would predict nothing
            ranking = scores
            if temperature > 0:
                u = torch.rand(scores.shape, device=scores.device).clamp(1e-10, 1 - 1e-7)
                ranking = scores + temperature * float(mask_rate(1.0 - s / steps, schedule)) * -(-u.log()).log()
            masked = lowest(ranking, n, real)
            tokens = tokens.masked_fill(masked, MASK)
        score = self._candidate_scores(scores, real, length_logp)
        return tokens, score, lengths, beam, used, history

    @torch.no_grad()
    def generate(  # type: ignore[override]  # decoding options are keyword arguments of each family
        self,
        src: torch.Tensor,
        steps: int = 10,
        schedule: str = "linear",
        temperature: float = 0.0,
        length_beam: int = 3,
        dedup: bool = True,
    ):
        B, steps = src.size(0), max(1, int(steps))
        tokens, score, lengths, beam, used, _ = self._denoise(src, steps, length_beam, schedule, float(temperature))
        outputs, details = [], []
        for row in self._pick_best(score, beam, B).tolist():
            length = int(lengths[row])
            ids = tokens[row, :length].tolist()
            outputs.append(dedup_consecutive(ids) if dedup else ids)
            # Steps that predicted something for this sentence: a short one is done before the batch is.
            done = next(
                (s for s in range(1, used + 1) if int(masked_after_step(lengths[row], s, steps, schedule)) == 0), used
            )
            details.append({"steps": done, "length_beam": beam, "predicted_length": length})
        return outputs, details

    @torch.no_grad()
    def refine_steps(  # type: ignore[override]  # decoding options are keyword arguments of each family
        self,
        src: torch.Tensor,
        steps: int = 10,
        schedule: str = "linear",
        temperature: float = 0.0,
        length_beam: int = 3,
        dedup: bool = True,
        **_,
    ) -> Iterator[tuple[int, list[int], list[int]]]:
        """(step, ids, positions predicted at that step) per denoising step, for the winning length candidate
        of the first source; the last step equals the translation (see CMLM.refine_steps)."""
        _, score, lengths, beam, _, history = self._denoise(
            src[:1], steps, length_beam, schedule, float(temperature), record=True
        )
        yield from self._refinement_view(score, lengths, beam, history, dedup)
