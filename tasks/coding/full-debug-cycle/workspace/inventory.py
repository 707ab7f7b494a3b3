from dataclasses import dataclass


@dataclass
class Line:
    sku: str
    price: float
    quantity: int


def total_value(lines):
    """Stock value: price times quantity, summed."""
    return round(sum(line.price for line in lines), 2)


def low_stock(lines, threshold=5):
    return [line.sku for line in lines if line.quantity < threshold]
