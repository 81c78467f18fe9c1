"""State files are data from anywhere: nothing in one may crash, poison or block, and writing never loses a good file."""

from __future__ import annotations

import errno
import json
import math
import os
import pickle
import random
import stat
import threading

import numpy as np
import pytest
from hypothesis import given
from IPython.core.error import UsageError
from hypothesis import strategies as st

import seedmagic
from seedmagic import atomicfile
from conftest import refused, requires_torch, run_python, state_bytes, torch


@pytest.fixture(scope="module")
def document() -> dict:
    seedmagic.seed(3)
    np.random.standard_normal()  # a cached Gaussian
    random.gauss(0, 1)  # and random's
    data = seedmagic.snapshot().to_data()
    seedmagic.session.book.seeds.clear()
    seedmagic.session.book.session_seed = None
    return data


# Values no field of a real state holds, and values at the edges of what one may hold.
HOSTILE = st.one_of(
    st.sampled_from([None, True, False, "", "x", [], {}, 0.5, -1, 2**31 - 1, 2**31, 2**32, 2**63, -(2**63), 625,
                     624, 0, float("nan"), float("inf"), -float("inf"), 1e308, [0] * 624, [1] * 625]),
    st.integers(), st.floats(), st.text(max_size=5),
)
FIELDS = [
    ("random", "version"), ("random", "pos"), ("random", "gauss_next"), ("random", "key"),
    ("numpy", "bit_generator"), ("numpy", "pos"), ("numpy", "has_gauss"), ("numpy", "gauss"), ("numpy", "key"),
]


def draws_are_sane() -> None:
    """Draw from every generator through every path a poisoned state would break."""
    values = [*np.random.rand(3), np.random.standard_normal(), random.random(), random.gauss(0, 1)]
    if torch is not None:
        values += [*torch.rand(2).tolist(), *torch.randn(2).tolist()]
    assert all(math.isfinite(value) for value in values)
    assert all(0 <= value < 1 for value in values[:3])


@pytest.mark.slow  # over a second here: many hostile documents
@given(field=st.sampled_from(FIELDS), value=HOSTILE, word=st.integers(0, 623))
def test_any_hostile_field_is_refused_or_harmless(document, field, value, word):
    generator, name = field
    mangled = json.loads(json.dumps(document))
    state = mangled["generators"][generator]["state"]
    if name == "key" and not isinstance(value, list):
        state["key"][word] = value  # one bad word in an otherwise real key
    else:
        state[name] = value
    before = state_bytes()
    try:
        seedmagic.Snapshot.from_data(mangled).restore()
    except seedmagic.SeedError as error:
        assert "\n" not in str(error)
        assert state_bytes() == before
        return
    draws_are_sane()  # accepted: then it was a state the library can really be in


@requires_torch
@given(position=st.integers(0, 5055), value=st.integers(0, 255))
def test_any_torch_byte_is_refused_or_harmless(document, position, value):
    mangled = json.loads(json.dumps(document))
    mangled["generators"]["torch"]["state"][position] = value
    before = state_bytes()
    try:
        seedmagic.Snapshot.from_data(mangled).restore()
    except seedmagic.SeedError:
        assert state_bytes() == before
        return
    draws_are_sane()


@pytest.mark.slow
@pytest.mark.parametrize("pos", [2**31 - 1, 625, -1, 10**6])
def test_the_state_that_used_to_crash_the_process_is_refused(tmp_path, pos):
    """NumPy's set_state does not check the position: a draw after such a state read out of bounds."""
    out = run_python(f"""
import json, numpy as np, seedmagic
path = {str(tmp_path / 'state.json')!r}
seedmagic.seed(1)
seedmagic.snapshot().save(path)
document = json.load(open(path))
document["generators"]["numpy"]["state"]["pos"] = {pos}
json.dump(document, open(path, "w"))
try:
    seedmagic.Snapshot.load(path).restore()
except seedmagic.SeedError as error:
    print("refused:", error)
print(np.random.rand(3).sum() < 3)
""", timeout=60)
    assert "refused:" in out and "position must be an integer from 0 to 624" in out and out.strip().endswith("True")


# Writing -----------------------------------------------------------------------------------------


