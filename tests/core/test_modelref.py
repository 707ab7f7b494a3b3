import pytest

from app.core.modelref import ModelRef, normalize_host, parse_model_ref
from app.core.providers.base import ProviderKind


@pytest.mark.parametrize(
    ("text", "kind", "host", "name"),
    [
        ("sim:competent", ProviderKind.SIMULATED, "sim", "competent"),
        ("localhost:11434/qwen2.5:7b", ProviderKind.OLLAMA, "http://localhost:11434", "qwen2.5:7b"),
        ("127.0.0.1:8080/hf.co/user/repo:Q4_K_M", ProviderKind.OLLAMA, "http://127.0.0.1:8080", "hf.co/user/repo:Q4_K_M"),
        ("http://127.0.0.1:8080/v1/smollm2", ProviderKind.OPENAI, "http://127.0.0.1:8080/v1", "smollm2"),
        ("http://gpu-box:11434/llama3.2", ProviderKind.OLLAMA, "http://gpu-box:11434", "llama3.2"),
        ("anthropic:claude-sonnet-4", ProviderKind.ANTHROPIC, "https://api.anthropic.com", "claude-sonnet-4"),
    ],
)
def test_parse_model_ref(text: str, kind: ProviderKind, host: str, name: str) -> None:
    ref = parse_model_ref(text)
    assert (ref.provider, ref.host, ref.name) == (kind, host, name)


def test_bare_name_uses_ollama_host_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0:9999")
    ref = parse_model_ref("llama3.2:1b")
    assert ref == ModelRef(ProviderKind.OLLAMA, "http://127.0.0.1:9999", "llama3.2:1b")


def test_known_openai_host_is_recognised() -> None:
    known = {"http://127.0.0.1:8080/v1": ProviderKind.OPENAI}
    ref = parse_model_ref("127.0.0.1:8080/smollm2", known)
    assert ref.provider is ProviderKind.OPENAI and ref.host == "http://127.0.0.1:8080/v1"


def test_label_round_trips() -> None:
    for text in ("sim:looper", "localhost:11434/qwen2.5:7b", "127.0.0.1:8080/v1/smollm2"):
        ref = parse_model_ref(text if "/v1/" not in text else "http://" + text)
        again = parse_model_ref(ref.label if ref.simulated else ("http://" + ref.label))
        assert again == ref


def test_normalize_host_adds_scheme_and_port() -> None:
    assert normalize_host("localhost") == "http://localhost:11434"
    assert normalize_host("https://box:443/") == "https://box:443"
    with pytest.raises(ValueError):
        parse_model_ref("   ")
