"""The working set: the PNGs of --data (sorted by name, the first --limit), as
8-bit RGB PNGs in one folder that every codec codes and every metric compares
against (lic eval codes a whole folder, so --limit needs a folder of its own)."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from typing import List, Optional

from PIL import Image


class ImageError(Exception):
    pass


@dataclass
class SourceImage:
    name: str
    path: str          # the copy in the working set
    width: int
    height: int
    converted_from: Optional[str] = None   # the PNG's mode when it was not 8-bit RGB

    @property
    def pixels(self) -> int:
        return self.width * self.height


def list_pngs(data_dir: str, limit: Optional[int]) -> List[str]:
    if not os.path.isdir(data_dir):
        raise ImageError(f"{data_dir}: no such folder")
    names = sorted(name for name in os.listdir(data_dir)
                   if name.lower().endswith(".png") and os.path.isfile(os.path.join(data_dir, name)))
    if not names:
        raise ImageError(f"{data_dir}: no PNG files")
    return names[:limit] if limit is not None else names


def _is_8bit_rgb_png(path: str) -> bool:
    """From the IHDR chunk: bit depth 8, colour type 2 (RGB without alpha)."""
    with open(path, "rb") as file:
        header = file.read(26)
    return len(header) == 26 and header[12:16] == b"IHDR" and header[24] == 8 and header[25] == 2


def build_working_set(data_dir: str, names: List[str], folder: str) -> List[SourceImage]:
    """Copies 8-bit RGB PNGs as they are; converts any other PNG (grey, alpha,
    palette, 16-bit) to 8-bit RGB so that all codecs see the same pixels."""
    os.makedirs(folder, exist_ok=True)
    images = []
    for name in names:
        source = os.path.join(data_dir, name)
        target = os.path.join(folder, name)
        try:
            with Image.open(source) as image:
                image.load()
                mode, size = image.mode, image.size
                if image.format != "PNG":
                    raise ImageError(f"{source}: not a PNG (Pillow reads it as {image.format})")
                if mode == "RGB" and _is_8bit_rgb_png(source):
                    shutil.copyfile(source, target)
                    converted = None
                else:
                    image.convert("RGB").save(target, "PNG")
                    converted = mode if mode != "RGB" else "16-bit RGB"
        except ImageError:
            raise
        except (OSError, ValueError) as error:
            raise ImageError(f"{source}: cannot read: {error}") from error
        images.append(SourceImage(name, target, size[0], size[1], converted))
    return images


def load_rgb(image: SourceImage) -> Image.Image:
    try:
        with Image.open(image.path) as opened:
            return opened.convert("RGB")
    except (OSError, ValueError) as error:
        raise ImageError(f"{image.path}: cannot read: {error}") from error
