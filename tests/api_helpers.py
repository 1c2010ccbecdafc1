"""Tokens and calls for the API tests."""
from crm.tokens import services as tokens


def token_for(app, user, scope="write", days=30):
    with app.app_context():
        return tokens.create(user, "测试", scope, days)[1]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}
