"""A local stand-in for Meta's WhatsApp Cloud API, for development and tests.

Start it with ``python -m whatsapp_emulator``; build it in code with
:func:`whatsapp_emulator.app.create_app`. It never imports the app it serves.
"""
