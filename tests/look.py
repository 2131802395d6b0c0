"""Looking at the desktop as a person does: a screenshot of the real screen, cropped, read back with OCR.

    shot = screenshot(env, tmp_path / "desk.png")          # `import -window root` on env's DISPLAY
    text = read(shot, (x, y, w, h), negate=False)          # crop, scale 3x, greyscale, tesseract

Every PNG is kept next to the test's files (tmp_path) so a failing run can be opened and looked at;
ERGO_LOOK_DIR=/some/dir copies them there as well.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.desktop import require_tools

LOOK_TOOLS = ("import", "convert", "tesseract")


def require_look_tools() -> None:
    require_tools(*LOOK_TOOLS)


def keep(path: Path) -> Path:
    """Copy a picture to $ERGO_LOOK_DIR (when set) for a person to open; returns `path`."""
    target = os.environ.get("ERGO_LOOK_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / f"{path.parent.name}-{path.name}")  # tmp_path is named after the test
    return path


def screenshot(env: dict[str, str], path: Path) -> Path:
    """The whole X screen of env["DISPLAY"] as a PNG."""
    subprocess.run(["import", "-window", "root", str(path)], env=env, check=True, capture_output=True, timeout=20)
    return keep(path)


def wayland_screenshot(env: dict[str, str], path: Path) -> Path:
    """The whole output of the Wayland compositor at env["WAYLAND_DISPLAY"] (grim: wlr-screencopy)."""
    subprocess.run(["grim", str(path)], env=env, check=True, capture_output=True, timeout=20)
    return keep(path)


def prepare(png: Path, box: tuple[int, int, int, int] | None = None, *, negate: bool = False,
            threshold: int | None = 50, crisp: bool = False) -> Path:
    """Crop to box=(x, y, w, h), scale up 3x, greyscale (negated for light text on dark), then black and white
    at `threshold` percent grey: tesseract reads mid-grey backgrounds (dunst's blue, a panel) badly otherwise.
    crisp: scale by repeating pixels, which keeps a bitmap font's thin grey strokes (greyed menu entries)."""
    out = png.with_name(f"{png.stem}-ocr{'-' + '-'.join(map(str, box)) if box else ''}{'-crisp' if crisp else ''}.png")
    argv = ["convert", str(png)]
    if box is not None:
        x, y, w, h = box
        argv += ["-crop", f"{w}x{h}+{x}+{y}", "+repage"]
    argv += [*(["-filter", "point"] if crisp else []), "-resize", "300%", "-colorspace", "Gray"]
    if negate:
        argv.append("-negate")
    if threshold is not None:
        argv += ["-threshold", f"{threshold}%"]
    subprocess.run([*argv, str(out)], check=True, capture_output=True, timeout=20)
    return keep(out)


def ocr(png: Path) -> str:
    done = subprocess.run(["tesseract", str(png), "-", "--psm", "6"], capture_output=True, text=True, timeout=60,
                          check=True)
    return done.stdout


def read(png: Path, box: tuple[int, int, int, int] | None = None, *, negate: bool = False,
         threshold: int | None = 50, crisp: bool = False) -> str:
    """The words in `box` of the screenshot, one line per text line, whitespace squeezed."""
    text = ocr(prepare(png, box, negate=negate, threshold=threshold, crisp=crisp))
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def has_words(text: str, phrase: str) -> bool:
    """Whether `phrase` appears whole (not cut at either end) in OCR'd `text`, spacing and case aside."""
    words = r"\s+".join(re.escape(word) for word in phrase.split())
    return re.search(rf"(?<![A-Za-z0-9]){words}(?![A-Za-z0-9])", text, re.IGNORECASE) is not None


def darkest(png: Path, box: tuple[int, int, int, int]) -> float:
    """The darkest grey (0 black .. 1 white) inside box=(x, y, w, h): ink, or none, where a glyph should be."""
    x, y, w, h = box
    done = subprocess.run(["convert", str(png), "-crop", f"{w}x{h}+{x}+{y}", "+repage", "-colorspace", "Gray",
                           "-format", "%[fx:minima]", "info:"], capture_output=True, text=True, check=True, timeout=20)
    return float(done.stdout.strip())


def mean(png: Path, box: tuple[int, int, int, int]) -> float:
    """The mean grey (0 black .. 1 white) inside box=(x, y, w, h)."""
    x, y, w, h = box
    done = subprocess.run(["convert", str(png), "-crop", f"{w}x{h}+{x}+{y}", "+repage", "-colorspace", "Gray",
                           "-format", "%[fx:mean]", "info:"], capture_output=True, text=True, check=True, timeout=20)
    return float(done.stdout.strip())


def find_word(png: Path, box: tuple[int, int, int, int], word: str, *, negate: bool = False) -> tuple[int, int] | None:
    """Screen coordinates of the centre of `word` (as OCR reads it) inside box=(x, y, w, h), or None."""
    done = subprocess.run(["tesseract", str(prepare(png, box, negate=negate)), "-", "--psm", "6", "tsv"],
                          capture_output=True, text=True, timeout=60, check=True)
    for row in done.stdout.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) == 12 and cells[11].strip(".,|[]()").lower() == word.lower():
            left, top, width, height = (int(v) for v in cells[6:10])
            return box[0] + (left + width // 2) // 3, box[1] + (top + height // 2) // 3
    return None
