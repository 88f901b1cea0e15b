"""The course on a real JupyterHub with nbgrader's exchange, end to end (lab3.handouts.hub).

As root, with Node.js: a classroom of one instructor and three students (Unix users of their own)
in a folder of its own; the hub and configurable-http-proxy on 127.0.0.1. The instructor releases
lesson 04 (the quickest lesson with exercises to autograde, as in tests/test_nbgrader.py) with
nbgrader's CLI; each student fetches it, answers and submits with nbgrader's CLI run as that
user (runuser): one the solutions, one a wrong answer, one an answer that calls lab3's reference.
The instructor collects, autogrades, generates and releases feedback; the students fetch it.
Then: the scores; who can read what, tried as those users; a student logging in through the
hub's page in Chromium and finding the assignment in JupyterLab; and, last, that stopping
leaves no process, user or folder behind (the module's fixture removes them on failure too).
"""

import json
import os
import pwd
import shutil
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from jupyter_lab import free_port

from lab3.handouts.hub import COURSE_ID, PROXY, REPO, Classroom, ensure_environment
from lab3.handouts.nbgrader import BEGIN, END, export

pytestmark = [pytest.mark.slow, pytest.mark.heavy, pytest.mark.timeout(600)]

ASSIGNMENT = "04_batched_sgd"
FOLDER = Path("/srv/lab3-classroom-test")  # fixed: a killed run's leftovers go on the next run
PREFIX = "lab3t-"
ARTIFACTS = REPO / "test-artifacts" / "classroom"
WRONG = {  # a plausible slip: the loop is missing, the weights come back untrained
    "minibatch_sgd": "def minibatch_sgd(weights, biases, inputs, targets, epochs, batch_size,"
    " learning_rate, reg):\n    return weights, biases\n",
}
DELEGATING = {  # lab3's own implementation does the work
    "minibatch_sgd": "from lab3.exercises.lesson04 import reference_minibatch_sgd as "
    "minibatch_sgd\n",
    "lr_finder": "from lab3.exercises.lesson04 import reference_lr_finder as lr_finder\n",
}


