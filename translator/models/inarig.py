"""INarIG: word-level autocompletion by iterative non-autoregressive instruction generation (Findings of EMNLP 2023).

Not a sentence translator: given a source sentence, the target context written so far (left and/or right of
a gap) and the characters typed for the word in the gap, it predicts that word, one subword per pass.
The decoder reads the target context with an *instruction unit* in the gap:

    left context … [TIP] t y p e d [SEP] decoded subwords … [MASK] … right context

The typed characters are character tokens (the vocabulary's single-character pieces), so the model sees
every typed letter whatever subword split the finished word will have. The decoder is the NAR backbone's
non-causal one: every pass re-encodes the whole target context together with the instruction unit, reads
the state at [MASK], and emits the next subword of the word, or [EOW] (end of word). Up to
``max_subwords`` passes; the encoder runs once per suggestion.

Special tokens. The tokenizer's fixed specials (translator/tokenizer.py) hold <mask> (CMLM's, used here as
[MASK]) but nothing for [TIP], [SEP] and [EOW], and adding pieces to a trained vocabulary would shift the
embedding matrix the warm start copies. So the three are ids past the vocabulary (V, V+1, V+2) with their
own small embedding matrix ``instruction``, tied like the vocabulary: the output layer scores V + 3 ids, and
the backbone keeps the exact parameter names and shapes of the shipped CMLM / CTC-GLAT models.

The typed prefix is enforced at decoding, not only learnt: each pass scores only the subwords that keep
the word consistent with the typed characters (the first pass: word-initial pieces "▁…" that are a prefix
of the typed text or extend it; later passes: continuation pieces), and [EOW] only once the word covers
the typed text. A suggestion therefore never contradicts what was typed (:class:`PieceTable`).

Training (``loss``) draws one WLAC example per training pair on the fly with translator.wlac.choose_gap
(a new gap every epoch, seeded by step so a resumed run sees the same examples) and teaches every pass
of its word at once: a word of n subwords gives n + 1 decoder rows (prefixes of 0 … n decoded subwords,
targets: the next subword, then [EOW]), as in teacher forcing.
"""

from __future__ import annotations

import bisect
import functools
import math
import random
import time
import unicodedata
from dataclasses import dataclass
from typing import ClassVar, cast

import torch
import torch.nn.functional as F
from torch import nn

from ..engine import NAR, WARM_UP_TEXT, EngineError, EngineInfo
from ..tokenizer import EOS, MASK, PAD, SPECIAL_TOKENS
from ..wlac import WORD, choose_gap, wlac_examples
from .base import NAR_FAMILY, SHARED_DEFAULTS, Batch, TranslationModel, pad_sequences
from .nat_layers import NATBackbone
from .torch_engine import TorchEngine

NUM_SPECIALS = len(SPECIAL_TOKENS)
METASPACE = "▁"  # the tokenizer's word-start mark (Metaspace pre-tokenizer)
TIP, SEP, EOW = range(3)  # rows of INarIG.instruction; ids vocab_size + row

DEFAULTS = dict(
    SHARED_DEFAULTS,
    label_smoothing=0.1,
    max_subwords=6,  # passes per word before giving up (German compounds: 3-4 pieces are common)
    example_seed=1,
)


def word_piece_text(text: str) -> bool:
    """Whether a piece's text (without "▁") can be part of a word: letters and hyphens only."""
    return text != "" and all(ch.isalpha() or ch == "-" for ch in text)


class _PrefixIndex:
    """Pieces sorted by text: the ones a remaining typed text ``rest`` allows, found by binary search.

    A piece fits when it extends ``rest`` (text starts with rest: one contiguous range of the sorted
    texts) or is a proper prefix of it (at most len(rest) dictionary look-ups).
    """

    def __init__(self, entries: list[tuple[str, int]]):
        entries.sort()
        self.texts = [text for text, _ in entries]
        self.ids = torch.tensor([i for _, i in entries], dtype=torch.long)
        self.by_text: dict[str, list[int]] = {}
        for text, i in entries:
            self.by_text.setdefault(text, []).append(i)

    def extends(self, rest: str) -> bool:
        """Whether some piece starts with ``rest``."""
        lo = bisect.bisect_left(self.texts, rest)
        return lo < len(self.texts) and self.texts[lo].startswith(rest)

    def allowed(self, rest: str, fits=lambda rest_after: True) -> torch.Tensor:
        """``fits(rest_after)`` keeps a shorter piece only if what it leaves of ``rest`` can still be spelt."""
        lo = bisect.bisect_left(self.texts, rest)
        hi = bisect.bisect_left(self.texts, rest + "\U0010ffff")
        shorter = [i for k in range(len(rest)) if fits(rest[k:]) for i in self.by_text.get(rest[:k], [])]
        if not shorter:
            return self.ids[lo:hi]
        return torch.cat([self.ids[lo:hi], torch.tensor(shorter, dtype=torch.long)])


