"""accbench: hardware-in-the-loop test bench for active copper cables (ACC).

The packages ``dsp``, ``instruments``, ``sim_instruments`` and ``bench`` hold the
work; this package holds what they share (errors, unit parsing) and the CLI.
"""

__version__ = "0.1.0"
