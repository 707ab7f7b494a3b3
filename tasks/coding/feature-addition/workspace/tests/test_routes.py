from shop import routes


def test_list():
    assert routes.list_items({})["status"] == 200


def test_get_missing():
    assert routes.get_item({}, 99)["status"] == 404