class PieceTable:
    """What decoding and example generation need to know about the vocabulary's spelling.

    A word is a word-initial piece ("▁Haus", or a bare "▁" before a rare first letter) followed by
    continuation pieces (no "▁"). ``text[i]`` is piece i's text without "▁", or None for pieces that
    cannot be part of a word (specials, digits, punctuation).
    """

    def __init__(self, tokenizer):
        self.vocab_size = tokenizer.vocab_size
        self.initial = [False] * self.vocab_size
        self.text: list[str | None] = [None] * self.vocab_size
        self.char_ids: dict[str, int] = {}
        initial: list[tuple[str, int]] = []
        continuation: list[tuple[str, int]] = []
        for i in range(NUM_SPECIALS, self.vocab_size):
            piece = tokenizer.id_to_token(i)
            if piece is None:
                continue
            is_initial = piece.startswith(METASPACE)
            self.initial[i] = is_initial
            text = piece[1:] if is_initial else piece
            if word_piece_text(text) or (is_initial and text == ""):
                self.text[i] = text
                (initial if is_initial else continuation).append((text, i))
            if len(piece) == 1 and piece != METASPACE:
                self.char_ids[piece] = i
        for i in range(NUM_SPECIALS, self.vocab_size):  # a character only seen word-initially: "▁x"
            piece = tokenizer.id_to_token(i)
            if piece and len(piece) == 2 and self.initial[i]:
                self.char_ids.setdefault(piece[1], i)
        self._initial = _PrefixIndex(initial)
        self._continuation = _PrefixIndex(continuation)

    def typed_ids(self, typed: str) -> list[int] | None:
        """Character tokens of the typed text, or None if a character has no piece of its own."""
        ids = [self.char_ids.get(ch) for ch in typed]
        return None if None in ids else cast(list[int], ids)

    def unknown_characters(self, typed: str) -> list[str]:
        return sorted({ch for ch in typed if ch not in self.char_ids})

    def allowed(self, typed: str, decoded: str, first: bool, slots: int = 1_000) -> torch.Tensor:
        """Piece ids that keep the word ``decoded`` + piece consistent with ``typed`` (next pass), and leave
        a rest of ``typed`` that the remaining ``slots`` - 1 continuation pieces can still spell: greedy
        decoding then never walks into a dead end (four single letters, a fifth one typed, no room)."""
        rest = typed[len(decoded) :]
        index = self._initial if first else self._continuation
        return index.allowed(rest, lambda rest_after: self.pieces_to_spell(rest_after) <= slots - 1)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one table per model, built once)
    def pieces_to_spell(self, rest: str) -> float:
        """Fewest continuation pieces that spell ``rest`` or a word starting with it (inf if none can)."""
        if not rest:
            return 0
        best = math.inf
        if self._continuation.extends(rest):
            best = 1
        for k in range(1, len(rest)):
            if rest[:k] in self._continuation.by_text:
                best = min(best, 1 + self.pieces_to_spell(rest[k:]))
        return best

    def spell(self, ids: list[int]) -> str | None:
        """The word these pieces spell, or None if they are not one word (no "▁" first, a non-word piece)."""
        if not ids or not self.initial[ids[0]] or any(self.initial[i] for i in ids[1:]):
            return None
        texts = [self.text[i] if 0 <= i < self.vocab_size else None for i in ids]
        return None if None in texts else "".join(cast(list[str], texts))

    def word_spans(self, ids: list[int]) -> list[tuple[int, int]]:
        """(start, end) of every word of a target: a span starts at each word-initial piece."""
        starts = [k for k, i in enumerate(ids) if 0 <= i < self.vocab_size and self.initial[i]]
        return [(s, e) for s, e in zip(starts, starts[1:] + [len(ids)], strict=False)]


