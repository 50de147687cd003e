"""cdss: knowledge-graph clinical decision support.

This package holds what every other package shares: settings, errors, domain
types and the `cdss` command line. Suggestions are decision support, never a
diagnosis.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cdss")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
