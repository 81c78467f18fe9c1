"""Outputs in comparable form: only what IPython, tqdm and Jupyter print themselves is normalised.

A time, a rate or a hexadecimal number the notebook prints is data and
compared as such; what the machinery adds (execution counts, tracebacks,
``%time``/``%timeit`` reports, tqdm's elapsed time and rate, object
addresses closing a repr, the kernel's temporary cell file in a warning,
widget model ids) is not. Images compare by content: decoded pixels, so
an encoder's stamp (a date, a software name, SVG's random ids) does not
count. Between two other outputs, stdout and stderr compare each as one
text: the kernel sends each stream in its own batches, so how a cell's
prints and its log lines interleave varies from run to run. Everything
runs in time linear in the output's size: each pattern is tried only on
the lines that hold its trigger, and none can backtrack over a long line.
"""

from __future__ import annotations

import base64
import configparser
import io
import json
import pathlib
import re
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from .model import BadInput
from .notebooks import one_line, refuse_special

#: tqdm's elapsed and remaining times (``01:02``, ``1:00:02``) and its rates (``2.50it/s``, ``?it/s``, ``3.1MB/s``,
#: ``5.00s/it``, ``97.2 samples/s``), as ``tqdm.format_meter`` writes them.
_TQDM_TIME = r"(?:\d{1,6}:)?\d{1,2}:\d\d"
_TQDM_RATE = r"(?:\?|[\d.]{1,20})[^,\]/\n]{0,40}/s|[\d.]{1,20}s/[^,\]\n]{1,40}"
#: (trigger, pattern, replacement): a pattern runs only on lines that contain its trigger.
_LINE_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # Object addresses closing a repr: <Foo object at 0x7f3a...> (&gt; in HTML: a DataFrame of objects);
    # other hexadecimal text is data.
    ("at 0x", re.compile(r"(?<=\bat )0x[0-9a-fA-F]{6,16}(?=>|&gt;)"), "0xADDRESS"),
    # NumPy's generators: Generator(PCG64) at 0x7FF1B85ACAC0, RandomState(MT19937) at 0x7F...
    (") at 0x", re.compile(r"(?<=\) at )0x[0-9A-F]{6,16}\b"), "0xADDRESS"),
    # A pandas Styler's ids: a random uuid per Styler (#T_13b55_row1_col0, <table id="T_13b55">), not data.
    ("T_", re.compile(r'(?<=[#"])T_[0-9a-f]{5}(?=[_"\s.:,{\[>])'), "T_<uuid>"),
    ("CPU times:", re.compile(r"^CPU times:.*$"), "<time>"),  # %time
    ("Wall time:", re.compile(r"^Wall time:.*$"), "<time>"),
    ("per loop", re.compile(r"(?<![\d.])[\d.]{1,20} ?(?:ns|µs|μs|us|ms|s|min|h) (?:±|\+-) [\d.]{1,20} ?"
                            r"(?:ns|µs|μs|us|ms|s|min|h) per loop.*$"), "<time>"),  # %timeit
    # tqdm's [elapsed<remaining, rate (or its "elapsed, rate" when the total is unknown); what follows, the
    # postfix (set_postfix(loss=...)), is the notebook's data.
    ("<", re.compile(rf"\[{_TQDM_TIME}<(?:{_TQDM_TIME}|\?)(?:, *(?:{_TQDM_RATE}))?(?=[,\]])"), "[<time>"),
    ("/", re.compile(rf"\[{_TQDM_TIME}, *(?:{_TQDM_RATE})(?=[,\]])"), "[<time>"),
    # tqdm's bar: with ``ncols`` its width is what the meter, rate included, leaves (the percentage stays).
    ("%|", re.compile(r"(?<=\d%\|)[^|\n]{0,2000}(?=\| )"), "<bar>"),
)
#: (trigger, pattern): lines left out. ``%timeit`` warns that its slowest run took much longer in some runs only.
_DROPPED_LINES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("slowest run took", re.compile(r"^The slowest run took [\d.]{1,20} times longer than the fastest\.")),
)
#: The kernel's temporary file for a cell, named in warnings: /tmp/ipykernel_1234/5678.py
_CELL_FILE = re.compile(r"ipykernel_\d{1,10}[/\\]\d{1,20}\.py")
_PATH_END = frozenset(" \t\"'(=")
_WIDGET = "application/vnd.jupyter.widget-view+json"
_IMAGE = re.compile(r"^image/")
_INLINE_IMAGE = re.compile(r"data:(image/[\w.+-]{1,20});base64,([A-Za-z0-9+/=\s]{1,100000000})")
_SVG_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)
_SVG_ID = re.compile(r'\bid="([^"]{1,200})"')
_SVG_REFERENCE = re.compile(r'(?<=[#"])([^"#)\s<>]{1,200})(?=[")])')


def _redrawn(line: str) -> str:
    """A line a progress bar redrew after carriage returns: only its last drawing counts."""
    return line.rsplit("\r", 1)[-1] if "\r" in line else line


def _cell_files(line: str) -> str:
    """The kernel's temporary cell files as ``<cell>``: the path is found back from each ``ipykernel_`` match."""
    parts, done = [], 0
    for match in _CELL_FILE.finditer(line):
        start = match.start()
        while start > done and line[start - 1] not in _PATH_END:
            start -= 1
        parts += [line[done:start], "<cell>"]
        done = match.end()
    return "".join(parts) + line[done:]


