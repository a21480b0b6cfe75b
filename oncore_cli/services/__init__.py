"""Supabase access, one class per service. The only code that talks to the backend; returns pydantic models and
raises the typed errors of `oncore_cli.core.errors`. No typer or rich here."""
