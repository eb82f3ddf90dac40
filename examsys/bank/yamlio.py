"""Reading YAML with line numbers, and collecting problems by file and line."""

import re
from dataclasses import dataclass, field

import yaml

from examsys.core.i18n import _

MAX_FILE_BYTES = 5 * 1024 * 1024


_PATH_STEP = re.compile(r"(\w+)|\[(\d+)\]")


class LineDict(dict):
    """A mapping that remembers the line it started on (1-based) and, read from YAML, the
    line of each of its keys."""

    line: int = 0
    key_lines: dict = {}  # noqa: RUF012 - replaced per instance, never changed in place

    def line_of(self, path) -> int:
        """The line of a field such as ``tolerance.relative`` or ``options[2].id``, or of
        the keys and indexes in ``path`` when it is a tuple (for keys that are not plain
        words): the deepest part of it that exists, else this mapping's own line (so a
        problem with a field points at the field, and a missing field at its mapping)."""
        steps = path if isinstance(path, tuple) else [
            name or int(index) for name, index in _PATH_STEP.findall(str(path))]
        node, line = self, self.line
        for step in steps:
            if isinstance(node, dict) and _has(node, step):
                line = getattr(node, "key_lines", {}).get(step, line)
                node = node[step]
            elif isinstance(node, list) and type(step) is int and 0 <= step < len(node):
                line = item_line(node, step, line)
                node = node[step]
            else:
                break
        return line


def item_line(items, index: int, default: int | None = None) -> int:
    """The line of ``items[index]``, read from YAML: a mapping's own, else the item's
    place in the list, else ``default`` or the list's line (0 for a list not read from a
    file)."""
    if line := getattr(items[index], "line", 0):
        return line
    lines = getattr(items, "item_lines", ())
    if index < len(lines):
        return lines[index]
    return getattr(items, "line", 0) if default is None else default


def _has(mapping: dict, key) -> bool:
    try:
        return key in mapping
    except TypeError:  # an unhashable step
        return False


class LineList(list):
    """A list that remembers the line it started on and, read from YAML, each item's."""

    line: int = 0
    item_lines: tuple = ()


# libyaml's parser (bundled in PyYAML's wheels) when present: four times faster on a
# large bank, with the same safe constructors and line marks.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):
    def __init__(self, stream):
        super().__init__(stream)
        # (line, key, first line) of each key given twice in one mapping: YAML would keep
        # the last value silently, so load_yaml reports them as problems.
        self.repeated_keys: list[tuple[int, str, int]] = []


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _note_repeated_keys(loader, node) -> dict:
    """The line of each key's value as YAML keeps it (the last, for a key given twice); a
    key given twice is noted on the loader with its first line."""
    first: dict = {}
    last: dict = {}
    for key_node, _value in node.value:
        if key_node.tag == _MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            if key in first:
                loader.repeated_keys.append((line, str(key), first[key]))
            else:
                first[key] = line
            last[key] = line
        except TypeError:  # an unhashable key: construct_mapping reports it
            continue
    return last


def _mapping(loader, node):
    key_lines = _note_repeated_keys(loader, node)
    loader.flatten_mapping(node)
    value = LineDict(loader.construct_mapping(node, deep=True))
    value.line = node.start_mark.line + 1
    value.key_lines = key_lines
    return value


def _sequence(loader, node):
    value = LineList(loader.construct_sequence(node, deep=True))
    value.line = node.start_mark.line + 1
    value.item_lines = tuple(item.start_mark.line + 1 for item in node.value)
    return value


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


@dataclass
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field \
            else f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "field": self.field,
                "message": self.message}


@dataclass
class Problems:
    file: str
    items: list[Problem] = field(default_factory=list)
    prefix: str = ""

    def add(self, line: int, field_name: str, message: str) -> None:
        name = f"{self.prefix}{field_name}" if field_name else self.prefix.rstrip(".")
        self.items.append(Problem(self.file, line, name, message))

    def at(self, mapping, field_name, message: str, *, under: str = "", path=None) -> None:
        """A problem with ``field_name`` of ``mapping``, on the field's own line (see
        ``LineDict.line_of``; ``path``, a tuple of keys and indexes, where the name does
        not spell the way there); ``under`` names the mapping in the reported field."""
        line = mapping.line_of(field_name if path is None else path) \
            if isinstance(mapping, LineDict) else getattr(mapping, "line", 0)
        self.add(line, f"{under}{field_name}", message)

    def __bool__(self) -> bool:
        return bool(self.items)


def load_yaml(data: bytes, problems: Problems):
    """Parse YAML bytes; on failure record a problem and return None."""
    if len(data) > MAX_FILE_BYTES:
        problems.add(0, "", _("file is larger than %(n)d MiB", n=MAX_FILE_BYTES // (1024 * 1024)))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(0, "", _("not UTF-8 text (byte %(n)d): save the file as UTF-8",
                                n=exc.start))
        return None
    try:
        # Aliases are refused: they are never needed in a bank and enable "billion laughs".
        if "&" in text or "*" in text:
            for token in yaml.scan(text, Loader=_SafeBase):
                if isinstance(token, yaml.AliasToken):
                    problems.add(token.start_mark.line + 1, "", _("YAML aliases are not allowed"))
                    return None
        loader = _Loader(text)
        try:
            tree = loader.get_single_data()
        finally:
            loader.dispose()
        for line, key, first in loader.repeated_keys:
            problems.add(line, key, _("key given twice in the same mapping (first on line "
                                      "%(n)d): remove one of them", n=first))
        return tree
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        problems.add(line, "", _("not valid YAML: %(why)s",
                                          why=getattr(exc, "problem", None) or exc))
        return None
