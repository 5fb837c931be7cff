"""bench/throughput.py works end to end on two submissions (the real benchmark runs 100, by hand)."""

import pytest

from bench import throughput

pytestmark = pytest.mark.notebook


def test_throughput_benchmark_smoke(tmp_path, capsys):
    assert throughput.main(["--n", "2", "--write", str(tmp_path / "report.md")]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "plain `nbgrader autograde`, sequential" in text and "ours, `--jobs 2`" in text
    assert "graded 2/2 submissions with status ok" in text
