"""accbench: hardware-in-the-loop test bench for active copper cables (ACC).

Everything installs under this namespace: ``accbench.dsp``, ``accbench.instruments``, ``accbench.sim``
and ``accbench.bench`` hold the work, ``accbench.api`` runs a qualification in one call and
``accbench.cli`` is the command line; the modules here (errors, units, scpi_notation, capabilities,
station) are what every package shares and import nothing of the project.
"""

__version__ = "0.1.0"
