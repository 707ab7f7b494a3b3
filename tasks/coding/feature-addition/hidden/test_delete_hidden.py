import importlib
from shop import db, routes

def test_delete_existing_then_missing():
    importlib.reload(db); importlib.reload(routes)
    assert routes.delete_item({}, 1) == {"status": 204, "body": None}
    assert routes.get_item({}, 1)["status"] == 404
    assert routes.delete_item({}, 1)["status"] == 404

def test_db_function():
    importlib.reload(db)
    assert db.delete_item(2) is True and db.delete_item(2) is False
