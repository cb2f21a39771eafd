"""One shared subword vocabulary per language pair (HF ``tokenizers`` unigram), saved with each model.

Special ids are fixed so every model family can rely on them: pad=0, eos=1, unk=2, mask=3 (CMLM),
blank=4 (CTC), bos=5.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

SPECIAL_TOKENS = ["<pad>", "</s>", "<unk>", "<mask>", "<blank>", "<s>"]
PAD, EOS, UNK, MASK, BLANK, BOS = range(len(SPECIAL_TOKENS))
FILE_NAME = "tokenizer.json"


class SubwordTokenizer:
    def __init__(self, tokenizer: Tokenizer):
        self._tok = tokenizer
        for expected, token in enumerate(SPECIAL_TOKENS):
            if tokenizer.token_to_id(token) != expected:
                raise ValueError(f"tokenizer special token {token!r} must have id {expected}")

    pad_id, eos_id, unk_id, mask_id, blank_id, bos_id = PAD, EOS, UNK, MASK, BLANK, BOS

    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size()

    def encode(self, texts: list[str]) -> list[list[int]]:
        return [enc.ids for enc in self._tok.encode_batch(texts)]

    def decode(self, ids_batch: list[list[int]]) -> list[str]:
        return self._tok.decode_batch(ids_batch, skip_special_tokens=True)

    def tokens(self, text: str) -> list[str]:
        return self._tok.encode(text).tokens

    def id_to_token(self, i: int) -> str:
        token = self._tok.id_to_token(i)
        if token is None:
            raise IndexError(f"token id {i} is outside the vocabulary")
        return token

    def token_id(self, piece: str) -> int | None:
        return self._tok.token_to_id(piece)

    def normalize(self, text: str) -> str:
        """The text as the tokenizer sees it before cutting it into pieces (e.g. NFKC)."""
        normalizer = self._tok.normalizer
        return normalizer.normalize_str(text) if normalizer is not None else text

    def vocabulary(self) -> dict[str, int]:
        return self._tok.get_vocab()

    def save(self, folder: str | Path) -> None:
        self._tok.save(str(Path(folder) / FILE_NAME))

    @classmethod
    def load(cls, folder: str | Path) -> SubwordTokenizer:
        path = Path(folder) / FILE_NAME if Path(folder).is_dir() else Path(folder)
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: no tokenizer in this folder")
        try:
            return cls(Tokenizer.from_file(str(path)))
        except Exception as exc:  # tokenizers raises a bare Exception on corrupt JSON
            raise ValueError(f"{path} is not a valid tokenizer file: {exc}") from None

    @classmethod
    def train(cls, files: list[str | Path], vocab_size: int = 8000) -> SubwordTokenizer:
        tok = Tokenizer(models.Unigram())
        tok.normalizer = normalizers.NFKC()
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, unk_token="<unk>", show_progress=False
        )
        tok.train([str(f) for f in files], trainer)
        return cls(tok)


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m translator train-tokenizer")
    parser.add_argument("files", nargs="+", help="text files, both languages of the pair")
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--out", required=True, help="folder to write tokenizer.json into")
    args = parser.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    tok = SubwordTokenizer.train(args.files, args.vocab_size)
    tok.save(args.out)
    print(f"wrote {Path(args.out) / FILE_NAME} ({tok.vocab_size} tokens)")
    return 0
