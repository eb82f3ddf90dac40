"""URL parts the app's routes share."""

from werkzeug.routing import IntegerConverter

# Every number in a URL names a row by an INTEGER column (ids, an item's position):
# PostgreSQL's integer, four bytes.
INTEGER_MAX = 2**31 - 1


class RowNumberConverter(IntegerConverter):
    """``<int:…>`` within the columns' range: a larger number names no row, and the route
    does not match (404), where the statement it reached failed (a 500, before the role
    check of the views that check the login in their one read, the autosave and the
    clock)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", INTEGER_MAX)
        super().__init__(map, *args, **kwargs)
