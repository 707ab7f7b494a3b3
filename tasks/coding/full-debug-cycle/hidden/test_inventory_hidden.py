from inventory import Line, low_stock, total_value

def test_total():
    assert total_value([Line("a", 2.5, 4), Line("b", 10.0, 1), Line("c", 0.1, 3)]) == 20.3
    assert total_value([]) == 0

def test_low_stock_unchanged():
    assert low_stock([Line("a", 1, 2), Line("b", 1, 9)], threshold=3) == ["a"]
