"""Example payment service (deliberately vulnerable)."""
