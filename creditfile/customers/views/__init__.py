"""Thin views of the customer file; the rules they apply live in customers/services/."""
