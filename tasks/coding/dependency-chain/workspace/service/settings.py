DB_HOST = "db"
DB_PORT = 5433
DB_NAME = "orders"
