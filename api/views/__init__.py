"""Blueprints, one per area. Views are thin: validated input in, a service call, plain data out."""
