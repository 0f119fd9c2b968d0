"""The PDF backend (``backend.PdfBackend``): light to import, its modules are imported by name."""
