"""Download Microsoft's Kaggle Cats-and-Dogs photos and split them into train/ and val/.

    python data_scripts/cats_and_dogs.py data/cats_dogs
    python data_scripts/cats_and_dogs.py data/cats_dogs --from-zip ~/Downloads/kagglecatsanddogs_5340.zip

Steps, each skipped when a previous run already finished it (so re-running is cheap and
gives the same result):

1. download ``kagglecatsanddogs_5340.zip`` (about 790 MB) with a progress bar into
   ``<out>/``; an interrupted download resumes where it stopped (HTTP Range) when run again;
2. check the zip (it must be complete, of the size the server announced, and pass the
   CRC test of every member);
3. unzip ``PetImages/Cat`` and ``PetImages/Dog`` into ``<out>/PetImages/``;
4. remove the files allencv-lite's decoder cannot read (PetImages holds zero-byte files,
   files that are no JPEG, and ``Thumbs.db``), listed in ``<out>/PetImages/cleaning_report.json``;
5. copy a reproducible random choice of N training and M validation images per class
   (default 1000 and 250, disjoint; ``--seed``) into ``<out>/train/{Cat,Dog}/`` and
   ``<out>/val/{Cat,Dog}/``, recorded in ``<out>/split.json``.

Then train with ``TRAIN_PATH=<out>/train VALIDATION_PATH=<out>/val``, or point
``ALLENCV_DATA_DIR`` at ``<out>``.
"""
import argparse
import collections
import http.client
import json
import os
import random
import shutil
import sys
import urllib.error
import urllib.request
import warnings
import zipfile
from pathlib import Path
from typing import Dict, List, Optional

from tqdm.auto import tqdm

from allencv_lite.data.image_loading import IMAGE_EXTENSIONS, UnreadableImageError, read_image

URL = "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip"
CLASSES = ("Cat", "Dog")
PET_IMAGES = "PetImages"
CLEANING_REPORT = "cleaning_report.json"
SPLIT_MANIFEST = "split.json"
NOT_AN_IMAGE_FILE = "not an image file"
CHUNK_BYTES = 1 << 20


class DataPreparationError(Exception):
    """A step failed in a way the message explains (what happened, and what to do)."""


def download(url: str, destination: Path, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``destination`` with a progress bar, resuming a partial download.

    Bytes arrive in ``<destination>.partial``; if that file exists, only the rest is asked
    for (``Range: bytes=<size>-``). A server that ignores the range (status 200 instead of
    206) is read from the start again. The file is renamed to ``destination`` only once it
    has the size the server announced.

    Raises:
        DataPreparationError: the connection failed or ended early (the partial file is
            kept: run again to resume).
    """
    partial = destination.with_name(destination.name + ".partial")
    start = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            resumed = start > 0 and response.status == 206
            if not resumed:
                start = 0
            remaining = response.headers.get("Content-Length")
            total = start + int(remaining) if remaining is not None else None
            with open(partial, "ab" if resumed else "wb") as output, \
                    tqdm(total=total, initial=start, unit="B", unit_scale=True, desc=destination.name) as progress:
                while chunk := response.read(CHUNK_BYTES):
                    output.write(chunk)
                    progress.update(len(chunk))
    except urllib.error.HTTPError as error:
        if error.code == 416 and start:  # the range starts at the end: the partial file is already whole
            os.replace(partial, destination)
            return destination
        raise DataPreparationError(f"Downloading {url} failed: HTTP {error.code} {error.reason}.") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        kept = partial.stat().st_size if partial.exists() else 0
        raise DataPreparationError(f"Downloading {url} was interrupted ({error}); {kept} bytes are kept in "
                                   f"{partial}. Run the same command again to resume.") from None
    size = partial.stat().st_size
    if total is not None and size != total:
        raise DataPreparationError(f"Downloading {url} ended early: {size} of {total} bytes in {partial}. "
                                   "Run the same command again to resume.")
    os.replace(partial, destination)
    return destination


def check_zip(path: Path) -> None:
    """Check that ``path`` is a complete zip whose members all pass their CRC test.

    Raises:
        DataPreparationError: the file is not a zip, is cut short, or has a damaged member.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError) as error:
        raise DataPreparationError(f"{path} is not a complete zip ({error}). Delete it and download it again, "
                                   "or pass --from-zip with a good copy.") from None
    if damaged is not None:
        raise DataPreparationError(f"{path} is damaged: member {damaged} fails its CRC check. Delete it and "
                                   "download it again.")


