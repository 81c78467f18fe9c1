"""RNG checkpoints (``state_dict`` / ``load_state_dict``): hostile input is refused before anything moves.

The checks behind ``load_state_dict`` take shortcuts for speed: MT19937 keys are
checked in C (an array of unsigned 32-bit words) and rehearsed on private
generators, torch states that are tensors get dtype/shape/device checks and
draws from a private generator, NumPy is put back last without a rollback
copy. Each shortcut has its hostile cases here, and each case checks, through
the libraries' own getters, that no generator moved.
"""

from __future__ import annotations

import copy
import io
import random
import struct

import numpy as np
import pytest
import torch

import seedmagic
from seedmagic.adapters import registry
from seedmagic.snapshots import Snapshot
from conftest import any_kind_states

#: Byte offsets in torch 2.x's CPU generator state (the test's knowledge; seedmagic checks by drawing).
KEY_START, KEY_END = 24, 24 + 624 * 8
NORMAL_Y, NORMAL_VALID = KEY_END + 8, KEY_END + 24


def library_states() -> tuple[object, ...]:
    """Every generator's state, read with the libraries' own public getters."""
    numpy_state = np.random.get_state()
    return (random.getstate(), numpy_state[0], numpy_state[1].tobytes(), *numpy_state[2:],
            torch.get_rng_state().numpy().tobytes())


@pytest.fixture
def checkpoint() -> dict:
    seedmagic.seed(5)
    np.random.randn()  # a cached Gaussian, so that the NumPy fields are all live
    document = seedmagic.state_dict()
    seedmagic.seed(6)
    random.random(), np.random.rand(), torch.rand(1)
    return document


def spoiled(document: dict, generator: str, **fields: object) -> dict:
    bad = copy.deepcopy(document)
    state = bad["generators"][generator]["state"]
    if isinstance(state, dict):
        state.update(fields)
    else:
        bad["generators"][generator]["state"] = fields["state"]
    return bad


def key_with(document: dict, generator: str, index: int, word: object) -> dict:
    key = list(document["generators"][generator]["state"]["key"])
    key[index] = word
    return spoiled(document, generator, key=key)


def refused(document: object, message: str) -> None:
    before = library_states()
    with pytest.raises(seedmagic.SeedError) as caught:
        seedmagic.load_state_dict(document)
    text = str(caught.value)
    assert message in text and "\n" not in text and text.startswith("the state dict")
    assert library_states() == before
    assert seedmagic.active_seed() == 6


# The form of a state dict ------------------------------------------------------------


def test_torch_states_stay_tensors_and_the_dict_loads_under_weights_only(checkpoint):
    assert isinstance(checkpoint["generators"]["torch"]["state"], torch.Tensor)
    assert isinstance(checkpoint["generators"]["numpy"]["state"]["key"], list)
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    buffer.seek(0)
    seedmagic.seed(5)
    np.random.randn()
    expected = library_states()
    seedmagic.seed(6)
    seedmagic.load_state_dict(torch.load(buffer, weights_only=True))
    assert library_states() == expected


def test_a_round_trip_puts_back_every_state_bit_for_bit(checkpoint):
    seedmagic.seed(5)
    np.random.randn()
    expected = library_states()
    seedmagic.seed(6)
    seedmagic.load_state_dict(checkpoint)
    assert library_states() == expected
    assert seedmagic.active_seed() == 5


def test_a_checkpoint_puts_back_numpys_mt19937_where_code_swapped_the_bit_generator(checkpoint):
    seedmagic.seed(5)
    np.random.randn()
    expected = library_states()
    np.random.set_bit_generator(np.random.PCG64(1))
    seedmagic.load_state_dict(checkpoint)
    assert type(np.random.get_bit_generator()) is np.random.MT19937
    assert library_states() == expected


def test_a_refused_checkpoint_moves_nothing_where_code_swapped_the_bit_generator(checkpoint):
    """NumPy's own set_state would change the cached Gaussian before refusing a state of another kind."""
    swapped = np.random.PCG64(1)
    np.random.set_bit_generator(swapped)
    np.random.randn()
    before = any_kind_states()
    with pytest.raises(seedmagic.SeedError):
        seedmagic.load_state_dict(key_with(checkpoint, "numpy", 0, -1))
    assert np.random.get_bit_generator() is swapped
    assert any_kind_states() == before


def test_a_state_dict_over_a_swapped_bit_generator_is_refused_in_one_line():
    np.random.set_bit_generator(np.random.PCG64(1))
    with pytest.raises(seedmagic.SeedError, match="cannot save the state of numpy: NumPy's global generator holds "
                                                 "a PCG64") as caught:
        seedmagic.state_dict()
    assert "\n" not in str(caught.value)


