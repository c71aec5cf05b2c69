"""Grading a class folder: 5,000 small answer files (25 versions of the homework, one spec
each), as a teacher's `cnnspec check FOLDER` does. Prints the median seconds per batch.

Run: python benchmarks/bench_grading.py [FILES] [VERSIONS]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import median_seconds

from cnnspec.homework.batch import find_submissions, grade_files


def make_folder(root: Path, files: int, versions: int) -> None:
    """``files`` answer files over ``versions`` AlexNet-like YAML specs (Conv:1 filters vary);
    every other file has a wrong Conv:1 weight count, so diagnoses run too."""
    alexnet = (Path(__file__).resolve().parents[1] / "specs" / "alexnet.yaml").read_text()
    (root / "specs").mkdir()
    for v in range(versions):
        filters = 64 + 8 * v
        text = alexnet.replace("filters: 96,", f"filters: {filters},")
        (root / "specs" / f"v{v}.yaml").write_text(text.split("\nclaims:")[0] + "\n")
    for i in range(files):
        filters = 64 + 8 * (i % versions)
        weights = (11 * 11 * 3 + 1) * filters - (i % 2) * filters
        (root / f"s{i:05d}.yaml").write_text(
            f"student: s{i:05d}\nspec: specs/v{i % versions}.yaml\nlayers:\n"
            f"  Conv:1: {{output: 55x55x{filters}, weights: {weights}}}\n"
            f"  Pool:1: {{output: 27x27x{filters}}}\n"
            f"totals: {{weights: 62369152}}\n")


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    versions = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_folder(root, files, versions)
        paths = find_submissions(root)
        seconds = median_seconds(lambda: grade_files(paths, None, None, None), repeats=3,
                                 warmup=0)
    print(f"{files} files, {versions} specs: median {seconds:.2f} s "
          f"({1000 * seconds / files:.2f} ms per file)")


if __name__ == "__main__":
    main()
