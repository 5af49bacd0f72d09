"""Authentication: principals, JWT access tokens, argon2 passwords, login throttling, HTTP bearer helper."""

from app.auth.principal import Principal

__all__ = ["Principal"]
