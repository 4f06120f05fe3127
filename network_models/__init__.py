"""network_models package."""
