from inventory import Line, low_stock, total_value


def test_total_value():
    assert total_value([Line("a", 2.5, 4), Line("b", 10.0, 1)]) == 20.0


def test_low_stock():
    assert low_stock([Line("a", 1, 2), Line("b", 1, 9)]) == ["a"]
