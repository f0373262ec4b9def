"""Partner-matching engine for the public procurement win-win cooperation program
(공공조달 상생협력 지원제도).

The engine knows nothing of Flask: plain inputs (dataclasses, pandas frames, numpy
and scipy arrays) in, plain results out.
"""

__version__ = "0.1.0"
