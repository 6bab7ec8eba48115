"""Wikipedia text, offline: the article sample shipped in gensim's test data.

``articles()`` returns the 107 cleaned articles (title, text); ``split()`` divides them,
by article, into train and test; ``tokenizer(vocab_size)`` is a byte-level BPE trained on
the train split; ``blocks(ids, block_len)`` cuts token ids into fixed-length rows.
Cleaned text, tokenizers and the token ids of each split are cached under ``~/.cache/autophagy`` (``AUTOPHAGY_CACHE``
overrides). The text is CC BY-SA (Wikipedia contributors).
"""

from __future__ import annotations

import bz2
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from ..files import atomic_write, checkpoint_bytes, read_checkpoint
from . import DataMissing
from .cache import cache_dir, check_sha256

FILENAME = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
SHA256 = "a53f4648dec40467ebdcbc7a1307eddb51fe6e28e9309f6ebde81ba0d04bea2d"
PACKAGE_HINT = "reinstall it with `pip install --force-reinstall gensim==4.4.0`"
CLEAN_VERSION = 1
TEST_EVERY = 10  # every tenth article (in file order) is held out
MIN_WORDS = 12  # shorter paragraphs (captions, list debris) are dropped
END_SECTIONS = (
    "references",
    "external links",
    "see also",
    "further reading",
    "notes",
    "bibliography",
    "sources",
    "footnotes",
    "citations",
)


def corpus_path() -> Path:
    """The gensim Wikipedia sample, checked against its SHA-256."""
    spec = find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise DataMissing(f"gensim is not installed: {PACKAGE_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / "test" / "test_data" / FILENAME
    if not path.exists():
        raise DataMissing(f"{path} is missing: {PACKAGE_HINT}")
    check_sha256(path, SHA256, PACKAGE_HINT, "Wikipedia sample")
    return path


_RULES = [
    (re.compile(r"'{2,}"), ""),  # bold and italics
    (re.compile(r"<[^>]*>"), " "),  # leftover tags
    (re.compile(r"\[\[|\]\]|\{\{|\}\}"), " "),  # unmatched link and template brackets
    (re.compile(r"\(\s*[;,:]?\s*(?:[;,:]\s*)*\)"), ""),  # parentheses emptied by filter_wiki
    (re.compile(r"\(\s*[;,]\s*"), "("),
    (re.compile(r"\s+([,.;:!?)])"), r"\1"),
    (re.compile(r"[ \t]+"), " "),
]


def clean(markup: str) -> str:
    """Plain prose paragraphs (one per line) from an article's wiki markup."""
    from gensim.corpora.wikicorpus import filter_wiki

    paragraphs = []
    for line in filter_wiki(markup).splitlines():
        line = line.strip()
        heading = re.fullmatch(r"=+\s*(.*?)\s*=+", line)
        if heading:
            if heading.group(1).lower() in END_SECTIONS:
                break
            continue
        if not line or line[0] in "*#:;|!{}=" or line.lower().startswith(("thumb", "file:", "image:")):
            continue
        for rule, replacement in _RULES:
            line = rule.sub(replacement, line)
        line = line.strip()
        if len(line.split()) >= MIN_WORDS:
            paragraphs.append(line)
    return "\n".join(paragraphs)


def articles() -> list[tuple[str, str]]:
    """Every non-redirect article of the sample as (title, cleaned text), in file order."""
    path = cache_dir() / f"wiki_clean_v{CLEAN_VERSION}.json"
    if path.exists():
        return [tuple(item) for item in json.loads(path.read_text())]
    from gensim.corpora.wikicorpus import extract_pages

    with bz2.open(corpus_path()) as handle:
        out = []
        for title, markup, _ in extract_pages(handle, filter_namespaces=("0",)):
            if markup.lstrip().lower().startswith("#redirect"):
                continue
            text = clean(markup)
            if text:
                out.append((title, text))
    atomic_write(path, json.dumps(out).encode())
    return out


def split() -> tuple[list[str], list[str]]:
    """(train texts, test texts): every tenth article is test, the rest train."""
    texts = [text for _, text in articles()]
    test = texts[TEST_EVERY - 1 :: TEST_EVERY]
    train = [t for i, t in enumerate(texts) if i % TEST_EVERY != TEST_EVERY - 1]
    return train, test


@lru_cache(maxsize=4)
def tokenizer(vocab_size: int = 2048):
    """A byte-level BPE (``tokenizers.Tokenizer``) trained on the train split, cached."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    path = cache_dir() / f"bpe_wiki_v{CLEAN_VERSION}_{vocab_size}.json"
    if path.exists():
        return Tokenizer.from_file(str(path))
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(split()[0], trainer=trainer)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tok.save(str(tmp))
    os.replace(tmp, path)
    return tok


def blocks(ids: np.ndarray, block_len: int) -> np.ndarray:
    """Consecutive, non-overlapping rows of ``block_len`` token ids (the tail is dropped)."""
    ids = np.asarray(ids)
    n = len(ids) // block_len
    return ids[: n * block_len].reshape(n, block_len)


@dataclass(frozen=True)
class Corpus:
    """Token-id blocks of the train and test splits, and how to decode them.

    ``encode(text)`` and ``decode(ids)`` map between text and ids; the blocks are int32
    arrays shaped (n_blocks, block_len).
    """

    train: np.ndarray
    test: np.ndarray
    vocab_size: int
    encode: object
    decode: object

    def decode_all(self, rows) -> list[str]:
        """The text of every row of token ids."""
        return [self.decode(list(map(int, row))) for row in rows]


def _ids(texts: list[str], encode) -> np.ndarray:
    """One stream of ids: articles joined by a newline, in order."""
    return np.asarray(encode("\n".join(texts)), dtype=np.int32)


def split_ids(vocab_size: int, encode) -> dict[str, np.ndarray]:
    """The token ids of the train and test splits under :func:`tokenizer` (``vocab_size``),
    cached beside it: encoding the train split takes seconds, reading it back milliseconds."""
    path = cache_dir() / f"wiki_ids_v{CLEAN_VERSION}_{vocab_size}.npz"
    if path.exists():
        return read_checkpoint(path)[0]
    train, test = split()
    ids = {"train": _ids(train, encode), "test": _ids(test, encode)}
    atomic_write(path, checkpoint_bytes(ids))
    return ids


@lru_cache(maxsize=4)
def corpus(block_len: int = 64, vocab_size: int = 2048) -> Corpus:
    """The Wikipedia sample as blocks of our BPE's token ids."""
    tok = tokenizer(vocab_size)

    def encode(text: str) -> list[int]:
        return tok.encode(text).ids

    def decode(ids) -> str:
        return tok.decode(list(ids))

    ids = split_ids(vocab_size, encode)
    return Corpus(
        blocks(ids["train"], block_len),
        blocks(ids["test"], block_len),
        tok.get_vocab_size(),
        encode,
        decode,
    )
