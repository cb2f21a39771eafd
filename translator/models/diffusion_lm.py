"""Continuous diffusion over word embeddings, encoder–decoder (Diffusion-LM, Li et al. 2022; DiffuSeq, Gong et al.
2023 for the sequence-to-sequence form).

Each target token w has a learned vector E[w] in a small space (``latent_dim``), trained jointly with the model.
Forward process: x_0 = E[y] (one vector per target position), x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε with Diffusion-LM's
"sqrt" schedule ᾱ_t = 1 − √(t/T + 10⁻⁴) (t = 1..T): it adds noise fast at small t, where embeddings of discrete
tokens are otherwise too easy to tell apart for the denoiser to learn anything. The decoder of the shared NAR
backbone (non-causal, cross-attention to the source encoder) reads x_t (projected to d_model) plus an embedding
of t and predicts x_0 directly (x_0-parameterisation: the paper's choice for text, since x_0 is what gets rounded).

Rounding: a vector x becomes the token whose embedding is nearest, p(w | x) ∝ exp(−‖x − E[w]‖²) over the
ordinary tokens (never specials), so a noiseless embedding rounds back to its own token exactly.

Loss: ‖f(x_t, t) − x_0‖² (mean over dimensions and target positions) + the rounding loss −log p(y | x_0) of
Diffusion-LM (keeps the learned embeddings apart; without it they collapse, since collapsed embeddings make the
MSE trivial) + −log p(y | f(x_t, t)) (DiffuSeq's form: the prediction itself must round to the right token)
+ 0.1 × the CMLM length loss. The target length comes from the CMLM's length head (this class subclasses CMLM
for the encoder, length head and length beam, so ``init_from`` a CMLM or CTC-GLAT checkpoint copies the backbone).

Sampling (``steps`` K, 10–50): start from x_T ~ N(0, I) at each candidate length; at each of K times
T = τ_1 > … > τ_K > 0 predict x̂_0, apply the clamping trick (replace x̂_0 by the embedding of its rounded token,
so the next step starts from a valid word sequence; ``clamp``), and move to the next time deterministically
(DDIM, Song et al. 2021: x_τ' = √ᾱ_τ' · x̂_0 + √(1 − ᾱ_τ') · ε̂, ε̂ the noise x_τ implies). The noise is drawn
from a generator seeded with ``seed`` per call, so a call is reproducible. The output is the last x̂_0 rounded;
each step's rounded x̂_0 is the refinement view. ``samples`` > 1 draws that many x_T per length candidate and
picks by minimum Bayes risk (MBR: the candidate with the largest mean n-gram overlap with the others); the
decoder then runs ``samples`` × ``length_beam`` canvases, which the latency counts. With one sample the length
candidates are ranked like the CMLM's (mean rounding log-probability + length log-probability).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..tokenizer import PAD
from .base import Batch
from .cmlm import CMLM, NUM_SPECIALS, dedup_consecutive, strip_eos
from .cmlm import DEFAULTS as CMLM_DEFAULTS
from .nat_layers import sinusoidal_positions

DEFAULTS = dict(
    {k: v for k, v in CMLM_DEFAULTS.items() if k not in ("masked_input", "glancing_mix", "glancing_ratio")},
    latent_dim=128,  # the diffusion space (DiffuSeq: 128); Diffusion-LM used 16–128
    timesteps=1000,
)


def alpha_bar(t: torch.Tensor, T: int) -> torch.Tensor:
    """ᾱ_t of the sqrt schedule, t ∈ [0, T] (t = 0: clean)."""
    return (1.0 - torch.sqrt(t.double() / T + 1e-4)).clamp(min=1e-5).float()


def ngram_overlap(a: list[int], b: list[int]) -> float:
    """Dice overlap of the unigram and bigram multisets: the MBR similarity (1 = identical n-grams)."""
    grams_a = Counter(tuple(a[i : i + n]) for n in (1, 2) for i in range(len(a) - n + 1))
    grams_b = Counter(tuple(b[i : i + n]) for n in (1, 2) for i in range(len(b) - n + 1))
    total = sum(grams_a.values()) + sum(grams_b.values())
    return 2 * sum((grams_a & grams_b).values()) / total if total else 1.0


class DiffusionLM(CMLM):
    architecture = "diffusion-lm"
    decoding_defaults = {"steps": 20, "length_beam": 3, "samples": 1, "clamp": True, "seed": 0, "dedup": True}

    def __init__(self, config: dict):
        super().__init__({**DEFAULTS, **config})
        for key in ("masked_input", "glancing_mix", "glancing_ratio"):
            self.config.pop(key, None)  # CMLM options this family never reads (it has no MASK input)
        c = self.config
        d, e = c["d_model"], c["latent_dim"]
        self.latent = nn.Embedding(c["vocab_size"], e)  # N(0, 1) init: the scale of the noise
        self.latent_in = nn.Linear(e, d)
        self.latent_out = nn.Linear(d, e)
        self.time_mlp = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))

    # ------------------------------------------------------------------------------------------ parts
    def round_logits(self, x: torch.Tensor) -> torch.Tensor:
        """log p(w | x) up to a constant: −‖x − E[w]‖², specials excluded. (..., e) → (..., V)."""
        E = self.latent.weight.float()
        x = x.float()
        logits = 2 * x @ E.T - (E * E).sum(-1) - (x * x).sum(-1, keepdim=True)
        logits[..., :NUM_SPECIALS] = float("-inf")
        return logits

    def denoise(self, x_t, t, tgt_mask, memory, src_mask) -> torch.Tensor:
        """x̂_0 = f(x_t, t): the decoder reads the projected x_t plus an embedding of t (one t per sentence)."""
        d = self.config["d_model"]
        table = sinusoidal_positions(int(self.config["timesteps"]) + 1, d, x_t.device, torch.float32)
        time = self.time_mlp(table[t].to(self.latent_in.weight.dtype))  # (B, d)
        x = self.latent_in(x_t.to(self.latent_in.weight.dtype)) + time.unsqueeze(1)
        return self.latent_out(self.backbone.decode_states(x, tgt_mask, memory, src_mask))

    # --------------------------------------------------------------------------------------- training
    def loss(self, batch: Batch, step: int):
        tgt = strip_eos(batch.tgt)
        tgt_mask = tgt.ne(PAD)
        memory, src_mask, length_logits = self._encode(batch.src)
        length_loss = self._length_loss(length_logits, tgt_mask, src_mask)

        T = int(self.config["timesteps"])
        t = torch.randint(1, T + 1, (tgt.size(0),), device=tgt.device)
        a = alpha_bar(t, T).view(-1, 1, 1)
        x0 = self.latent(tgt)
        x_t = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn_like(x0)
        x0_hat = self.denoise(x_t, t, tgt_mask, memory, src_mask)
        real = tgt_mask
        mse = ((x0_hat.float() - x0.float()) ** 2).mean(-1)[real].mean()
        rounding = F.cross_entropy(self.round_logits(x0[real]), tgt[real])
        prediction = F.cross_entropy(self.round_logits(x0_hat[real]), tgt[real])
        if not bool(real.any()):  # an all-empty batch: no target position to learn from
            mse = rounding = prediction = x0.sum() * 0.0
        loss = mse + rounding + prediction + self.config["length_loss_weight"] * length_loss
        return loss, {
            "tokens": int(real.sum()),
            "mse": float(mse.detach()),
            "rounding_loss": float(rounding.detach()),
            "prediction_loss": float(prediction.detach()),
            "length_loss": float(length_loss.detach()),
        }

    # --------------------------------------------------------------------------------------- sampling
    def _sample(self, src, steps: int, length_beam: int, samples: int, clamp: bool, seed: int, record=False):
        """Reverse process on every (length candidate × sample) canvas; returns the rounded tokens, the candidate
        scores (CMLM._candidate_scores of the rounding log-probabilities), the lengths and the history."""
        T = int(self.config["timesteps"])
        steps = max(1, min(int(steps), T))
        memory, src_mask, length_logits = self._encode(src)
        lengths, length_logp = self._length_candidates(src_mask, length_logits, length_beam)
        per_source = lengths.size(1) * samples
        lengths = lengths.repeat_interleave(samples, dim=1).reshape(-1)
        length_logp = length_logp.repeat_interleave(samples, dim=1).reshape(-1)
        memory = memory.repeat_interleave(per_source, dim=0)
        src_mask = src_mask.repeat_interleave(per_source, dim=0)
        real = torch.arange(int(lengths.max()), device=src.device).unsqueeze(0) < lengths.unsqueeze(1)

        generator = torch.Generator(device=src.device).manual_seed(int(seed))
        shape = (*real.shape, int(self.config["latent_dim"]))
        x = torch.randn(shape, generator=generator, device=src.device)
        times = torch.linspace(T, 0, steps + 1, device=src.device).round().long()  # τ_1 = T > … > τ_{K+1} = 0
        history = []
        for k in range(steps):
            t, t_next = times[k], times[k + 1]
            a = alpha_bar(t, T)
            x0_hat = self.denoise(x, t.expand(x.size(0)), real, memory, src_mask).float()
            logp = self.round_logits(x0_hat).log_softmax(-1)
            scores, tokens = logp.max(-1)
            tokens = tokens.masked_fill(~real, PAD)
            if record:
                history.append((k + 1, tokens.clone(), real.clone()))
            if clamp:  # the clamping trick: continue from the nearest word embeddings
                x0_hat = self.latent.weight.float()[tokens]
            if t_next > 0:
                eps = (x - a.sqrt() * x0_hat) / (1 - a).sqrt()
                a_next = alpha_bar(t_next, T)
                x = (a_next.sqrt() * x0_hat + (1 - a_next).sqrt() * eps).masked_fill(~real.unsqueeze(-1), 0.0)
        return tokens, self._candidate_scores(scores, real, length_logp), lengths, per_source, history

    def _choose(self, tokens, score, lengths, per_source, samples, B) -> list[int]:
        """Index of the chosen canvas per source: MBR over its canvases when ``samples`` > 1, else the CMLM rule
        (mean rounding log-probability + length log-probability)."""
        if samples == 1:
            return self._pick_best(score, per_source, B).tolist()
        chosen = []
        for b in range(B):
            rows = range(b * per_source, (b + 1) * per_source)
            hyps = [tokens[r, : int(lengths[r])].tolist() for r in rows]
            # Minimum risk = maximum expected similarity to the other samples (each counts itself once alike).
            gain = [sum(ngram_overlap(h, o) for o in hyps) for h in hyps]
            chosen.append(rows[max(range(len(hyps)), key=gain.__getitem__)])
        return chosen

    @torch.no_grad()
    def generate(  # type: ignore[override]  # decoding options are keyword arguments of each family
        self,
        src: torch.Tensor,
        steps: int = 20,
        length_beam: int = 3,
        samples: int = 1,
        clamp: bool = True,
        seed: int = 0,
        dedup: bool = True,
    ):
        samples = max(1, int(samples))
        tokens, score, lengths, per_source, _ = self._sample(src, steps, length_beam, samples, clamp, seed)
        outputs, details = [], []
        for row in self._choose(tokens, score, lengths, per_source, samples, src.size(0)):
            ids = tokens[row, : int(lengths[row])].tolist()
            outputs.append(dedup_consecutive(ids) if dedup else ids)
            details.append({"steps": max(1, min(int(steps), int(self.config["timesteps"]))), "canvases": per_source})
        return outputs, details

    @torch.no_grad()
    def refine_steps(  # type: ignore[override]  # decoding options are keyword arguments of each family
        self,
        src: torch.Tensor,
        steps: int = 20,
        length_beam: int = 3,
        samples: int = 1,
        clamp: bool = True,
        seed: int = 0,
        dedup: bool = True,
        **_,
    ) -> Iterator[tuple[int, list[int], list[int]]]:
        """(step, rounded x̂_0, []) per sampling step for the chosen canvas of the first source; the last step
        equals the translation. Every position changes at every step, so no position is marked."""
        samples = max(1, int(samples))
        tokens, score, lengths, per_source, history = self._sample(
            src[:1], steps, length_beam, samples, clamp, seed, record=True
        )
        row = self._choose(tokens, score, lengths, per_source, samples, 1)[0]
        for k, (step, step_tokens, _) in enumerate(history):
            ids = step_tokens[row, : int(lengths[row])].tolist()
            yield step, dedup_consecutive(ids) if dedup and k == len(history) - 1 else ids, []