def test_a_failed_write_keeps_the_old_file_whole(tmp_path, monkeypatch, shell):
    path = tmp_path / "state.json"
    seedmagic.seed(1)
    seedmagic.snapshot().save(path)
    good = path.read_bytes()

    def full_disk(_descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    seedmagic.seed(2)
    with pytest.raises(seedmagic.SeedError, match="No space left on device") as raised:
        seedmagic.snapshot().save(path)
    assert "\n" not in str(raised.value)
    with pytest.raises(UsageError, match="No space left on device"):
        shell.run_line_magic("seed", f"--save {path}")
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["state.json"]  # no temporary file left


@pytest.mark.parametrize("where, message", [
    ("missing/state.json", "No such file or directory"),
    ("", "give a file name"),
    (".", "it is a folder"),
])
def test_bad_places_to_write_are_one_line(tmp_path, monkeypatch, where, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(seedmagic.SeedError, match=message) as raised:
        seedmagic.snapshot().save(where)
    assert "\n" not in str(raised.value)


def test_permission_denied_is_one_line(tmp_path, monkeypatch):
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(atomicfile, "_create_beside", refuse)  # root ignores file modes, so simulate it
    with pytest.raises(seedmagic.SeedError, match="cannot write .*: Permission denied"):
        seedmagic.snapshot().save(tmp_path / "state.json")


def test_home_is_expanded(tmp_path, monkeypatch, shell):
    monkeypatch.setenv("HOME", str(tmp_path))
    shell.run_line_magic("seed", "--save ~/state.json")
    assert (tmp_path / "state.json").exists()
    shell.run_line_magic("seed", "--load ~/state.json")


# A file per rank ----------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern, names", [
    ("rng-{rank}.json", ["rng-0.json", "rng-1.json", "rng-12.json"]),
    ("rng-{rank:02d}.json", ["rng-00.json", "rng-01.json", "rng-12.json"]),
    ("rng-{rank:>3}.json", ["rng-  0.json", "rng-  1.json", "rng- 12.json"]),
    ("rng-{rank:0>3}-{rank:x}.json", ["rng-000-0.json", "rng-001-1.json", "rng-012-c.json"]),
    ("{0}-{}-{epoch}-{rank}.json", ["{0}-{}-{epoch}-0.json", "{0}-{}-{epoch}-1.json", "{0}-{}-{epoch}-12.json"]),
])
def test_a_rank_with_a_format_spec_gives_each_rank_its_own_file(tmp_path, monkeypatch, shell, pattern, names):
    """Through the API and the magic; other braces are part of the name."""
    for rank in (0, 1, 12):
        monkeypatch.setenv("RANK", str(rank))
        seedmagic.seed(20 + rank)
        if rank == 1:
            shell.run_line_magic("seed", f"--save '{tmp_path / pattern}'")
        else:
            seedmagic.snapshot().save(tmp_path / pattern)
    assert sorted(path.name for path in tmp_path.iterdir()) == names
    for rank in (12, 0, 1):
        monkeypatch.setenv("RANK", str(rank))
        seedmagic.seed(99)
        if rank == 1:
            shell.run_line_magic("seed", f"--load '{tmp_path / pattern}'")
        else:
            seedmagic.Snapshot.load(tmp_path / pattern).restore()
        assert [random.random(), float(np.random.rand())] == [random.Random(20 + rank).random(),
                                                              float(np.random.RandomState(20 + rank).rand())]


@pytest.mark.parametrize("field", [
    "{rank!r}", "{rank!s}", "{RANK}", "{Rank}", "{local_rank}", "{rank_id}", "{ rank }", "{rank.real}", "{rank[0]}",
    "{rank:c}", "{rank:.2f}", "{rank:e}", "{rank:n}", "{rank:<03}", "{rank:^03}", "{rank:1>3}", "{rank:a<3}",
    "{rank:,x}", "{rank:9999}", "{rank:{w}}",
])
def test_a_rank_written_any_other_way_is_refused_not_written_for_every_rank(tmp_path, monkeypatch, field):
    """Written literally, each of these would give every rank one file; a spec could give two ranks one name."""
    monkeypatch.setenv("RANK", "1")
    seedmagic.seed(5)
    with pytest.raises(seedmagic.SeedError) as refused:
        seedmagic.snapshot().save(tmp_path / f"rng-{field}.json")
    assert str(refused.value).startswith("a state-file path takes the rank as {rank}, or {rank:SPEC}")
    assert f"; {field[:40]}" in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(seedmagic.SeedError):
        seedmagic.Snapshot.load(tmp_path / f"rng-{field}.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path, message", [
    ("", "give a file name (the path is empty)"),
    ("a\0b.json", "a file name cannot hold a NUL character"),
    (b"state.json", "a state-file path must be text, got bytes"),
    (3, "a state-file path must be text, got int"),
])
def test_a_path_that_is_no_file_name_is_one_line(path, message):
    for action in (lambda: seedmagic.snapshot().save(path), lambda: seedmagic.Snapshot.load(path)):
        with pytest.raises(seedmagic.SeedError) as refused:
            action()
        assert str(refused.value) == message


