"""A tiny helper for enum-like choices: stored keys, shown Chinese labels and, for states, the
badge each is shown with — defined once."""


class Choices:
    def __init__(self, *pairs, badges=None):
        self.pairs = tuple(pairs)
        self._labels = dict(pairs)
        self._badges = dict(badges or {})

    def __iter__(self):
        return iter(self.pairs)

    def __contains__(self, key):
        return key in self._labels

    def keys(self):
        return [k for k, _ in self.pairs]

    def label(self, key, default=""):
        return self._labels.get(key, default if key is None or key == "" else key)

    def badge(self, key) -> str:
        """The Bootstrap badge class a state is shown with (the status_badge macro)."""
        return self._badges.get(key, "text-bg-secondary")

    def key_for_label(self, label):
        for k, v in self.pairs:
            if v == label:
                return k
        return None

    def form_choices(self, blank=None):
        """(key, label) pairs for a WTForms SelectField, optionally led by a blank option."""
        head = [("", blank)] if blank is not None else []
        return head + list(self.pairs)
