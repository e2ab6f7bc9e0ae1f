"""Command-line options: refused up front with the option named, help that
matches what runs, ``-v`` anywhere and warnings printed as one line."""

import warnings

import pytest

from gnnkit.cli import build_parser, main


@pytest.fixture
def tables(tmp_path):
    (tmp_path / "edges.csv").write_text("source,target\na,b\nb,c\n")
    (tmp_path / "nodes.csv").write_text("id,label\na,0\nb,1\nc,0\n")
    return tmp_path


@pytest.mark.parametrize("argv, message", [
    (["compare", "--seeds", "0"], "--seeds must be at least 1 (got 0)"),
    (["compare", "--seeds", "-1"], "--seeds must be at least 1 (got -1)"),
    (["compare", "--labels-per-class", "5", "0"],
     "--labels-per-class must be at least 1 (got 0)"),
    (["link", "--top-k", "-3"], "--top-k must be at least 1 (got -3)"),
    (["link", "--top-k", "0"], "--top-k must be at least 1 (got 0)"),
    (["link", "--epochs", "0"], "--epochs must be at least 1 (got 0)"),
    (["run", "--task", "link", "--top-k", "0"], "--top-k must be at least"),
    (["run", "--hidden", "0"], "--hidden must be at least 1 (got 0)"),
    (["run", "--seed", "-1"],
     "--seed must be between 0 and 4294967295 (got -1)"),
    (["compare", "--joint-epochs", "0"], "--joint-epochs must be at least"),
    (["run", "--rwse", "-1"], "--rwse must be at least 0 (got -1)"),
])
def test_bad_numbers_are_refused_before_any_work(argv, message, capsys,
                                                 monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("data was read before the options were checked")

    monkeypatch.setattr("gnnkit.cli.run.load_dataset", fail)
    monkeypatch.setattr("gnnkit.cli.link.read_kg", fail)

    assert main([*argv, "--out", "never"]) == 2
    err = capsys.readouterr().err
    assert f"gnnkit {argv[0]}: error: {message}" in err


def test_help_shows_the_dataset_each_command_runs():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, default in (("compare", "Cora_TAG"), ("link", "UMLS_KG"),
                          ("run", "MUTAG")):
        sub = commands[name]
        assert sub.parse_args([]).dataset == default
        assert f"(default: {default})" in " ".join(sub.format_help().split())


def test_every_link_option_has_help():
    link = build_parser()._subparsers._group_actions[0].choices["link"]
    missing = [a.option_strings for a in link._actions if not a.help]
    assert not missing


@pytest.mark.parametrize("argv", [["-v", "summary"], ["summary", "-v"],
                                  ["summary", "--verbose"]])
def test_verbose_before_or_after_the_sub_command(argv):
    assert build_parser().parse_args(argv).verbose is True


def test_verbose_defaults_to_off():
    assert build_parser().parse_args(["summary"]).verbose is False


def test_unknown_encoding_is_one_clear_line(tables, capsys):
    code = main(["summary", "--dataset", str(tables / "edges.csv"),
                 "--nodes", str(tables / "nodes.csv"), "--encoding", "bogus"])
    assert code == 2
    assert capsys.readouterr().err == (
        "gnnkit summary: error: unknown encoding 'bogus' (--encoding / "
        "encoding=); use a Python codec name such as 'utf-8', 'latin-1', "
        "'cp1252' or 'utf-16'.\n")


def test_warnings_print_one_line_without_source(tables, capsys):
    (tables / "nodes.csv").write_text("id,label\na,1\nb,1.0\nc,2\n")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code = main(["summary", "--dataset", str(tables / "edges.csv"),
                     "--nodes", str(tables / "nodes.csv")])
    assert code == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("gnnkit: warning: nodes.csv: label column "
                             "'label' holds '1' and '1.0'")


def test_warning_display_is_restored_after_main(tables):
    shown = warnings.showwarning
    main(["summary", "--dataset", str(tables / "edges.csv")])
    assert warnings.showwarning is shown


def test_errors_spell_reader_keywords_as_flags(tables, capsys):
    (tables / "nodes.csv").write_bytes("id,label\na,caf\xe9\nb,x\nc,x\n"
                                       .encode("latin-1"))
    code = main(["summary", "--dataset", str(tables / "edges.csv"),
                 "--nodes", str(tables / "nodes.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert "pass --encoding latin-1 or --encoding cp1252" in err
    assert "encoding=" not in err


def test_link_no_progress_silences_library_bars(monkeypatch):
    calls = []
    monkeypatch.setattr("gnnkit.cli.run.hide_library_progress",
                        lambda: calls.append("hidden"))

    def stop(name):
        raise KeyboardInterrupt  # ends the run right after the switch

    monkeypatch.setattr("gnnkit.cli.link.kg_folder", stop)
    assert main(["link", "--no-progress"]) == 130
    assert calls == ["hidden"]
