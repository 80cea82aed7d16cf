"""Language understanding: Rasa-format data, intent classifier, entities, parse API shape."""
