def clamp(value, low, high):
    # TODO: validate that low <= high
    return max(low, min(high, value))
