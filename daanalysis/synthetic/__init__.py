"""Synthetic data: the bundled sample and the validation study's simulator."""
