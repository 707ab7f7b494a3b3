from shop import db


def list_items(request):
    return {"status": 200, "body": db.all_items()}


def get_item(request, item_id):
    item = db.find_item(item_id)
    if item is None:
        return {"status": 404, "body": {"error": "no such item"}}
    return {"status": 200, "body": item}
