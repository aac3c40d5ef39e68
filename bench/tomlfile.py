"""Reading the TOML files of a run (plan, bench file) with one clear error when they cannot be read."""

from __future__ import annotations

import tomllib
from pathlib import Path


def read_toml(path: Path, what: str, error: type[Exception]) -> tuple[dict, str]:
    """(parsed data, source text) of ``path``; ``error`` names ``what`` and the reason otherwise."""
    try:
        source = path.read_text(encoding="utf-8")
        return tomllib.loads(source), source
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {path} is not valid TOML: {exc}") from exc
