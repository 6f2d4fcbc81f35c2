"""Versioned matching algorithms. A result names the version that produced it."""
