"""Dialogs: preferences, servers, export, sweep builder and the cloud notice."""
