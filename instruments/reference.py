"""Dialect references: every command a driver sends, with the document that confirms it.

Each instrument family has a TOML file in ``instruments/dialects/``: its sources, and per command
the header in the guide's notation, the parameters of the set and query forms, the models it
applies to, where it is documented (document and page, or an independent public driver) and
whether that was confirmed. ``DialectReference.check`` says whether a command as sent is one the
documents allow; the tests run every driver through it, so a command sent but not listed fails.

Parameter kinds: ``string`` (quoted), ``numeric`` (a number, SI suffixes and MIN/MAX/DEF allowed),
``integer``, ``bool`` (ON|OFF|1|0), ``channels`` (``(@1,2)``), an enumeration in manual notation
(``NONE|GRAY|CUSTom``), ``any``; a trailing ``?`` marks an optional parameter.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from accbench.errors import InputError
from accbench.scpi_notation import compile_header, split_outside, split_params

DIALECTS_DIR = Path(__file__).with_name("dialects")
STATUSES = ("confirmed", "unconfirmed")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*[a-zA-Z]*$")


def split_units(message: str) -> list[str]:
    """A program message split into its units at ``;`` outside quotes (a compound message)."""
    return [u.strip() for u in split_outside(message, ";")[0] if u.strip()]


def _enum_matches(value: str, spec: str) -> bool:
    token = value.strip().upper()
    for option in spec.split("|"):
        short = "".join(ch for ch in option if ch.isupper() or ch.isdigit())
        if token in (option.upper(), short.upper()):
            return True
    return False


def param_matches(value: str, kind: str) -> bool:
    """Whether one sent parameter is of the documented kind."""
    kind = kind.rstrip("?")
    text = value.strip()
    if kind == "any":
        return bool(text)
    if kind == "string":
        return len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""
    if kind == "numeric":
        return bool(_NUMBER.match(text)) or text.upper() in ("MIN", "MAX", "DEF", "MINIMUM", "MAXIMUM", "DEFAULT")
    if kind == "integer":
        return bool(re.fullmatch(r"[-+]?\d+", text))
    if kind == "bool":
        return text.upper() in ("ON", "OFF", "1", "0")
    if kind == "channels":
        return bool(re.fullmatch(r"\(@[\d,:\s]+\)", text))
    return _enum_matches(text, kind)


@dataclass(frozen=True)
class CommandEntry:
    """One documented command: header, parameter kinds of its set and query forms, models, source."""

    header: str
    source: str
    status: str
    set_params: tuple[str, ...] | None = None  # None: no set form
    query_params: tuple[str, ...] | None = None  # None: no query form
    models: tuple[str, ...] = ()  # regular expressions on the model; empty: every model of the family
    note: str = ""
    regex: re.Pattern = field(default=None, compare=False, repr=False)

    def applies_to(self, model: str | None) -> bool:
        return not self.models or model is None or any(re.search(m, model, re.IGNORECASE) for m in self.models)

    def params_ok(self, params: list[str], query: bool) -> str | None:
        """None when ``params`` fit the documented form, else why not."""
        kinds = self.query_params if query else self.set_params
        if kinds is None:
            return "the documents give no " + ("query" if query else "set") + " form"
        required = [k for k in kinds if not k.endswith("?")]
        if not len(required) <= len(params) <= len(kinds):
            return f"{len(params)} parameters where the documents give {len(required)}..{len(kinds)}"
        for value, kind in zip(params, kinds, strict=False):
            if not param_matches(value, kind):
                return f"parameter {value!r} is not {kind.rstrip('?')}"
        return None


@dataclass(frozen=True)
class Verdict:
    """What the reference says about one sent command."""

    command: str
    entry: CommandEntry | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


class DialectReference:
    """The documented commands of one instrument family (plus the IEEE 488.2 common ones)."""

    def __init__(self, family: str, title: str, sources: dict[str, str], entries: list[CommandEntry]):
        self.family, self.title, self.sources, self.entries = family, title, sources, entries

    def check(self, command: str, model: str | None = None) -> Verdict:
        """Is ``command`` (one program message unit as sent) documented for ``model``?"""
        text = command.strip()
        header, _, rest = text.partition(" ")
        query = header.endswith("?")
        head = header.rstrip("?")
        params = split_params(rest) if rest.strip() else []
        matches = [e for e in self.entries if e.regex.match(head)]
        if not matches:
            return Verdict(text, None, f"header {head} is not in the {self.family} reference")
        problems = []
        for entry in matches:
            if not entry.applies_to(model):
                problems.append(f"{entry.header} does not apply to the {model} ({entry.note or entry.source})")
                continue
            problem = entry.params_ok(params, query)
            if problem is None:
                return Verdict(text, entry, None)
            problems.append(f"{entry.header}: {problem}")
        return Verdict(text, matches[0], "; ".join(problems))

    def check_message(self, message: str, model: str | None = None) -> list[Verdict]:
        """Every unit of a (possibly compound) program message, checked."""
        return [self.check(unit, model) for unit in split_units(message)]

    def counts(self) -> dict[str, int]:
        """Commands per status (confirmed / unconfirmed), the common IEEE 488.2 ones excluded."""
        out = dict.fromkeys(STATUSES, 0)
        for entry in self.entries:
            if not entry.source.startswith("IEEE 488.2"):
                out[entry.status] += 1
        return out


def _entries(data: dict, where: str) -> list[CommandEntry]:
    out = []
    for item in data.get("command", []):
        status = item.get("status", "")
        if status not in STATUSES:
            raise InputError(f"{where}: {item.get('header')}: status must be one of {', '.join(STATUSES)}")
        set_params = item.get("set")
        query_params = item.get("query")
        out.append(CommandEntry(
            header=item["header"], source=item["source"], status=status,
            set_params=None if set_params is None else tuple(set_params),
            query_params=None if query_params is None else tuple(query_params),
            models=tuple(item.get("models", ())), note=item.get("note", ""),
            regex=compile_header(item["header"])))
    return out


@lru_cache(maxsize=16)
def load_reference(family: str) -> DialectReference:
    """The reference of ``family`` (file ``instruments/dialects/<family>.toml``) with the common commands."""
    path = DIALECTS_DIR / f"{family}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in DIALECTS_DIR.glob("*.toml") if p.stem != "ieee488"))
        raise InputError(f"no dialect reference {family!r}; have {known}")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    common = tomllib.loads((DIALECTS_DIR / "ieee488.toml").read_text(encoding="utf-8"))
    return DialectReference(data["family"], data.get("title", family), dict(data.get("sources", {})),
                            _entries(data, path.name) + _entries(common, "ieee488.toml"))
