"""Real data, shipped offline: MNIST, Fashion-MNIST, Wikipedia text."""
