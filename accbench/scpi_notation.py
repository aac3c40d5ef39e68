"""SCPI header notation as the programming guides write it, compiled to a matcher.

``SENSe<cnum>:FREQuency:STARt``, ``[:SOURce]:FREQuency``, ``FORMat[:DATA]``, ``SENSe#:SWEep:POINts``:
capitals are the short form, the whole word the long form (either matches, in any case); ``[...]``
is an optional node; a numeric suffix written ``<name>`` or ``#`` is optional and defaults to 1
(SCPI-1999 vol. 1, 6.2.5 and 7.3). A shared leaf: the simulated instruments parse commands with it
and the dialect references match what the drivers send with it.
"""

from __future__ import annotations

import re


def _node_regex(node: str) -> str:
    """``SENSe#`` -> ``(?:SENSE|SENS)(\\d+)?``: long form, short form (its capitals), optional suffix."""
    suffix = node.endswith("#")
    name = node.rstrip("#")
    short = "".join(ch for ch in name if ch.isupper() or ch.isdigit() or ch == "*")
    forms = sorted({name.upper(), short.upper()}, key=len, reverse=True)
    body = "(?:" + "|".join(re.escape(f) for f in forms) + ")"
    return body + (r"(\d+)?" if suffix else "")


def _tokens(pattern: str) -> list[tuple[bool, str]]:
    tokens, i = [], 0
    while i < len(pattern):
        if pattern[i] == "[":
            j = pattern.index("]", i)
            tokens.append((True, pattern[i + 1:j].strip(":")))
            i = j + 1
        else:
            if pattern[i] == ":":
                i += 1
            j = i
            while j < len(pattern) and pattern[j] not in ":[":
                j += 1
            tokens.append((False, pattern[i:j]))
            i = j
    return tokens


def header_regex(pattern: str) -> str:
    """The regular expression (unanchored) of a header written in manual notation, without ``?``.

    An optional node followed only by optional nodes carries its colon in front (``X[:A][:B]``);
    one followed by a required node carries it behind (``[SOURce]:FREQuency``, ``MEAS[:SCAL]:VOLT``).
    """
    tokens = _tokens(re.sub(r"<[^>]*>", "#", pattern.strip().rstrip("?")))
    trailing = [all(opt for opt, _ in tokens[i:]) for i in range(len(tokens))]
    out = ":?"
    for i, (optional, token) in enumerate(tokens):
        node = _node_regex(token)
        if optional and trailing[i]:
            out += f"(?::{node})?"
        elif optional:
            out += f"(?:{node}:)?"
        else:
            out += node
            if i + 1 < len(tokens) and not trailing[i + 1]:
                out += ":"
    return out


def compile_header(pattern: str) -> re.Pattern:
    """Compile ``SENSe#:FREQuency:STARt``, ``FORMat[:DATA]`` or ``SENSe<ch>:X[:VALues]`` into an anchored regex."""
    return re.compile("^" + header_regex(pattern) + "$", re.IGNORECASE)


def split_outside(text: str, separator: str) -> tuple[list[str], bool]:
    """Split a SCPI message on ``separator`` outside quoted strings and parentheses (pieces keep their
    quotes); also whether a quote was left open."""
    pieces, current, quote, depth = [], "", "", 0
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif ch == separator and depth == 0:
            pieces.append(current)
            current = ""
            continue
        current += ch
    pieces.append(current)
    return pieces, bool(quote)


def split_params(text: str) -> list[str]:
    """A parameter list split on commas outside quotes and parentheses, stripped; [] for none."""
    params = [p.strip() for p in split_outside(text, ",")[0]]
    return [] if params == [""] else params
