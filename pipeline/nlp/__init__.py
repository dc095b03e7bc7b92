"""Requirements: clauses → sentences with modality, subject and values (being built, issue #3)."""
