"""The console script: exit codes pass through, and Ctrl-C while Python imports the CLI is no traceback."""

from __future__ import annotations

import gc
import importlib.abc
import signal
import subprocess
import sys
import time

import pytest

import composer.__main__ as entry


class _InterruptImport(importlib.abc.MetaPathFinder):
    """Raises KeyboardInterrupt when composer.cli is imported, as a Ctrl-C during that import would."""

    def find_spec(self, name, path=None, target=None):
        if name == "composer.cli":
            raise KeyboardInterrupt
        return None


class _InterruptInSetName(importlib.abc.MetaPathFinder):
    """What a Ctrl-C inside a dataclass field's ``__set_name__`` during the CLI's import looks like."""

    def find_spec(self, name, path=None, target=None):
        if name == "composer.cli":
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt as interrupt:
                raise RuntimeError("Error calling __set_name__ on 'Field' instance 'label_counts'") from interrupt
        return None


def test_ctrl_c_that_python_wrapped_in_another_error_still_exits_130_quietly(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "composer.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptInSetName(), *sys.meta_path])
    with pytest.raises(SystemExit) as exited:
        entry.main()
    assert exited.value.code == entry.INTERRUPTED_EXIT and capsys.readouterr().err == "interrupted\n"


def test_an_error_without_a_ctrl_c_behind_it_is_not_called_an_interrupt():
    try:
        try:
            raise ValueError("a real bug")
        except ValueError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as error:
        assert not entry.caused_by_ctrl_c(error)
    assert entry.caused_by_ctrl_c(KeyboardInterrupt())


def test_main_freezes_the_collector_as_it_ends_and_keeps_the_exit_code(monkeypatch, capsys):
    """The interpreter's exit then skips walking what torch and diffusers imported (about 1 s)."""
    gc.unfreeze()
    monkeypatch.setattr(sys, "argv", ["composer", "plan", "no-such-outline.yaml"])
    with pytest.raises(SystemExit) as exited:
        entry.main()
    assert exited.value.code == 2 and "no-such-outline.yaml" in capsys.readouterr().err
    assert gc.get_freeze_count() > 0  # (conftest unfreezes it after the test)


def test_loading_a_model_pauses_the_collector_and_freezes_what_the_load_made(monkeypatch):
    from composer import cli

    seen = {}

    def load(name, **options):
        seen["collecting"] = gc.isenabled()
        seen["loaded"] = [object() for _ in range(1000)]  # what a load leaves alive
        return "backend"

    monkeypatch.setattr("composer.backends.registry.load_backend", load)
    gc.unfreeze()
    assert cli._load_backend("tiny-random", device="cpu") == "backend"
    assert seen["collecting"] is False and gc.isenabled()
    assert gc.get_freeze_count() >= 1000


def test_ctrl_c_while_the_cli_imports_exits_130_quietly(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "composer.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptImport(), *sys.meta_path])
    with pytest.raises(SystemExit) as exited:
        entry.main()
    assert exited.value.code == entry.INTERRUPTED_EXIT
    assert capsys.readouterr().err == "interrupted\n"


def test_python_m_composer_runs_the_cli_and_passes_its_exit_code_on(tmp_path):
    shown = subprocess.run([sys.executable, "-m", "composer", "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and "render" in shown.stdout
    missing = subprocess.run([sys.executable, "-m", "composer", "plan", str(tmp_path / "nope.yaml")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.parametrize("delay_s", [0.05, 0.1, 0.15, 0.2, 0.3, 0.5])
def test_a_real_ctrl_c_soon_after_start_is_never_a_traceback(tmp_path, delay_s):
    """SIGINT at several moments of start-up (imports, argument parsing, torch import)."""
    outline = tmp_path / "song.yaml"
    outline.write_text("title: t\nbpm: 120\nsections:\n  a: {bars: 4, prompt: piano}\nform: [a]\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "composer", "render", str(outline), "-o", str(tmp_path / "song"),
         "--backend", "tiny-random"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a terminal's Ctrl-C: nohup or a CI runner may start the tests with SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(delay_s)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert "Traceback" not in stderr, stderr
    # killed before Python's handler exists, or interrupted with a message (or done first)
    assert process.returncode in (-signal.SIGINT, 130, 0), (process.returncode, stderr)


def test_version_option_prints_the_package_version():
    from typer.testing import CliRunner

    import composer
    from composer.cli import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"composer {composer.__version__}"
