"""Plugins are found by reading entry_points.txt files directly: the same answer as importlib.metadata, faster."""

from __future__ import annotations

import importlib.metadata
import pathlib
import sys
import warnings
import zipfile

import pytest
from IPython.core.interactiveshell import InteractiveShell

import seedmagic
from conftest import ROOT, new_shell
from seedmagic.adapters import ENTRY_POINT_GROUP, catalog, pluginscan

GROUP = ENTRY_POINT_GROUP


def listed(group: str) -> list[tuple[str, str]]:
    """What importlib.metadata says, in the scan's form."""
    return [(point.name, point.value) for point in importlib.metadata.entry_points(group=group)]


def dist(site: pathlib.Path, folder: str, entry_points: str | bytes | None, name: str | None = None) -> None:
    """A metadata folder (``*.dist-info`` or ``*.egg-info``) with an optional entry_points.txt."""
    path = site / folder
    path.mkdir(parents=True)
    metadata = "METADATA" if folder.endswith(".dist-info") else "PKG-INFO"
    (path / metadata).write_text(f"Metadata-Version: 2.1\nName: {name or folder.partition('-')[0]}\nVersion: 1.0\n")
    if isinstance(entry_points, bytes):
        (path / "entry_points.txt").write_bytes(entry_points)
    elif entry_points is not None:
        (path / "entry_points.txt").write_text(entry_points)


def test_the_scan_finds_what_importlib_metadata_finds_in_every_installed_group():
    groups = sorted({point.group for found in importlib.metadata.distributions() for point in found.entry_points})
    assert groups, "no installed distribution declares entry points"
    for group in [*groups, GROUP, "no.such.group"]:
        assert pluginscan.scan(group) == listed(group), group  # the fast path itself, no fallback


def test_the_scan_follows_importlib_metadata_on_a_synthetic_site(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    dist(first, "alpha-1.0.dist-info", f"[{GROUP}]\nalpha = alpha_mod:Adapter\n\n[console_scripts]\nx = y:z\n")
    dist(first, "Beta.Pkg-2.0.dist-info",
         f"# a comment\n\n  [{GROUP}]  \n  beta=beta_mod : Thing.attr [extra]  \n# gamma = no\n")
    dist(first, "beta_pkg-1.0.dist-info", f"[{GROUP}]\nshadowed = in_the_same:folder\n")  # one name: first listed wins
    dist(first, "Gamma_Old.egg-info", f"[{GROUP}]\r\ngamma = gamma_mod\r\n[other]\r\ng = h:i\r\n")
    dist(first, "noentries-1.0.dist-info", None)
    (first / "delta-1.0.egg-info").write_text("Metadata-Version: 1.0\nName: delta\n")  # a file: no entry points
    (first / "not_metadata").mkdir()
    dist(second, "alpha-9.0.dist-info", f"[{GROUP}]\nlater = shadowed:by_first\n")  # the first on sys.path wins
    dist(second, "delta-2.0.dist-info", f"[{GROUP}]\ndelta = shadowed:by_the_file\n")
    dist(second, "epsilon-1.0.dist-info", f"[[{GROUP}]]\neps = eps_mod:E\neps = eps_mod:Again\n")
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))
    monkeypatch.syspath_prepend(str(tmp_path / "missing"))
    expected = listed(GROUP)
    names = sorted(name for name, _ in expected)  # a folder lists its children in no fixed order
    assert names in (["alpha", "beta", "eps", "eps", "gamma"], ["alpha", "eps", "eps", "gamma", "shadowed"])
    assert pluginscan.scan(GROUP) == expected
    assert pluginscan.scan("other") == listed("other") == [("g", "h:i")]


@pytest.mark.parametrize("odd", ["zip", "egg", "case"])
def test_where_only_metadata_files_tell_importlib_metadata_answers(tmp_path, monkeypatch, odd):
    if odd == "zip":
        with zipfile.ZipFile(tmp_path / "site.zip", "w") as archive:
            archive.writestr("zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.0\n")
            archive.writestr("zipped-1.0.dist-info/entry_points.txt", f"[{GROUP}]\nzipped = z:Z\n")
        monkeypatch.syspath_prepend(str(tmp_path / "site.zip"))
    elif odd == "egg":
        dist(tmp_path / "old-1.0.egg", "EGG-INFO", f"[{GROUP}]\nold = o:O\n", name="old")
        monkeypatch.syspath_prepend(str(tmp_path / "old-1.0.egg"))
    else:
        dist(tmp_path, "Upper-1.0.DIST-INFO", f"[{GROUP}]\nupper = u:U\n", name="upper")
        monkeypatch.syspath_prepend(str(tmp_path))
    assert pluginscan.scan(GROUP) is None
    assert pluginscan.entry_points(GROUP) == listed(GROUP) != []


