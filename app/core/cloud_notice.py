"""What a run with a cloud model sends, to whom, and what it costs: the notice a user
accepts once (``AppSettings.cloud_notice_accepted``) before the first such run."""

from __future__ import annotations

from collections.abc import Iterable

from app.core.providers.base import ProviderKind

CLOUD_KINDS = frozenset({ProviderKind.ANTHROPIC, ProviderKind.OPENAI_CLOUD})
COMPANIES = {ProviderKind.ANTHROPIC: "Anthropic", ProviderKind.OPENAI_CLOUD: "OpenAI"}


def is_cloud(kind: ProviderKind) -> bool:
    """Whether models of this kind run on someone else's servers, billed per token."""
    return kind in CLOUD_KINDS


def cloud_notice(kinds: Iterable[ProviderKind], cloud_attempts: int | None = None) -> str:
    """The notice for a run whose cloud models are of ``kinds``; ``cloud_attempts`` is how
    many attempts (repeats × tasks × cloud models) the run makes with them."""
    companies = sorted({COMPANIES[k] for k in kinds if is_cloud(k)}) or sorted(COMPANIES.values())
    to_whom = " and ".join(companies)
    if cloud_attempts is None:
        scale = "Each attempt makes one API call per agent turn, so a run makes repeats × tasks × turns calls per cloud model."
    else:
        scale = (
            f"This run makes {cloud_attempts} cloud attempt{'s' if cloud_attempts != 1 else ''} "
            f"(repeats × tasks), each with one API call per agent turn, so at least "
            f"{cloud_attempts} paid calls and usually several times that."
        )
    return (
        f"This run uses a cloud model. Everything the model sees is sent to {to_whom}: the system "
        f"prompt, each task's prompt and tool descriptions, and every tool result, including the "
        f"content of files the tools read in the task's sandbox.\n\n"
        f"Cloud models cost money per token, charged to the account of your API key. {scale}\n\n"
        f"Your API key stays in the system keyring; it is never written to the database, logs "
        f"or exports. Local models never send anything anywhere."
    )


def cloud_attempts(kinds: Iterable[ProviderKind], per_model: int) -> int:
    """Attempts that go to cloud models, for models of ``kinds`` each run ``per_model`` times."""
    return per_model * sum(1 for kind in kinds if is_cloud(kind))
