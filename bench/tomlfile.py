"""Reading the TOML files of a run (plan, bench file) with one clear error when they cannot be read."""

from __future__ import annotations

import tomllib
from pathlib import Path

MAX_TOML_BYTES = 4 * 2**20  # a plan of a thousand cables is under 200 kB; anything near 4 MiB is not a plan


def read_toml(path: Path, what: str, error: type[Exception]) -> tuple[dict, str]:
    """(parsed data, source text) of ``path``; ``error`` names ``what`` and the reason otherwise.

    The file's contents are never quoted: the path may point at any file on the machine.
    """
    try:
        if path.is_dir():
            raise error(f"{what} {path} is a folder, not a file: give the path of the .toml file")
        if path.stat().st_size > MAX_TOML_BYTES:
            raise error(f"{what} {path} is larger than {MAX_TOML_BYTES // 2**20} MiB: "
                        "it is not a plan or bench file; check the path")
        source = path.read_bytes().decode("utf-8")
        if "\x00" in source:
            raise error(f"{what} {path} is a binary file, not TOML: check the path")
        return tomllib.loads(source), source
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from exc
    except RecursionError as exc:
        raise error(f"{what} {path} nests tables or arrays too deeply: a plan needs at most three levels") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {path} is not valid TOML: {_first_line(str(exc))}") from exc


def _first_line(text: str) -> str:
    """The first line of a parser message, bounded, so a hostile file cannot make the error long."""
    line = text.splitlines()[0] if text else "unknown error"
    return line if len(line) <= 200 else line[:200] + "..."
