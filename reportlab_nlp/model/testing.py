"""Tiny in-process encoders for tests and smoke runs (no downloads).

``build_tiny_encoder(dir, corpus)`` writes a local BERT folder (config.json, model.safetensors,
tokenizer.json) with a WordPiece vocabulary built from ``corpus`` and a randomly initialised
2-layer BERT -- the same kind of folder ``--encoder`` takes, at a few hundred kB.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable


def build_tokenizer(corpus: Iterable[str], vocab_size: int = 400):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    # a deterministic vocabulary (the WordPiece trainer's order of equal-count merges changes from
    # run to run, and with it every tiny model trained in the tests): the most frequent words
    # (ties alphabetical), then every character alone and as a "##" continuation
    counts: dict[str, int] = {}
    chars: set[str] = set()
    for text in corpus:
        for word, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)):
            counts[word] = counts.get(word, 0) + 1
            chars.update(word)
    pieces = sorted(chars) + ["##" + c for c in sorted(chars)]
    room = max(0, vocab_size - len(special) - len(pieces))
    words = [w for w, _ in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])) if len(w) > 1][:room]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(special + pieces + words))}
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_max_length=128,
    )


def build_tiny_encoder(out_dir: str | Path, corpus: Iterable[str], *, hidden: int = 32, layers: int = 2, heads: int = 2,
                       max_positions: int = 128, seed: int = 0, vocab_size: int = 400) -> Path:
    import torch
    from transformers import BertConfig, BertModel

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(corpus, vocab_size=vocab_size)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=hidden * 2, max_position_embeddings=max_positions, pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = BertModel(config, add_pooling_layer=False)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out