def sanitise(text: str, extra: Sequence[tuple[re.Pattern[str], str]] = ()) -> str:
    """``text`` with the machinery's timings and addresses replaced (and its warnings that come and go left
    out), then the user's own sanitisers applied."""
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = _redrawn(line)
        if any(trigger in line and pattern.match(line) for trigger, pattern in _DROPPED_LINES):
            continue
        for trigger, pattern, replacement in _LINE_RULES:
            if trigger in line:
                line = pattern.sub(replacement, line)
        if "ipykernel_" in line:
            line = _cell_files(line)
        lines.append(line)
    text = "\n".join(lines)
    for pattern, replacement in extra:
        text = pattern.sub(replacement, text)
    return text


def same_error(a: str | None, b: str | None) -> bool:
    """Whether two runs' errors ("Name: message", or None) are the same, compared as outputs are: an object's
    address in the message (``<function <lambda> at 0x7f…>``) is the machinery's, not the error's."""
    return a == b or (a is not None and b is not None and sanitise(a) == sanitise(b))


def read_sanitisers(path: str | pathlib.Path) -> tuple[tuple[str, str], ...]:
    """nbval's ``--sanitize-with`` file: sections, each with ``regex:`` and ``replace:``; anything else is BadInput."""
    parser = configparser.ConfigParser(interpolation=None)
    refuse_special(pathlib.Path(path))
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, UnicodeDecodeError, configparser.Error) as error:
        raise BadInput(f"{path}: cannot read the sanitisers ({one_line(error)})") from None
    rules = []
    for name in parser.sections():
        section = parser[name]
        if "regex" not in section or "replace" not in section:
            raise BadInput(f"{path}: section [{name}] needs both 'regex:' and 'replace:'")
        try:
            re.compile(section["regex"])
        except re.error as error:
            raise BadInput(f"{path}: section [{name}]: not a regular expression ({error})") from None
        rules.append((section["regex"], section["replace"]))
    return tuple(rules)


def image_digest(mime: str, data: str | bytes) -> str:
    """The content of an image: its decoded pixels where they can be read, else its bytes without metadata."""
    if mime == "image/svg+xml":
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        return f"svg {zlib.crc32(_svg_content(text).encode()):08x}"
    raw = base64.b64decode(data) if isinstance(data, str) else data
    pixels = _pixels(raw)
    if pixels is not None:
        return f"pixels {zlib.crc32(pixels):08x}"
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return f"png {zlib.crc32(_png_content(raw)):08x}"
    return f"bytes {zlib.crc32(raw):08x}"


def _pixels(raw: bytes) -> bytes | None:
    """Decoded pixels through Pillow when it is installed (it is, wherever matplotlib is)."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            return f"{image.mode}{image.size}".encode() + image.tobytes()
    except Exception:  # not an image Pillow reads: compared by its bytes
        return None


def _png_content(raw: bytes) -> bytes:
    """A PNG's critical chunks (header, palette, decompressed image data): text, time and other stamps left out."""
    content, data, position = [], [], 8
    while position + 8 <= len(raw):
        length = int.from_bytes(raw[position:position + 4], "big")
        kind = raw[position + 4:position + 8]
        body = raw[position + 8:position + 8 + length]
        if kind == b"IDAT":
            data.append(body)
        elif kind in (b"IHDR", b"PLTE", b"tRNS"):
            content.append(kind + body)
        position += 12 + length
    try:
        return b"".join(content) + zlib.decompress(b"".join(data))
    except zlib.error:
        return raw


def _svg_content(text: str) -> str:
    """An SVG without its metadata (dates, software) and with its ids numbered in order (matplotlib's are random)."""
    text = _SVG_METADATA.sub("", text)
    names: dict[str, str] = {}
    for match in _SVG_ID.finditer(text):
        names.setdefault(match.group(1), f"id{len(names)}")
    return _SVG_REFERENCE.sub(lambda match: names.get(match.group(1), match.group(1)), text)


def _inline_images(text: str) -> str:
    """Base64 images inside HTML (ipympl's fallback, for one) compare by content too."""
    if "base64," not in text:
        return text
    return _INLINE_IMAGE.sub(lambda match: f"data:{match.group(1)};{image_digest(match.group(1), match.group(2))}",
                             text)


def normaliser(images: str = "pixels",
               sanitisers: Sequence[tuple[str, str]] = ()) -> Callable[[Sequence[Any]], list[Any]]:
    """A function that turns a cell's outputs into their comparable form, with these options."""
    extra = [(re.compile(pattern), replacement) for pattern, replacement in sanitisers]

    def text(value: str) -> str:
        return sanitise(_inline_images(value) if images == "pixels" else value, extra)

    def normalise(outputs: Sequence[Any]) -> list[Any]:
        result: list[Any] = []
        streams: dict[str, str] = {}  # the text of each stream since the last other output

        def close_streams() -> None:
            result.extend(("stream", name, text(streams[name])) for name in sorted(streams))
            streams.clear()

        for output in outputs:
            kind = output.get("output_type")
            if kind == "stream":
                name = str(output.get("name"))
                streams[name] = streams.get(name, "") + output.get("text", "")
                continue
            close_streams()
            if kind in ("execute_result", "display_data"):
                data = {}
                for mime, value in sorted(output.get("data", {}).items()):
                    if mime == _WIDGET:
                        data[mime] = "<present>"
                    elif _IMAGE.match(mime):
                        data[mime] = image_digest(mime, value) if images == "pixels" else "<present>"
                    else:
                        data[mime] = text(value if isinstance(value, str) else json.dumps(value, sort_keys=True))
                result.append(("data", data))
            elif kind == "error":
                result.append(("error", output.get("ename", ""), text(str(output.get("evalue", "")))))
        close_streams()
        return result

    return normalise


#: Outputs normalised with the default options.
normalise = normaliser()
