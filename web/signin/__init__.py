"""Signing in (SPEC 21): by a one-time link mailed to a team member, or by OpenID Connect."""
