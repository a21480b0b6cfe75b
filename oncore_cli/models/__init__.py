"""Pydantic models shared by services, import and PDF code."""
