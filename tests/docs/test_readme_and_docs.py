"""The README is a front page, and every page it leads to is there: links resolve, configs and examples are listed."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "benchmarks" / "RESULTS.md"]
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def relative_links(page: Path) -> list:
    """Each link target of ``page`` that is not a URL or an anchor on the same page, without its ``#anchor``."""
    targets = [target.split("#")[0] for target in MARKDOWN_LINK.findall(read(page))]
    return [target for target in targets if target and not re.match(r"[a-z]+:", target)]


def test_the_readme_fits_on_a_front_page_of_at_most_200_lines():
    assert len(read(REPO / "README.md").splitlines()) <= 200


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_relative_link_resolves_to_a_file_or_folder(page):
    missing = [target for target in relative_links(page) if not (page.parent / target).exists()]
    assert missing == []


def test_the_link_check_finds_a_missing_file(tmp_path):
    (tmp_path / "here.md").write_text("x")
    page = tmp_path / "page.md"
    page.write_text("[a](here.md#part) [b](gone.md) [c](https://example.org/x.md) [d](#local) ![e](img/gone.png)")
    assert [target for target in relative_links(page) if not (page.parent / target).exists()] == \
        ["gone.md", "img/gone.png"]


def test_the_readmes_first_lines_are_the_two_commands_and_ci_runs_the_second():
    lines = read(REPO / "README.md").splitlines()
    assert lines[2] == "```bash" and lines[5] == "```"
    assert lines[3].startswith("pip install -c constraints.txt -e . && ")
    assert lines[4] in read(REPO / ".ci" / "run").splitlines()


def test_the_recipes_table_names_every_config_with_a_measured_figure_recorded_in_results():
    readme, results = read(REPO / "README.md"), read(REPO / "benchmarks" / "RESULTS.md")
    for config in sorted((REPO / "training_config").glob("*.jsonnet")):
        row = re.search(rf"^\| \[`{re.escape(config.name)}`\]\(training_config/{re.escape(config.name)}\) \|.*$",
                        readme, re.MULTILINE)
        assert row, f"README.md's recipes table has no row for {config.name}"
        assert f"`{config.name}`" in results, f"benchmarks/RESULTS.md records nothing for {config.name}"


def test_instructions_export_allencv_data_dir_as_an_absolute_path():
    """An absolute path means the same in a kernel (which runs in ``notebooks/``), in ``cd notebooks &&
    jupyter nbconvert`` and in a shell at the repository root."""
    for page in [REPO / "README.md", REPO / "docs" / "widgets.md", REPO / "docs" / "command_line.md"]:
        exports = re.findall(r"export ALLENCV_DATA_DIR=(\S+)", read(page))
        assert exports, page
        assert all(value.startswith("$PWD/") for value in exports), (page, exports)


def test_every_example_block_is_one_that_docs_examples_py_regenerates():
    import importlib.util
    spec = importlib.util.spec_from_file_location("docs_examples", REPO / "docs" / "examples.py")
    examples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(examples)
    blocks = {(page.relative_to(REPO).as_posix(), name) for page in PAGES
              for name in re.findall(r"<!-- example: (\S+) -->", read(page))}
    assert blocks == {(markdown, name) for name, (markdown, *_) in examples.EXAMPLES.items()}
    for markdown, name in blocks:
        command = examples.EXAMPLES[name][1]
        assert examples.block_pattern(name).search(read(REPO / markdown)).group(0).count(f"$ {command}\n") == 1
