_ITEMS = {1: {"id": 1, "name": "lamp"}, 2: {"id": 2, "name": "desk"}}


def all_items():
    return sorted(_ITEMS.values(), key=lambda item: item["id"])


def find_item(item_id):
    return _ITEMS.get(item_id)