def remove_broken_images(folder: Path) -> Dict[str, Dict]:
    """Delete every file under ``folder``'s class folders that allencv-lite cannot decode.

    Each image is decoded in full (at 1/8 scale, Pillow's JPEG draft mode, which still
    reads every byte), so truncated files are found too.

    Returns:
        ``{"removed": {relative path: reason}, "counts": {reason: n}, "kept": {class: n}}``.
    """
    removed: Dict[str, str] = {}
    kept: Dict[str, int] = {}
    with warnings.catch_warnings():  # PetImages has many photos with odd but harmless EXIF data
        warnings.simplefilter("ignore")
        for label in CLASSES:
            files = sorted(path for path in (folder / label).iterdir() if path.is_file())
            kept[label] = 0
            for path in tqdm(files, desc=f"checking {label} images", unit="image"):
                reason = None
                if path.suffix.lower() not in IMAGE_EXTENSIONS:
                    reason = NOT_AN_IMAGE_FILE
                else:
                    try:
                        read_image(path, draft_size=(1, 1))
                    except UnreadableImageError as error:
                        reason = error.reason
                if reason is None:
                    kept[label] += 1
                else:
                    removed[f"{label}/{path.name}"] = reason
                    path.unlink()
    counts = dict(collections.Counter(removed.values()).most_common())
    return {"removed": removed, "counts": counts, "kept": kept}


def unzip_and_clean(zip_path: Path, out_dir: Path) -> Dict[str, Dict]:
    """Check ``zip_path``, unzip its ``PetImages/{Cat,Dog}/*`` into ``out_dir/PetImages``,
    remove broken images and save the report there (returned).

    Work happens in ``PetImages.partial``, renamed when complete, so an interrupted run
    never leaves a half-cleaned folder that looks finished.

    Raises:
        DataPreparationError: the zip is damaged or lacks the PetImages class folders.
    """
    check_zip(zip_path)
    work = out_dir / f"{PET_IMAGES}.partial"
    shutil.rmtree(work, ignore_errors=True)
    with zipfile.ZipFile(zip_path) as archive:
        # Only PetImages/<class>/<file>: nothing can be written outside the work folder.
        members = [name.split("/") for name in archive.namelist()]
        members = [parts for parts in members
                   if len(parts) == 3 and parts[0] == PET_IMAGES and parts[1] in CLASSES and parts[2] not in ("", ".", "..")]
        if not members:
            raise DataPreparationError(f"{zip_path} has no {PET_IMAGES}/Cat/ or {PET_IMAGES}/Dog/ files; is it "
                                       "Microsoft's kagglecatsanddogs zip?")
        for label in CLASSES:
            (work / label).mkdir(parents=True)
        for parts in tqdm(members, desc="unzipping", unit="file"):
            with archive.open("/".join(parts)) as source, open(work / parts[1] / parts[2], "wb") as target:
                shutil.copyfileobj(source, target)
    report = remove_broken_images(work)
    (work / CLEANING_REPORT).write_text(json.dumps(report, indent=2), encoding="utf-8")
    shutil.rmtree(out_dir / PET_IMAGES, ignore_errors=True)
    os.replace(work, out_dir / PET_IMAGES)
    return report


def _numeric_order(name: str) -> tuple:
    stem = Path(name).stem
    return (0, int(stem), name) if stem.isdigit() else (1, 0, name)


