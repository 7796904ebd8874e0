"""``core.labels.labels_of``: a choices class's labels as text, per active language."""

from django.utils import translation

from cityops.cases.choices import Action, State
from cityops.core.labels import labels_of


def test_labels_are_the_lazy_labels_as_text_in_the_active_language():
    with translation.override("zh-hans"):
        zh = labels_of(State)
        assert zh == {value: str(label) for value, label in State.choices}
        assert zh["to_file"] == "待立案" and all(type(v) is str for v in zh.values())
        assert labels_of(State) is zh  # kept for the language
    with translation.override("en"):
        en = labels_of(State)
        assert en["to_file"] == "To file" and en is not zh
        assert labels_of(Action)["report"] == str(Action.REPORT.label)
    with translation.override("zh-hans"):
        assert labels_of(State) is zh
