"""The pip packages the report needs, checked before anything imports them.

numpy and Pillow are needed for everything; AVIF only for the AVIF anchor:
Pillow's wheels include it from 11.3 on (11.2 added the plugin, but its
Linux wheels were built without libavif)."""
from __future__ import annotations

import importlib
from typing import List, Optional

REQUIREMENTS = "tools/requirements-rd.txt"


def missing_packages() -> List[str]:
    """What is missing, as the pip requirement to install ('numpy', 'Pillow>=11.3')."""
    missing = []
    for module, requirement in (("numpy", "numpy"), ("PIL", "Pillow>=11.3")):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(requirement)
    return missing


def missing_message(missing: List[str]) -> str:
    return (f"rd_report: missing Python packages: {', '.join(missing)}. "
            f"Install them with: pip install -r {REQUIREMENTS}")


def avif_problem() -> Optional[str]:
    """None when Pillow can write and read AVIF, else what to do."""
    import PIL
    from PIL import features
    if not features.check("avif"):
        return (f"the AVIF anchor needs Pillow with AVIF (found Pillow {PIL.__version__} without it; "
                f"the wheels of Pillow >= 11.3 include it): pip install -r {REQUIREMENTS}, "
                "or leave avif out of --anchors")
    return None
