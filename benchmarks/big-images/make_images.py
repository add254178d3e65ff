"""Builds the large test images of benchmarks/big-images from one training
photo by resizing (Lanczos): 4k.png (3840x2160) and 24mp.png (6000x4000).
Usage: python3 make_images.py PHOTO.png OUT_DIR"""
import sys

try:
    from PIL import Image
except ImportError:
    sys.exit("make_images.py needs Pillow: pip install -r tools/requirements-rd.txt")

SIZES = {"4k.png": (3840, 2160), "24mp.png": (6000, 4000)}


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    photo = Image.open(sys.argv[1]).convert("RGB")
    for name, size in SIZES.items():
        photo.resize(size, Image.LANCZOS).save(f"{sys.argv[2]}/{name}")


if __name__ == "__main__":
    main()
