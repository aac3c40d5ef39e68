"""Speed benchmarks of accbench against the baselines named in the issues; prints a table.

Run: python3 benchmarks/run.py [--repeat N] [--quick]
Every candidate is timed in the same run as its baseline (median of repeats, after a warm-up
that also compiles the numba kernels).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.timing import median_time_s, paired_times_s, print_table  # noqa: E402

FILE = ROOT / "fixtures" / "touchstone" / "CA_19p75dB_thru.s4p"


def skrf_load_se2gmm():
    """Baseline of the analysis: scikit-rf's own load of the file, port reorder and se2gmm."""
    import skrf as rf

    network = rf.Network(str(FILE))
    network.renumber([0, 1, 2, 3], [0, 2, 1, 3])
    network.se2gmm(p=2)
    return network


MEMORY_SCRIPT = """
import sys
import numpy as np

def peak_mb():  # VmHWM: this process's own high-water mark (ru_maxrss would include the parent's at fork)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

sys.path.insert(0, {root!r})
from accbench.dsp.tdsim import simulate_ber
channel = np.exp(-np.arange(64) / 4.0); channel /= channel.sum() / 1.5
ffe = np.array([0.02, -0.1, 1.0, -0.2, 0.05, 0.01, 0.0, 0.0])
simulate_ber(channel, ffe, sigma=0.02, n_symbols=10_000)
before = peak_mb()
counts = simulate_ber(channel, ffe, sigma=0.02, n_symbols={n})
print(before, peak_mb(), counts.symbols)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="1e8 instead of 1e9 symbols for the memory run")
    args = parser.parse_args()
    from accbench.dsp import analyze_file
    from accbench.dsp.channel import TwinaxChannel
    from accbench.dsp.link import LinkModel
    from accbench.dsp.linkconfig import LinkConfig
    from accbench.dsp.pulse import pulse_from_response
    from accbench.dsp.reach import find_reach
    from accbench.dsp.statistical import stat_ber
    from accbench.dsp.twinax import TwinaxSpec, twinax_network

    rows = []

    def add(case, value, baseline, ratio, target, met):
        rows.append((case, value, baseline, ratio, target, "yes" if met else "NO"))

    # --- issue 2: analysis and synthesis
    full, base = paired_times_s(lambda: analyze_file(FILE), skrf_load_se2gmm, 2 * args.repeat)
    add("analyze CA_19p75dB_thru.s4p (6001 pts, all figures)", f"{full * 1e3:.1f} ms",
        f"scikit-rf load+se2gmm {base * 1e3:.1f} ms", f"{full / base:.2f}x", "<= 1.5x", full / base <= 1.5)
    spec = TwinaxSpec(awg=26, length_m=3.0, roughness_rq_m=0.1e-6, carbon_mg_m2=80.0)
    synth = median_time_s(lambda: twinax_network(spec), args.repeat)
    add("synth 26 AWG 3 m twinax (6001 pts)", f"{synth * 1e3:.1f} ms", "-", "-", "< 100 ms", synth < 0.1)

    # --- issues 3 and 16: time-domain engines against fair numpy/scipy/BLAS baselines
    from benchmarks.td_bench import run_cases as td_cases

    td_cases(add, args.repeat)
    # --- statistical engine, one channel, one EQ
    cfg = LinkConfig()
    model = LinkModel(TwinaxChannel(TwinaxSpec(awg=26, length_m=4.0)), cfg, 4.0)
    eq = model.equalize()
    t_stat = median_time_s(lambda: stat_ber(eq.equalized, eq.main, eq.sigma, cfg.target_ber, cfg.der0,
                                            eq.dd_amplitude), args.repeat)
    add("statistical BER, one channel and EQ", f"{t_stat * 1e3:.2f} ms", "-", "-", "< 20 ms", t_stat < 0.02)
    def one_setting_at_a_time():  # the scalar path, run over the whole grid
        from accbench.dsp.filters import ctle

        for g in cfg.ctle_gdc_db:
            for g2 in cfg.ctle_gdc2_db:
                h = ctle(model.freq, cfg.baud, g, g2, cfg.ctle_fz_ratio, cfg.ctle_fp1_ratio, cfg.ctle_fp2_ratio,
                         cfg.ctle_flf_ratio)
                pulse = pulse_from_response(model.pre * model.post * h, cfg.baud, cfg.samples_per_ui,
                                            cfg.window_ui, model.delay)
                model._setting((g, g2), h, pulse, None, cfg.dfe_tap)

    t_eq, t_loop = paired_times_s(model.equalize, one_setting_at_a_time, 3)
    add("CTLE (147 settings) + FFE optimisation, one length", f"{t_eq * 1e3:.1f} ms",
        f"one setting at a time {t_loop * 1e3:.1f} ms", f"{t_loop / t_eq:.1f}x faster", "-", True)
    reach_channel = TwinaxChannel(TwinaxSpec(awg=26, roughness_rq_m=0.1e-6))
    t_reach = median_time_s(lambda: find_reach(reach_channel, cfg), 3)
    evals = find_reach(reach_channel, cfg).evaluations
    add(f"full reach search ({evals} lengths, EQ optimised at each)", f"{t_reach * 1e3:.0f} ms", "-", "-",
        "< 1 s", t_reach < 1.0)
    # --- issue 5: the simulated bench
    from benchmarks.sim_bench import run_cases

    run_cases(add, args.repeat)
    # --- issue 6: a qualification run
    from benchmarks.qualify_bench import run_cases as qualify_cases

    qualify_cases(add)
    # --- issue 12: IEEE COM over the full default search, against PyChOpMarg per candidate
    from benchmarks.com_bench import run_cases as com_cases

    com_cases(add)
    # --- memory of a long run, in a fresh process
    n_mem = 100_000_000 if args.quick else 1_000_000_000
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT.format(root=str(ROOT), n=n_mem)],
                         capture_output=True, text=True, check=True).stdout.split()
    elapsed = time.perf_counter() - start
    before_mb, after_mb, counted = float(out[0]), float(out[1]), int(out[2])
    add(f"{counted:.2e} symbols, peak memory (process)", f"{after_mb:.0f} MB",
        f"after imports+compile {before_mb:.0f} MB", f"+{after_mb - before_mb:.1f} MB by the run",
        "< 200 MB", after_mb < 200)
    add(f"{counted:.2e} symbols, wall time", f"{elapsed:.1f} s", "-", f"{counted / elapsed / 1e6:.0f} Msym/s",
        "-", True)

    print_table(f"accbench benchmarks (median of repeats; {Path(sys.executable).name})", rows)


if __name__ == "__main__":
    main()
