"""Tiny in-process encoders and decoders for tests and smoke runs (no downloads); test scaffolding,
not part of the product: tests import it as ``support.tiny_models``, benchmarks add ``tests/`` to
``sys.path`` first.

``build_tiny_encoder(dir, corpus)`` writes a local BERT folder (config.json, model.safetensors,
tokenizer.json) with a WordPiece vocabulary built from ``corpus`` and a randomly initialised
2-layer BERT -- the same kind of folder ``--encoder`` takes, at a few hundred kB.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


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
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=128,
    )


def build_tiny_encoder(
    out_dir: str | Path,
    corpus: Iterable[str],
    *,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 2,
    max_positions: int = 128,
    seed: int = 0,
    vocab_size: int = 400,
) -> Path:
    import torch
    from transformers import BertConfig, BertModel

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(corpus, vocab_size=vocab_size)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden * 2,
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = BertModel(config, add_pooling_layer=False)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


# -- tiny decoders -------------------------------------------------------------------------------
DECODER_SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
# a Gemma-style chat template (user / model turns), enough for the prompted engine's tests
TINY_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n{{ m['content'] }}<end_of_turn>\n"
    "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
JSON_PIECES = ['{"', '": ', '": {"', '"value": ', '"evidence": ', '", "', '}, "', "}}", "null", "-1", ', "']


def build_decoder_tokenizer(corpus: Iterable[str], vocab_size: int = 600):
    """A lossless byte-level Unigram tokenizer with a deterministic vocabulary.

    Every byte is a token (so any text round-trips exactly, as with Gemma's byte fallback), plus
    JSON punctuation and the most frequent words of ``corpus`` (ties alphabetical), each bare and
    with a leading space. Unigram scores prefer the longest pieces; no trainer is involved, so the
    vocabulary and every tiny model built on it are identical from run to run.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    byte_chars = sorted(pre_tokenizers.ByteLevel.alphabet())
    pre = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    counts: dict[str, int] = {}
    for text in corpus:
        for piece, _ in pre.pre_tokenize_str(text):
            if len(piece) > 1:
                counts[piece] = counts.get(piece, 0) + 1
    # pieces the pre-tokenizer keeps whole (byte-level spelling)
    json_pieces = [parts[0][0] for parts in (pre.pre_tokenize_str(p) for p in JSON_PIECES) if len(parts) == 1]
    room = max(0, vocab_size - len(DECODER_SPECIALS) - len(byte_chars) - len(json_pieces))
    words = [w for w, _ in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))][:room]
    vocab: list[tuple[str, float]] = [(t, 0.0) for t in DECODER_SPECIALS]
    seen = set(DECODER_SPECIALS)
    for piece in byte_chars:
        vocab.append((piece, -10.0))
        seen.add(piece)
    for piece in json_pieces + words:
        if piece not in seen:
            vocab.append((piece, -10.0 + 0.5 * len(piece)))
            seen.add(piece)
    tok = Tokenizer(models.Unigram(vocab, unk_id=DECODER_SPECIALS.index("<unk>"), byte_fallback=False))
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(DECODER_SPECIALS)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
        additional_special_tokens=["<start_of_turn>", "<end_of_turn>"],
        model_max_length=4096,
        chat_template=TINY_CHAT_TEMPLATE,
    )


def build_tiny_gemma(
    out_dir: str | Path,
    corpus: Iterable[str],
    *,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 2,
    kv_heads: int = 1,
    max_positions: int = 4096,
    seed: int = 0,
    vocab_size: int = 600,
) -> Path:
    """A randomly initialised 2-layer, 32-hidden Gemma-3 causal LM + tokenizer, saved as a local checkpoint.

    The folder has the layout of a real Gemma-3 / MedGemma text checkpoint (``config.json`` with
    ``Gemma3ForCausalLM``, ``model.safetensors``, ``tokenizer.json``, ``generation_config.json``),
    so ``--encoder`` (classifier) and ``--engine llm --model`` (prompted) both take it.
    """
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_decoder_tokenizer(corpus, vocab_size=vocab_size)
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=hidden // heads,
        max_position_embeddings=max_positions,
        sliding_window=128,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = Gemma3ForCausalLM(config)
    end_of_turn = tokenizer.convert_tokens_to_ids("<end_of_turn>")
    model.generation_config.eos_token_id = [tokenizer.eos_token_id, end_of_turn]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out
