"""Finding the images to predict in files and folders, and the summary of a run."""
from allencv_lite.predictors.image_files import PredictionTally, find_images


def test_folders_are_searched_recursively_in_sorted_order_and_files_kept_as_given(tmp_path):
    for name in ("b.jpg", "a.PNG", "sub/c.jpeg", ".hidden.jpg", "__MACOSX/d.jpg", "sub/readme.md"):
        (tmp_path / "photos" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "photos" / name).write_bytes(b"")
    images, skipped = find_images([tmp_path / "missing.jpg", tmp_path / "photos"])
    photos = tmp_path / "photos"
    assert images == [str(tmp_path / "missing.jpg"), str(photos / "a.PNG"), str(photos / "b.jpg"),
                      str(photos / "sub" / "c.jpeg")]
    assert skipped.files == {str(photos / "sub" / "readme.md"): "unsupported file type"}


def test_the_summary_counts_each_label_most_frequent_first_and_the_failures():
    tally = PredictionTally()
    for ok, record in [(True, {"label": "Dog"}), (True, {"label": "Cat"}), (True, {"label": "Dog"}),
                       (False, {"path": "x.jpg", "error": "x.jpg: empty file"})]:
        tally.add(ok, record)
    assert tally.summary() == "4 images: 2 Dog, 1 Cat; 1 failed"
