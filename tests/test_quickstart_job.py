"""The README's main job, ``python -m skaae``, end to end (one epoch)."""

import pytest

from skaae.__main__ import main


def test_main_job_fits_reports_and_saves_the_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "digits.png"
    model = main(["--epochs", "1", "--quiet", "--device", "cpu", "--output", str(figure)])
    out = capsys.readouterr().out
    assert model.n_iter_ == 1 and model.n_components == 2
    assert "samples/s" in out and "5-NN accuracy" in out and "reconstruction error" in out
    assert figure.exists() and figure.stat().st_size > 10_000


def test_main_job_with_label_aware_mixture(tmp_path, capsys):
    model = main(["--epochs", "1", "--quiet", "--device", "cpu", "--prior", "mixture",
                  "--labels", "--output", ""])
    assert model.prior_.n_modes == 10 and len(model.classes_) == 10
