"""What public readers see of a description, address or note (``core.redact``, used by Open311 and the
tracking pages): mobile numbers half masked however they are written, e-mail addresses replaced,
everything else as written."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.core.redact import redact_contacts as redact
from cityops.core.redact import redact_phones

# The e-mail expression as first written: slow on long runs of word characters (a 2,000-character
# description took 9 ms), the reference for which text it hides.
_EMAIL_AS_FIRST_WRITTEN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def test_numbers_and_addresses_are_hidden():
    text = "联系人13912345678，邮箱 zhang.san+x@mail.example.cn，座机0355-1234567。"
    assert redact(text) == "联系人139****5678，邮箱 ***，座机0355-1234567。"
    for written in ("139 1234 5678", "139-1234-5678", "+86 13912345678", "8613912345678"):
        assert redact(f"电话{written}。") == "电话139****5678。", written
    # Chinese characters are word characters: written against an address, they go with it (rather
    # too much hidden than a part of the address shown)
    assert redact("市民王五wang@qq.com反映，电话 13800001111") == "***，电话 138****1111"
    assert redact("") == "" and redact(None) is None
    assert redact("英雄中路 12 号井盖破损" * 200) == "英雄中路 12 号井盖破损" * 200
    # an address right after another one, as the property test below once found it
    assert redact("市民@市民.市民.@市民.市民") == "******"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["市民", "反映", "a", "Z", "9", "13912345678", "@", ".", "-", "+", "_", " ", "，", "qq", "com"]
        ),
        max_size=40,
    ).map("".join)
)
def test_addresses_hidden_as_by_the_expression_first_written(text):
    masked = redact_phones(text)
    assert redact(text) == (_EMAIL_AS_FIRST_WRITTEN.sub("***", masked) if text else text)
