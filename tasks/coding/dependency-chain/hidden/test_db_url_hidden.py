from service import settings
from service.api import database_url

def test_port_fixed_at_source():
    assert settings.DB_PORT == 5432

def test_url():
    assert database_url() == "postgresql://db:5432/orders"
