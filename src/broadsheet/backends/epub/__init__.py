"""The EPUB 3 backend (``backend.EpubBackend``): light to import, its modules are imported by name."""
