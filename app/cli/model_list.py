"""``agentgap models``: every host's models, without opening the database or the engine."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from app.cli.output import print_models
from app.core.config import HostConfig, load_settings
from app.core.discovery import discover_all
from app.core.providers.registry import ProviderPool


def cmd_models(args: argparse.Namespace) -> int:
    settings = load_settings()
    extra = [HostConfig(kind="ollama", url=u) for u in args.host]
    extra += [HostConfig(kind="openai", url=u) for u in args.openai]
    if extra:
        settings = settings.model_copy(update={"hosts": settings.hosts + extra})
    pool = ProviderPool()
    try:
        statuses = discover_all(settings, pool, include_simulated=not args.no_sim)
    finally:
        pool.close()
    if args.json:
        listing = [
            {
                **{k: v for k, v in asdict(s).items() if k != "models"},
                "models": [{**asdict(m), "capabilities": sorted(m.capabilities), "ref": m.ref} for m in s.models],
            }
            for s in statuses
        ]
        json.dump(listing, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print_models(statuses)
    return 0
