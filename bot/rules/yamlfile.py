"""Strict YAML reading: duplicate keys are errors, and every error names the file and key."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml

from bot.errors import DataError, RuleDataError

E = TypeVar("E", bound=DataError)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (a silent override hides mistakes)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (line {key_node.start_mark.line + 1})",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    # PyYAML raises a bare ValueError for 2025-02-30; give it a position like any other error.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
        ) from None


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def placeholders(text: str) -> set[str]:
    """The {names} a str.format template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def read_yaml(path: Path, error: type[E] = RuleDataError) -> Any:  # type: ignore[assignment]
    """Parse one YAML file strictly; raise `error` with the file name on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(str(path), "", f"cannot read: {exc.strerror}") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise error(str(path), where, str(exc.problem or exc)) from None
    except yaml.YAMLError as exc:
        raise error(str(path), "", str(exc)) from None


class Fields:
    """Typed access to one mapping of a YAML file, with errors that name file and key path.

    Every key must be consumed: `done()` rejects unknown fields, so a typo such as
    `registation: true` fails loudly instead of being ignored.
    """

    def __init__(
        self, data: Any, file: str, where: str, error: type[DataError] = RuleDataError
    ) -> None:
        self.file = file
        self.where = where
        self.error = error
        if not isinstance(data, Mapping):
            raise self.fail("", f"expected a mapping, got {type(data).__name__}")
        self.data: Mapping[Any, Any] = data
        self._used: set[Any] = set()

    def fail(self, key: str, message: str) -> DataError:
        path = f"{self.where}.{key}" if self.where and key else (self.where or key)
        return self.error(self.file, path, message)

    def _get(self, key: str, required: bool) -> Any:
        self._used.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                raise self.fail(key, "is required")
            return None
        return self.data[key]

    def text(self, key: str, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return value.strip()

    def req_text(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self._get(key, required=False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def number(self, key: str, required: bool = True) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected a whole number, got {value!r}")
        return value

    def req_number(self, key: str) -> int:
        value = self.number(key, required=True)
        assert value is not None  # required=True raised already
        return value

    def req_mapping(self, key: str) -> Mapping[Any, Any]:
        value = self.mapping(key, required=True)
        assert value is not None  # required=True raised already
        return value

    def str_list(self, key: str, required: bool = False) -> tuple[str, ...]:
        value = self._get(key, required)
        if value is None:
            return ()
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise self.fail(key, f"expected a list of strings, got {value!r}")
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{key}[{i}]", f"expected a non-empty string, got {item!r}")
            out.append(item.strip())
        if required and not out:
            raise self.fail(key, "must not be empty")
        return tuple(out)

    def choice(self, key: str, allowed: Sequence[str], required: bool = True) -> str | None:
        value = self.text(key, required)
        if value is not None and value not in allowed:
            raise self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def mapping(self, key: str, required: bool = True) -> Mapping[Any, Any] | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        return value

    def raw(self, key: str, required: bool = False) -> Any:
        return self._get(key, required)

    def done(self) -> None:
        unknown = [k for k in self.data if k not in self._used]
        if unknown:
            raise self.fail(str(unknown[0]), "unknown field")


def parse_date(value: Any, file: str, where: str, error: type[DataError] = RuleDataError) -> date:
    """Accept a YAML date (2018-01-01) or the same as a string; anything else is an error."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise error(file, where, f"{value!r} is not a date in the form YYYY-MM-DD")