def test_a_state_file_document_with_lists_still_loads(checkpoint):
    seedmagic.seed(5)
    np.random.randn()
    expected = library_states()
    as_file = seedmagic.snapshot().to_data()
    assert isinstance(as_file["generators"]["torch"]["state"], list)
    seedmagic.seed(6)
    seedmagic.load_state_dict(as_file)
    assert library_states() == expected


def test_a_document_changed_after_it_was_checked_does_not_change_what_is_put_back(checkpoint):
    loaded = Snapshot.from_data(checkpoint)
    seedmagic.seed(5)
    np.random.randn()
    expected = library_states()
    checkpoint["generators"]["torch"]["state"].zero_()
    checkpoint["generators"]["numpy"]["state"]["key"][:] = [0] * 624
    checkpoint["generators"]["random"]["state"]["key"][:] = [0] * 624
    seedmagic.seed(6)
    loaded.restore()
    assert library_states() == expected


# MT19937 keys, checked in C and rehearsed on private generators ----------------------


@pytest.mark.parametrize("generator", ["random", "numpy"])
@pytest.mark.parametrize("word", [3.0, 3.5, -1, 2**32, 2**64, "7", None, [1]], ids=repr)
def test_a_key_word_that_is_no_32_bit_integer_is_refused(checkpoint, generator, word):
    refused(key_with(checkpoint, generator, 311, word), f"the {generator} key must hold integers from 0 to")


@pytest.mark.parametrize("generator", ["random", "numpy"])
@pytest.mark.parametrize("key", [[1] * 623, [1] * 625, tuple([1] * 624), "1" * 624, None], ids=["623", "625", "tuple",
                                                                                                 "text", "none"])
def test_a_key_of_the_wrong_shape_is_refused(checkpoint, generator, key):
    refused(spoiled(checkpoint, generator, key=key), f"the {generator} key must be a list of 624 integers")


@pytest.mark.parametrize("generator", ["random", "numpy"])
@pytest.mark.parametrize("first", [0, 1, 0x7FFFFFFF], ids=hex)
def test_a_key_all_zero_where_mt19937_reads_it_is_refused(checkpoint, generator, first):
    """MT19937 reads only the top bit of the first word: below it, a key of zeros draws zeros for ever."""
    refused(spoiled(checkpoint, generator, key=[first] + [0] * 623), "all zeros")


def test_a_key_with_only_the_first_words_top_bit_set_is_a_state_and_loads(checkpoint):
    key = [0x80000000] + [0] * 623
    python = (3, (*key, 624), None)
    numpy_state = ("MT19937", np.array(key, dtype=np.uint32), 624, 0, 0.0)
    checkpoint["generators"]["random"]["state"].update(key=key, pos=624, gauss_next=None)
    checkpoint["generators"]["numpy"]["state"].update(key=key, pos=624, has_gauss=0, gauss=0.0)
    seedmagic.load_state_dict(checkpoint)
    drawn = random.random(), np.random.random_sample(3).tolist()
    random.setstate(python)
    np.random.set_state(numpy_state)
    assert drawn == (random.random(), np.random.random_sample(3).tolist())
    assert drawn[0] != 0.0


def test_the_rehearsal_generators_are_private():
    """Checking a document moves neither the user's generators nor ``random``'s hidden one."""
    seedmagic.seed(5)
    document = seedmagic.state_dict()
    seedmagic.seed(6)
    before = library_states()
    Snapshot.from_data(document)
    assert library_states() == before


# The fields NumPy and random do not check themselves ---------------------------------


@pytest.mark.parametrize("field, value, message", [
    ("pos", 625, "numpy position"), ("pos", -1, "numpy position"), ("pos", 3.0, "numpy position"),
    ("has_gauss", 2, "has_gauss"), ("has_gauss", True, "has_gauss"),
    ("gauss", float("nan"), "cached Gaussian"), ("gauss", 1e308, "cached Gaussian"), ("gauss", "0", "cached Gaussian"),
    ("bit_generator", "PCG64", "MT19937"),
])
def test_a_numpy_field_numpy_would_take_or_crash_on_is_refused(checkpoint, field, value, message):
    refused(spoiled(checkpoint, "numpy", **{field: value}), message)


