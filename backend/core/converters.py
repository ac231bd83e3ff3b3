class IdConverter:
    """A database id in a URL: at most 18 digits, so it always fits a 64-bit column (a longer
    number is simply no match, 404, instead of an overflow in the database driver)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
