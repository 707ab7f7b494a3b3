from service import settings


def database_url():
    return f"postgresql://{settings.DB_HOST}:{settings.DB_PORT}/{settings.DB_NAME}"