# Reading -----------------------------------------------------------------------------------------


def finishes(action, seconds: float = 10) -> BaseException | None:
    """Run ``action`` in a thread; fail if it blocks. Returns what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as error:  # reported to the test
            raised.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "reading blocked"
    return raised[0] if raised else None


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused_without_reading_them(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    error = finishes(lambda: seedmagic.Snapshot.load(device))
    assert isinstance(error, seedmagic.SeedError) and "not a regular file" in str(error)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    error = finishes(lambda: seedmagic.Snapshot.load(fifo))
    assert isinstance(error, seedmagic.SeedError) and "not a regular file" in str(error)


@pytest.mark.slow
@requires_torch
def test_a_file_saved_before_torch_loads_after_torch_in_the_same_session(tmp_path):
    out = run_python(f"""
import seedmagic, numpy as np
seedmagic.seed(4)
seedmagic.snapshot().save({str(tmp_path / 's.json')!r})
before = np.random.rand(3).tolist()
import torch
seedmagic.Snapshot.load({str(tmp_path / 's.json')!r}).restore()
print(np.random.rand(3).tolist() == before, torch.initial_seed())
""")
    assert out.split() == ["True", "4"]  # torch was due seed 4 in the file, and gets it


@pytest.mark.slow
@requires_torch
def test_a_file_refused_for_its_seeds_imports_no_library_to_check_its_states(tmp_path):
    """Everything but the states is checked first: checking torch's state imports torch (seconds), needlessly."""
    saved = json.loads(run_python("import torch, seedmagic, json\nseedmagic.seed(4)\n"
                                  "print(json.dumps(seedmagic.snapshot().to_data()))"))
    for part, bad in (("session_seed", -1), ("numpy", -1)):
        document = json.loads(json.dumps(saved))
        if part == "session_seed":
            document["session_seed"] = bad
        else:
            document["generators"]["numpy"]["seed"] = bad
        (tmp_path / "bad.json").write_text(json.dumps(document))
        out = run_python(f"""
import sys, seedmagic
try:
    seedmagic.Snapshot.load({str(tmp_path / 'bad.json')!r})
except seedmagic.SeedError as error:
    print('refused:', error)
print('torch' in sys.modules)
""")
        assert "refused:" in out and "is not a seed" in out and out.split()[-1] == "False", out


@requires_torch
def test_a_torch_state_with_a_poisoned_cache_or_an_empty_key_is_refused(document):
    """torch's own set_state accepts these; the next draws would be NaN, or zeros forever.

    The byte offsets are those of torch 2.x's CPU generator state (the test's knowledge, not seedmagic's:
    seedmagic checks by drawing from scratch copies).
    """
    import struct

    good = bytes(document["generators"]["torch"]["state"])
    normals = 8 + 4 + 4 + 8 + 624 * 8  # seed, left, seeded, next, the key; then normal_x, _y, _rho, valid
    nan_cache = bytearray(good)
    struct.pack_into("<d", nan_cache, normals + 8, float("nan"))  # the cached normal_y, marked valid
    struct.pack_into("<i", nan_cache, normals + 24, 1)
    empty_key = bytearray(good)
    empty_key[24:24 + 624 * 8] = bytes(624 * 8)
    for state in (nan_cache, empty_key):
        mangled = json.loads(json.dumps(document))
        mangled["generators"]["torch"]["state"] = list(state)
        before = state_bytes()
        with pytest.raises(seedmagic.SeedError, match="not a state a torch generator can be in"):
            seedmagic.load_state_dict(mangled)
        assert state_bytes() == before


@pytest.mark.parametrize("generator, field", [("numpy", "gauss"), ("random", "gauss_next")])
def test_an_impossible_cached_gaussian_is_refused(document, generator, field):
    mangled = json.loads(json.dumps(document))
    for impossible in (1e308, 999.0, -17.0):  # real cached Gaussians stay below 12.1
        mangled["generators"][generator]["state"][field] = impossible
        with pytest.raises(seedmagic.SeedError, match="no larger than 16"):
            seedmagic.Snapshot.from_data(mangled)


