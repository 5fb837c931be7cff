"""Interpretable cells (Karpathy, Johnson and Fei-Fei 2016): what single LSTM units track in source code.

* :func:`python_features`: per character of Python source, three properties a model might track:
  inside a string literal (from Python's own ``tokenize``, so triple quotes and escapes are right),
  indentation depth of the current line, and position in the line.
* :func:`rank_units`: correlate every unit's activation with a property; strongest first.
* :func:`colour_text`: the text as HTML, each character's background coloured by a value
  (blue negative, red positive), the way the paper shows a cell's activation.

Shape legend: L characters, H units.
"""

from __future__ import annotations

import html
import io
import tokenize

import numpy as np


def python_features(text: str) -> dict[str, np.ndarray]:
    """Per-character properties of Python source, each an (L,) float array.

    * ``"in string"``: 1 inside a string literal (quotes included), else 0;
    * ``"indent"``: the current line's leading spaces / 4 (tabs count as 4 spaces);
    * ``"column"``: the character's position in its line (0 at the start of a line).

    Text that does not tokenize to its end (a snippet cut mid-statement) keeps the string
    spans found before the point where tokenizing stopped.
    """
    L = len(text)
    in_string = np.zeros(L)
    column, indent = np.zeros(L), np.zeros(L)
    line_starts = [0]
    for k, ch in enumerate(text):
        if ch == "\n":
            line_starts.append(k + 1)
    for start in line_starts:
        end = text.find("\n", start)
        end = L if end == -1 else end + 1
        line = text[start:end]
        lead = len(line) - len(line.lstrip(" \t"))
        depth = line[:lead].replace("\t", "    ").count(" ") / 4 if line.strip() else 0.0
        indent[start:end] = depth
        column[start:end] = np.arange(end - start)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING or tok.type in _FSTRING_TYPES:
                (r0, c0), (r1, c1) = tok.start, tok.end
                a, b = line_starts[r0 - 1] + c0, line_starts[r1 - 1] + c1
                in_string[a:b] = 1.0
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return {"in string": in_string, "indent": indent, "column": column}


_FSTRING_TYPES = {getattr(tokenize, name) for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
                  if hasattr(tokenize, name)}


def rank_units(activations: np.ndarray, feature: np.ndarray) -> list[tuple[int, float]]:
    """``(unit, correlation)`` for every unit, sorted by |Pearson correlation| with ``feature``.

    Args:
        activations: (L, H), e.g. the cell states or tanh of them, one row per character.
        feature: (L,).
    """
    A = np.asarray(activations, dtype=np.float64)
    f = np.asarray(feature, dtype=np.float64)
    if A.ndim != 2 or f.shape != (A.shape[0],):
        raise ValueError(f"need activations (L, H) and feature (L,), got {A.shape} and {f.shape}")
    if f.std() == 0:
        raise ValueError("the feature is constant over this text: choose a text where it varies")
    A = A - A.mean(0)
    f = (f - f.mean()) / f.std()
    std = A.std(0)
    corr = np.where(std > 0, (A * f[:, None]).mean(0) / np.where(std > 0, std, 1), 0.0)
    order = np.argsort(-np.abs(corr))
    return [(int(k), float(corr[k])) for k in order]


def colour_text(text: str, values, vmax: float | None = None, title: str = "") -> str:
    """HTML for ``text`` with each character's background coloured by ``values`` (L,).

    Red for positive, blue for negative, white at 0; ``vmax`` is the value of full colour
    (default: the largest |value|). Display with ``IPython.display.HTML``.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (len(text),):
        raise ValueError(f"need one value per character: {len(text)} characters, {v.shape} values")
    vmax = float(np.max(np.abs(v))) if vmax is None else float(vmax)
    vmax = vmax or 1.0
    spans = []
    for ch, x in zip(text, np.clip(v / vmax, -1, 1)):
        shade = int(255 * (1 - abs(x)))
        colour = f"255,{shade},{shade}" if x > 0 else f"{shade},{shade},255"
        glyph = "↵\n" if ch == "\n" else html.escape(ch)
        spans.append(f'<span style="background-color:rgb({colour})">{glyph}</span>')
    head = f"<div><b>{html.escape(title)}</b></div>" if title else ""
    return (f'{head}<pre style="font-family:monospace;font-size:11px;line-height:1.35;'
            f'white-space:pre-wrap;color:black">{"".join(spans)}</pre>')
