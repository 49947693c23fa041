"""Write scikit-learn's bundled handwritten digits as a class-per-folder image tree.

The digits (Alpaydin & Kaynak, UCI "Optical Recognition of Handwritten Digits"; 1797 scans
of 8×8 pixels, 16 grey levels, 10 classes) ship inside scikit-learn, so this works offline
and is the embedded default dataset of allencv-lite::

    python data_scripts/make_digits_dataset.py data/digits

writes ``data/digits/{train,val}/<digit>/<n>.png`` (a stratified, seeded split),
``data/digits/heldout/`` with one image per class that neither split contains, and
``data/digits/heldout.jsonl`` listing them as prediction inputs.
"""
import argparse
from pathlib import Path

from allencv_lite.data.digits import write_digits

__all__ = ["write_digits"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output_dir", type=Path, help="folder to write train/, val/, heldout/ into")
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    counts = write_digits(args.output_dir, args.validation_fraction, args.seed)
    print(f"Wrote {counts} images under {args.output_dir}")


if __name__ == "__main__":
    main()