def test_saving_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("keep me")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    seedmagic.snapshot().save(link)
    assert link.is_symlink() and json.loads(target.read_text())["format"] == "seedmagic-state"


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_permissions_open_gives_and_a_file_there_keeps_its_own(tmp_path, umask):
    previous = os.umask(umask)
    try:
        (tmp_path / "by-open.json").write_text("")
        seedmagic.snapshot().save(tmp_path / "new.json")
        existing = tmp_path / "existing.json"
        existing.write_text("")
        existing.chmod(0o640)
        seedmagic.snapshot().save(existing)
    finally:
        os.umask(previous)
    assert (tmp_path / "new.json").stat().st_mode & 0o777 == (tmp_path / "by-open.json").stat().st_mode & 0o777
    assert existing.stat().st_mode & 0o777 == 0o640
    assert sorted(path.name for path in tmp_path.iterdir()) == ["by-open.json", "existing.json", "new.json"]


def test_a_state_a_generator_refuses_rolls_everything_back_and_says_which_in_one_line(monkeypatch):
    """The generator's own error stays as it was (nothing is set on it); the SeedError names the generator."""
    from seedmagic.adapters import registry
    from seedmagic.snapshots import Entry, Snapshot

    refused = ValueError("no such state\nsecond line")
    numpy = registry()["numpy"]
    real = numpy.set_state

    def refuse(state):
        if state == "any":
            raise refused
        real(state)

    random.seed(5)
    before = random.getstate()
    monkeypatch.setattr(numpy, "set_state", refuse)
    snapshot = Snapshot((Entry("random", random.Random(9).getstate(), None), Entry("numpy", "any", None)), None,
                        trusted=False)
    with pytest.raises(seedmagic.SeedError) as caught:
        snapshot.restore()
    assert str(caught.value) == "the state for numpy does not fit: no such state"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert vars(refused) == {}
    assert random.getstate() == before  # random, applied first, was put back
    with pytest.raises(ValueError) as trusted:  # a snapshot seedmagic took itself: the error as the library raised it
        Snapshot(snapshot.entries, None).restore()
    assert trusted.value is refused


# Hostile and missing files ------------------------------------------------------


