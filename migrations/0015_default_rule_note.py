"""The seeded default rules' note named a document outside the program; it says what they are."""


def up(migrator, db):
    db.execute_sql("UPDATE rule_setting SET note = '默认规则' WHERE note = '默认（PRODUCT.md 第11节）'")


def down(migrator, db):
    pass  # the old wording is not worth restoring
