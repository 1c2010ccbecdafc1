"""A tiny helper for enum-like choices: stored keys, shown Chinese labels, defined once."""


class Choices:
    def __init__(self, *pairs):
        self.pairs = tuple(pairs)
        self._labels = dict(pairs)

    def __iter__(self):
        return iter(self.pairs)

    def __contains__(self, key):
        return key in self._labels

    def keys(self):
        return [k for k, _ in self.pairs]

    def label(self, key, default=""):
        return self._labels.get(key, default if key is None or key == "" else key)

    def key_for_label(self, label):
        for k, v in self.pairs:
            if v == label:
                return k
        return None

    def form_choices(self, blank=None):
        """(key, label) pairs for a WTForms SelectField, optionally led by a blank option."""
        head = [("", blank)] if blank is not None else []
        return head + list(self.pairs)