def choose_split(folder: Path, train_per_class: int, val_per_class: int, seed: int) -> Dict[str, Dict[str, List[str]]]:
    """``{"train": {class: [file names]}, "val": {...}}``: per class, the file names in
    numeric order, shuffled with ``random.Random(seed)``; the first ``train_per_class``
    train, the next ``val_per_class`` validate.

    Raises:
        DataPreparationError: a class has fewer images than asked for.
    """
    split: Dict[str, Dict[str, List[str]]] = {"train": {}, "val": {}}
    for label in CLASSES:
        names = sorted((path.name for path in (folder / label).iterdir() if path.suffix.lower() in IMAGE_EXTENSIONS),
                       key=_numeric_order)
        if len(names) < train_per_class + val_per_class:
            raise DataPreparationError(f"{folder / label} has {len(names)} readable images, fewer than the "
                                       f"{train_per_class} + {val_per_class} asked for.")
        random.Random(seed).shuffle(names)
        split["train"][label] = sorted(names[:train_per_class], key=_numeric_order)
        split["val"][label] = sorted(names[train_per_class:train_per_class + val_per_class], key=_numeric_order)
    return split


def write_split(out_dir: Path, train_per_class: int, val_per_class: int, seed: int) -> bool:
    """Copy the chosen images into ``out_dir/{train,val}/{Cat,Dog}``; returns False (and
    touches nothing) when ``split.json`` shows the same split is already in place."""
    split = choose_split(out_dir / PET_IMAGES, train_per_class, val_per_class, seed)
    manifest = {"seed": seed, "train_per_class": train_per_class, "val_per_class": val_per_class, "files": split}
    manifest_path = out_dir / SPLIT_MANIFEST
    in_place = all((out_dir / part / label / name).is_file()
                   for part, labels in split.items() for label, names in labels.items() for name in names)
    if manifest_path.is_file() and json.loads(manifest_path.read_text(encoding="utf-8")) == manifest and in_place:
        return False
    work = out_dir / "split.partial"
    shutil.rmtree(work, ignore_errors=True)
    for part, labels in split.items():
        for label, names in labels.items():
            (work / part / label).mkdir(parents=True)
            for name in names:
                shutil.copyfile(out_dir / PET_IMAGES / label / name, work / part / label / name)
    manifest_path.unlink(missing_ok=True)
    for part in split:
        shutil.rmtree(out_dir / part, ignore_errors=True)
        os.replace(work / part, out_dir / part)
    work.rmdir()
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return True


def prepare(out_dir: Path, from_zip: Optional[Path] = None, url: str = URL, train_per_class: int = 1000,
            val_per_class: int = 250, seed: int = 0) -> Dict[str, Dict]:
    """Run every step that an earlier run has not finished (see the module docstring);
    returns the cleaning report.

    Raises:
        DataPreparationError: a step failed; the message says what to do.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    report_path = out_dir / PET_IMAGES / CLEANING_REPORT
    if report_path.is_file():
        report = json.loads(report_path.read_text(encoding="utf-8"))
    else:
        if from_zip is None:
            zip_path = out_dir / Path(url).name
            if not zip_path.is_file():
                download(url, zip_path)
        elif not from_zip.is_file():
            raise DataPreparationError(f"--from-zip {from_zip}: no such file.")
        report = unzip_and_clean(from_zip or zip_path, out_dir)
    write_split(out_dir, train_per_class, val_per_class, seed)
    return report


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path, nargs="?", default=Path("data/cats_dogs"),
                        help="folder for the zip, PetImages/, train/ and val/ (default: data/cats_dogs)")
    parser.add_argument("--from-zip", type=Path, default=None, help="use this zip instead of downloading")
    parser.add_argument("--url", default=URL, help="where to download the zip from")
    parser.add_argument("--train-per-class", type=int, default=1000, help="training images per class (default 1000)")
    parser.add_argument("--val-per-class", type=int, default=250, help="validation images per class (default 250)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random split (default 0)")
    args = parser.parse_args(argv)
    try:
        report = prepare(args.out_dir, args.from_zip, args.url, args.train_per_class, args.val_per_class, args.seed)
    except DataPreparationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{n} {reason}" for reason, n in report["counts"].items()) or "none"
    print(f"Removed {len(report['removed'])} unreadable files ({counts}); kept {report['kept']}; listed in "
          f"{args.out_dir / PET_IMAGES / CLEANING_REPORT}.")
    print(f"{args.out_dir / 'train'}: {args.train_per_class} images per class; {args.out_dir / 'val'}: "
          f"{args.val_per_class} per class (seed {args.seed}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