def skip_unless_possible():
    if os.geteuid() != 0:
        pytest.skip(
            "the classroom adds Unix users and starts servers as them: run as root (CI does)"
        )
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip(
            "no Node.js/npm for configurable-http-proxy: apt-get install nodejs npm (.ci/run does)"
        )
    pytest.importorskip("nbgrader", reason="nbgrader is installed by `make test`")


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """A classroom with lesson 04 released and the hub running; removed afterwards, always."""
    skip_unless_possible()
    if not os.access(PROXY, os.X_OK):  # the project's own lock: what make classroom runs
        subprocess.run(
            ["npm", "ci", "--prefix", str(PROXY.parents[2]), "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    course = tmp_path_factory.mktemp("course")
    export(REPO / "notebooks", course, log=lambda *args: None)
    python = ensure_environment(log=lambda *args: None)
    room = Classroom(folder=FOLDER, students=3, prefix=PREFIX, port=free_port(), python=python)
    try:
        room.create(course)
        room.release([ASSIGNMENT])
        room.start_hub()
        yield room
    finally:
        room.remove()


# ----------------------------------------------------------------------------------------------
# The students' answers
# ----------------------------------------------------------------------------------------------


def answer(room, student, answers):
    """Write ``answers`` (exercise name -> code; None: the solution) into the student's fetched
    notebook, as the student would type them, keeping the file theirs."""
    notebook = room.home(student) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    solutions = solution_cells(room)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        name = exercise_name(cell.source)
        if grade_id.startswith("answer-") and name in answers:
            cell.source = answers[name] or solutions[grade_id]
    nbformat.write(nb, notebook)
    entry = pwd.getpwnam(student)
    os.chown(notebook, entry.pw_uid, entry.pw_gid)


def solution_cells(room):
    """grade_id -> the instructor's answer, without nbgrader's solution markers."""
    source = nbformat.read(
        room.course_root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4
    )
    return {
        c.metadata.nbgrader["grade_id"]: "\n".join(
            line for line in c.source.splitlines() if line.strip() not in (BEGIN, END)
        )
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def exercise_name(source):
    for line in source.splitlines():
        if line.startswith("def "):
            return line[4:].split("(")[0]
    return None


@pytest.fixture(scope="module")
def graded(classroom):
    """The whole cycle through the exchange; returns {student: (score, max_score)}."""
    room = classroom
    right, wrong, delegating = room.student_names
    every_exercise = {"minibatch_sgd": None, "lr_finder": None}
    answers = {right: every_exercise, wrong: {**every_exercise, **WRONG}, delegating: DELEGATING}

    def work(student):  # each student at their own desk: the three at once
        room.nbgrader(student, "fetch_assignment", ASSIGNMENT)
        answer(room, student, answers[student])
        room.nbgrader(student, "submit", ASSIGNMENT)

    with ThreadPoolExecutor(len(answers)) as desks:
        list(desks.map(work, answers))
    for step in ("collect", "autograde", "generate_feedback", "release_feedback"):
        room.nbgrader(room.instructor, step, ASSIGNMENT, timeout=600)
    with ThreadPoolExecutor(len(answers)) as desks:
        list(
            desks.map(lambda student: room.nbgrader(student, "fetch_feedback", ASSIGNMENT), answers)
        )
    return scores(room)


def scores(room):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{room.course_root / 'gradebook.db'}") as gradebook:
        return {
            student: (submission.score, submission.max_score)
            for student in room.student_names
            for submission in [gradebook.find_submission(ASSIGNMENT, student)]
        }


def feedback(room, student):
    found = sorted((room.home(student) / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert found, f"{student} fetched no feedback"
    return found[-1]


# ----------------------------------------------------------------------------------------------
# Who can read what, tried as the user
# ----------------------------------------------------------------------------------------------

PROBE = """\
import json, os, sys
seen = {}
for path in sys.argv[1:]:
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as f:
                f.read(1)
        seen[path] = "read"
    except PermissionError:
        seen[path] = "denied"
    except FileNotFoundError:
        seen[path] = "missing"
print(json.dumps(seen))
"""


def readable(room, user, *paths):
    """{path: 'read' | 'denied' | 'missing'} as ``user`` finds them (opening files, listing
    folders); 'missing' also when a folder on the way hides it."""
    done = room.run_as(user, str(room.python), "-I", "-c", PROBE, *map(str, paths), cwd="/")
    return json.loads(done.stdout)


def secrets_of(room, victim):
    """What no other student may read: the instructor's course root, ``victim``'s work and the
    hub's secrets."""
    home = room.home(victim)
    exchange = room.exchange / COURSE_ID
    return [
        room.home(room.instructor),
        room.course_root,
        room.course_root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",  # the solutions
        room.course_root / "gradebook.db",
        room.course_root / "submitted" / victim / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        room.course_root / "feedback" / victim / ASSIGNMENT / f"{ASSIGNMENT}.html",
        home,
        home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        feedback(room, victim),
        exchange / "inbound",  # nbgrader: submissions go in, but nobody lists them
        exchange / "feedback",  # nbgrader: feedback only by its secret file name
        room.state / "settings.json",  # the hub's passwords and API token
    ]


# ----------------------------------------------------------------------------------------------
# The tests
# ----------------------------------------------------------------------------------------------


def test_every_student_imports_lab3_from_the_classroom_environment_and_cannot_change_it(
    classroom,
):
    script = (
        "import json, os, lab3; folder = os.path.dirname(lab3.__file__); "
        "print(json.dumps([folder, os.access(folder, os.W_OK), "
        "os.access(lab3.__file__, os.W_OK)]))"
    )
    for student in classroom.student_names:
        done = classroom.run_as(student, str(classroom.python), "-c", script)
        folder, folder_writable, file_writable = json.loads(done.stdout)
        assert Path(folder).is_relative_to(classroom.env), f"{student} imports lab3 from {folder}"
        assert not folder_writable and not file_writable, f"{student} can change lab3"


def test_autograde_gives_the_solutions_full_marks_and_the_wrong_answer_less(classroom, graded):
    right, wrong, _ = classroom.student_names
    score, maximum = graded[right]
    assert maximum > 0 and score == maximum, graded
    assert graded[wrong][0] < maximum, graded


def test_autograde_gives_an_answer_that_delegates_to_lab3_zero(classroom, graded):
    delegating = classroom.student_names[2]
    assert graded[delegating][0] == 0, graded


def test_each_student_reads_their_own_feedback_and_nobody_elses(classroom, graded):
    students = classroom.student_names
    for student in students:
        own = feedback(classroom, student)
        assert readable(classroom, student, own) == {str(own): "read"}
        assert ASSIGNMENT in own.read_text(encoding="utf-8")
        for other in students:
            if other != student:
                seen = readable(classroom, other, own)
                assert seen[str(own)] != "read", f"{other} can read {student}'s feedback"


def test_no_student_reads_the_instructors_course_root_or_another_students_work(
    classroom,
    graded,
):
    for victim in classroom.student_names:
        for student in classroom.student_names:
            if student == victim:
                continue
            seen = readable(classroom, student, *secrets_of(classroom, victim))
            leaks = [path for path, verdict in seen.items() if verdict == "read"]
            assert not leaks, f"{student} can read: {leaks}"


def test_the_permission_check_sees_a_loosened_course_root(classroom, graded):
    """The check above is only worth something if it notices a leak: open the instructor's home
    and course root to others for a moment and the solutions must show up as readable."""
    folders = [classroom.home(classroom.instructor), classroom.course_root]
    solutions = classroom.course_root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    student = classroom.student_names[0]
    verdict = lambda: readable(classroom, student, solutions)[str(solutions)]
    assert verdict() == "denied"
    try:
        for folder in folders:
            folder.chmod(0o755)
        assert verdict() == "read"
    finally:
        for folder in folders:
            folder.chmod(0o700)
    assert verdict() == "denied"


def test_a_student_logs_in_through_the_hub_and_sees_the_assignment(classroom, graded):
    from lab3.handouts.chromium import find_chromium

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium on PATH: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    student = classroom.student_names[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            page.goto(f"{classroom.url}/hub/login", timeout=60_000)
            page.fill("#username_input", student)
            page.fill("#password_input", classroom.settings["student_password"])
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{student}/lab**", timeout=120_000)
            page.get_by_role("menuitem", name="Nbgrader").click(timeout=60_000)
            page.get_by_text("Assignment List").click(timeout=10_000)
            listed = page.locator("#nbgrader-assignment-list")
            listed.get_by_text(ASSIGNMENT).first.wait_for(timeout=60_000)
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTIFACTS / "assignment-list.png")
            browser.close()


def test_stopping_ends_every_process_and_removes_the_users_and_the_folder(classroom):
    import psutil

    uids = [pwd.getpwnam(user).pw_uid for user in (classroom.instructor, *classroom.student_names)]
    classroom.remove()
    assert not FOLDER.exists()
    for user in (classroom.instructor, *classroom.student_names):
        with pytest.raises(KeyError):
            pwd.getpwnam(user)
    assert not [p.pid for p in psutil.process_iter(["uids"]) if p.info["uids"].real in uids]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", classroom.port)) != 0, "the proxy still listens"
