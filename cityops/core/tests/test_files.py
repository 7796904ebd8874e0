"""Files stored in a unit of work are removed when it fails, and handed to the enclosing unit when it
succeeds inside one (``core.files``), as a savepoint's rows are."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from cityops.core.files import files_removed_on_failure, stored


class _Field:
    """What ``stored`` reads of a model's file field."""

    def __init__(self, storage, name):
        self.storage, self.name = storage, name


@pytest.fixture
def disk(tmp_path):
    storage = FileSystemStorage(location=tmp_path)

    def write(name):
        stored(_Field(storage, storage.save(name, ContentFile(b"x"))))

    return storage, write


def test_a_failed_unit_removes_its_files_and_a_good_one_keeps_them(disk):
    storage, write = disk
    with pytest.raises(ValueError), files_removed_on_failure():
        write("a.jpg")
        raise ValueError
    assert not storage.exists("a.jpg")
    with files_removed_on_failure():
        write("b.jpg")
    assert storage.exists("b.jpg")
    write("c.jpg")  # outside any unit nothing is noted (and nothing removed)
    assert storage.exists("c.jpg")


def test_a_nested_unit_is_a_savepoint(disk):
    storage, write = disk
    with files_removed_on_failure():
        write("outer.jpg")
        with pytest.raises(ValueError), files_removed_on_failure():
            write("inner-failed.jpg")
            raise ValueError
        assert not storage.exists("inner-failed.jpg")  # its own failure: removed at once
        with files_removed_on_failure():
            write("inner-kept.jpg")
    assert storage.exists("outer.jpg") and storage.exists("inner-kept.jpg")
    with pytest.raises(RuntimeError), files_removed_on_failure():
        with files_removed_on_failure():
            write("handed-up.jpg")
        assert storage.exists("handed-up.jpg")
        raise RuntimeError  # the enclosing unit fails: what the inner one handed up goes too
    assert not storage.exists("handed-up.jpg")
