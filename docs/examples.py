"""Regenerate the example outputs and the picture that README.md and docs/ show, from the commands they show.

An example is a fenced block between two markers in a Markdown file::

    <!-- example: NAME -->
    ```
    $ the command
    what it printed
    ```
    <!-- /example -->

For each NAME in ``EXAMPLES`` this script runs its command from the repository root and rewrites the block
with the command and what it printed on standard output (or its first lines), so a reader sees what the command really prints.
Before them it runs the README's first command (its first line, without the ``pip install`` step), which
makes the embedded digits and trains ``runs/digits``, the archive the examples use. The picture
(``docs/images/top_losses.jpg``) is copied from notebook 05's stored output, so it changes when
that notebook's outputs are stored again.

    python docs/examples.py           # run everything and rewrite the blocks and the picture
    python docs/examples.py --check   # rewrite nothing; exit 1 naming each block that differs
"""
import argparse
import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Optional

from allencv_lite.common.files import write_bytes_atomically, write_text_atomically

REPO = Path(__file__).resolve().parents[1]
PICTURE = REPO / "docs" / "images" / "top_losses.jpg"
PICTURE_SOURCE = ("notebooks/05_prediction.ipynb", "plot_top_losses(")  # the notebook, the cell's code

# NAME -> (the Markdown file holding its block, the command run from the repository root, how many of
# its lines the block shows, None for all).
EXAMPLES = {
    "predict-digits": ("README.md", "allencv-lite predict runs/digits/model.tar.gz data/digits/heldout.jsonl", 2),
    "evaluate-digits": ("docs/command_line.md", "allencv-lite evaluate runs/digits/model.tar.gz data/digits/val", None),
}


def readme_setup_commands() -> list:
    """The README's first command, split at ``&&``, without its ``pip install`` step and its final ``predict``."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_line = re.search(r"```bash\n(.*)\n", readme).group(1)
    steps = [step.strip() for step in first_line.split("&&")]
    return [step for step in steps if not step.startswith("pip install") and "allencv-lite predict" not in step]


def run(command: str) -> str:
    """Run ``command`` in a shell from the repository root; its standard output, or SystemExit naming it."""
    result = subprocess.run(command, shell=True, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"docs/examples.py: `{command}` failed with exit status {result.returncode}:\n"
                         f"{result.stderr[-2000:]}")
    return result.stdout


def excerpt(output: str, shown_lines: Optional[int]) -> str:
    """The first ``shown_lines`` lines of ``output`` and a line counting the rest (all of it for None)."""
    lines = output.rstrip().split("\n")
    if shown_lines is None or len(lines) <= shown_lines:
        return "\n".join(lines)
    return "\n".join(lines[:shown_lines] + [f"... ({len(lines) - shown_lines} more lines)"])


def block_pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- example: {re.escape(name)} -->\n).*?(<!-- /example -->)", re.DOTALL)


def stored_picture() -> bytes:
    """The JPEG that notebook 05's ``plot_top_losses`` cell stored, or SystemExit saying what is missing."""
    notebook, code = PICTURE_SOURCE
    for cell in json.loads((REPO / notebook).read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code" and code in "".join(cell["source"]):
            for output in cell.get("outputs", []):
                if "image/jpeg" in output.get("data", {}):
                    return base64.b64decode(output["data"]["image/jpeg"])
    raise SystemExit(f"docs/examples.py: no stored JPEG output in the cell of {notebook} calling {code}; "
                     f"store the notebook's outputs first")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if a block differs")
    args = parser.parse_args()

    for command in readme_setup_commands():
        print(f"$ {command}", file=sys.stderr)
        run(command)
    differing = []
    for name, (markdown, command, shown_lines) in EXAMPLES.items():
        print(f"$ {command}", file=sys.stderr)
        block = f"```\n$ {command}\n{excerpt(run(command), shown_lines)}\n```\n"
        path = REPO / markdown
        text = path.read_text(encoding="utf-8")
        if not block_pattern(name).search(text):
            raise SystemExit(f"docs/examples.py: {markdown} has no '<!-- example: {name} -->' block")
        updated = block_pattern(name).sub(lambda match: match.group(1) + block + match.group(2), text)
        if updated != text:
            differing.append(f"{markdown}: {name}")
            if not args.check:
                write_text_atomically(updated, path)
    picture = stored_picture()
    if not PICTURE.exists() or PICTURE.read_bytes() != picture:
        differing.append(str(PICTURE.relative_to(REPO)))
        if not args.check:
            PICTURE.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomically(picture, PICTURE)
    print(("differs: " if args.check else "rewritten: ") + (", ".join(differing) or "nothing"), file=sys.stderr)
    if args.check and differing:
        sys.exit(1)


if __name__ == "__main__":
    main()
