"""`qrmint render`: writes a decodable file; bad input is one stderr line and exit 2."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import NoReturn

import pytest

from qrmint import render_command
from render import RenderedImage
from tests.render.helpers import URL, decode


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def run(*argv: str) -> int:
    parser = _Parser(prog="qrmint")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    render_command.add_parser(sub)
    return render_command.run(parser.parse_args(["render", *argv]))


def decode_file(path: Path, fmt: str) -> str | None:
    return decode(RenderedImage(path.read_bytes(), "", fmt, "", 1, 21))


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_renders_a_decodable_file(tmp_path: Path, fmt: str) -> None:
    style = tmp_path / "style.json"
    style.write_text(json.dumps({"dots": {"shape": "rounded", "color": "#113355"}}))
    out = tmp_path / f"code.{fmt}"
    args = ["--data", URL, "--format", fmt, "--size", "300", "--ec", "Q", "--style", str(style)]
    assert run(*args, "-o", str(out)) == 0
    assert decode_file(out, fmt) == URL


def test_format_follows_the_output_extension(tmp_path: Path) -> None:
    out = tmp_path / "code.svg"
    assert run("--data", "hello", "-o", str(out)) == 0
    assert out.read_bytes().startswith(b"<svg")


def test_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert run("--data", "Grüße 東京 🚀", "--margin", "2", "-o", "-") == 0
    assert capsysbinary.readouterr().out.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--data", "x", "--size", "10"], "size is 10; expected an integer from 64 to 4096."),
        (["--data", "x", "--margin", "99"], "margin is 99"),
        (["--data", ""], "data is ''; expected non-empty text."),
        (["--data", "x", "--style", "/nonexistent.json"], "cannot read style file"),
        (["--data", "x" * 3000, "--ec", "H"], "does not fit"),
    ],
)
def test_refusals_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    assert run(*argv, "-o", str(tmp_path / "x.png")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("qrmint render: error: ")
    assert fragment in err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "is not valid JSON"),
        ('{"dots": {"color": "#eeeeee"}}', "contrast ratio"),
        ('{"dots": {"colour": "#000"}, "logo": {"image": "?"}}', "style.dots.colour"),
    ],
)
def test_bad_style_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, fragment: str
) -> None:
    style = tmp_path / "s.json"
    style.write_text(content)
    assert run("--data", "x", "--style", str(style), "-o", str(tmp_path / "x.png")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert fragment in err


def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        run("--data", "x", "--ec", "Z", "-o", "-")
    assert caught.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--data", "x", "-o", str(tmp_path / "missing" / "x.png")) == 2
    assert "cannot write" in capsys.readouterr().err
