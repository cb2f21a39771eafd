"""Warm-starting a model whose subword vocabulary differs from its teacher's (e.g. en→de weights → en→pt).

A model trained from scratch first learns a target-language model and only later learns to read the source;
on a small corpus that can take longer than the CPU budget (our en→pt students stayed source-blind for 1,000+
steps). Starting from a trained model of another pair skips that phase: the encoder already reads English and
the decoder already attends to it. Only the vocabulary-indexed rows (embeddings, output bias) must be mapped:

- a piece present in both vocabularies keeps its trained row;
- any other piece starts as the mean of the rows of the teacher's pieces that spell it (the usual subword
  "mean of parts" initialisation), so ``▁Pressione`` begins near ``▁Press`` + ``ione``;
- a piece the teacher cannot spell at all (only unknown characters) keeps the student's fresh initialisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .tokenizer import SPECIAL_TOKENS, SubwordTokenizer

SPACE = "▁"  # the Metaspace word-boundary marker of our tokenizers


@dataclass
class VocabularyMap:
    sources: list[list[int]]  # for each student id: the teacher ids whose rows it starts from ([] = fresh)
    teacher_size: int
    exact: int
    composed: int
    fresh: int

    def summary(self) -> str:
        return f"{self.exact} pieces kept, {self.composed} composed from teacher pieces, {self.fresh} fresh"


def same_vocabulary(a: SubwordTokenizer, b: SubwordTokenizer) -> bool:
    return a.vocabulary() == b.vocabulary()


def vocabulary_map(student: SubwordTokenizer, teacher: SubwordTokenizer) -> VocabularyMap:
    teacher_ids = teacher.vocabulary()
    sources, exact, composed, fresh = [], 0, 0, 0
    for student_id in range(student.vocab_size):
        piece = student.id_to_token(student_id)
        if student_id < len(SPECIAL_TOKENS) or piece in teacher_ids:
            sources.append([teacher_ids[piece]])  # special tokens have fixed ids in every tokenizer
            exact += 1
            continue
        spelled = _spell(piece, teacher)
        sources.append(spelled)
        composed += bool(spelled)
        fresh += not spelled
    return VocabularyMap(sources, teacher.vocab_size, exact, composed, fresh)


def _spell(piece: str, teacher: SubwordTokenizer) -> list[int]:
    """Teacher ids that spell ``piece``; a word-internal piece drops the leading boundary the teacher adds."""
    text = piece.replace(SPACE, " ")
    tokens = teacher.tokens(text)
    if not piece.startswith(SPACE) and tokens and tokens[0] == SPACE:
        tokens = tokens[1:]
    ids = [teacher.token_id(token) for token in tokens]
    return [i for i in ids if i is not None and i != teacher.unk_id]


@torch.no_grad()
def map_rows(teacher_value: torch.Tensor, student_value: torch.Tensor, mapping: VocabularyMap) -> torch.Tensor | None:
    """The teacher tensor with every vocabulary-sized dimension re-indexed to the student's vocabulary,
    starting from the student's own values (kept where a piece is fresh); None if the shapes cannot match."""
    teacher_size, student_size = mapping.teacher_size, len(mapping.sources)
    vocab_dims = [d for d, n in enumerate(teacher_value.shape) if n == teacher_size]
    if not vocab_dims or teacher_value.dim() != student_value.dim():
        return None
    expected = [student_size if d in vocab_dims else n for d, n in enumerate(teacher_value.shape)]
    if list(student_value.shape) != expected or len(vocab_dims) != 1:
        return None
    dim = vocab_dims[0]
    source = teacher_value.movedim(dim, 0).to(student_value.dtype)
    result = student_value.movedim(dim, 0).clone()
    for student_id, teacher_ids in enumerate(mapping.sources):
        if teacher_ids:
            result[student_id] = source[teacher_ids].mean(0)
    return result.movedim(0, dim)
