"""The Cats-and-Dogs data script, on a zip built like Microsoft's PetImages (quirks included)
and a download server on 127.0.0.1."""
import http.server
import io
import json
import threading
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from data_scripts.cats_and_dogs import (CLEANING_REPORT, DataPreparationError, check_zip, download, main, prepare)

PER_CLASS = 8  # good photos per class in the fake zip


def jpeg_bytes(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (shade, 255 - shade, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pet_images_zip(tmp_path_factory) -> Path:
    """PetImages/{Cat,Dog}/<n>.jpg plus the real zip's quirks: a zero-byte jpg (Cat/666.jpg),
    a non-JPEG with a .jpg name (Dog/11702.jpg), a truncated jpg, Thumbs.db, and top-level extras."""
    path = tmp_path_factory.mktemp("download") / "kagglecatsanddogs_5340.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("CDLA-Permissive-2.0.pdf", b"%PDF-1.4 licence")
        archive.writestr("readme[1].txt", "Cats and dogs")
        for label in ("Cat", "Dog"):
            archive.writestr(f"PetImages/{label}/", b"")
            for n in range(PER_CLASS):
                archive.writestr(f"PetImages/{label}/{n}.jpg", jpeg_bytes(n * 20 + (label == "Dog")))
            archive.writestr(f"PetImages/{label}/Thumbs.db", b"\xd0\xcf\x11\xe0 thumbnail cache")
        archive.writestr("PetImages/Cat/666.jpg", b"")
        archive.writestr("PetImages/Dog/11702.jpg", b"<html><body>Server error</body></html>")
        archive.writestr("PetImages/Dog/9999.jpg", jpeg_bytes(3)[:200])
    return path


def listing(folder: Path) -> dict:
    return {part: {label: sorted(p.name for p in (folder / part / label).iterdir()) for label in ("Cat", "Dog")}
            for part in ("train", "val")}


def test_broken_images_and_system_files_are_removed_and_reported(pet_images_zip, tmp_path):
    report = prepare(tmp_path, from_zip=pet_images_zip, train_per_class=5, val_per_class=2)
    assert report["removed"] == {"Cat/666.jpg": "empty file", "Cat/Thumbs.db": "not an image file",
                                 "Dog/11702.jpg": "not an image", "Dog/9999.jpg": "truncated",
                                 "Dog/Thumbs.db": "not an image file"}
    assert report["kept"] == {"Cat": PER_CLASS, "Dog": PER_CLASS}
    assert sorted(p.name for p in (tmp_path / "PetImages" / "Dog").iterdir()) == [f"{n}.jpg" for n in range(PER_CLASS)]
    assert json.loads((tmp_path / "PetImages" / CLEANING_REPORT).read_text()) == report


def test_split_has_the_asked_numbers_per_class_disjoint_and_reproducible(pet_images_zip, tmp_path):
    prepare(tmp_path / "a", from_zip=pet_images_zip, train_per_class=5, val_per_class=2, seed=0)
    prepare(tmp_path / "b", from_zip=pet_images_zip, train_per_class=5, val_per_class=2, seed=0)
    prepare(tmp_path / "c", from_zip=pet_images_zip, train_per_class=5, val_per_class=2, seed=1)
    split = listing(tmp_path / "a")
    assert [len(split[part][label]) for part in ("train", "val") for label in ("Cat", "Dog")] == [5, 5, 2, 2]
    assert not set(split["train"]["Cat"]) & set(split["val"]["Cat"])
    assert listing(tmp_path / "b") == split
    assert listing(tmp_path / "c") != split
    assert (tmp_path / "a" / "train" / "Cat" / split["train"]["Cat"][0]).read_bytes() == \
        (tmp_path / "a" / "PetImages" / "Cat" / split["train"]["Cat"][0]).read_bytes()


def test_rerun_redoes_nothing_and_a_new_size_only_redoes_the_split(pet_images_zip, tmp_path):
    prepare(tmp_path, from_zip=pet_images_zip, train_per_class=5, val_per_class=2)
    photo = tmp_path / "PetImages" / "Cat" / "0.jpg"
    copied = next((tmp_path / "train" / "Cat").iterdir())
    stamps = (photo.stat().st_mtime_ns, copied.stat().st_mtime_ns)
    assert main([str(tmp_path), "--from-zip", str(tmp_path / "no-such.zip"), "--train-per-class", "5",
                 "--val-per-class", "2"]) == 0  # done already: the zip is not needed
    assert (photo.stat().st_mtime_ns, copied.stat().st_mtime_ns) == stamps
    prepare(tmp_path, train_per_class=3, val_per_class=3)
    assert [len(names) for names in listing(tmp_path)["train"].values()] == [3, 3]
    assert photo.stat().st_mtime_ns == stamps[0]


def test_asking_for_more_images_than_there_are_says_how_many_there_are(pet_images_zip, tmp_path):
    with pytest.raises(DataPreparationError, match=f"has {PER_CLASS} readable images, fewer than the 7 \\+ 2 asked for"):
        prepare(tmp_path, from_zip=pet_images_zip, train_per_class=7, val_per_class=2)


def test_a_cut_short_zip_is_refused_with_what_to_do(pet_images_zip, tmp_path, capsys):
    cut = tmp_path / "cut.zip"
    cut.write_bytes(pet_images_zip.read_bytes()[:-300])
    assert main([str(tmp_path / "out"), "--from-zip", str(cut)]) == 1
    assert f"error: {cut} is not a complete zip" in capsys.readouterr().err
    with pytest.raises(DataPreparationError, match="Delete it and download it again"):
        check_zip(cut)


class RangeServer(http.server.ThreadingHTTPServer):
    """Serves ``payload`` at any path on 127.0.0.1, honouring ``Range: bytes=N-`` when
    ``honour_range``; stops sending after ``cut_after`` bytes once, if set."""

    def __init__(self, payload: bytes, honour_range: bool = True, cut_after: int = None) -> None:
        super().__init__(("127.0.0.1", 0), RangeHandler)
        self.payload, self.honour_range, self.cut_after, self.ranges = payload, honour_range, cut_after, []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/kagglecatsanddogs_5340.zip"


class RangeHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server, start = self.server, 0
        server.ranges.append(self.headers.get("Range"))
        if server.honour_range and self.headers.get("Range"):
            start = int(self.headers["Range"].removeprefix("bytes=").rstrip("-"))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(server.payload) - 1}/{len(server.payload)}")
        else:
            self.send_response(200)
        body = server.payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.cut_after is not None:
            body, server.cut_after = body[:server.cut_after], None
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def serve():
    servers = []

    def start(payload, **options) -> RangeServer:
        server = RangeServer(payload, **options)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


PAYLOAD = bytes(range(256)) * 40


def test_download_resumes_a_partial_file_with_a_range_request(serve, tmp_path):
    server = serve(PAYLOAD)
    (tmp_path / "kagglecatsanddogs_5340.zip.partial").write_bytes(PAYLOAD[:3000])
    download(server.url, tmp_path / "kagglecatsanddogs_5340.zip")
    assert server.ranges == ["bytes=3000-"]
    assert (tmp_path / "kagglecatsanddogs_5340.zip").read_bytes() == PAYLOAD
    assert not (tmp_path / "kagglecatsanddogs_5340.zip.partial").exists()


def test_download_starts_over_when_the_server_ignores_the_range(serve, tmp_path):
    server = serve(PAYLOAD, honour_range=False)
    (tmp_path / "kagglecatsanddogs_5340.zip.partial").write_bytes(b"stale bytes")
    download(server.url, tmp_path / "kagglecatsanddogs_5340.zip")
    assert (tmp_path / "kagglecatsanddogs_5340.zip").read_bytes() == PAYLOAD


def test_interrupted_download_keeps_its_bytes_and_the_next_run_finishes_it(serve, tmp_path):
    server = serve(PAYLOAD, cut_after=4000)
    target = tmp_path / "kagglecatsanddogs_5340.zip"
    with pytest.raises(DataPreparationError, match="Run the same command again to resume"):
        download(server.url, target, timeout=5)
    assert (tmp_path / "kagglecatsanddogs_5340.zip.partial").read_bytes() == PAYLOAD[:4000]
    download(server.url, target, timeout=5)
    assert server.ranges == [None, "bytes=4000-"]
    assert target.read_bytes() == PAYLOAD


def test_prepare_downloads_the_zip_when_none_is_given(serve, pet_images_zip, tmp_path):
    server = serve(pet_images_zip.read_bytes())
    prepare(tmp_path, url=server.url, train_per_class=2, val_per_class=1)
    assert (tmp_path / "kagglecatsanddogs_5340.zip").read_bytes() == pet_images_zip.read_bytes()
    assert [len(names) for names in listing(tmp_path)["val"].values()] == [1, 1]
