"""Question interchange: Moodle GIFT, Moodle XML and spreadsheets (CSV, XLSX), in and out.

Every format is read into items in the native YAML shape, completed with the import's
defaults, and validated by the same code as a YAML bank file (bank.validation); the one
writer is bank.importer.apply(). See docs/interchange.md.
"""
