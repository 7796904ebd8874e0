"""What Open311 readers see of a description or note: mobile numbers half masked, e-mail addresses
replaced, everything else as written."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.open311.records import redact

# The expression as first written: slow on long runs of word characters, the reference for results.
_EMAIL_AS_FIRST_WRITTEN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def test_numbers_and_addresses_are_hidden():
    text = "联系人13912345678，邮箱 zhang.san+x@mail.example.cn，座机0355-1234567。"
    assert redact(text) == "联系人139****5678，邮箱 ***，座机0355-1234567。"
    # Chinese characters are word characters: written against an address, they go with it (rather
    # too much hidden than a part of the address shown)
    assert redact("市民王五wang@qq.com反映，电话 13800001111") == "***，电话 138****1111"
    assert redact("") == "" and redact(None) is None
    assert redact("英雄中路 12 号井盖破损" * 200) == "英雄中路 12 号井盖破损" * 200


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["市民", "反映", "a", "Z", "9", "13912345678", "@", ".", "-", "+", "_", " ", "，", "qq", "com"]
        ),
        max_size=40,
    ).map("".join)
)
def test_the_same_text_as_the_expression_first_written(text):
    expected = _EMAIL_AS_FIRST_WRITTEN.sub("***", _MOBILE.sub(r"\1****\2", text)) if text else text
    assert redact(text) == expected
