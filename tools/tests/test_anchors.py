"""JPEG, WebP and AVIF through Pillow on two tiny generated images."""
import pytest
from PIL import Image, features

from rdreport.anchors import ANCHORS, code_image, code_point, parse_anchor_names
from rdreport.images import build_working_set, list_pngs


CODECS = ["jpeg", "webp", pytest.param("avif", marks=pytest.mark.skipif(
    not features.check("avif"), reason="this Pillow has no AVIF (pip install -r tools/requirements-rd.txt)"))]


@pytest.fixture
def working_set(gradient_images, tmp_path):
    return build_working_set(str(gradient_images), list_pngs(str(gradient_images), None), str(tmp_path / "work"))


@pytest.mark.parametrize("name", CODECS)
def test_each_anchor_codes_and_decodes(name, working_set, tmp_path):
    anchor = ANCHORS[name]
    decoded_dir = tmp_path / f"decoded-{name}"
    results = code_point(anchor, 50, working_set, str(decoded_dir), threads=1)
    assert [result["name"] for result in results] == ["img0.png", "img1.png"]
    for result in results:
        assert result["bytes"] > 0
        assert result["bpp"] == pytest.approx(8 * result["bytes"] / (64 * 48))
        assert result["bpp"] > 0
        assert result["encode_ms"] > 0 and result["decode_ms"] > 0
        with Image.open(decoded_dir / result["name"]) as decoded:
            assert decoded.size == (64, 48)
            assert decoded.mode == "RGB"


@pytest.mark.parametrize("name", CODECS)
def test_higher_quality_costs_more_bits(name, working_set):
    image = Image.open(working_set[0].path).convert("RGB")
    low = code_image(ANCHORS[name], image, 10, threads=1)
    high = code_image(ANCHORS[name], image, 90, threads=1)
    assert len(high.data) > len(low.data)
    assert high.decoded.size == image.size


def test_settings_name_the_options():
    assert "optimize=True" in ANCHORS["jpeg"].settings(1)
    assert "method=6" in ANCHORS["webp"].settings(1)
    assert "speed=6" in ANCHORS["avif"].settings(4) and "max_threads=4" in ANCHORS["avif"].settings(4)


def test_anchor_names_are_checked():
    assert [anchor.name for anchor in parse_anchor_names("webp, JPEG,webp")] == ["webp", "jpeg"]
    assert parse_anchor_names("") == []
    with pytest.raises(ValueError, match="heic"):
        parse_anchor_names("jpeg,heic")


def test_working_set_converts_non_rgb_pngs(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    Image.new("L", (20, 10), 128).save(source / "b.png")
    Image.new("RGBA", (20, 10), (1, 2, 3, 4)).save(source / "a.png")
    Image.new("RGB", (20, 10), (1, 2, 3)).save(source / "c.png")
    (source / "notes.txt").write_text("not an image")
    names = list_pngs(str(source), 2)
    assert names == ["a.png", "b.png"]
    images = build_working_set(str(source), names, str(tmp_path / "work"))
    assert [image.converted_from for image in images] == ["RGBA", "L"]
    for image in images:
        with Image.open(image.path) as opened:
            assert opened.mode == "RGB" and opened.size == (20, 10)
