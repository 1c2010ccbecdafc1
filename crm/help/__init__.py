"""使用帮助: one help page per role, made of shared sections (templates/help/)."""
