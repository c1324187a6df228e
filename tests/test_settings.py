"""Settings from the environment: network, seed, quick mode and device, always announced."""

import pytest
import torch

import d2lstyle
from d2lstyle import settings as settings_module


def test_environment_variables_are_read(monkeypatch, capsys):
    monkeypatch.setenv("D2LSTYLE_NETWORK", "random")
    monkeypatch.setenv("D2LSTYLE_SEED", "7")
    monkeypatch.setenv("D2LSTYLE_QUICK", "1")
    monkeypatch.setenv("D2LSTYLE_DEVICE", "cpu")
    settings = d2lstyle.get_settings()
    assert (settings.network, settings.seed, settings.quick, settings.device) == ("random", 7, True, torch.device("cpu"))
    printed = capsys.readouterr().out
    assert "random (seed 7): NOT trained" in printed and "quick mode: ON" in printed


def test_defaults_are_the_original_network_and_full_quality(monkeypatch):
    for name in ("D2LSTYLE_NETWORK", "D2LSTYLE_WEIGHTS", "D2LSTYLE_SEED", "D2LSTYLE_QUICK", "D2LSTYLE_DEVICE"):
        monkeypatch.delenv(name, raising=False)
    settings = d2lstyle.get_settings(verbose=False)
    assert (settings.network, settings.seed, settings.quick) == ("original", 0, False)


def test_arguments_override_the_environment(monkeypatch):
    monkeypatch.setenv("D2LSTYLE_QUICK", "1")
    assert d2lstyle.get_settings(quick=False, network="random", verbose=False).quick is False


def test_quick_mode_caps_and_says_so(capsys):
    quick = settings_module.Settings(quick=True)
    assert quick.steps(500) == 20 and quick.steps(5) == 5
    assert quick.size(512) == 64 and quick.size(40) == 40
    assert quick.size((300, 450)) == (43, 64) and quick.size((30, 45)) == (30, 45)
    recipe = quick.recipe(d2lstyle.get_recipe("d2l"))
    assert (recipe.steps, recipe.image_size) == (20, (43, 64))
    printed = capsys.readouterr().out
    assert printed.count("Quick mode:") == 5


def test_full_mode_changes_nothing(capsys):
    full = settings_module.Settings(quick=False)
    recipe = d2lstyle.get_recipe("d2l")
    assert full.steps(500) == 500 and full.size((300, 450)) == (300, 450) and full.recipe(recipe) is recipe
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("name, value, message", [
    ("D2LSTYLE_QUICK", "maybe", "D2LSTYLE_QUICK='maybe': use 1 .on. or 0 .off."),
    ("D2LSTYLE_SEED", "x", "D2LSTYLE_SEED='x': use a whole number"),
    ("D2LSTYLE_DEVICE", "tpu", "D2LSTYLE_DEVICE='tpu': unknown device 'tpu'"),
])
def test_a_bad_environment_variable_is_named_not_ignored(monkeypatch, name, value, message):
    monkeypatch.setenv("D2LSTYLE_NETWORK", "random")
    monkeypatch.setenv(name, value)
    with pytest.raises(d2lstyle.SettingsError, match=message):
        d2lstyle.get_settings(verbose=False)


@pytest.mark.parametrize("value, quick", [("1", True), ("yes", True), (" ON ", True), ("0", False), ("", False),
                                          ("off", False), ("False", False)])
def test_quick_mode_words(monkeypatch, value, quick):
    monkeypatch.setenv("D2LSTYLE_QUICK", value)
    assert d2lstyle.get_settings(network="random", verbose=False).quick is quick


def test_the_old_variable_and_value_names_say_what_they_are_called_now(monkeypatch):
    monkeypatch.delenv("D2LSTYLE_NETWORK", raising=False)
    monkeypatch.setenv("D2LSTYLE_WEIGHTS", "random")
    with pytest.raises(d2lstyle.SettingsError, match="now called D2LSTYLE_NETWORK"):
        d2lstyle.get_settings(verbose=False)
    monkeypatch.delenv("D2LSTYLE_WEIGHTS")
    monkeypatch.setenv("D2LSTYLE_NETWORK", "imagenet")
    with pytest.raises(d2lstyle.SettingsError, match="D2LSTYLE_NETWORK='imagenet'.*now called 'torchvision'"):
        d2lstyle.get_settings(verbose=False)


def test_cap_recipe_returns_what_it_changed_without_printing(capsys):
    recipe, notes = settings_module.Settings(quick=True).cap_recipe(d2lstyle.get_recipe("default"))
    assert (recipe.steps, recipe.image_size) == (20, 64)
    assert notes == [f"Quick mode: {d2lstyle.get_recipe('default').steps} steps -> 20.",
                     "Quick mode: image size 512 -> 64."]
    assert capsys.readouterr().out == ""
