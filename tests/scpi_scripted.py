"""The scripted SCPI peer of the protocol tests: a re-export of the shipped tester
``accbench.instruments.testing`` (PyMeasure's expected_protocol idea)."""

from __future__ import annotations

import numpy as np
from accbench.instruments.testing import NO_ERROR, ScriptedResource, block, configured, expected_protocol

__all__ = ["NO_ERROR", "ScriptedResource", "block", "configured", "expected_protocol", "np"]
