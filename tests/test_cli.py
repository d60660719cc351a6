"""The ``couponbound`` command: main job, subcommands, formats, files, exit codes."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from oracles import hypergeometric_ie, subsets_ie, uniform_ie

from couponbound import BoundMonitor, coverage_prob, required_negatives
from couponbound.cli import build_parser, main
from couponbound.paper.summary import dataset_table

_REPO = str(__import__("pathlib").Path(__file__).resolve().parents[1])

FIGURES = ["coverage", "collision", "expected_classes", "sup_upper_bounds_cifar-10",
           "sup_upper_bounds_cifar-100", "sup_upper_bounds_imagenet-1k-uniform"]


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _pdf_png_ok(path):
    pdf = path.with_suffix(".pdf").read_bytes()
    png = path.with_suffix(".png").read_bytes()
    return pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:] and png.startswith(b"\x89PNG\r\n\x1a\n")


# ---------------------------------------------------------------------------
# the main job
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_bare_command_prints_table_and_writes_files(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run([], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["data", "set", "C"]
    cifar = next(x for x in lines if x.startswith("CIFAR-10 "))
    assert cifar.split()[1:8] == ["10", "50000", "29.3", "26", "43", "65", "87"]
    lt = next(x for x in lines if x.startswith("CIFAR-100-LT (r=100) "))
    assert "13652*" in lt and "4323" in lt and "7765" in lt and "> 10847" in lt
    outdir = tmp_path / "couponbound-output"
    for name in FIGURES:
        assert _pdf_png_ok(outdir / name), name
    for name in ("table3.md", "table3.tex", "table3.csv", "coverage_summary.csv"):
        assert (outdir / name).stat().st_size > 0
    assert "| CIFAR-100 " in (outdir / "table3.md").read_text()
    assert r"\toprule" in (outdir / "table3.tex").read_text()
    # the file list is printed, every listed file exists
    listed = [x.strip() for x in lines if x.startswith("  couponbound-output/")]
    assert len(listed) == 16 and all((tmp_path / p).is_file() for p in listed)
    assert "[6/6] figure" in err  # progress on stderr


def test_bare_machine_formats_write_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["--json"], capsys)
    assert code == 0 and err == ""
    data = json.loads(out)
    assert [d["dataset"] for d in data][:3] == ["binary", "AG News", "CIFAR-10"]
    assert data[2]["negatives_for"]["99"] == 65
    code, out, _ = run(["--csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[3]["dataset"] == "CIFAR-100" and int(rows[3]["K_for_99"]) == 915
    code, out, _ = run(["--latex"], capsys)
    assert out.startswith(r"\begin{tabular}") and "CIFAR-100 & 100 & 50000 & 518.7 & 496" in out
    assert not (tmp_path / "couponbound-output").exists()


def test_bare_json_with_out_keeps_stdout_machine_readable(tmp_path, capsys, monkeypatch):
    import couponbound.paper.outputs as outputs

    def fake_figures(out, *a, **k):  # the figures themselves are tested above
        (out / "coverage.pdf").write_bytes(b"%PDF-")
        return [out / "coverage.pdf"]

    monkeypatch.setattr(outputs, "write_figures", fake_figures)
    code, out, err = run(["--json", "--out", str(tmp_path / "o"), "-q"], capsys)
    assert code == 0
    json.loads(out)  # nothing but JSON on stdout
    assert "wrote 5 files" in err and (tmp_path / "o" / "table3.tex").is_file()


def test_dataset_table_unchanged():
    row = dataset_table([("CIFAR-10", 10)], [0.99], [32])[0]
    assert row.negatives_for == {"99": 65} and row.coverage_at["32"] == pytest.approx(0.6909756324468)


def test_command_as_a_process_picks_no_display(tmp_path):
    """The command works headless and never imports pyplot (no backend is chosen)."""
    code = ("import sys; from couponbound.cli import main; "
            "rc = main(['figures', '-C', '10', '--format', 'png', '--out', sys.argv[1], '-q']); "
            "print('PYPLOT', 'matplotlib.pyplot' in sys.modules); raise SystemExit(rc)")
    env = {"PATH": "/usr/bin:/bin", "MPLBACKEND": "", "DISPLAY": ""}
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "PYPLOT False" in res.stdout
    assert (tmp_path / "collision.png").is_file()


# ---------------------------------------------------------------------------
# subcommands
# ---------------------------------------------------------------------------


def test_coverage_command(capsys):
    code, out, _ = run(["coverage", "-C", "10", "100", "-K", "31", "127", "--json"], capsys)
    assert code == 0
    recs = json.loads(out)
    assert [(r["classes"], r["K"]) for r in recs] == [(10, 31), (10, 127), (100, 31), (100, 127)]
    for r in recs:
        assert r["upsilon"] == coverage_prob(r["K"], r["classes"]) and r["draws"] == r["K"] + 1
        exact = uniform_ie(r["K"] + 1, r["classes"])  # independent, in integers
        assert r["upsilon"] == pytest.approx(float(exact), rel=1e-12, abs=1e-300)
        assert r["miss"] == pytest.approx(float(1 - exact), rel=1e-12)
    code, out, _ = run(["coverage", "-C", "10", "-K", "31", "--no-anchor", "--csv"], capsys)
    row = next(csv.DictReader(io.StringIO(out)))
    assert float(row["upsilon"]) == coverage_prob(31, 10, include_anchor=False)
    assert float(row["upsilon"]) == pytest.approx(float(uniform_ie(31, 10)), rel=1e-12)
    assert int(row["draws"]) == 31
    code, out, _ = run(["coverage", "--counts", "5,3,2", "-K", "4"], capsys)
    assert code == 0 and out.startswith("| prior") and f"{coverage_prob(4, counts=[5, 3, 2]):.6g}" in out
    assert f"{float(subsets_ie(5, [5, 3, 2])):.6g}" in out


def test_counts_from_files(tmp_path, capsys):
    f = tmp_path / "counts.txt"
    f.write_text("50 30\n20\n")
    g = tmp_path / "counts.json"
    g.write_text("[50, 30, 20]")
    a = run(["required", "--counts", "@" + str(f), "--json"], capsys)[1]
    b = run(["required", "--counts", "@" + str(g), "--json"], capsys)[1]
    assert json.loads(a) == json.loads(b)
    assert json.loads(a)[0]["K_for_99"] == required_negatives(counts=[50, 30, 20])
    k = json.loads(a)[0]["K_for_99"]
    assert subsets_ie(k + 1, [50, 30, 20]) >= Fraction(99, 100) > subsets_ie(k, [50, 30, 20])


def test_required_command(capsys):
    code, out, _ = run(["required", "-C", "10", "100", "--confidence", "0.5", "0.99", "--json"], capsys)
    recs = json.loads(out)
    assert [(r["K_for_50"], r["K_for_99"]) for r in recs] == [(26, 65), (496, 915)]
    code, out, _ = run(["required", "--latex"], capsys)  # default C = 10 100 1000
    assert out.count(r"\\") == 4 and r"$K_{99\%}$" in out


def test_required_without_replacement(capsys):
    code, out, err = run(["required", "--counts", "5,3,2", "--without-replacement", "--json"],
                         capsys)
    assert code == 0, err
    rec = json.loads(out)[0]
    assert rec["K_for_99"] == required_negatives(counts=[5, 3, 2], replacement=False)
    k = rec["K_for_99"]  # batches drawn without replacement from 10 samples
    assert hypergeometric_ie(k + 1, [5, 3, 2]) >= Fraction(99, 100) > hypergeometric_ie(k, [5, 3, 2])
    # E[K+1] of a shuffled loader: E[T] = sum over n < N of P(T > n) = 1 - upsilon_n (exact)
    exact = sum(1 - hypergeometric_ie(n, [5, 3, 2]) for n in range(10))
    assert rec["expected_batch"] == pytest.approx(float(exact), rel=1e-12)


def test_table_command(capsys):
    code, out, _ = run(["table"], capsys)
    assert code == 0 and "| Wiki-3029" in out and "26030" in out
    code, out, _ = run(["table", "--dataset", "CIFAR-10=10", "--dataset", "mine=6,3,1", "-C", "4",
                        "--confidence", "0.9", "--csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["dataset"] for r in rows] == ["CIFAR-10", "mine", "C = 4"]
    assert int(rows[1]["K_for_90"]) == required_negatives(counts=[6, 3, 1], confidence=0.9)
    k = int(rows[1]["K_for_90"])
    assert subsets_ie(k + 1, [6, 3, 1]) >= Fraction(9, 10) > subsets_ie(k, [6, 3, 1])
    k = int(rows[2]["K_for_90"])
    assert uniform_ie(k + 1, 4) >= Fraction(9, 10) > uniform_ie(k, 4)
    code, out, _ = run(["table", "--latex"], capsys)
    assert r"\begin{tabular}{lrrrr}" in out


def test_figures_command(tmp_path, capsys):
    code, out, err = run(["figures", "-C", "10", "--venue", "icml", "--columns", "1",
                          "--format", "pdf", "--contrastive", "3.0", "--out", str(tmp_path)], capsys)
    assert code == 0 and err.count("figure") == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "collision.pdf", "coverage.pdf", "expected_classes.pdf", "sup_upper_bounds_c-10.pdf"]
    assert "wrote 4 files" in out


def _saved_runs(tmp_path):
    rng = np.random.default_rng(3)
    states = {}
    for B in (8, 32):
        mon = BoundMonitor(num_classes=4, temperature=0.5)
        for _ in range(3):
            y = rng.integers(0, 4, size=B)
            mon.update_losses(contrastive=2.0 + rng.random(B), sup=1.0 + rng.random(B),
                              sub=0.5 + rng.random(B), d=-0.3 * rng.random(B), labels=y, in_batch=True)
        states[B] = mon
    path = tmp_path / "runs.json"
    path.write_text(json.dumps([states[8].state_dict(), states[32].compute().to_dict()]))
    return path, states


def test_shared_options_on_either_side_of_the_command(tmp_path, capsys):
    code, out, err = run(["-q", "--json", "table", "-C", "10"], capsys)
    assert code == 0 and json.loads(out)[0]["K_for_99"] == 65
    code, out, err = run(["--out", str(tmp_path), "figures", "-C", "10", "--format", "png", "-q"],
                         capsys)
    assert code == 0 and err == "" and (tmp_path / "coverage.png").is_file()


def test_report_command(tmp_path, capsys):
    path, states = _saved_runs(tmp_path)
    out_dir = tmp_path / "out"
    code, out, err = run(["report", str(path), "--accuracy", "0.7", "0.8", "--out", str(out_dir),
                          "-q"], capsys)
    assert code == 0 and err == ""
    assert "| NS21 bound on L_Info" in out and "K+1 = 8" in out and "K+1 = 32" in out
    for name in ("bound_comparison", "bound_decomposition"):
        assert _pdf_png_ok(out_dir / name)
    assert (out_dir / "decomposition.tex").read_text().startswith(r"\begin{tabular}")
    code, out, _ = run(["report", str(path), "--json"], capsys)
    recs = {r["key"]: r for r in json.loads(out)}
    assert recs["ns21_bound"]["K+1 = 8"] == pytest.approx(states[8].compute().ns21_bound)
    assert recs["contrastive"]["K+1 = 32"] == pytest.approx(states[32].compute().contrastive)
    code, out, err = run(["report", str(path), "--no-figures", "--out", str(tmp_path / "t")], capsys)
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == [
        "decomposition.csv", "decomposition.md", "decomposition.tex"]


# ---------------------------------------------------------------------------
# help and errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", [[], ["coverage"], ["required"], ["table"], ["figures"], ["report"]])
def test_help_has_examples(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*cmd, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "couponbound" in out


def test_every_tabular_command_has_machine_formats():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    for name in ("coverage", "required", "table", "report"):
        opts = {o for a in sub[name]._actions for o in a.option_strings}
        assert {"--json", "--csv", "--latex"} <= opts, name
    for name in ("figures", "report"):
        opts = {o for a in sub[name]._actions for o in a.option_strings}
        assert "--out" in opts


@pytest.mark.parametrize("argv, message", [
    (["coverage", "-C", "0", "-K", "3"], "C must be an integer >= 1, got 0"),
    (["coverage", "-K", "3"], "give the number of classes"),
    (["coverage", "-C", "10"], "the following arguments are required: -K"),
    (["coverage", "-C", "10", "-K", "-2"], "-K must be >= 0"),
    (["coverage", "-C", "10", "--counts", "1,2", "-K", "3"], "give one of -C, --counts, --probs"),
    (["coverage", "--probs", "0.5,0.6", "-K", "3"], "probs must sum to 1"),
    (["coverage", "-C", "10", "-K", "x"], "invalid int value: 'x'"),
    (["required", "-C", "10", "--confidence", "1.5"], "confidences must lie in (0, 1)"),
    (["required", "-C", "10", "--without-replacement"],
     "--without-replacement needs the data set's class counts"),
    (["required", "--counts", "1.5,2"], "must be whole numbers"),
    (["table", "--dataset", "CIFAR"], "--dataset must be a built-in name"),
    (["report", "/nonexistent/run.json"], "file not found: '/nonexistent/run.json'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["--columns", "3"], "invalid choice: 3"),
    (["--json", "--csv"], "not allowed with argument"),
    # issue 11: non-finite and huge values, one line and exit 2, never a traceback
    (["coverage", "--counts", "inf,1", "-K", "3"], "--counts must be finite numbers, got inf"),
    (["coverage", "--counts", "1e400,1", "-K", "3"], "a value beyond 1.8e308 reads as inf"),
    (["coverage", "--probs", "nan,1", "-K", "3"], "--probs must be finite numbers, got nan"),
    (["table", "--dataset", "x=1e400"], "--dataset x must be finite numbers"),
    (["table", "--dataset", "x=" + "9" * 30], "far more than the tables take"),
    (["table", "--dataset", "x=2000000"], "more than the 1,000,000 the tables and figures take"),
    (["required", "-C", "1e20"], "invalid int value: '1e20'"),
    (["required", "-C", str(10**20)], "use couponbound.asymptotic"),
    (["coverage", "-C", str(10**30), "-K", "3"], "more than the 1,000,000"),
    (["figures", "--contrastive", "nan"], "contrastive must be a finite positive loss"),
    (["figures", "--contrastive", "-1"], "contrastive must be a finite positive loss"),
])
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("couponbound") and "error:" in err
    assert message in err


def test_report_accuracy_length_mismatch(tmp_path, capsys):
    path, _ = _saved_runs(tmp_path)
    code, _, err = run(["report", str(path), "--accuracy", "0.7"], capsys)
    assert code == 2 and "--accuracy has 1 values but" in err


def test_report_bad_json(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    code, _, err = run(["report", str(bad)], capsys)
    assert code == 2 and "expected a BoundMonitor state_dict" in err and err.count("\n") == 1


def _report_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_report_refuses_hostile_files_with_one_line(tmp_path, capsys):
    from couponbound import BoundTerms
    from couponbound.training import BoundReport

    good = BoundReport.from_terms(BoundTerms(
        contrastive=2.02, sup=1.26 / 0.69, sub=0.52 / 0.31, collision=1.32, d=-1.16,
        upsilon=0.69, tau=1.0, arora_sub=1.75, K=31, C=10)).to_dict()
    assert good["arora_sup_upper"] == np.inf  # vacuous: to_dict writes Infinity, accepted
    cases = {
        "big.json": ("[" * 100_000 + "]" * 100_000, "nesting deeper than"),
        "e400.json": ('{"contrastive": 1e400}', "non-finite number 1e400"),
        "inf.json": ("[Infinity]", "got inf"),
        "holds.json": (json.dumps({**good, "holds": "false"}), "holds must be a boolean"),
        "measured_inf.json": (json.dumps({**good, "contrastive": float("inf")}),
                              "contrastive must be finite"),
        "kstr.json": (json.dumps({**good, "K": "31"}), "K must be an integer"),
    }
    for name, (text, message) in cases.items():
        code, out, err = run(["report", _report_file(tmp_path, name, text), "--json"], capsys)
        assert code == 2 and out == "", name
        assert err.count("\n") == 1 and message in err, (name, err)
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as fh:  # sparse 100 MB: refused from its size, before reading
        fh.truncate(100 * 1024 * 1024)
    code, _, err = run(["report", str(huge)], capsys)
    assert code == 2 and "larger than the limit of 16,777,216 bytes" in err
    code, out, _ = run(["report", _report_file(tmp_path, "ok.json", json.dumps(good)), "--json"],
                       capsys)
    recs = {r["key"]: r for r in json.loads(out)}
    assert code == 0 and recs["holds"]["K+1 = 32"] is True
    assert recs["arora_sup_upper"]["K+1 = 32"] is None  # inf in JSON tables is null


def test_figures_with_a_bad_value_write_nothing(tmp_path, capsys):
    out_dir = tmp_path / "figs"
    for argv in (["--contrastive", "nan"], ["--format", "pdf", "--contrastive", "inf"],
                 ["-C", str(10**7)]):
        code, _, err = run(["figures", "--out", str(out_dir), "-q", *argv], capsys)
        assert code == 2 and err.count("\n") == 1
        assert not out_dir.exists()


def test_counts_file_limits(tmp_path, capsys, monkeypatch):
    import couponbound.cli as cli

    monkeypatch.setattr(cli, "MAX_NUMBERS_BYTES", 100)
    big = tmp_path / "big.txt"
    big.write_text("1 " * 200)
    code, _, err = run(["coverage", "--counts", f"@{big}", "-K", "3"], capsys)
    assert code == 2 and "larger than the limit of 100 bytes" in err
    js = tmp_path / "c.json"
    js.write_text("[1, Infinity]")
    code, _, err = run(["coverage", "--counts", f"@{js}", "-K", "3"], capsys)
    assert code == 2 and "non-finite number Infinity" in err
    js.write_text("[1, true]")
    code, _, err = run(["coverage", "--counts", f"@{js}", "-K", "3"], capsys)
    assert code == 2 and "not a JSON list of numbers" in err


def test_closed_pipe_is_quiet():
    import os

    r, w = os.pipe()
    os.close(r)  # the reader is gone before the command writes
    try:
        done = subprocess.run(
            [sys.executable, "-m", "couponbound", "coverage", "-C", "10", "-K",
             *map(str, range(1, 3000))], stdout=w, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(w)
    assert done.returncode == 141 and done.stderr == b""


def test_console_main_is_main_with_a_quiet_pipe(capsys):
    from couponbound.cli import console_main

    assert console_main.__doc__ and "quiet" in console_main.__doc__
    import couponbound.cli as cli

    calls = []
    orig = cli.main
    try:
        cli.main = lambda argv=None: calls.append(argv) or 0
        assert console_main() == 0 and calls == [None]
    finally:
        cli.main = orig


# ---------------------------------------------------------------------------
# issue 20: the command refuses what it cannot answer; issue 18: the shuffled loader
# ---------------------------------------------------------------------------


def test_a_number_is_never_read_as_a_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "10").write_text("1 1 1 1 1 1 1 1 1 1 1 1")  # a file named like the number
    code, out, _ = run(["coverage", "--counts", "10", "-K", "5", "--json"], capsys)
    rec = json.loads(out)[0]
    assert code == 0 and rec["classes"] == 1 and rec["upsilon"] == 1.0  # one class of 10
    code, out, _ = run(["coverage", "--counts", "@10", "-K", "5", "--json"], capsys)
    assert json.loads(out)[0]["classes"] == 12  # the file, only when asked for with @
    (tmp_path / "counts.txt").write_text("5 3 2")
    code, _, err = run(["required", "--counts", "counts.txt"], capsys)
    assert code == 2 and "to read the file 'counts.txt' write --counts @counts.txt" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["required", "--counts", ""], "--counts is empty"),
    (["figures", "--counts", "", "-q"], "--counts is empty"),
    (["coverage", "--probs", " , ", "-K", "3"], "--probs is empty"),
    (["required", "--counts", "@"], "'@' must be followed by a file name"),
    (["required", "--counts", "/nonexistent.txt"], "file not found: '/nonexistent.txt'"),
    (["required", "--counts", "@/nonexistent.txt"], "--counts: file not found: '/nonexistent.txt'"),
    (["table", "--dataset", "mine=@/nonexistent.txt"], "file not found: '/nonexistent.txt'"),
    (["coverage", "-C", "3", "-K", "5", "--without-replacement"], "needs the data set's class counts"),
    (["figures", "--without-replacement", "-q"], "needs data sets with class counts"),
    (["required", "-C", "10", "--confidence", "0"], "got 0.0 in [0.0]"),
    (["coverage", "--counts", "3,3,2", "-K", "8", "--without-replacement"],
     "K = 8 needs 9 distinct samples, but the data set has only N = 8"),
])
def test_more_bad_arguments_exit_2_with_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert message in err and "np.float64" not in err
    assert list(tmp_path.iterdir()) == []


def test_coverage_without_replacement_is_the_shuffled_loader(capsys):
    code, out, _ = run(["coverage", "--counts", "3,3,2", "-K", "5", "--json"], capsys)
    assert json.loads(out)[0]["upsilon"] == pytest.approx(float(subsets_ie(6, [3, 3, 2])), rel=1e-12)
    code, out, _ = run(["coverage", "--counts", "3,3,2", "-K", "5", "--without-replacement",
                        "--json"], capsys)
    rec = json.loads(out)[0]
    assert code == 0 and rec["replacement"] is False
    assert Fraction(27, 28) == hypergeometric_ie(6, [3, 3, 2])  # 1 - 1/binom(8, 6)
    assert rec["upsilon"] == pytest.approx(27 / 28, rel=1e-15)
    assert rec["miss"] == pytest.approx(1 / 28, rel=1e-12)
    code, out, _ = run(["coverage", "--counts", "3,3,2", "-K", "5", "--without-replacement"], capsys)
    assert "0.964286" in out and "without replacement" in out


def test_dataset_names_work_on_every_subcommand(tmp_path, capsys, monkeypatch):
    name = "CIFAR-100-LT (r=100)"
    code, out, _ = run(["required", "--dataset", name, "--confidence", "0.5", "0.99", "--json"],
                       capsys)
    rec = json.loads(out)[0]
    assert code == 0 and rec["prior"] == name and (rec["K_for_50"], rec["K_for_99"]) == (5514, 13652)
    code, out, _ = run(["coverage", "--dataset", name, "--dataset", "CIFAR-10", "-K", "4323",
                        "--without-replacement", "--json"], capsys)
    recs = json.loads(out)
    assert [r["prior"] for r in recs] == [name, "CIFAR-10"]
    assert recs[0]["upsilon"] == pytest.approx(0.500290, abs=1e-6)  # the loader crosses 1/2 here
    # NAME=@FILE whose name holds '=' is split at '=@', and NAME=C at the last '='
    counts = tmp_path / "c.txt"
    counts.write_text("50 30 20")
    code, out, err = run(["table", "--dataset", f"{name} mine=@{counts}", "--dataset",
                          "a=b=4", "--csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0, err
    assert [r["dataset"] for r in rows] == [f"{name} mine", "a=b"]
    assert int(rows[0]["K_for_99"]) == required_negatives(counts=[50, 30, 20])
    assert int(rows[1]["classes"]) == 4


def test_table_without_replacement(capsys):
    code, out, err = run(["table", "--dataset", "CIFAR-100-LT (r=100)", "--without-replacement",
                          "--confidence", "0.5", "0.99", "--csv"], capsys)
    assert code == 0, err
    row = next(csv.DictReader(io.StringIO(out)))
    assert (int(row["K_for_50"]), int(row["K_for_99"])) == (4323, 7765)
    code, out, _ = run(["table", "--dataset", "mine=5,3,2", "--without-replacement", "--csv"],
                       capsys)
    row = next(csv.DictReader(io.StringIO(out)))
    exact = sum(1 - hypergeometric_ie(n, [5, 3, 2]) for n in range(10))  # E[T] of a shuffle
    assert float(row["expected_batch"]) == pytest.approx(float(exact), rel=1e-12)
    assert int(row["expected_batch_ceil"]) == math.ceil(exact)
    code, out, _ = run(["table", "--dataset", "mine=5,3,2", "--without-replacement"], capsys)
    assert "without replacement from the data set (a shuffled loader): mine." in out


def test_confidence_labels_never_round_to_100(capsys):
    code, out, _ = run(["required", "-C", "10", "--confidence", "0.9999999999999999"], capsys)
    assert code == 0 and "K (99.99999999999999 %)" in out and "100 %" not in out


def test_tiny_values_are_powers_of_ten_in_every_format(capsys):
    code, out, _ = run(["coverage", "-C", "3029", "-K", "4095"], capsys)
    assert "2.27e-592" in out
    code, out, _ = run(["coverage", "-C", "3029", "-K", "4095", "--json"], capsys)
    rec = json.loads(out)[0]
    assert rec["upsilon"] == 0.0 and round(rec["log10_upsilon"], 3) == -591.644
    code, out, _ = run(["coverage", "-C", "1000000", "-K", "99999999999", "--csv"], capsys)
    row = next(csv.DictReader(io.StringIO(out)))
    assert float(row["miss"]) == 0.0 and float(row["log10_miss"]) < -43000
    code, out, _ = run(["coverage", "-C", "1000000", "-K", "99999999999"], capsys)
    assert "e-43424" in out


def test_figures_out_naming_a_file_is_a_clear_error(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep")
    code, _, err = run(["figures", "-C", "10", "--out", str(afile), "-q"], capsys)
    assert code == 2 and "is a file, not a directory" in err and afile.read_text() == "keep"


def test_quiet_silences_matplotlib_logging(tmp_path):
    # an unwritable config folder makes matplotlib warn through logging
    env = {"PATH": "/usr/bin:/bin", "MPLCONFIGDIR": "/proc/no-such-dir", "HOME": str(tmp_path),
           "XDG_CACHE_HOME": "/proc/no-such-dir", "MPLBACKEND": "Agg"}
    base = [sys.executable, "-m", "couponbound", "figures", "-C", "10", "--format", "png",
            "--out", str(tmp_path / "f")]
    loud = subprocess.run(base, capture_output=True, text=True, env=env, timeout=300,
                          cwd=_REPO)
    quiet = subprocess.run([*base, "-q"], capture_output=True, text=True, env=env, timeout=300,
                           cwd=_REPO)
    assert loud.returncode == quiet.returncode == 0, quiet.stderr
    assert "Matplotlib" in loud.stderr or "matplotlib" in loud.stderr  # the control
    assert quiet.stderr == ""


def _saved_run_text():
    mon = BoundMonitor(num_classes=2, temperature=1.0)
    mon.update_losses(contrastive=[2.0, 2.2], sup=[1.0, 1.4], d=-0.5, labels=[0, 1],
                      in_batch=True)
    return json.dumps(mon.state_dict())


def test_report_reads_standard_input():
    done = subprocess.run([sys.executable, "-m", "couponbound", "report", "-", "--json"],
                          input=_saved_run_text(), capture_output=True, text=True, timeout=120,
                          cwd=_REPO)
    assert done.returncode == 0, done.stderr
    assert any(r["key"] == "contrastive" for r in json.loads(done.stdout))


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs mkfifo")
@pytest.mark.parametrize("argv", [["report", "{fifo}"], ["coverage", "--counts", "@{fifo}", "-K", "3"]])
def test_a_fifo_without_writer_does_not_block(tmp_path, argv):
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code = ("import sys; import couponbound.paper._inputs as i; i.IDLE_TIMEOUT = 0.3; "
            "from couponbound.cli import main; raise SystemExit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", code, *(a.format(fifo=fifo) for a in argv)],
                          capture_output=True, text=True, timeout=60, cwd=_REPO)
    assert done.returncode == 2 and "no data for" in done.stderr, done.stderr
