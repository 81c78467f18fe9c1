"""``seedmagic check``'s output normalisation and the probe's fingerprints, without a kernel."""

from __future__ import annotations

import base64
import io
import time
import zlib

import numpy as np
import pytest
from conftest import requires_torch, torch

from seedmagic.check import BadInput, normalise, normaliser, read_sanitisers, sanitise
from seedmagic.probe import value_fingerprint


def stream(text: str, name: str = "stdout") -> list[dict]:
    return normalise([{"output_type": "stream", "name": name, "text": text}])



def test_stdout_and_stderr_compare_each_as_one_text_whatever_their_interleaving_but_not_across_a_display():
    def chunks(*pieces: tuple[str, str]) -> list[dict]:
        return [{"output_type": "stream", "name": name, "text": text} for name, text in pieces]

    image = {"output_type": "display_data", "data": {"text/plain": "<Figure>"}, "metadata": {}}
    one = chunks(("stdout", "0\n"), ("stderr", "INFO:x0\n"), ("stdout", "1\n"), ("stderr", "INFO:x1\n"))
    other = chunks(("stdout", "0\n1\n"), ("stderr", "INFO:x0\nINFO:x1\n"))
    assert normalise(one) == normalise(other) == [("stream", "stderr", "INFO:x0\nINFO:x1\n"),
                                                  ("stream", "stdout", "0\n1\n")]
    assert normalise(one[:2] + [image] + one[2:]) != normalise(one[:1] + [image] + one[1:])  # a print moved past
    assert normalise(chunks(("stdout", "a"), ("stdout", "b"))) != normalise(chunks(("stdout", "b"), ("stdout", "a")))