def hostile_files(tmp_path) -> dict[str, tuple[object, str]]:
    good = tmp_path / "good.json"
    seedmagic.seed(1)
    seedmagic.snapshot().save(good)
    text = good.read_text()
    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    document = json.loads(text)

    def mangled(change) -> str:
        copy = json.loads(text)
        change(copy)
        return json.dumps(copy)

    files = {
        "truncated": (text[: len(text) // 3], "not valid JSON"),
        "empty": ("", "not valid JSON"),
        "noise": (bytes(range(256)) * 20, "it is not text"),
        "pickle": (pickle.dumps(Payload()), "is not a seedmagic state file"),
        "a list": ("[1, 2, 3]", "is not a seedmagic state file"),
        "wrong format": ('{"format": "other", "version": 2}', "is not a seedmagic state file"),
        "wrong version": (mangled(lambda d: d.update(version=99)), "of version 99"),
        "no version": (mangled(lambda d: d.pop("version")), "of version None"),
        "unknown generator": (mangled(lambda d: d["generators"].update(cupy=d["generators"].pop("numpy"))),
                              "'cupy', which is not a generator here"),
        "short key": (mangled(lambda d: d["generators"]["numpy"]["state"]["key"].pop()),
                      "the numpy key must be a list of 624 integers"),
        "float key": (mangled(lambda d: d["generators"]["numpy"]["state"]["key"].__setitem__(0, 1.5)),
                      "the numpy key must hold integers"),
        "bad seed": (mangled(lambda d: d.update(session_seed=-5)), "-5 is not a seed"),
        "extra keys": (mangled(lambda d: d["generators"]["random"].update(exec="import os")), "is not {'state'"),
        "deep nesting": ('{"format": "seedmagic-state", "version": 2, "session_seed": null, "generators": {"random": '
                         '{"state": ' + '[' * 20000 + ']' * 20000 + ', "seed": null}}}',
                         "is not a seedmagic state file"),
    }
    assert document["version"] == 2
    return files, marker


@requires_torch
def test_hostile_state_files_are_refused_and_nothing_runs(tmp_path):
    files, marker = hostile_files(tmp_path)
    for name, (content, message) in files.items():
        path = tmp_path / f"{name}.state"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        np.random.rand(3)
        torch.rand(3)
        random.random()
        refused(lambda path=path: seedmagic.Snapshot.load(path).restore(), message)
    assert not marker.exists()


def test_state_files_that_are_not_files(tmp_path, shell):
    refused(lambda: seedmagic.Snapshot.load(tmp_path / "missing.json"), "cannot read")
    refused(lambda: seedmagic.Snapshot.load(tmp_path), "cannot read")
    refused(lambda: shell.run_line_magic("seed", f"--load {tmp_path}"), "cannot read")
    big = tmp_path / "big.json"
    with open(big, "wb") as handle:
        handle.truncate(seedmagic.statefile.MAX_BYTES + 1)
    refused(lambda: seedmagic.Snapshot.load(big), "it is bigger than")


# Round trips ---------------------------------------------------------------------


@requires_torch
def test_state_file_round_trip_through_the_magic(shell, tmp_path):
    shell.run_line_magic("seed", "10")
    np.random.randn(1)  # a Gaussian is cached now
    torch.randn(1)
    path = tmp_path / "state.json"
    shell.run_line_magic("seed", f"--save {path}")
    first = (random.random(), np.random.randn(3).tolist(), torch.randn(3).tolist(), torch.rand(3).tolist())
    shell.run_line_magic("seed", f"--load {path}")
    assert (random.random(), np.random.randn(3).tolist(), torch.randn(3).tolist(), torch.rand(3).tolist()) == first
    assert json.loads(path.read_text())["format"] == "seedmagic-state"


@requires_torch
def test_state_file_round_trip_through_the_api(tmp_path):
    seedmagic.seed(5)
    snapshot = seedmagic.snapshot()
    snapshot.save(tmp_path / "s.json")
    expected = state_bytes()
    np.random.rand(7)
    torch.rand(7)
    seedmagic.Snapshot.load(tmp_path / "s.json").restore()
    assert state_bytes() == expected


def test_path_with_spaces(shell, tmp_path):
    path = tmp_path / "my state.json"
    shell.run_line_magic("seed", f'--save "{path}"')
    assert path.exists()
    shell.run_line_magic("seed", f"--load '{path}'")


def _edit(change):
    def mangle(text: str) -> str:
        document = json.loads(text)
        change(document)
        return json.dumps(document)
    return mangle


@requires_torch
@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda text: text[: len(text) // 2], "not valid JSON"),
        (_edit(lambda d: d.update(version=1)), "of version 1; this seedmagic reads version 2"),
        (_edit(lambda d: d["generators"].update(jax=d["generators"].pop("random"))),
         "it has a state for 'jax', which is not a generator here"),
        (_edit(lambda d: d["generators"].update({"torch.cuda": d["generators"]["torch"]})),
         "it has a state for torch.cuda, which is not available here"),
        (_edit(lambda d: d["generators"]["numpy"]["state"].update(pos=625)),
         "the numpy position must be an integer from 0 to 624"),
        (_edit(lambda d: d["generators"]["torch"]["state"].pop()), "the torch state must be a list of 5056 integers"),
        (_edit(lambda d: d["generators"]["torch"]["state"].__setitem__(0, 256)),
         "the torch state must hold integers from 0 to 255"),
    ],
)
def test_bad_state_files_are_refused_and_nothing_moves(tmp_path, mangle, message):
    seedmagic.seed(3)
    path = tmp_path / "state.json"
    seedmagic.snapshot().save(path)
    path.write_text(mangle(path.read_text()))
    np.random.rand(3)
    torch.rand(3)
    before = state_bytes()
    with pytest.raises(seedmagic.SeedError) as raised:
        seedmagic.Snapshot.load(path).restore()
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert state_bytes() == before


def _fifo(place):
    os.mkfifo(place)


def _loop(place):
    os.symlink(place.with_name("other"), place)
    os.symlink(place, place.with_name("other"))


def _device(place):
    try:
        os.mknod(place, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own, in tmp_path
    except PermissionError:
        pytest.skip("making a device node needs root")


@pytest.mark.parametrize("make", [_fifo, _loop, _device], ids=["fifo", "symlink loop", "device"])
def test_saving_over_anything_but_a_regular_file_is_one_line_and_leaves_it(shell, tmp_path, make):
    """A rename over ``/dev/null`` would replace the device for the whole machine."""
    place = tmp_path / "target"
    make(place)
    before = os.lstat(place)
    with pytest.raises(UsageError) as raised:
        shell.run_line_magic("seed", f"--save {place}")
    assert "not a regular file" in str(raised.value) and "\n" not in str(raised.value)
    after = os.lstat(place)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["target"] + (["other"] if make is _loop else []))  # no temporary file left either
