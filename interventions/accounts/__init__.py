"""Signing in: two-step login (TOTP and backup codes), session limits, lockout after failed
logins, the admin site that requires a verified session, and their views and middleware."""
