"""见到的联系人 picked from the file's contacts: visit_contact links a visit to each contact of its
enterprise met there (someone who is not a contact stays in visit.contacts_met, as before).
Declared in crm/visits/models.py.

Each need raised at a visit or meeting now has its own note. The one note the form used to take
for every ticked need was stored on each need it raised (need.detail), so every need keeps it as
its own: there is nothing to move, and the notes are not touched here."""
from peewee import *


def up(migrator, db):
    class Visit(Model):
        class Meta:
            database = db
            table_name = 'visit'

    class Contact(Model):
        class Meta:
            database = db
            table_name = 'contact'

    class VisitContact(Model):
        visit = ForeignKeyField(Visit, on_delete='CASCADE')
        contact = ForeignKeyField(Contact, on_delete='RESTRICT', index=True)

        class Meta:
            database = db
            table_name = 'visit_contact'
            indexes = ((('visit', 'contact'), True),)
    db.create_tables([VisitContact])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('visit_contact'))
