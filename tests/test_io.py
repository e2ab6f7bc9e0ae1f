import os

from gnnkit._io import atomic_write_json, atomic_write_text


def test_atomic_write_replaces_whole_file(tmp_path):
    path = tmp_path / "sub" / "f.txt"
    atomic_write_text(path, "first")
    atomic_write_text(path, "second")

    assert path.read_text() == "second"
    assert [p.name for p in path.parent.iterdir()] == ["f.txt"]


def test_atomic_write_uses_umask_permissions(tmp_path):
    path = atomic_write_json(tmp_path / "m.json", {"a": 1})

    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