@pytest.mark.parametrize("field, value, message", [
    ("pos", 625, "random position"), ("pos", -1, "random position"), ("gauss_next", float("inf"), "gauss_next"),
    ("gauss_next", 17.0, "gauss_next"), ("version", 2, "version 3"),
])
def test_a_random_field_python_would_take_is_refused(checkpoint, field, value, message):
    refused(spoiled(checkpoint, "random", **{field: value}), message)


# torch: tensors checked by dtype, shape and device, then drawn from privately ------


def torch_state_with(checkpoint: dict, change) -> torch.Tensor:
    state = bytearray(checkpoint["generators"]["torch"]["state"].numpy().tobytes())
    change(state)
    return torch.frombuffer(state, dtype=torch.uint8)


@pytest.mark.parametrize("make", [
    lambda good: good.long(),
    lambda good: good[:-1],
    lambda good: good.reshape(2, -1),
    lambda good: good.to("meta"),
    lambda good: good.to_sparse(),
    lambda good: good.float(),
], ids=["int64", "short", "2-D", "meta", "sparse", "float"])
def test_a_tensor_of_the_wrong_kind_is_refused(checkpoint, make):
    good = checkpoint["generators"]["torch"]["state"]
    refused(spoiled(checkpoint, "torch", state=make(good)), "the torch state must be a CPU uint8 tensor")


def test_a_poisoned_cached_gaussian_in_a_tensor_is_refused(checkpoint):
    def poison(state: bytearray) -> None:
        struct.pack_into("<d", state, NORMAL_Y, float("nan"))
        struct.pack_into("<i", state, NORMAL_VALID, 1)

    refused(spoiled(checkpoint, "torch", state=torch_state_with(checkpoint, poison)), "not a state a torch generator")


def test_an_all_zero_key_in_a_tensor_is_refused(checkpoint):
    def empty(state: bytearray) -> None:
        state[KEY_START:KEY_END] = bytes(KEY_END - KEY_START)

    refused(spoiled(checkpoint, "torch", state=torch_state_with(checkpoint, empty)), "not a state a torch generator")


def test_a_tensor_torch_itself_refuses_is_refused(checkpoint):
    def bad_position(state: bytearray) -> None:
        struct.pack_into("<i", state, 8, 10_000)  # ``left``, beyond the key

    refused(spoiled(checkpoint, "torch", state=torch_state_with(checkpoint, bad_position)), "torch")


@pytest.mark.parametrize("value", [256, -1, 1.0, "1"], ids=repr)
def test_a_byte_list_with_a_value_that_is_no_byte_is_refused(checkpoint, value):
    data = checkpoint["generators"]["torch"]["state"].tolist()
    data[100] = value
    refused(spoiled(checkpoint, "torch", state=data), "the torch state must hold integers from 0 to 255")


# NumPy last, without a rollback copy ---------------------------------------------------


def test_numpy_is_put_back_last_and_a_failure_before_it_rolls_back_what_moved(checkpoint, monkeypatch):
    """A rehearsed state that fails anyway (here: torch's set_state made to fail) rolls random back, NumPy never moved."""
    order: list[str] = []
    for name in ("random", "numpy", "torch"):
        adapter = registry()[name]
        real = adapter.set_state

        def recording(state, name=name, real=real):
            order.append(name)
            if order == ["random", "torch"]:  # the checkpoint's torch state, not the rollback's
                raise RuntimeError("the device is gone")
            real(state)

        monkeypatch.setattr(adapter, "set_state", recording)
    before = library_states()
    with pytest.raises(seedmagic.SeedError, match="the state for torch does not fit: the device is gone"):
        seedmagic.load_state_dict(checkpoint)
    monkeypatch.undo()
    assert order == ["random", "torch", "random", "torch"]  # NumPy, last, was never reached; the rollback
    assert library_states() == before


# found by an attacker ----------------------------------------------------------------------------------


def global_states():
    return (random.getstate(), np.random.get_state(legacy=False)["state"]["key"].tobytes(),
            torch.get_rng_state().numpy().tobytes())


