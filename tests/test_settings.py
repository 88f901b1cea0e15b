"""One TrainingSettings: a bad value is refused once, where it enters, with one message.

The entries are the API (``lab3.train``), a training lesson's papermill parameters
(``experiment.validate_parameters``, what its check cell calls) and the explorer (a control, or
text typed into its field). Each calls ``validate_settings`` once; the layers below take what it
returned and check nothing again.
"""

import pytest

import lab3
from lab3 import experiment, explore
from lab3.explore import controls as explore_controls
from lab3.training import loop, statistics
from lab3.training import settings as training_settings
from lab3.training.settings import TrainingSettings, validate_settings

# every module that calls validate_settings, by the name it imported
CALLERS = [training_settings, loop, experiment, explore_controls, statistics]

BAD_VALUES = [
    ("batch_size", 0),
    ("batch_size", 1001),
    ("learning_rate", -1.0),
    ("learning_rate", "abc"),
    ("epochs", 2.5),
    ("epochs", 10**9),
    ("reg", -0.1),
    ("shuffle", "yes"),
    ("seed", -1),
    ("engine", "jax"),
]


@pytest.fixture
def calls(monkeypatch):
    """The settings ``validate_settings`` was called with, in order, whoever called it."""
    seen = []

    def counted(settings):
        seen.append(settings)
        return validate_settings(settings)

    for module in CALLERS:
        monkeypatch.setattr(module, "validate_settings", counted)
    return seen


def refusal(call):
    with pytest.raises(ValueError) as error:
        call()
    return str(error.value)


@pytest.mark.parametrize("name, value", BAD_VALUES)
def test_a_bad_value_is_refused_once_with_the_same_message_from_every_entry(calls, name, value):
    model = lab3.MultiLayerPerceptron(seed=0)
    inputs, targets = lab3.create_linear_training_data(1000, seed=0)
    knobs = {"epochs": 10, "engine": "manual", name: value}  # 1000 samples everywhere
    api = refusal(lambda: lab3.train(model, inputs, targets, **knobs))
    assert len(calls) == 1
    papermill = refusal(lambda: experiment.validate_parameters(**knobs))
    assert len(calls) == 2
    typed = ", ".join(f"{k}={v!r}" for k, v in knobs.items())
    explorer_typed = refusal(lambda: explore.parse_typed(typed, explore.Controls()))
    assert len(calls) == 3
    explorer_control = refusal(lambda: explore.Explorer(explore.Controls().replace(**knobs)))
    assert len(calls) == 4
    assert api == papermill == explorer_typed == explorer_control
    assert api.startswith(f"{name}={value!r} is not allowed: ")


def test_a_valid_run_is_checked_once_whichever_way_it_enters(calls, monkeypatch):
    model = lab3.MultiLayerPerceptron(seed=0)
    inputs, targets = lab3.create_linear_training_data(200, seed=0)
    lab3.train(model, inputs, targets, epochs=2, batch_size=10, engine="manual")
    assert len(calls) == 1
    experiment.run(experiment.validate_parameters(n_samples=200, epochs=2, batch_size=20))
    assert len(calls) == 2
    # an explorer run polled between its slices of steps is still checked once
    monkeypatch.setattr("lab3.training.loop.POLL_SECONDS", 0.0)
    outcome = explore.outcome_of(
        explore.Controls(n_samples=200, epochs=4, batch_size=10), stop=lambda: False
    )
    assert len(calls) == 3 and outcome.history.steps == 80
    statistics.train_with_statistics(model, inputs, targets, epochs=3, batch_size=50)
    assert len(calls) == 4


def test_the_explorer_and_the_lessons_build_on_the_training_settings():
    assert isinstance(explore.Controls(), TrainingSettings)
    assert explore.Controls().engine == "manual"  # the explorer's only other default
    lesson = experiment.DEFAULTS
    assert {name: lesson[name] for name in training_settings.TRAINING_FIELDS} == vars(
        experiment.LESSON_RUN
    )
    checked = experiment.validate_parameters()
    assert checked.settings == experiment.LESSON_RUN


def test_checked_settings_are_frozen_and_typed():
    checked = validate_settings(TrainingSettings(learning_rate=1))
    assert type(checked.epochs) is int and type(checked.learning_rate) is float
    with pytest.raises(AttributeError):
        checked.epochs = 5
