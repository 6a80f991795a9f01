"""Services: plain functions on a Session that own their transaction and return dataclasses."""
