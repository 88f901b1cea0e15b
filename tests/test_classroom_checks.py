"""The classroom's checks and configuration, without a hub (fast; the hub itself:
tests/test_classroom_hub.py)."""

import json
import os
import socket

import pytest
from traitlets.config import Config

from lab3.handouts.hub import REPO, Classroom, ClassroomError
from lab3.handouts.hub.checks import (
    require_python_for_everyone,
    validate_port,
    validate_prefix,
    validate_students,
)
from lab3.handouts.hub.environment import merged_lock


@pytest.mark.parametrize("students", [0, 51, -3, True, "3", 2.5])
def test_a_bad_number_of_students_is_refused_by_name(students):
    with pytest.raises(ClassroomError, match=r"students=.*from 1 to 50"):
        validate_students(students)
    with pytest.raises(ClassroomError, match="students="):
        Classroom(students=students)


@pytest.mark.parametrize("prefix", ["", "Lab3-", "3lab-", "lab3_", "a" * 13, None])
def test_a_bad_user_name_prefix_is_refused_by_name(prefix):
    with pytest.raises(ClassroomError, match=r"prefix=.*lower-case"):
        validate_prefix(prefix)


def test_good_settings_pass():
    assert validate_students(10) == 10 and validate_prefix("lab3-") == "lab3-"


def test_a_port_that_is_privileged_or_busy_is_refused_by_name():
    with pytest.raises(ClassroomError, match=r"port=80: .*1024 to 65535"):
        validate_port("port", 80)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ClassroomError, match=rf"port={port}: .*busy"):
            validate_port("port", port)


def test_a_python_other_users_cannot_reach_is_refused(tmp_path):
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    python = hidden / "python3"
    python.write_text("#!/bin/sh\necho True\n")
    python.chmod(0o755)
    hidden.chmod(0o700)
    with pytest.raises(ClassroomError, match=r"python=.*other users cannot run it .*mode 700"):
        require_python_for_everyone(python)
    with pytest.raises(ClassroomError, match="no such program"):
        require_python_for_everyone(tmp_path / "nothing")


def test_the_classrooms_lock_is_the_three_locks_with_the_hubs_pins_winning():
    pins = merged_lock().splitlines()
    assert "jupyterhub==6.1.1" in pins and "nbgrader==0.9.6" in pins and "torch==2.13.0" in pins
    assert [p for p in pins if p.lower().startswith("soupsieve")] == ["soupsieve==2.10"]
    names = [p.split("==")[0].lower().replace("_", "-") for p in pins]
    assert len(names) == len(set(names))


def hub_config(tmp_path):
    """classroom/jupyterhub_config.py as JupyterHub loads it, with one run's settings."""
    settings = {
        "port": 8000,
        "hub_port": 8081,
        "proxy_api_port": 8001,
        "proxy": "/x/chp",
        "singleuser": "/x/jupyterhub-singleuser",
        "state": str(tmp_path),
        "instructor": "i",
        "students": ["s1", "s2"],
        "environment": {"PATH": "/x"},
        "student_password": "p" * 12,
        "instructor_password": "q" * 40,
        "api_token": "t" * 64,
    }
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    config = Config()
    os.environ["LAB3_CLASSROOM_SETTINGS"] = str(path)
    try:
        code = (REPO / "classroom" / "jupyterhub_config.py").read_text()
        exec(compile(code, "jupyterhub_config.py", "exec"), {"get_config": lambda: config})
    finally:
        del os.environ["LAB3_CLASSROOM_SETTINGS"]
    return config


def test_the_hub_listens_on_loopback_only_with_the_instructor_as_the_only_admin(tmp_path):
    config = hub_config(tmp_path)
    for url in (
        config.JupyterHub.bind_url,
        config.JupyterHub.hub_bind_url,
        config.ConfigurableHTTPProxy.api_url,
    ):
        assert url.startswith("http://127.0.0.1:"), url
    assert config.Spawner.ip == "127.0.0.1"
    assert config.JupyterHub.authenticator_class == "shared-password"
    assert config.Authenticator.admin_users == {"i"}
    assert config.Authenticator.allowed_users == {"i", "s1", "s2"}
    assert config.JupyterHub.spawner_class == "localprocess"  # one Unix user per person
    assert config.Spawner.env_keep == []  # nothing of root's environment reaches a student
