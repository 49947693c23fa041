"""read_image: every colour mode, format and orientation becomes upright RGB uint8."""
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from allencv_lite.data.image_loading import UnreadableImageError, check_image, read_image
from tests.helpers.image_files import BLUE, RED, write_image, write_truncated_jpeg


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = write_image(tmp_path / "cmyk.jpg", mode="CMYK", color=(0, 255, 255, 0))  # no magenta/yellow ink: red
    image = read_image(path)
    assert image.shape == (8, 12, 3) and image.dtype == np.uint8
    assert tuple(image[0, 0]) == (255, 0, 0)


def test_grayscale_png_is_repeated_into_three_channels(tmp_path):
    image = read_image(write_image(tmp_path / "gray.png", mode="L", color=77))
    assert image.shape == (8, 12, 3)
    assert tuple(image[3, 3]) == (77, 77, 77)


def test_palette_transparency_is_composited_onto_white(tmp_path):
    palette_image = Image.new("P", (4, 4), 0)
    palette_image.putpalette([10, 200, 30] + [0, 0, 0] * 255)
    palette_image.paste(1, (0, 0, 2, 4))  # left half: colour 1, which is transparent
    palette_image.save(tmp_path / "palette.png", transparency=1)
    image = read_image(tmp_path / "palette.png")
    assert tuple(image[0, 0]) == (255, 255, 255)
    assert tuple(image[0, 3]) == (10, 200, 30)


def test_rgba_alpha_is_composited_onto_white(tmp_path):
    image = read_image(write_image(tmp_path / "rgba.png", mode="RGBA", color=(200, 0, 0, 128)))
    assert tuple(image[0, 0]) == (227, 127, 127)  # 200*128/255 + 255*127/255 = 227.4; 0 + 127


