"""Qwen3-Reranker's prompt, exactly as its authors build it, split where the mail ends.

The official recipe (QwenLM/Qwen3-Embedding) is ``PREFIX + "<Instruct>: …\\n<Query>: …\\n<Document>: …"
+ SUFFIX``. We put the mail in ``<Query>`` and the label in ``<Document>``, so every label of a mail
shares one token prefix (``PREFIX`` + instruction + mail): the in-process backends compute it once.
The split is at ``"\\n<Document>"``: Qwen's pre-tokenizer always breaks before ``<`` after a newline,
so tokenizing the two halves separately gives the same ids as tokenizing the whole official string.

Mail text is data: it is tokenized with ``split_special_tokens=True`` so a mail that contains
``<|im_end|>`` cannot close the user turn. Truncation cuts the mail only, never the label or template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SYSTEM_PROMPT = (
    "Judge whether the Document meets the requirements based on the Query and the Instruct provided. "
    'Note that the answer can only be "yes" or "no".'
)
PREFIX = f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n"
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
TRUE_TOKEN, FALSE_TOKEN = "yes", "no"


def format_instruction(instruction: str | None, query: str, doc: str) -> str:
    """The official user turn (``format_instruction`` of the model card)."""
    if instruction is None:
        instruction = DEFAULT_INSTRUCTION
    return f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}"


def format_pair(instruction: str | None, query: str, doc: str) -> str:
    """The whole prompt of one (query, document) pair as a string."""
    return PREFIX + format_instruction(instruction, query, doc) + SUFFIX


def query_segment(instruction: str | None, query: str) -> str:
    """The shared part of the user turn: everything up to and including the newline after the query."""
    return f"<Instruct>: {instruction or DEFAULT_INSTRUCTION}\n<Query>: {query}\n"


def document_segment(doc: str) -> str:
    """The per-label part of the user turn."""
    return f"<Document>: {doc}"


@dataclass(frozen=True)
class PromptTokens:
    """Token ids of one mail against a label set: ``prefix + suffixes[j]`` is pair *j*'s prompt."""

    prefix: list[int]
    suffixes: list[list[int]]
    truncated: bool

    def pair(self, j: int) -> list[int]:
        return self.prefix + self.suffixes[j]


class PromptTokenizer:
    """Builds token ids for (mail, labels) with the official template, truncating only the mail.

    ``max_length`` bounds every pair's prompt. All labels of a mail share one prefix, so the mail is
    cut to fit next to the *longest* label: a prefix that differed per label could not be shared.
    """

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.prefix_ids = self._encode(PREFIX, split_special=False)
        self.suffix_ids = self._encode(SUFFIX, split_special=False)
        self.true_id = int(tokenizer.convert_tokens_to_ids(TRUE_TOKEN))
        self.false_id = int(tokenizer.convert_tokens_to_ids(FALSE_TOKEN))

    def _encode(self, text: str, *, split_special: bool = True) -> list[int]:
        ids = self.tokenizer(text, add_special_tokens=False, split_special_tokens=split_special)["input_ids"]
        return list(ids)

    def label_suffixes(self, labels: Sequence[str]) -> list[list[int]]:
        """Per-label ids: the document segment, then the template's closing suffix."""
        return [self._encode(document_segment(label)) + self.suffix_ids for label in labels]

    def build(self, mail: str, labels: Sequence[str], instruction: str | None = None) -> PromptTokens:
        """Prefix ids for ``mail`` (cut to fit beside the longest label) and one suffix per label."""
        suffixes = self.label_suffixes(labels)
        return self.build_with_suffixes(mail, suffixes, instruction)

    def build_with_suffixes(
        self, mail: str, suffixes: list[list[int]], instruction: str | None = None
    ) -> PromptTokens:
        """Like :meth:`build` with label suffixes already tokenized (they are shared by a batch)."""
        longest = max((len(s) for s in suffixes), default=0)
        budget = self.max_length - len(self.prefix_ids) - longest
        ids = self._encode(query_segment(instruction, mail))
        if len(ids) <= budget:
            return PromptTokens(self.prefix_ids + ids, suffixes, truncated=False)
        empty = len(self._encode(query_segment(instruction, "")))
        if budget < empty:
            raise ValueError(
                f"max_length {self.max_length} leaves no room for the mail next to a "
                f"{longest}-token label and the template"
            )
        # Cut the mail's own tokens, decode, re-encode the segment; BPE merges at the new end can
        # shift the count by a token or two, so shrink until it fits.
        mail_ids = self._encode(mail)
        keep = min(len(mail_ids), budget - empty)
        while True:
            cut = self.tokenizer.decode(mail_ids[:keep])
            ids = self._encode(query_segment(instruction, cut))
            if len(ids) <= budget or keep == 0:
                return PromptTokens(self.prefix_ids + ids, suffixes, truncated=True)
            keep -= max(1, len(ids) - budget)
