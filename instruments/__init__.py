"""pyvisa drivers for the bench: VNA, PAM4 BERT and DC power analyzer, in their real SCPI dialects.

``open_instrument`` opens a VISA resource with the chosen backend, reads ``*IDN?`` and returns
the driver of that model's dialect. Drivers never know whether the instrument is real.
"""

from accbench.instruments.base import Identity, Instrument, control, measurement
from accbench.instruments.registry import open_instrument, supported_models

__all__ = ["Identity", "Instrument", "control", "measurement", "open_instrument", "supported_models"]
