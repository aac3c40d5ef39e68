"""Random hostile inputs to the CLI and the file readers; counts how each was answered.

Run: python3 scripts/fuzz_bad_input.py [--cases N] [--seed S]

Each case damages a valid input at random (a Touchstone file, a plan, a bench file, a run record,
or one numeric option of a command) and runs it in-process. A case is
  clean      refused with exit 2 and one 'accbench: error:' line (library: one typed InputError line),
  accepted   exit 0 (the damage left a valid input, e.g. a comment changed),
  other      anything else: exit 3 (an internal error), several lines, a traceback, an exception
             escaping the CLI, or no answer within the time limit.
Every 'other' case is written to the output folder so it can be replayed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIXTURES = ROOT / "fixtures"
SECRET = "SECRET-7f3a9c"
LIMIT_S = 120
HOSTILE = ["nan", "inf", "-inf", "-1", "0", "1e308", "-1e308", "1e-300", "", " ", "abc", "1,5", "1e20",
           "0x10", "true", "3m", "-0", "1e", "G", "999999999999999999999", "\x00", "é", "1" * 400]
TOKENS = ["nan", "inf", "-1", "0", "1e308", "x", "", "0,5", "1e-320", "--", "#", "!", "[End]", "R 0", "GHz"]


class Hang(Exception):
    """No answer within the time limit."""


def _alarm(_signum, _frame):
    raise Hang()


def run_cli(argv: list[str]) -> tuple[str, str]:
    """(verdict, stderr) of one in-process CLI call."""
    from accbench.cli import main

    err, out = io.StringIO(), io.StringIO()
    signal.alarm(LIMIT_S)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(argv)
    except Hang:
        return "other:hang", ""
    except BaseException as exc:  # an exception escaping main is exactly what this script hunts
        return f"other:escaped {type(exc).__name__}", str(exc)[:200]
    finally:
        signal.alarm(0)
    text = err.getvalue()
    lines = [line for line in text.strip().splitlines() if not line.startswith("accbench: warning:")]
    if SECRET in text:
        return "other:secret echoed", text
    if code == 0:
        return "accepted", text
    if code == 2 and len(lines) == 1 and lines[0].startswith("accbench: error:") and "Traceback" not in text:
        return "clean", text
    return f"other:exit {code}, {len(lines)} lines", text


def run_library(func, path: Path) -> tuple[str, str]:
    """(verdict, message) of a library reader: a one-line InputError is clean."""
    from accbench.errors import InputError

    signal.alarm(LIMIT_S)
    try:
        func(path)
    except Hang:
        return "other:hang", ""
    except InputError as exc:
        message = str(exc)
        if SECRET in message:
            return "other:secret echoed", message
        return ("clean", message) if "\n" not in message else ("other:multi-line", message)
    except BaseException as exc:
        return f"other:escaped {type(exc).__name__}", str(exc)[:200]
    finally:
        signal.alarm(0)
    return "accepted", ""


def small_touchstone() -> str:
    """A valid 4-port file of 3001 points to 60 GHz: the CA reference cable, every 2nd point."""
    lines = (FIXTURES / "touchstone" / "CA_19p75dB_thru.s4p").read_text().splitlines()
    head = [line for line in lines[:10] if line.startswith(("!", "#"))]
    data = [line for line in lines if line and not line.startswith(("!", "#"))]
    records = [data[i:i + 4] for i in range(0, len(data), 4)]
    return "\n".join(head + [f"! {SECRET}"] + [line for rec in records[::2] for line in rec]) + "\n"


def mutate_text(rng: random.Random, text: str) -> str:
    """One to three random edits: a token replaced, a line deleted, doubled or swapped, a cut, bytes inserted."""
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(6)
        i = rng.randrange(len(lines))
        if kind == 0:
            tokens = lines[i].split()
            if tokens:
                tokens[rng.randrange(len(tokens))] = rng.choice(TOKENS)
                lines[i] = " ".join(tokens)
        elif kind == 1:
            del lines[i]
        elif kind == 2:
            lines.insert(i, lines[i])
        elif kind == 3:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 4:
            lines = lines[: max(1, i)]
        else:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)] + rng.choice(["\t", "\x1b", "\ufeff", "é", "\r"])
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


def case_touchstone(rng: random.Random, tmp: Path, base: str) -> tuple[str, str]:
    name = rng.choice(["a.s4p"] * 6 + ["a.s2p", "a.s8p", "a.ts", "a.txt"])
    path = tmp / name
    path.write_text(mutate_text(rng, base), encoding="utf-8")
    return run_cli(["analyze", str(path)])


def case_plan(rng: random.Random, tmp: Path, base: str) -> tuple[str, str]:
    from accbench.bench.plan import load_plan

    text = base
    if rng.random() < 0.6:
        keys = [line.split("=")[0].strip() for line in text.splitlines() if "=" in line and not line.startswith("#")]
        key = rng.choice(keys)
        value = rng.choice(["nan", "inf", "-1", "0", "true", '""', '"x"', "[]", "[1, 2]", "{}", "1e308", '"/etc"',
                            f'"{tmp / "secret.txt"}"', "-0.0", "2024-01-01"])
        text = "\n".join(f"{key} = {value}" if line.split("=")[0].strip() == key else line
                         for line in text.splitlines())
    else:
        text = mutate_text(rng, text)
    path = tmp / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return run_library(load_plan, path)


def case_bench(rng: random.Random, tmp: Path, base: str) -> tuple[str, str]:
    from accbench.bench.benchfile import load_bench

    path = tmp / "bench.toml"
    path.write_text(mutate_text(rng, base), encoding="utf-8")
    return run_library(load_bench, path)


def case_record(rng: random.Random, tmp: Path, base: bytes) -> tuple[str, str]:
    data = bytearray(base)
    kind = rng.randrange(3)
    if kind == 0:
        data = data[: rng.randrange(len(data))]
    else:
        for _ in range(rng.choice([1, 10, 100])):
            data[rng.randrange(len(data))] = rng.randrange(256)
    path = tmp / "run.h5"
    path.write_bytes(bytes(data))
    return run_cli(rng.choice([["show", str(path)], ["report", str(path), "-o", str(tmp)]]))


OPTIONS = {
    "analyze": (["analyze", str(FIXTURES / "touchstone" / "CA_19p75dB_thru.s4p")],
                ["--baud", "--fit-fmin", "--fit-fmax", "--thru", "--ports", "--mask"]),
    "synth": (["synth", "--awg", "26", "--fstep", "100M", "-o", "{tmp}/w.s4p"],
              ["--length-m", "--fmax", "--fstep", "--rq-um", "--skew-ps-per-m", "--iacs", "--awg"]),
    "link": (["link", "--ideal"], ["--length-m", "--noise-rms", "--ctle", "--lanes", "--host-loss-db", "--seed",
                                   "--target-ber"]),
    "reach": (["reach", "--awg", "26"], ["--required-m", "--stretch-m", "--target-ber"]),
    "power": (["measure", "power"], ["--volts", "--current-limit", "--points", "--channels", "--timeout-s"]),
}


def case_option(rng: random.Random, tmp: Path, _base) -> tuple[str, str]:
    argv, options = OPTIONS[rng.choice(sorted(OPTIONS))]
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    return run_cli([*argv, rng.choice(options), rng.choice(HOSTILE)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=Path("fuzz-failures"), help="folder for 'other' cases")
    ns = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    rng = random.Random(ns.seed)
    bases = {
        "touchstone": (case_touchstone, small_touchstone()),
        "plan": (case_plan, (FIXTURES / "plans" / "lot-qual-example.toml").read_text()),
        "bench": (case_bench, '[vna]\nresource = "TCPIP0::h::1::SOCKET"\ntimeout_s = 5\n[bert]\nresource = '
                              '"TCPIP0::h::2::SOCKET"\n[power]\nresource = "TCPIP0::h::3::SOCKET"\n[switch]\n'
                              'via = "vna"\nconnect = "SIM:DUT \'{serial}\',{lane}"\n[sweep]\npoints = 401\n'),
        "record": (case_record, (FIXTURES / "records" / "v1-example.h5").read_bytes()),
        "option": (case_option, None),
    }
    counts: dict[str, Counter] = {kind: Counter() for kind in bases}
    start = time.perf_counter()
    for n in range(ns.cases):
        kind = rng.choice(sorted(bases))
        func, base = bases[kind]
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            (tmp / "secret.txt").write_text(f"{SECRET}\n")
            verdict, text = func(rng, tmp, base)
            counts[kind][verdict.split(":")[0]] += 1
            if verdict.startswith("other"):
                ns.keep.mkdir(exist_ok=True)
                keep = ns.keep / f"case{n:04d}-{kind}"
                keep.mkdir(exist_ok=True)
                for item in tmp.iterdir():
                    if item.is_file():
                        (keep / item.name).write_bytes(item.read_bytes())
                (keep / "verdict.txt").write_text(f"{verdict}\n{text}\n")
                print(f"case {n} ({kind}): {verdict}: {text.strip()[:160]}", file=sys.stderr)
    elapsed = time.perf_counter() - start
    total = Counter()
    print(f"{'input':12s} {'tried':>6s} {'clean':>6s} {'accepted':>9s} {'other':>6s}")
    for kind, c in counts.items():
        total.update(c)
        print(f"{kind:12s} {sum(c.values()):6d} {c['clean']:6d} {c['accepted']:9d} {c['other']:6d}")
    print(f"{'all':12s} {sum(total.values()):6d} {total['clean']:6d} {total['accepted']:9d} {total['other']:6d}"
          f"   ({elapsed:.0f} s, seed {ns.seed})")
    return 1 if total["other"] else 0


if __name__ == "__main__":
    sys.exit(main())
