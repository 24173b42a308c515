"""marshmallow schemas for every boundary: forms, files, settings, SOAP dicts."""
