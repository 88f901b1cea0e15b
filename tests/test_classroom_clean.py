"""``make classroom-clean``: it removes the classroom environment lab3 built, and nothing else."""

import json

import pytest

from lab3.handouts.hub.__main__ import main
from lab3.handouts.hub.checks import ClassroomError
from lab3.handouts.hub.environment import remove_environment


def built_env(tmp_path):
    """A folder laid out as ``ensure_environment`` leaves it (a venv, its stamp, its lock)."""
    env = tmp_path / "lab3-classroom"
    (env / "venv" / "bin").mkdir(parents=True)
    (env / "venv" / "bin" / "python").write_text("")
    (env / "installed.json").write_text(json.dumps({"pins": "x"}))
    (env / ".lock").write_text("")
    return env


def test_removes_what_it_built_and_the_folder_when_empty(tmp_path):
    env = built_env(tmp_path)
    assert remove_environment(env, log=lambda _: None)
    assert not env.exists()


def test_keeps_files_it_did_not_make(tmp_path):
    env = built_env(tmp_path)
    (env / "notes.txt").write_text("an instructor's file")
    remove_environment(env, log=lambda _: None)
    assert sorted(p.name for p in env.iterdir()) == ["notes.txt"]


def test_refuses_a_folder_lab3_did_not_build(tmp_path):
    env = tmp_path / "opt"
    (env / "venv").mkdir(parents=True)
    with pytest.raises(ClassroomError, match="installed.json"):
        remove_environment(env, log=lambda _: None)
    assert (env / "venv").is_dir()
    assert main(["--remove-env", "--env", str(env)]) == 2


def test_a_missing_folder_is_nothing_to_do(tmp_path):
    assert main(["--remove-env", "--env", str(tmp_path / "absent")]) == 0
