"""The Python package against the library and the CLI: same bytes as
`lic encode`, round trips, every error path raising, no leak over many calls."""
import resource
import subprocess

import numpy as np
import pytest
from PIL import Image

import lic

MODEL = "Tests/LICCoreTests/Fixtures/models/mbt2018-mean-16x32"


def synthetic(height: int, width: int, channels: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = (x * 255 // max(width - 1, 1) + y * 128 // max(height - 1, 1)) % 256
    image = np.stack([(base + 60 * c) % 256 for c in range(channels)], axis=-1) + rng.integers(0, 16, (height, width, channels))
    image = np.clip(image, 0, 255).astype(np.uint8)
    return image[:, :, 0] if channels == 1 else image


def test_library_version():
    assert lic.library_version().count(".") == 2


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_default_pipeline_round_trip_matches_the_cli(tmp_path, lic_executable, root, channels):
    image = synthetic(37, 53, channels)
    with lic.Codec() as codec:
        data = codec.encode(image)
        decoded = codec.decode(data)
    assert decoded.shape == image.shape and decoded.dtype == np.uint8
    Image.fromarray(image).save(tmp_path / "in.png")
    # lic.Codec() is the built-in classical pipeline; `lic encode` alone would take the learned default for RGB.
    subprocess.run([lic_executable, "encode", "--pipeline", root / "examples/pipelines/classical-dct.toml", tmp_path / "in.png",
                    "-o", tmp_path / "cli.lic", "--reconstruction", tmp_path / "rec.png"], check=True, capture_output=True)
    assert (tmp_path / "cli.lic").read_bytes() == data
    assert np.array_equal(np.asarray(Image.open(tmp_path / "rec.png")), decoded)


def test_learned_model_gives_the_cli_bytes(tmp_path, lic_executable, root):
    image = synthetic(64, 96, 3, seed=2)
    Image.fromarray(image).save(tmp_path / "in.png")
    with lic.Codec(model=root / MODEL) as codec:
        data = codec.encode(image)
        decoded = codec.decode(data)
    subprocess.run([lic_executable, "encode", "--model", root / MODEL, tmp_path / "in.png", "-o", tmp_path / "cli.lic",
                    "--reconstruction", tmp_path / "rec.png"], check=True, capture_output=True)
    assert (tmp_path / "cli.lic").read_bytes() == data
    assert np.array_equal(np.asarray(Image.open(tmp_path / "rec.png")), decoded)


def test_bad_arrays_raise():
    with lic.Codec() as codec:
        with pytest.raises(TypeError):
            codec.encode(np.zeros((8, 8, 3), dtype=np.float32))
        with pytest.raises(TypeError):
            codec.encode([[0, 1], [2, 3]])
        with pytest.raises(ValueError):
            codec.encode(np.zeros((8, 8, 2), dtype=np.uint8))
        with pytest.raises(ValueError):
            codec.encode(np.zeros((2, 8, 8, 3), dtype=np.uint8))
        with pytest.raises(lic.LICError) as empty:
            codec.encode(np.zeros((0, 8, 3), dtype=np.uint8))
        assert empty.value.code == lic.LICError.ARGUMENT and str(empty.value)


def test_corrupt_and_foreign_data_raise(root):
    image = synthetic(32, 32, 3)
    with lic.Codec() as classical, lic.Codec(model=root / MODEL) as learned:
        data = classical.encode(image)
        for bad in [b"", b"not a lic file", data[: len(data) // 2], data[:-1], bytes([data[0] ^ 1]) + data[1:]]:
            with pytest.raises(lic.LICError) as error:
                classical.decode(bad)
            assert error.value.code == lic.LICError.DATA and str(error.value)
        with pytest.raises(lic.LICError) as wrong:
            learned.decode(data)
        assert wrong.value.code == lic.LICError.DATA


def test_missing_model_and_descriptor_name_the_file(tmp_path):
    with pytest.raises(lic.LICError) as error:
        lic.Codec(model=tmp_path / "nowhere")
    assert "nowhere" in str(error.value)
    with pytest.raises(ValueError):
        lic.Codec(model=tmp_path, descriptor=tmp_path / "x.toml")


def test_closed_codec_refuses_calls():
    codec = lic.Codec()
    codec.close()
    codec.close()  # twice is fine
    with pytest.raises(ValueError):
        codec.encode(synthetic(8, 8, 3))


def test_no_leak_over_many_calls(root):
    image = synthetic(64, 64, 3, seed=3)

    def rss_mib() -> float:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

    with lic.Codec(model=root / MODEL) as codec:
        for _ in range(20):  # warm caches and allocator pools first
            codec.decode(codec.encode(image))
        before = rss_mib()
        for _ in range(300):
            codec.decode(codec.encode(image))
        grown = rss_mib() - before
    for _ in range(50):  # open and close codecs too
        with lic.Codec() as codec:
            codec.decode(codec.encode(image))
    assert grown < 40, f"RSS grew {grown:.1f} MiB over 300 encode/decode calls"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


def test_a_missing_library_says_where_it_looked(tmp_path):
    import sys
    script = "import lic\ntry:\n    lic.Codec()\nexcept lic.LibraryNotFound as e:\n    print('NOTFOUND', e)\n"
    env = {"LIC_EMBED_LIBRARY": str(tmp_path / "liblicembed.so"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env).stdout
    assert out.startswith("NOTFOUND") and str(tmp_path) in out and "LIC_EMBED_LIBRARY" in out


@pytest.fixture(scope="module")
def variable_rate_model(tmp_path_factory, lic_executable, root):
    """A tiny variable-rate model (mbt2018-mean-vr shrunk), trained for two steps."""
    work = tmp_path_factory.mktemp("vr")
    text = (root / "examples/pipelines/mbt2018-mean-vr.toml").read_text()
    text = text.replace("channels = 128", "channels = 8").replace("latent = 192", "latent = 12").replace("channels = 192", "channels = 12")
    (work / "tiny-vr.toml").write_text(text)
    (work / "data").mkdir()
    Image.fromarray(synthetic(96, 96, 3, seed=5)).save(work / "data" / "a.png")
    subprocess.run([lic_executable, "train", "--pipeline", work / "tiny-vr.toml", "--lambdas", "standard", "--data", work / "data",
                    "--out", work / "model", "--steps", "2", "--batch", "1", "--crop", "64"], check=True, capture_output=True)
    return work / "model"


def test_quality_gives_the_cli_bytes_and_is_recorded(tmp_path, lic_executable, variable_rate_model):
    image = synthetic(64, 96, 3, seed=6)
    Image.fromarray(image).save(tmp_path / "in.png")
    with lic.Codec(model=variable_rate_model, quality=3) as codec:
        three = codec.encode(image)
        eight = codec.encode(image, quality=8)
        assert codec.encode(image) == three  # the per-call quality does not stick
        assert codec.decode(eight).shape == image.shape
    subprocess.run([lic_executable, "encode", "--model", variable_rate_model, "--quality", "3", tmp_path / "in.png",
                    "-o", tmp_path / "cli.lic"], check=True, capture_output=True)
    assert (tmp_path / "cli.lic").read_bytes() == three
    assert three != eight and three[5] & 0x02 and eight[5] & 0x02  # flag bit 1: a rate level follows
    with lic.Codec(model=variable_rate_model) as codec, pytest.raises(lic.LICError, match="quality 9.0 is outside"):
        codec.encode(image, quality=9)
    with pytest.raises(lic.LICError, match="one rate"):
        lic.Codec(model=MODEL, quality=2)