def test_another_finder_listing_distributions_hands_over_to_importlib_metadata(monkeypatch):
    class Finder:
        @staticmethod
        def find_distributions(*args: object, **kwargs: object) -> list[object]:
            return []

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert pluginscan.scan(GROUP) is None
    assert pluginscan.entry_points("console_scripts") == listed("console_scripts")


def test_a_value_loads_as_entry_point_load_does():
    assert pluginscan.load("json:dumps") is importlib.metadata.EntryPoint("x", "json:dumps", GROUP).load()
    assert pluginscan.load("os.path : join [extra]") is importlib.metadata.EntryPoint("x", "os.path:join", GROUP).load()
    assert pluginscan.load("json.decoder") is sys.modules["json.decoder"]
    assert pluginscan.load("json:JSONDecoder.decode") is importlib.metadata.EntryPoint(
        "x", "json:JSONDecoder.decode", GROUP).load()
    with pytest.raises(ValueError, match="module:attribute"):
        pluginscan.load("not a value")
    with pytest.raises(ModuleNotFoundError):
        pluginscan.load("no_such_module_for_seedmagic:X")


def test_broken_and_odd_entry_point_files_do_not_break_loading(tmp_path, monkeypatch):
    site = tmp_path / "site"
    dist(site, "aaa_broken-1.0.dist-info", f"[{GROUP}]\na line without an equals sign\n[other]\nnor this\n")
    dist(site, "bbb_binary-1.0.dist-info", b"\xff\xfe[" + GROUP.encode() + b"]\n\x00\x81 = \xc3\x28\n")
    dist(site, "ccc_folder-1.0.dist-info", None)
    (site / "ccc_folder-1.0.dist-info" / "entry_points.txt").mkdir()
    dist(site, "ddd_empty-1.0.dist-info", "")
    dist(site, "eee_headless-1.0.dist-info", "demo = seedmagic_demo:DemoAdapter\n[\n]\n[]\n=\n")
    dist(site, "fff_bad_value-1.0.dist-info", f"[{GROUP}]\nbadvalue = this is no value\nnotadapter = json:dumps\n")
    dist(site, "ggg_demo-1.0.dist-info", f"[{GROUP}]\ndemo = seedmagic_demo:DemoAdapter\n")
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "plugins" / "demo"))
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises((TypeError, UnicodeDecodeError)):  # importlib.metadata gives up on every group
        listed(GROUP)
    assert sorted(pluginscan.entry_points(GROUP)) == [
        ("badvalue", "this is no value"), ("demo", "seedmagic_demo:DemoAdapter"), ("notadapter", "json:dumps")]

    monkeypatch.setattr(catalog, "_registry", None)
    monkeypatch.delitem(sys.modules, "seedmagic_demo", raising=False)
    ip = new_shell()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ip.run_line_magic("load_ext", "seedmagic")
            ip.run_line_magic("seed", "10")
        assert "demo" in seedmagic.generators()
        skipped = [str(w.message) for w in caught if "skipped generator plugin" in str(w.message)]
        assert any("'badvalue'" in message for message in skipped)
        assert any("'notadapter'" in message for message in skipped)
    finally:
        ip.run_line_magic("unload_ext", "seedmagic")
        InteractiveShell.clear_instance()
        monkeypatch.delitem(sys.modules, "seedmagic_demo", raising=False)


def test_a_failure_to_list_plugins_leaves_the_built_in_generators(monkeypatch):
    def unreadable(group: str) -> list[tuple[str, str]]:
        raise OSError("metadata unreadable")

    monkeypatch.setattr(catalog, "entry_points", unreadable)
    monkeypatch.setattr(catalog, "_registry", None)
    with pytest.warns(UserWarning, match="could not list generator plugins: metadata unreadable"):
        assert seedmagic.generators()[:3] == ["random", "numpy", "torch"]
