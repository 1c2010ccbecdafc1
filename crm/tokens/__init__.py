"""Personal access tokens: how a program calls /api/v1 on a person's behalf."""
