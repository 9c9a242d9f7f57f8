"""Data layer: the column schema, readers and writers, and the mock Milky Way generator."""
