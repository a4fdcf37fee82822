"""CreditFile — 客户信用档案管理系统."""

__version__ = "0.1.0"
