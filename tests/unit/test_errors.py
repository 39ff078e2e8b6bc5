"""The one error base: what counts as a refusal that undoes a request."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator

import pytest

import traded_app.services
from traded_app.services.platform import errors
from traded_app.services.platform.errors import DomainError, NotFound


@pytest.fixture()
def watching() -> Iterator[None]:
    token = errors.watch()
    yield
    errors.stop_watching(token)


def _service_code(source: str) -> dict[str, object]:
    """Functions compiled as if they were a service module's own."""
    namespace: dict[str, object] = {
        "__name__": "traded_app.services.council.example",
        "DomainError": DomainError,
    }
    exec(compile(source, "example.py", "exec"), namespace)  # noqa: S102 - our own test code
    return namespace


def test_a_domain_error_caught_outside_the_services_is_a_refusal(watching: None) -> None:
    service = _service_code("def refuse():\n    raise DomainError('No', 'name')\n")
    refuse: Callable[[], None] = service["refuse"]  # type: ignore[assignment]
    assert not errors.refused()
    try:
        refuse()
    except DomainError as error:
        assert (str(error), error.field) == ("No", "name")
    assert errors.refused()


def test_a_domain_error_a_service_catches_itself_is_not(watching: None) -> None:
    service = _service_code(
        "def carry_on():\n"
        "    try:\n"
        "        raise DomainError('Held for finance')\n"
        "    except DomainError:\n"
        "        return 'held'\n"
    )
    carry_on: Callable[[], str] = service["carry_on"]  # type: ignore[assignment]
    assert carry_on() == "held"
    assert not errors.refused()


def test_not_found_and_errors_never_raised_are_not_refusals(watching: None) -> None:
    DomainError("Made, never raised")
    try:
        raise NotFound("No such record")
    except NotFound:
        pass
    assert not errors.refused()


def test_outside_a_request_nothing_is_watched() -> None:
    try:
        raise DomainError("Refused in a command")
    except DomainError:
        pass
    assert not errors.refused()


def _service_errors() -> Iterator[type[BaseException]]:
    for info in pkgutil.walk_packages(traded_app.services.__path__, "traded_app.services."):
        module = importlib.import_module(info.name)
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ == info.name and issubclass(value, BaseException):
                yield value


def test_every_service_error_derives_from_domain_error() -> None:
    # Private exceptions are a module's own control flow. The PDF renderer's refusal of a URL
    # is WeasyPrint's fetcher protocol: WeasyPrint catches it and renders without the
    # resource, so it never reaches a caller (nor should it undo the issuing request). The
    # queue's store being out of reach stops a worker starting: the service's fault, not a
    # refusal of anything a person asked.
    found = [
        cls
        for cls in _service_errors()
        if not cls.__name__.startswith("_")
        and cls.__name__ not in {"RefusedURLError", "QueueUnavailable"}
    ]
    assert len(found) >= 30
    assert [cls.__name__ for cls in found if not issubclass(cls, DomainError)] == []
