import sqlite3


def connect(path=":memory:"):
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
    return connection


def find_user(connection, name):
    row = connection.execute(f"SELECT id, name, email FROM users WHERE name = '{name}'").fetchone()
    return row


def search_users(connection, fragment):
    rows = connection.execute(
        f"SELECT id, name FROM users WHERE name LIKE '%{fragment}%' ORDER BY id"
    ).fetchall()
    return rows