@dataclass
class Completion:
    """A suggestion: ``word`` (empty when there is none, and ``reason`` says why)."""

    word: str
    reason: str = ""
    truncated: bool = False  # source or context cut to the model's length limits
    passes: int = 0  # decoder passes (subwords + the end-of-word pass)
    seconds: float = 0.0


class INarIG(TranslationModel):
    architecture = "inarig"
    family = NAR_FAMILY
    decoding_defaults = {"max_subwords": DEFAULTS["max_subwords"]}
    targets_with_eos = False
    engine_class: ClassVar[type[WLACEngine]]  # set below the engine's definition (torch_engine.load uses it)

    def __init__(self, config: dict):
        config = {**DEFAULTS, **config}
        super().__init__(config)
        c = self.config
        self.backbone = NATBackbone(c)
        self.instruction = nn.Embedding(3, c["d_model"])  # [TIP], [SEP], [EOW]
        nn.init.normal_(self.instruction.weight, std=c["d_model"] ** -0.5)
        self.vocab_size = c["vocab_size"]
        self.tip_id, self.sep_id, self.eow_id = (self.vocab_size + k for k in (TIP, SEP, EOW))
        self.pieces: PieceTable | None = None

    def use_tokenizer(self, tokenizer) -> None:
        """The model spells words with the tokenizer's pieces (training examples, typed characters, constraints)."""
        if tokenizer.vocab_size != self.vocab_size:
            raise ValueError(f"tokenizer has {tokenizer.vocab_size} pieces, the model {self.vocab_size}")
        self.pieces = PieceTable(tokenizer)

    def _table(self) -> PieceTable:
        if self.pieces is None:
            raise RuntimeError("INarIG needs use_tokenizer(tokenizer) before training or decoding")
        return self.pieces

    # ----------------------------------------------------------------------------------------- parts
    def _embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Embeddings of vocabulary ids and of the instruction ids past the vocabulary.

        Two lookups and a select, not one lookup in a concatenated table: concatenating copies the whole
        vocabulary matrix on every pass, which at batch 1 costs more than the decoder itself."""
        instruction = ids >= self.vocab_size
        x = self.backbone.embed(ids.masked_fill(instruction, PAD))
        x = torch.where(instruction.unsqueeze(-1), self.instruction((ids - self.vocab_size).clamp(min=0)), x)
        return x * self.backbone.embed_scale

    def _logits(self, states: torch.Tensor) -> torch.Tensor:
        """Scores of all V + 3 output ids for decoder states (N, d); tied with ``_embed``."""
        if self.backbone.output_projection is not None:  # int8 inference (quantize.quantize_int8)
            vocab = self.backbone.output_projection(states)
        else:
            vocab = F.linear(states, self.backbone.embed.weight)
        return torch.cat([vocab, F.linear(states, self.instruction.weight)], -1)

    def instruction_input(self, left: list[int], typed: list[int], decoded: list[int], right: list[int]):
        """Decoder input ids for one pass and the position of its [MASK]."""
        head = [*left, self.tip_id, *typed, self.sep_id, *decoded]
        return [*head, MASK, *right], len(head)

    def _gap_states(self, rows: list[list[int]], gaps: list[int], memory, src_mask) -> torch.Tensor:
        tokens = pad_sequences(rows, PAD, memory.device)
        states = self.backbone.decode_states(self._embed(tokens), tokens.ne(PAD), memory, src_mask)
        return states[torch.arange(len(rows), device=memory.device), torch.tensor(gaps, device=memory.device)]

    # -------------------------------------------------------------------------------------- training
    def training_examples(
        self, tgt: torch.Tensor, step: int
    ) -> list[tuple[int, list[int], list[int], list[int], list[int]]]:
        """One WLAC example per target row: (row, left ids, typed ids, word ids, right ids), deterministic in step."""
        table = self._table()
        rng = random.Random(self.config["example_seed"] * 1_000_003 + step)
        examples = []
        for row, ids in enumerate(tgt.tolist()):
            ids = [i for i in ids if i not in (PAD, EOS)]
            spans = table.word_spans(ids)
            gap = choose_gap(rng, [table.spell(ids[s:e]) for s, e in spans])
            if gap is None:
                continue
            index, kind, n_typed = gap
            start, end = spans[index]
            spelled = table.spell(ids[start:end])
            assert spelled is not None  # choose_gap only picks words that spell (None marks the others)
            typed = table.typed_ids(spelled[:n_typed])
            if typed is None:
                continue
            left = ids[:start] if kind in ("left", "both") else []
            right = ids[end:] if kind in ("right", "both") else []
            examples.append((row, left, typed, ids[start:end], right))
        return examples

    def loss(self, batch: Batch, step: int):
        src_mask = batch.src.ne(PAD)
        rows, gaps, labels, owners = [], [], [], []
        for row, left, typed, word, right in self.training_examples(batch.tgt, step):
            for j in range(len(word) + 1):
                seq, gap = self.instruction_input(left, typed, word[:j], right)
                rows.append(seq)
                gaps.append(gap)
                labels.append(word[j] if j < len(word) else self.eow_id)
                owners.append(row)
        if not rows:  # no completable word in the batch: a zero loss that still reaches every parameter
            zero = sum(p.sum() for p in self.parameters()) * 0.0
            return zero, {"tokens": 0, "examples": 0}
        memory = self.backbone.encode(batch.src, src_mask)
        index = torch.tensor(owners, device=memory.device)
        states = self._gap_states(rows, gaps, memory.index_select(0, index), src_mask.index_select(0, index))
        logits = self._logits(states).float()
        target = torch.tensor(labels, device=logits.device)
        loss = F.cross_entropy(logits, target, label_smoothing=self.config["label_smoothing"])
        with torch.no_grad():
            accuracy = float((logits.argmax(-1) == target).float().mean())
        return loss, {"tokens": len(rows), "examples": len(set(owners)), "pass_accuracy": round(accuracy, 4)}

    # -------------------------------------------------------------------------------------- decoding
    @torch.no_grad()
    def complete(
        self, src: torch.Tensor, left: list[int], right: list[int], typed: str, max_subwords: int | None = None
    ) -> tuple[list[int], str, int]:
        """Complete the word at the gap for one source (1, S): (its piece ids, reason if none, passes run).

        Greedy under the prefix constraint: each pass picks the best allowed subword or [EOW] and stops at
        [EOW]; a word of ``max_subwords`` pieces that covers the typed text ends there. When no word of at
        most ``max_subwords`` pieces can start with ``typed``, no pass runs: no ids, and the reason.
        """
        table = self._table()
        max_subwords = int(max_subwords or self.config["max_subwords"])
        typed_ids = table.typed_ids(typed)
        if typed_ids is None:
            return [], f"unknown character(s) {table.unknown_characters(typed)}: no word of the vocabulary has them", 0
        allowed = table.allowed(typed, "", True, max_subwords)
        if allowed.numel() == 0:  # checked before any pass; later passes always keep a way to finish
            return [], f"no word of at most {max_subwords} subwords starts with {typed!r}", 0
        src_mask = src.ne(PAD)
        memory = self.backbone.encode(src, src_mask)
        eow = torch.tensor([self.eow_id], device=src.device)
        decoded: list[int] = []
        text = ""
        for passes in range(1, max_subwords + 2):
            if decoded:
                slots = max_subwords - len(decoded)
                allowed = table.allowed(typed, text, False, slots) if slots else eow[:0]
                if len(text) >= len(typed):
                    if allowed.numel() == 0:  # max_subwords reached: the word ends here, no pass needed
                        return decoded, "", passes - 1
                    allowed = torch.cat([allowed, eow])
            allowed = allowed.to(src.device)
            seq, gap = self.instruction_input(left, typed_ids, decoded, right)
            state = self._gap_states([seq], [gap], memory, src_mask)
            # The full projection, then the allowed columns: one matrix-vector product beats gathering rows.
            choice = int(allowed[self._logits(state)[0, allowed].argmax()])
            if choice == self.eow_id:
                return decoded, "", passes
            decoded.append(choice)
            piece = table.text[choice]
            assert piece is not None  # allowed pieces are word pieces, which all have a text
            text += piece
        raise AssertionError("unreachable: the last pass allows only [EOW]")

    def generate(self, src: torch.Tensor, **options):
        raise EngineError("INarIG completes words (complete / complete_word); it does not translate sentences")

    @torch.no_grad()
    def validation_scores(self, tokenizer, sources: list[str], references: list[str], decoding: dict, device) -> dict:
        """train.py's validation for this family: WLAC accuracy@1 (percent) on examples cut from the valid pairs."""
        self.eval()
        info = EngineInfo("validation", NAR, self.architecture, "", "")
        engine = WLACEngine(self, tokenizer, info, torch.device(device))
        examples = list(wlac_examples(sources, references, seed=1))
        hits = 0
        shown: list[str] = []
        for e in examples:
            got = engine.complete_word(e.source, e.left, e.right, e.typed, **decoding).word
            hits += got == e.word
            if len(shown) < 3:
                shown.append(f"{e.typed}… → {got} (ref {e.word}, {e.context})")
        self.train()
        accuracy = 100 * hits / max(len(examples), 1)
        return {"valid_score": round(accuracy, 2), "valid_wlac_accuracy": round(accuracy, 2), "valid_examples": shown}


