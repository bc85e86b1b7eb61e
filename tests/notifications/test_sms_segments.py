"""Text message length and segments, counted by the GSM 03.38 rules, not by characters.

GSM-7: 160 septets in one segment, 153 per segment once concatenated (the header takes 7); a
character of the extension table (``€ [ ] { } \\ ^ ~ |`` and form feed) is an escape plus itself,
two septets. One character outside the alphabet makes the whole text UCS-2: 70 code units in one
segment, 67 per segment after, an emoji two units (a surrogate pair).
"""

import pytest

from notifications.segments import gsm_friendly, sms_length, sms_segments


@pytest.mark.parametrize(
    ("text", "length", "encoding", "segments"),
    [
        ("", 0, "GSM-7", 1),
        ("a" * 160, 160, "GSM-7", 1),
        ("a" * 161, 161, "GSM-7", 2),
        ("a" * 306, 306, "GSM-7", 2),
        ("a" * 307, 307, "GSM-7", 3),
        # The basic table's accented letters are one septet each.
        ("é" * 160, 160, "GSM-7", 1),
        ("Ñandu £5 ¿ok? ÄÖÜ äöü à è ù ì ò Ç Ø Å Æ ß É ¡ § Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ", 67, "GSM-7", 1),
        # The extension table: each character costs two septets.
        ("€", 2, "GSM-7", 1),
        ("[]{}\\^~|€", 18, "GSM-7", 1),
        ("a" * 158 + "€", 160, "GSM-7", 1),
        ("a" * 159 + "€", 161, "GSM-7", 2),
        ("{" * 80, 160, "GSM-7", 1),
        ("{" * 81, 162, "GSM-7", 2),
        # Outside GSM-7 (a smart quote, ç, an accent GSM-7 lacks, an emoji): UCS-2 for the whole text.
        ("It’s ready", 10, "UCS-2", 1),
        ("ç" * 70, 70, "UCS-2", 1),
        ("á" * 71, 71, "UCS-2", 2),
        ("ó" * 134, 134, "UCS-2", 2),
        ("ó" * 135, 135, "UCS-2", 3),
        ("👍", 2, "UCS-2", 1),
        ("👍" * 35, 70, "UCS-2", 1),
        ("👍" * 36, 72, "UCS-2", 2),
    ],
)
def test_length_encoding_and_segments_follow_the_gsm_rules(text, length, encoding, segments):
    assert sms_length(text) == (length, encoding)
    assert sms_segments(text) == segments


def test_typography_from_a_keyboard_is_written_the_gsm_way_so_the_text_stays_cheap():
    typed = "It’s “ready” – see you…"

    written = gsm_friendly(typed)

    assert written == 'It\'s "ready" - see you...'
    assert sms_length(written) == (len(written), "GSM-7")
    assert sms_length(typed)[1] == "UCS-2"