def test_what_ipython_jupyter_and_tqdm_print_themselves_is_normalised_and_nothing_else():
    first = [{"output_type": "stream", "name": "stdout", "text": "<object object at 0x7f3a2c1b0e90>\n"},
             {"output_type": "stream", "name": "stdout", "text": "CPU times: user 3 ms\nWall time: 2.1 ms\n"},
             {"output_type": "execute_result", "execution_count": 3, "metadata": {},
              "data": {"text/plain": "took 1.25 s", "application/vnd.jupyter.widget-view+json": {"model_id": "a1"}}},
             {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": ["at 0x1 line 3"]}]
    second = [{"output_type": "stream", "name": "stdout",
               "text": "<object object at 0x7f0000000000>\nCPU times: user 9 ms\nWall time: 7 ms\n"},
              {"output_type": "execute_result", "execution_count": 9, "metadata": {},
               "data": {"text/plain": "took 1.25 s", "application/vnd.jupyter.widget-view+json": {"model_id": "b2"}}},
              {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": ["elsewhere"]}]
    assert normalise(first) == normalise(second)
    assert stream("The slowest run took 83576.38 times longer than the fastest. This could mean...\n") == \
        stream("The slowest run took 4.10 times longer than the fastest. This could mean...\n")
    timing = "1.2 µs ± 30 ns per loop (mean ± std. dev. of 7 runs, 100000 loops each)\n"
    assert stream("The slowest run took 5.10 times longer than the fastest. This could mean that an intermediate "
                  "result is being cached.\n" + timing) == stream(timing)  # printed in some runs only
    assert stream("1.2 ms +- 3 us per loop (mean +- std. dev. of 7 runs)\n") == \
        stream("9.9 ms +- 1 us per loop (mean +- std. dev. of 7 runs)\n")
    assert stream(" 10%|#   | 1/10 [00:00<00:09,  1.00it/s]\r100%|#####| 10/10 [00:02<00:00,  4.51it/s]\n") == \
        stream("100%|#####| 10/10 [00:03<00:00,  3.20it/s]\n")
    assert stream("100%|#####| 10/10 [00:02<00:00, 12.3MB/s]\n") == stream("100%|#####| 10/10 [00:01<00:00, 1.0kB/s]\n")
    assert stream("5it [00:01, 4.10it/s]\n") == stream("5it [00:02, 2.05it/s]\n")  # no total: elapsed, rate
    assert stream("/tmp/ipykernel_4242/3391.py:2: UserWarning: careful\n  warnings.warn('careful')\n", "stderr") == \
        stream("/tmp/ipykernel_77/120.py:2: UserWarning: careful\n  warnings.warn('careful')\n", "stderr")
    assert stream("<Foo object at 0x7f3a2c1b0e90>\n") == stream("<Foo object at 0x7f0000000000>\n")
    html = "<td>&lt;__main__.A object at {}&gt;</td>"  # a DataFrame of objects, as pandas writes it in HTML
    shown = [normalise([{"output_type": "execute_result", "data": {"text/html": html.format(address)}}])
             for address in ("0x7f3a2c1b0e90", "0x7f0000000000")]
    assert shown[0] == shown[1]
    assert stream("at 0x7f3a2c1b0e90 &gt") != stream("at 0x7f0000000000 &gt")  # not the end of a repr: data
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"a": [1, 2]})
    for style in (lambda: frame.style.highlight_max(),
                  lambda: frame.style.set_table_styles([{"selector": "th", "props": [("color", "red")]},
                                                        {"selector": "tr:hover", "props": [("color", "blue")]}]),
                  lambda: frame.style.set_tooltips(pandas.DataFrame({"a": ["one", "two"]}))):
        styled = [normalise([{"output_type": "execute_result", "data": {"text/html": style()._repr_html_()}}])
                  for _ in range(2)]
        assert styled[0] == styled[1]  # a Styler's ids hold a random uuid
    assert stream('<td id="T_13b55">1</td>\n') != stream('<td id="T_13b55">2</td>\n')  # what it shows is data
    assert stream("Generator(PCG64) at 0x7FF1B85ACAC0\n") == stream("Generator(PCG64) at 0x7F75B80CCAC0\n")
    assert stream("RandomState(MT19937) at 0x7F3A2C1B0E90\n") == stream("RandomState(MT19937) at 0x7F00000000AA\n")


def test_tqdm_times_and_rates_are_normalised_and_its_postfix_is_data():
    tqdm = pytest.importorskip("tqdm").tqdm

    def bar(elapsed: float, total: int | None = 10, **options) -> list[dict]:
        return stream(tqdm.format_meter(n=3, total=total, elapsed=elapsed, **options) + "\n", "stderr")

    metrics = "loss=0.2901, acc=0.7099, lr=0.001, epoch=3, phase=train"  # longer than tqdm's own part
    for total in (10, None):
        assert bar(1.2, total) == bar(7200.5, total)
        assert bar(1.2, total, unit="B", unit_scale=True) == bar(0.01, total, unit="B", unit_scale=True)
        assert bar(1.2, total, postfix=metrics) == bar(31.7, total, postfix=metrics)
        assert bar(1.2, total, postfix="loss=0.290") != bar(1.2, total, postfix="loss=0.804")
    assert bar(0, 10) == bar(5, 10)  # "?it/s" at the start
    assert bar(1.2, 10, unit=" samples") == bar(0.01, 10, unit=" samples")  # a unit with a space
    assert bar(1.2, 10, unit=" long unit name of many words") == bar(0.5, 10, unit=" long unit name of many words")
    assert bar(0.0306, 60, ncols=80) == bar(0.0296, 60, ncols=80)  # 98.04it/s, 101.35it/s: the bar narrows by one
    assert bar(0.0306, 60, ncols=80, ascii=True) == bar(0.0296, 60, ncols=80, ascii=True)
    assert bar(1.2, 10) != bar(1.2, 20)


def test_a_time_a_rate_or_a_number_the_notebook_prints_is_data():
    assert stream("first arrival after 1.25 s\n") != stream("first arrival after 0.50 s\n")
    assert stream("run id 0x5d1f9e0a77c3b2e1\n") != stream("run id 0x0b6e2f94d3a1c870\n")
    assert stream("licence key at 0x5d1f9e0a77c3b2e1\n") != stream("licence key at 0x0b6e2f94d3a1c870\n")
    assert stream("speed 3.2 m/s\n") != stream("speed 4.1 m/s\n")
    assert stream("12.3kit/s\n") != stream("980.1it/s\n")  # a rate outside tqdm's bracket
    assert stream("0.5488135\n") != stream("0.7151894\n")
    assert stream("see /home/me/ipykernel_notes.txt\n") != stream("see /home/you/ipykernel_notes.txt\n")


@pytest.mark.slow
def test_normalisation_is_linear_on_outputs_of_megabytes():
    """Each text is several megabytes on one line; a pattern that backtracks would take hours, not seconds."""
    texts = ["1" * 3_000_000, "at 0x" + "f" * 3_000_000, "[00:01<" * 400_000, "[00:01, 1" * 300_000, "ipykernel_1/" * 300_000,
             "x\r" * 1_000_000, "0.5 s +- " * 300_000, "/a" * 1_500_000, "data:image/png;base64," + "A" * 3_000_000]
    started = time.process_time()
    for text in texts:
        sanitise(text)
        normalise([{"output_type": "display_data", "data": {"text/html": text, "text/plain": text}}])
    assert time.process_time() - started < 30


def png(pixels: bytes, width: int, stamp: bytes = b"") -> bytes:
    """A grey PNG, with a tEXt chunk as an encoder's stamp."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    rows = b"".join(b"\x00" + pixels[i:i + width] for i in range(0, len(pixels), width))
    header = width.to_bytes(4, "big") + (len(pixels) // width).to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    text = chunk(b"tEXt", b"Software\x00" + stamp) if stamp else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + text + chunk(b"IDAT", zlib.compress(rows)) + \
        chunk(b"IEND", b"")


def image(data: bytes, mime: str = "image/png") -> list[dict]:
    return [{"output_type": "display_data", "data": {mime: base64.b64encode(data).decode(), "text/plain": "<Figure>"}}]


def test_images_compare_by_pixels_not_bytes_and_by_presence_when_asked():
    a, b = png(bytes(range(16)), 4, b"matplotlib 3.8"), png(bytes(range(16)), 4, b"matplotlib 3.9")
    other = png(bytes(range(1, 17)), 4, b"matplotlib 3.8")
    assert a != b
    assert normalise(image(a)) == normalise(image(b))
    assert normalise(image(a)) != normalise(image(other))
    presence = normaliser(images="presence")
    assert presence(image(a)) == presence(image(other))
    html = '<img src="data:image/png;base64,{}">'
    inline = [[{"output_type": "display_data", "data": {"text/html": html.format(base64.b64encode(data).decode())}}]
              for data in (a, b, other)]
    assert normalise(inline[0]) == normalise(inline[1]) != normalise(inline[2])
    svg = ('<svg><metadata><dc:date>{}</dc:date></metadata><clipPath id="{}"/><use clip-path="url(#{})"/>'
           '<rect fill="{}"/></svg>')
    first = svg.format("2026-01-01", "p1a2b", "p1a2b", "red")
    second = svg.format("2026-02-02", "p9f8e", "p9f8e", "red")
    blue = svg.format("2026-01-01", "p1a2b", "p1a2b", "blue")

    def drawn(text: str) -> list:  # Jupyter sends SVG as text
        return normalise([{"output_type": "display_data", "data": {"image/svg+xml": text}}])

    assert drawn(first) == drawn(second) != drawn(blue)


def test_pixels_are_compared_through_pillow_when_the_encoder_differs():
    image_module = pytest.importorskip("PIL.Image")
    pixels = bytes(range(0, 256, 16))
    one, two = io.BytesIO(), io.BytesIO()
    image_module.frombytes("L", (4, 4), pixels).save(one, "PNG", compress_level=1)
    image_module.frombytes("L", (4, 4), pixels).save(two, "PNG", compress_level=9, optimize=True)
    assert normalise(image(one.getvalue())) == normalise(image(two.getvalue()))


def test_the_users_own_sanitisers_in_nbvals_format(tmp_path):
    rules = tmp_path / "sanitise.cfg"
    rules.write_text("[dates]\nregex: \\d{4}-\\d\\d-\\d\\d\nreplace: DATE\n\n[ids]\nregex: run-[0-9a-f]+\nreplace: RUN\n")
    loaded = read_sanitisers(rules)
    assert loaded == (("\\d{4}-\\d\\d-\\d\\d", "DATE"), ("run-[0-9a-f]+", "RUN"))
    custom = normaliser(sanitisers=loaded)

    def text(value: str) -> list:
        return custom([{"output_type": "stream", "name": "stdout", "text": value}])

    assert text("run-3fa on 2026-01-02\n") == text("run-b7 on 2027-11-30\n")
    assert text("loss 0.5\n") != text("loss 0.6\n")
    broken = tmp_path / "broken.cfg"
    for content, message in [("[a]\nregex: x\n", "section [a] needs both 'regex:' and 'replace:'"),
                             ("[a]\nregex: (\nreplace: y\n", "section [a]: not a regular expression"),
                             ("no section", "cannot read the sanitisers")]:
        broken.write_text(content)
        with pytest.raises(BadInput, match=message.replace("[", r"\[").replace("(", r"\(")):
            read_sanitisers(broken)
    with pytest.raises(BadInput, match="cannot read the sanitisers"):
        read_sanitisers(tmp_path / "missing.cfg")


def test_plain_values_are_fingerprinted_without_running_user_code():
    assert value_fingerprint(1) == value_fingerprint(1) != value_fingerprint(2)
    assert value_fingerprint(1) != value_fingerprint(1.0) != value_fingerprint("1")
    assert value_fingerprint([1, "a", (2.5, None)]) == value_fingerprint([1, "a", (2.5, None)])
    assert value_fingerprint({"a": 1, "b": 2}) != value_fingerprint({"b": 2, "a": 1})  # order shows in output
    assert value_fingerprint(np.arange(5)) == value_fingerprint(np.arange(5)) != value_fingerprint(np.arange(1, 6))
    assert value_fingerprint(np.float64(0.5)) != value_fingerprint(np.float32(0.5))
    big = np.zeros(1_000_000)
    changed = big.copy()
    changed[0] = 1
    assert value_fingerprint(big) != value_fingerprint(changed)  # the sample includes the ends
    assert value_fingerprint(np.array([object()])) is None  # object arrays hold pointers
    assert value_fingerprint(list(range(100))) is None  # over the size bound
    assert value_fingerprint([object()]) is None and value_fingerprint(object()) is None
    assert value_fingerprint(__import__("pathlib").Path("/a")) != value_fingerprint(__import__("pathlib").Path("/b"))

    class Meta(type):
        def __eq__(cls, other: object) -> bool:
            raise AssertionError("the probe ran a metaclass's __eq__")

        __hash__ = type.__hash__

        def __getattribute__(cls, name: str) -> object:
            if name in ("__mro__", "__module__", "__array__"):
                raise AssertionError(f"the probe read {name}")
            return super().__getattribute__(name)

    class Hostile(metaclass=Meta):
        pass

    class Subclass(float):
        def __repr__(self) -> str:
            raise AssertionError("the probe ran a subclass's __repr__")

    for hostile in (Hostile(), Subclass(1.0), [Subclass(2.0)], {Hostile(): 1}):
        assert value_fingerprint(hostile) is None


@requires_torch
def test_tensors_are_fingerprinted_by_their_bytes():
    assert value_fingerprint(torch.arange(4)) == value_fingerprint(torch.arange(4)) != value_fingerprint(
        torch.arange(1, 5))
    assert value_fingerprint(torch.ones(3, dtype=torch.bfloat16)) is not None
    assert value_fingerprint(torch.zeros(1000, 1000)[:, ::2]) is not None
    assert value_fingerprint(torch.zeros(2).to_sparse()) is None