MAX_INPUT_CHARS = 20_000  # longer source or context: refused (a paste gone wrong, not a sentence)
MAX_TYPED_CHARS = 48


class WLACEngine(TorchEngine):
    """The engine of an INarIG checkpoint: ``complete_word`` for the site; it does not translate."""

    def __init__(self, model: INarIG, tokenizer, info, device: torch.device):
        super().__init__(model, tokenizer, info, device)
        if model.pieces is None:  # a model fresh from its folder (training's validation has one already)
            model.use_tokenizer(tokenizer)
        # Room for the instruction unit in the decoder's input (sinusoidal positions have no hard limit,
        # but the model never saw targets past max_positions).
        self.max_context_tokens = (
            int(model.config["max_positions"]) - MAX_TYPED_CHARS - model.config["max_subwords"] - 3
        )

    def _translate(self, sentences, **options):
        raise EngineError(f"{self.info.name} completes words (complete_word); it does not translate sentences")

    def warm_up(self) -> None:
        self.complete_word(WARM_UP_TEXT.get(self.info.source_lang, "1."), "", "", "a")

    def _context_ids(self, left: str, right: str) -> tuple[list[int], list[int], bool]:
        """Token ids of the context, cut to the budget keeping the words nearest the gap."""
        left_ids = self.tokenizer.encode([left])[0] if left.strip() else []
        right_ids = self.tokenizer.encode([right])[0] if right.strip() else []
        budget = self.max_context_tokens
        if len(left_ids) + len(right_ids) <= budget:
            return left_ids, right_ids, False
        keep_right = min(len(right_ids), max(budget // 2, budget - len(left_ids)))
        keep_left = budget - keep_right
        return left_ids[len(left_ids) - keep_left :], right_ids[:keep_right], True

    @torch.inference_mode()
    def complete_word(self, source: str, left: str = "", right: str = "", typed: str = "", **options) -> Completion:
        """The word at the gap between ``left`` and ``right`` that starts with ``typed``.

        Bad input raises EngineError (empty source, no typed character, spaces in ``typed``, absurdly long
        text); typed characters no word can have give an empty suggestion with the reason.
        """
        start = time.perf_counter()
        unknown = set(options) - set(self.model.decoding_defaults)
        if unknown:
            raise EngineError(f"{self.info.name} does not accept option(s) {sorted(unknown)}")
        for name, value in (("source", source), ("left", left), ("right", right), ("typed", typed)):
            if not isinstance(value, str):
                raise EngineError(f"{name} must be text, not {type(value).__name__}")
            if len(value) > MAX_INPUT_CHARS:
                raise EngineError(f"{name} has {len(value):,} characters; at most {MAX_INPUT_CHARS:,} are accepted")
        if not source.strip():
            raise EngineError("empty source: there is nothing to complete a translation of")
        typed = unicodedata.normalize("NFKC", typed)
        if not typed:
            raise EngineError("type at least one character of the word")
        if any(ch.isspace() for ch in typed):
            raise EngineError("typed characters must be part of one word (no spaces)")
        if len(typed) > MAX_TYPED_CHARS:
            raise EngineError(f"typed text has {len(typed)} characters; words are at most {MAX_TYPED_CHARS}")
        if not WORD.fullmatch(typed.rstrip("-")):
            return Completion("", f"{typed!r}: only words of letters (and inner hyphens) are completed")
        src_ids = self.tokenizer.encode([source])[0]
        truncated = len(src_ids) > self.max_source_tokens - 1
        src = pad_sequences([src_ids[: self.max_source_tokens - 1] + [self.tokenizer.eos_id]], PAD, self.device)
        left_ids, right_ids, cut = self._context_ids(left, right)
        ids, reason, passes = self.model.complete(src, left_ids, right_ids, typed, **options)
        word = (self.model.pieces.spell(ids) or "") if ids else ""
        return Completion(word, reason, truncated or cut, passes, time.perf_counter() - start)


INarIG.engine_class = WLACEngine