def test_sixteen_bit_grayscale_is_scaled_to_eight_bits(tmp_path):
    Image.fromarray(np.full((5, 6), 65535 // 2, dtype=np.uint16)).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode == "I;16"
    image = read_image(tmp_path / "deep.png")
    assert image.shape == (5, 6, 3)
    assert tuple(image[0, 0]) == (127, 127, 127)


def test_exif_orientation_is_applied(tmp_path):
    stored = Image.new("RGB", (40, 20), RED)
    stored.paste(BLUE, (20, 0, 40, 20))  # stored: red left, blue right
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise: red on top
    stored.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    image = read_image(tmp_path / "phone.jpg")
    assert image.shape == (40, 20, 3)
    assert image[5, 10, 0] > 200 and image[5, 10, 2] < 60
    assert image[35, 10, 2] > 200 and image[35, 10, 0] < 60


def test_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (6, 6), RED), Image.new("RGB", (6, 6), BLUE)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    image = read_image(tmp_path / "anim.gif")
    assert image.shape == (6, 6, 3)
    assert image[0, 0, 0] > 200 and image[0, 0, 2] < 60


def test_webp_is_read(tmp_path):
    image = read_image(write_image(tmp_path / "photo.webp", color=BLUE, lossless=True))
    assert tuple(image[0, 0]) == BLUE


def test_one_pixel_image_is_read(tmp_path):
    image = read_image(write_image(tmp_path / "dot.png", size=(1, 1), color=BLUE))
    assert image.shape == (1, 1, 3)


def test_draft_mode_decodes_a_jpeg_at_the_reduced_size_asked_for(tmp_path):
    path = write_image(tmp_path / "big.jpg", size=(800, 600))
    assert read_image(path, draft_size=(200, 150)).shape == (150, 200, 3)
    assert read_image(path, draft_size=(201, 150)).shape == (300, 400, 3)  # 1/4 would be too small
    assert read_image(path).shape == (600, 800, 3)


@pytest.mark.parametrize("subsampling", [0, 2])  # 4:4:4 and 4:2:0 chroma
@pytest.mark.parametrize("draft_size", [None, (100, 75), (50, 40), (20, 15)])  # scales 1, 2, 4, 8 of 160x120
def test_a_colour_jpeg_decodes_to_the_pixels_pillow_gives_at_every_draft_scale(tmp_path, subsampling, draft_size):
    noise = np.random.default_rng(1).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    path = tmp_path / "photo.jpg"
    Image.fromarray(noise).save(path, quality=90, subsampling=subsampling)
    with Image.open(path) as image:
        if draft_size is not None:
            image.draft("RGB", draft_size)
        pillows = np.asarray(image.convert("RGB"))
    assert np.array_equal(read_image(path, draft_size=draft_size), pillows)


def test_draft_size_is_turned_for_sideways_exif_photos(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (800, 400), RED).save(tmp_path / "sideways.jpg", exif=exif)  # upright: 400 wide, 800 high
    assert read_image(tmp_path / "sideways.jpg", draft_size=(100, 200)).shape == (200, 100, 3)


@pytest.mark.parametrize("name, content, reason", [
    ("empty.jpg", b"", "empty file"),
    ("notes.jpg", b"these are my notes, not a photo\n", "not an image"),
])
def test_header_check_finds_files_that_are_no_images(tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UnreadableImageError) as error:
        check_image(tmp_path / name)
    assert error.value.reason == reason and error.value.path == str(tmp_path / name)


def test_truncated_jpeg_passes_the_header_check_but_not_decoding(tmp_path):
    path = write_truncated_jpeg(tmp_path / "cut.jpg")
    check_image(path)
    with pytest.raises(UnreadableImageError) as error:
        read_image(path)
    assert error.value.reason == "truncated"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's own, between 1x and 2x
@pytest.mark.parametrize("size", [(120, 100), (200, 200)])  # above the limit, and above twice the limit
def test_images_above_the_decompression_bomb_limit_are_unreadable_with_the_fix(tmp_path, monkeypatch, size):
    path = write_image(tmp_path / "huge.png", size=size)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(UnreadableImageError) as error:
        read_image(path)
    assert error.value.reason == "too large"
    assert str(error.value) == (f"{path}: too large ({size[0] * size[1]:,} pixels > PIL.Image.MAX_IMAGE_PIXELS = "
                                "10,000, Pillow's decompression-bomb limit; if you trust this file, raise "
                                "PIL.Image.MAX_IMAGE_PIXELS before reading)")  # one limit, whichever raised it
    assert error.value.for_people() == ("That picture is too large: it has more than 10,000 pixels, the limit that "
                                        "protects the server from decompression bombs.")


def test_the_data_pages_decompression_bomb_limit_is_pillows_constant():
    data_page = (Path(__file__).resolve().parents[2] / "docs" / "data.md").read_text(encoding="utf-8")
    quoted = re.findall(r"`PIL\.Image\.MAX_IMAGE_PIXELS`, ([\d,]+) pixels", data_page)
    assert quoted == [f"{Image.MAX_IMAGE_PIXELS:,}"]


@pytest.mark.parametrize("source", ["path", "bytes"])
def test_an_empty_file_is_an_empty_file_whether_named_or_uploaded(tmp_path, source):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(UnreadableImageError) as error:
        read_image(tmp_path / "empty.jpg" if source == "path" else io.BytesIO(b""))
    assert error.value.reason == "empty file"
    assert error.value.for_people() == ("That is an empty file: there is no picture in it. Choose a JPEG, PNG, GIF, "
                                        "BMP, TIFF or WebP picture.")


def test_a_file_object_is_decoded_whole_after_the_emptiness_check():
    image_bytes = io.BytesIO()
    Image.new("RGB", (3, 2), RED).save(image_bytes, format="PNG")
    image_bytes.seek(0)
    assert read_image(image_bytes).shape == (2, 3, 3)


@pytest.mark.parametrize("name", ["a.png", "a.gif", "a.webp", "a.jpg"])
def test_decoded_pixels_are_writable(tmp_path, name):
    write_image(tmp_path / name, size=(6, 4), color=(200, 10, 10))
    assert read_image(tmp_path / name).flags.writeable
