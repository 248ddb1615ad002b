"""The redirect domain: short code -> 302 to the current destination, one scan per GET."""
