import importlib

import pytest

import custval


def test_every_public_name_resolves():
    missing = []
    for name, module in custval._EXPORTS.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError:
            missing.append(f"{module} (for {name})")
            continue
        if not hasattr(mod, name):
            missing.append(f"{module}.{name}")
    assert not missing, "public names that do not resolve: " + ", ".join(missing)


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = custval.nope


def test_functions_named_like_their_module_stay_callable():
    import custval.invariance
    import custval.reliability

    assert callable(custval.reliability)
    assert callable(custval.invariance)
    assert custval.validity.htmt is importlib.import_module("custval.validity").htmt
