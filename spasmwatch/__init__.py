"""spasmwatch: catch muscle spasms with a wearable sensor.

The ``spasmwatch`` command and the live monitor that wire the other packages together.
"""

from sensor.meta import package_version

__version__ = package_version()

__all__ = ["__version__"]