def test_a_tensor_subclass_is_refused_so_the_state_cannot_change_after_the_check():
    """A Tensor subclass whose ``clone`` returns itself keeps the caller's tensor as the state; code that
    runs after the torch entry was checked (the numpy entry's dict) then corrupts it, and it is applied."""
    seedmagic.seed(1)
    state = seedmagic.state_dict()

    class Sneaky(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func is torch.Tensor.clone:
                return args[0]
            return super().__torch_function__(func, types, args, kwargs or {})

    sneaky = state["generators"]["torch"]["state"].as_subclass(Sneaky)

    class Later(dict):
        def keys(self):
            sneaky.as_subclass(torch.Tensor)[24:5016] = 0  # the MT words, after the torch state was checked
            return super().keys()

    generators = {"torch": {"state": sneaky, "seed": 1}}
    generators.update({k: v for k, v in state["generators"].items() if k != "torch"})
    generators["numpy"] = {"state": Later(generators["numpy"]["state"]), "seed": 1}
    state["generators"] = generators
    try:
        seedmagic.load_state_dict(state)
    except seedmagic.SeedError:
        return  # refused: fine
    draws = torch.rand(16, dtype=torch.float64).tolist()
    assert len(set(draws)) > 1, f"torch now draws one value forever: {draws[:3]}"


def test_a_round_trip_through_torch_save_keeps_cached_gaussians(tmp_path):
    seedmagic.seed(5)
    random.gauss(0, 1)
    np.random.randn()
    torch.randn(1)
    state = seedmagic.state_dict()
    expected = (random.gauss(0, 1), np.random.randn(3).tolist(), torch.randn(3).tolist())
    torch.save(state, tmp_path / "ck.pt")
    seedmagic.seed(99)
    seedmagic.load_state_dict(torch.load(tmp_path / "ck.pt", weights_only=True))
    assert (random.gauss(0, 1), np.random.randn(3).tolist(), torch.randn(3).tolist()) == expected


def test_a_dict_subclass_is_read_without_its_own_methods():
    seedmagic.seed(2)
    state = seedmagic.state_dict()

    class Hostile(dict):
        def __getitem__(self, key):
            raise RuntimeError("hostile")

    state["generators"]["numpy"] = {"state": Hostile(state["generators"]["numpy"]["state"]), "seed": None}
    expected = np.random.rand(3).tolist()
    seedmagic.seed(9)
    seedmagic.load_state_dict(state)  # read as the dict it is: the hostile method never runs
    assert np.random.rand(3).tolist() == expected


class RaisingGet(dict):
    def get(self, key, default=None):
        raise RuntimeError("hostile get")

    def keys(self):
        raise RuntimeError("hostile keys")


class RaisingIteration(dict):
    def __iter__(self):
        raise RuntimeError("hostile iteration")

    def keys(self):
        raise RuntimeError("hostile keys")


@pytest.mark.parametrize("level", ["document", "generators", "entry"])
def test_dict_subclasses_at_every_level_are_read_as_the_dicts_they_hold(level):
    seedmagic.seed(2)
    state = seedmagic.state_dict()
    expected = np.random.rand(3).tolist()
    if level == "document":
        state = RaisingGet(state)
    elif level == "generators":
        state["generators"] = RaisingGet(state["generators"])
    else:
        state["generators"]["numpy"] = RaisingGet(state["generators"]["numpy"])
    seedmagic.seed(9)
    seedmagic.load_state_dict(state)
    assert np.random.rand(3).tolist() == expected


@pytest.mark.parametrize("level", ["document", "generators", "entry"])
def test_a_dict_subclass_that_cannot_even_be_copied_is_refused_in_one_line(level):
    seedmagic.seed(2)
    state = seedmagic.state_dict()
    if level == "document":
        state = RaisingIteration(state)
    elif level == "generators":
        state["generators"] = RaisingIteration(state["generators"])
    else:
        state["generators"]["numpy"] = RaisingIteration(state["generators"]["numpy"])
    seedmagic.seed(9)
    before = library_states()
    with pytest.raises(seedmagic.SeedError) as refusal:
        seedmagic.load_state_dict(state)
    assert "\n" not in str(refusal.value) and library_states() == before


def test_a_copied_or_pickled_snapshot_restores_into_the_generators_there_now():
    import pickle

    from seedmagic.snapshots import NOT_LOADED, Entry

    seedmagic.seed(5)
    np.random.randn()
    expected = library_states()
    snapshot = seedmagic.snapshot()
    global_bit_generator = np.random.get_bit_generator()
    for copied in (copy.deepcopy(snapshot), pickle.loads(pickle.dumps(snapshot))):
        seedmagic.seed(6)
        copied.restore()
        assert library_states() == expected
        assert np.random.get_bit_generator() is global_bit_generator  # not the copy's bit generator
    not_loaded = Snapshot((Entry("torch", NOT_LOADED, 7),), None)  # torch not imported when it was taken
    for copied in (copy.deepcopy(not_loaded), pickle.loads(pickle.dumps(not_loaded))):
        assert copied.entries[0].state is NOT_LOADED
        copied.restore()  # torch is imported now: it gets the seed it was due
        assert torch.get_rng_state().equal(torch.manual_seed(7).get_state())
