"""BERT's uncased WordPiece tokenizer, the one all-MiniLM-L6-v2 was trained with, in plain
Python: text -> token ids, as HuggingFace's ``BertTokenizer`` (``do_lower_case=True``) gives
them (tests/test_semantic.py compares the two on a table of texts).

The vocabulary (30,522 pieces, Apache-2.0, from bert-base-uncased) ships as ``vocab.txt.gz``.
Written here rather than taken from the ``tokenizers`` package, which would bring
huggingface-hub and its downloader along for a job of sixty lines.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

CLS, SEP, UNK = "[CLS]", "[SEP]", "[UNK]"
_SPECIALS = frozenset(("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"))
_SPECIAL = re.compile(r"(\[(?:PAD|UNK|CLS|SEP|MASK)\])")
MAX_WORD = 100  # characters; a longer word is [UNK], as in BERT
_WINDOW = 2048  # characters tokenized at a time: a long note is read only as far as needed


@dataclass(frozen=True)
class WordPiece:
    vocab: dict[str, int]

    def encode(self, text: str, max_tokens: int) -> list[int]:
        """[CLS], the pieces of ``text`` (at most ``max_tokens - 2`` of them), [SEP]. Only the
        start of a long text is looked at."""
        vocab, room = self.vocab, max_tokens - 2
        ids = [vocab[CLS]]
        start = 0
        while start < len(text) and len(ids) <= room:
            end = start + _WINDOW
            if end < len(text):  # cut at a space, so that no word is cut
                space = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
                end = space + 1 if space > start else end
            for part in _SPECIAL.split(text[start:end]):
                if part in _SPECIALS:  # written out in the text, it is that token, as in BERT
                    ids.append(vocab[part])
                    continue
                for word in basic_tokens(part):
                    ids.extend(self.pieces(word))
                    if len(ids) > room:
                        break
                if len(ids) > room:
                    break
            start = end
        del ids[room + 1 :]
        ids.append(vocab[SEP])
        return ids

    def pieces(self, word: str) -> list[int]:
        """Greedy longest-match-first: ``unaffable`` -> un ##aff ##able; [UNK] when some
        part of the word is in no piece."""
        vocab = self.vocab
        if len(word) > MAX_WORD:
            return [vocab[UNK]]
        out: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [vocab[UNK]]
            out.append(found)
            start = end
        return out


@cache
def load() -> WordPiece:
    asset = resources.files("papernotes.engine.semantic").joinpath("vocab.txt.gz")
    lines = gzip.decompress(asset.read_bytes()).decode("utf-8").split("\n")
    return WordPiece({line: i for i, line in enumerate(lines) if line})


def basic_tokens(text: str) -> list[str]:
    """BERT's basic tokenization: control characters dropped, whitespace normalised, CJK
    ideographs and punctuation made words of their own, lower case, accents removed."""
    spaced: list[str] = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or _is_control(char):
            continue
        if _is_whitespace(char):
            spaced.append(" ")
        elif _is_cjk(code):
            spaced.append(f" {char} ")
        else:
            spaced.append(char)
    words: list[str] = []
    for token in "".join(spaced).split():
        token = unicodedata.normalize("NFD", token.lower())
        token = "".join(c for c in token if unicodedata.category(c) != "Mn")
        current: list[str] = []
        for char in token:
            if _is_punctuation(char):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(char)
            else:
                current.append(char)
        if current:
            words.append("".join(current))
    return words


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char) in ("Cc", "Cf")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )
