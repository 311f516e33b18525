"""Constrained decoding of the answer for transformers ``generate``.

Why a grammar of our own instead of ``outlines`` or ``lm-format-enforcer``: the answer has a
fixed, tiny grammar (the prompt's labels in order, four values, a quote), and one constraint no
JSON-Schema enforcer can express -- every evidence quote must be a substring of *this* report.
Walking that grammar takes ~200 lines with no dependency; the general libraries add a compiled
index per schema (outlines-core), pin transformers/tokenizer internals that change between
releases, and would still need the substring check on top. vLLM's own structured outputs are used
when vLLM runs the model (:mod:`.backends`); the substring check then happens after generation.

The grammar (one string per report, no free whitespace)::

    {"L1": {"value": V, "evidence": E}, "L2": {"value": V, "evidence": E}, ...}
    V := 1 | 0 | -1 | null
    E := null                      when V is null
         "<substring of the report>"   otherwise (1..max_quote_chars characters, no '"', '\\' or
                                       control characters, so it needs no JSON escape)

The grammar is finite, so generation always ends; an answer cut short by ``max_new_tokens`` is
invalid and goes through the retry/reject path like any other invalid answer.

:class:`TokenTable` maps every ordinary token id to the exact text it adds to the output
(built once per tokenizer by decoding ``anchor + token``), so the processor never tokenizes.
:class:`AnswerGrammar` is a character automaton over immutable states;
:func:`make_processor` builds the logits processor that masks, per row and step, every token
whose text would leave the grammar.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .prompt import VALUE_TOKENS

FORBIDDEN_IN_QUOTE = frozenset('"\\') | frozenset(chr(c) for c in range(0x20))
_END = ("end",)


class TokenTable:
    """Surface text of every ordinary token id, and the ids of each text."""

    def __init__(self, tokenizer):
        anchor = tokenizer.encode("a", add_special_tokens=False)
        anchor_text = tokenizer.decode(anchor)
        special = set(tokenizer.all_special_ids) | set(getattr(tokenizer, "added_tokens_decoder", {}) or {})
        n = len(tokenizer)
        ids = [i for i in range(n) if i not in special]
        texts = tokenizer.batch_decode(
            [anchor + [i] for i in ids], skip_special_tokens=False, clean_up_tokenization_spaces=False
        )
        self.strings: list[str | None] = [None] * n
        self.by_string: dict[str, list[int]] = {}
        for i, full in zip(ids, texts):
            if not full.startswith(anchor_text):
                continue
            s = full[len(anchor_text) :]
            if not s or "\ufffd" in s:  # empty, or a partial UTF-8 byte sequence
                continue
            self.strings[i] = s
            self.by_string.setdefault(s, []).append(i)
        self.max_len = max((len(s) for s in self.by_string), default=1)

    @classmethod
    def for_tokenizer(cls, tokenizer) -> TokenTable:
        table = getattr(tokenizer, "_reportlab_token_table", None)
        if table is None:
            table = cls(tokenizer)
            tokenizer._reportlab_token_table = table
        return table

    def ids_of_prefixes(self, candidates: Sequence[str]) -> set[int]:
        """Ids of every token whose text is a non-empty prefix of one of ``candidates``."""
        out: set[int] = set()
        get = self.by_string.get
        for c in candidates:
            for k in range(1, min(len(c), self.max_len) + 1):
                got = get(c[:k])
                if got:
                    out.update(got)
        return out


class AnswerGrammar:
    """The answer grammar of one report, as a character automaton.

    A state is ``(segment, sub, last_value)``; ``segment`` indexes :attr:`segments`, each
    ``("lit", text)``, ``("value",)`` or ``("evidence",)``.
    """

    def __init__(self, label_names: Sequence[str], report: str, max_quote_chars: int = 200):
        self.report = report
        self.max_quote = int(max_quote_chars)
        segs: list[tuple] = []
        for k, name in enumerate(label_names):
            head = "{" if k == 0 else "}, "
            segs += [
                ("lit", f'{head}{json.dumps(name)}: {{"value": '),
                ("value",),
                ("lit", ', "evidence": '),
                ("evidence",),
            ]
        segs.append(("lit", "}}"))
        self.segments = segs

    # -- states ----------------------------------------------------------------------------------
    def _enter(self, seg: int, last: str | None) -> tuple:
        if seg >= len(self.segments):
            return _END
        kind = self.segments[seg][0]
        if kind == "lit":
            return (seg, 0, last)
        if kind == "value":
            return (seg, "", last)
        return (seg, ("s",), last)

    def initial(self) -> tuple:
        return self._enter(0, None)

    @staticmethod
    def is_end(state) -> bool:
        return state == _END

    def step(self, state, ch: str):
        """The state after character ``ch``, or ``None`` if ``ch`` leaves the grammar."""
        if state is None or state == _END:
            return None
        seg, sub, last = state
        kind = self.segments[seg][0]
        if kind == "lit":
            text = self.segments[seg][1]
            if text[sub] != ch:
                return None
            return (seg, sub + 1, last) if sub + 1 < len(text) else self._enter(seg + 1, last)
        if kind == "value":
            p = sub + ch
            if p in VALUE_TOKENS:  # the value spellings are prefix-free
                return self._enter(seg + 1, p)
            return (seg, p, last) if any(v.startswith(p) for v in VALUE_TOKENS) else None
        mode = sub[0]
        if mode == "s":
            if last == "null":
                return (seg, ("n", 1), last) if ch == "n" else None
            return (seg, ("q", ""), last) if ch == '"' else None
        if mode == "n":
            k = sub[1]
            if "null"[k] != ch:
                return None
            return (seg, ("n", k + 1), last) if k + 1 < 4 else self._enter(seg + 1, last)
        quote = sub[1]
        if ch == '"':
            return self._enter(seg + 1, last) if quote else None
        if ch in FORBIDDEN_IN_QUOTE or len(quote) >= self.max_quote:
            return None
        q = quote + ch
        return (seg, ("q", q), last) if q in self.report else None

    def feed(self, state, text: str):
        for ch in text:
            state = self.step(state, ch)
            if state is None:
                return None
        return state

    # -- what may come next ----------------------------------------------------------------------
    def _rest_after(self, pos: int, used: int, max_len: int) -> str:
        """Report text from ``pos`` a quote may still take (stops at a forbidden character or the cap)."""
        limit = min(len(self.report), pos + max(0, self.max_quote - used), pos + max_len)
        end = pos
        while end < limit and self.report[end] not in FORBIDDEN_IN_QUOTE:
            end += 1
        return self.report[pos:end]

    def candidates(self, state, max_len: int) -> list[str]:
        """Strings such that a token is allowed iff its text is a non-empty prefix of one of them."""
        if state is None or state == _END:
            return []
        seg, sub, last = state
        kind = self.segments[seg][0]
        if kind == "lit":
            return [self.segments[seg][1][sub:]]
        if kind == "value":
            return [v[len(sub) :] for v in VALUE_TOKENS if v.startswith(sub) and v != sub]
        mode = sub[0]
        if mode == "s":
            if last == "null":
                return ["null"]
            starts = {self._rest_after(p, 0, max_len - 1) for p in range(len(self.report))}
            return ['"' + r for r in starts if r]
        if mode == "n":
            return ["null"[sub[1] :]]
        quote = sub[1]
        out: set[str] = set()
        pos = self.report.find(quote)
        while pos >= 0:
            rest = self._rest_after(pos + len(quote), len(quote), max_len)
            out.add(rest)
            out.update(rest[:k] + '"' for k in range(0, len(rest) + 1) if quote or k)
            pos = self.report.find(quote, pos + 1)
        return [c for c in out if c]


def make_processor(grammars: Sequence[AnswerGrammar], table: TokenTable, eos_ids: Sequence[int]):
    """A transformers ``LogitsProcessor`` that keeps row ``i`` of a batch inside ``grammars[i]``.

    Rows are left-padded prompts; the generated part starts after the prompt length seen at the
    first call. A row that reached the end of its grammar may only emit an end-of-sequence token.
    """
    import torch
    from transformers import LogitsProcessor

    class GrammarLogitsProcessor(LogitsProcessor):
        def __init__(self):
            self.states = [g.initial() for g in grammars]
            self.consumed = [0] * len(grammars)
            self.prompt_len: int | None = None
            self.eos = sorted({int(e) for e in eos_ids})
            self.eos_set = set(self.eos)

        def __call__(self, input_ids, scores):
            if self.prompt_len is None:
                self.prompt_len = int(input_ids.shape[1])
            mask = torch.full_like(scores, float("-inf"))
            total = int(input_ids.shape[1]) - self.prompt_len
            for row, g in enumerate(grammars):
                new = input_ids[
                    row, self.prompt_len + self.consumed[row] :
                ].tolist()  # only the unseen tokens
                state = self.states[row]
                for tid in new:
                    if state is None or state == _END or tid in self.eos_set:
                        state = None if state != _END else _END
                        break
                    text = table.strings[tid] if tid < len(table.strings) else None
                    state = g.feed(state, text) if text is not None else None
                self.states[row], self.consumed[row] = state, total
                if state is None or state == _END:
                    allowed = self.eos
                else:
                    allowed = sorted(table.ids_of_prefixes(g.candidates(state, table.max_len))) or self.eos
                mask[row, allowed] = 0.0
            return scores + mask

    return GrammarLogitsProcessor()
