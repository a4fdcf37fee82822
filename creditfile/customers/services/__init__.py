"""Business rules of the customer file: views, API, commands and tests all call these."""
