"""Characters that must not reach storage or a staff screen as they are (RES-3, DISP-1).

Bidirectional controls make text display in another order than it was written: a stored
"fever 39" can show reversed. Staff views show them as visible code points instead. Unpaired
surrogates and NUL cannot be stored at all (UTF-8 and PostgreSQL text refuse them).
"""

from __future__ import annotations

import re
import unicodedata

# Embeddings, overrides, isolates and marks (Unicode Bidi_Control) plus LRM/RLM/ALM.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def neutralise_bidi(text: str) -> str:
    """Each bidi control becomes a visible, inert `[U+202E]`."""
    return _BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def unstorable(text: str) -> bool:
    """NUL or an unpaired UTF-16 surrogate (a cut-off emoji): no database can store these."""
    return _UNSTORABLE.search(text) is not None


def storable(text: str) -> str:
    """Each NUL or unpaired surrogate becomes U+FFFD. A patient's message is never refused for
    one broken character: "fever 39" followed by half an emoji must still be triaged (RES-3)."""
    return _UNSTORABLE.sub("\ufffd", text)


def is_plain_identifier(text: str) -> bool:
    """No control, format (bidi included), surrogate or unassigned characters: fit for an id."""
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text)
